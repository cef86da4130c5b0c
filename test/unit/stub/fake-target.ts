// An in-memory DebugTarget for the stub's tests: a few vCPUs running a toy
// instruction set over 64 KiB of "physical" memory, mapped twice in
// virtual mode (identity and at 0x80000000, like xv6's KERNBASE), so
// physical mode is observable. Runs in bounded slices on the event loop
// like the real machine, so ^C has to work the same way.
//
// Toy ISA (x86 spellings so gdb's disassembler shows something sane):
//   40        inc eax
//   a1 imm32  mov eax, [imm32]     (a 4-byte load: watchpoint food)
//   a3 imm32  mov [imm32], eax     (a 4-byte store)
//   eb rel8   jmp rel8
//   others    one-byte no-op

import type {
  BreakpointKind, DebugTarget, RegId, ResumeAction, StopReason, WatchKind,
} from '../../../stub/target.js';
import { Reg, TARGET_REG_COUNT } from '../../../stub/target.js';

export const MEM_SIZE = 0x10000;
export const KERNBASE = 0x80000000;
/** Instructions per event-loop slice. */
const SLICE = 500;

interface Watch { kind: WatchKind; addr: number; len: number }

export class FakeTarget implements DebugTarget {
  readonly mem = new Uint8Array(MEM_SIZE);
  readonly regs: Uint32Array[];
  readonly sw = new Set<number>();
  readonly hw = new Set<number>();
  readonly watches: Watch[] = [];
  phys = false;
  running = false;
  executed = 0;
  kills = 0;
  detaches = 0;
  /** Every resume() call's actions, for assertions. */
  readonly resumes: ResumeAction[][] = [];
  private stopFlag = false;
  private onStop: ((r: StopReason) => void) | null = null;

  constructor(readonly nThreads = 2) {
    this.regs = [];
    for (let t = 0; t < nThreads; t++) {
      const r = new Uint32Array(TARGET_REG_COUNT);
      r[Reg.EIP] = 0x1000 + t * 0x100;
      r[Reg.ESP] = 0x8000 - t * 0x1000;
      r[Reg.EFLAGS] = 0x202;
      r[Reg.CS] = 0x8;
      r[Reg.SS] = r[Reg.DS] = r[Reg.ES] = 0x10;
      r[Reg.CR0] = 0x80000011;
      r[Reg.CR3] = 0x3000;
      this.regs.push(r);
    }
    // Thread 0's program at 0x1000: inc eax; mov [0x4000],eax; nop; mov eax,[0x4000]; jmp 0x1000
    this.load(0x1000, [0x40, 0xa3, 0x00, 0x40, 0x00, 0x00, 0x90, 0xa1, 0x00, 0x40, 0x00, 0x00, 0xeb, 0xf2]);
    // Thread 1's program at 0x1100: nop; jmp 0x1100
    this.load(0x1100, [0x90, 0xeb, 0xfd]);
  }

  load(addr: number, bytes: number[]): void {
    this.mem.set(bytes, addr);
  }

  threads(): number[] {
    return [...Array(this.nThreads).keys()];
  }

  threadExtraInfo(t: number): string {
    return `CPU#${t} [fake, CPL0]`;
  }

  readRegisters(t: number): ArrayLike<number | undefined> {
    return Array.from(this.regs[t]);
  }

  writeRegister(t: number, reg: RegId, value: number): boolean {
    if (this.regs[t] === undefined || reg < 0 || reg >= TARGET_REG_COUNT) return false;
    this.regs[t][reg] = value;
    return true;
  }

  /** Virtual (or physical) address -> physical, or -1. */
  private translate(addr: number): number {
    if (addr < MEM_SIZE) return addr;
    if (!this.phys && addr >= KERNBASE && addr < KERNBASE + MEM_SIZE) return addr - KERNBASE;
    return -1;
  }

  readMemory(_t: number, addr: number, len: number): Uint8Array | null {
    const out: number[] = [];
    for (let i = 0; i < len; i++) {
      const p = this.translate((addr + i) >>> 0);
      if (p < 0) break;
      out.push(this.mem[p]);
    }
    return out.length ? Uint8Array.from(out) : null;
  }

  writeMemory(_t: number, addr: number, data: Uint8Array): boolean {
    for (let i = 0; i < data.length; i++) if (this.translate((addr + i) >>> 0) < 0) return false;
    for (let i = 0; i < data.length; i++) this.mem[this.translate((addr + i) >>> 0)] = data[i];
    return true;
  }

  setPhysicalMode(on: boolean): void {
    this.phys = on;
  }

  addBreakpoint(kind: BreakpointKind, addr: number): boolean {
    (kind === 'sw' ? this.sw : this.hw).add(addr);
    return true;
  }

  removeBreakpoint(kind: BreakpointKind, addr: number): boolean {
    return (kind === 'sw' ? this.sw : this.hw).delete(addr);
  }

  addWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    this.watches.push({ kind, addr, len });
    return true;
  }

  removeWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    const i = this.watches.findIndex((w) => w.kind === kind && w.addr === addr && w.len === len);
    if (i < 0) return false;
    this.watches.splice(i, 1);
    return true;
  }

  resume(actions: readonly ResumeAction[], onStop: (r: StopReason) => void): void {
    if (this.running) throw new Error('fake target: resume while running');
    this.resumes.push([...actions]);
    this.running = true;
    this.stopFlag = false;
    this.onStop = onStop;
    setImmediate(() => this.slice(actions));
  }

  interrupt(): void {
    this.stopFlag = true;
  }

  monitor(cmd: string): string {
    if (cmd === 'info stats') return `instructions: ${this.executed}\n`;
    return `fake: unknown command ${cmd}\n`;
  }

  monitorHelp(): string {
    return 'info stats        instructions executed\n';
  }

  kill(): void {
    this.kills++;
  }

  detach(): void {
    this.detaches++;
  }

  private stop(r: StopReason): void {
    this.running = false;
    const cb = this.onStop;
    this.onStop = null;
    cb?.(r);
  }

  private slice(actions: readonly ResumeAction[]): void {
    if (!this.running) return;
    if (this.stopFlag) return this.stop({ kind: 'signal', signal: 2, thread: actions[0]?.thread ?? 0 });
    for (let n = 0; n < SLICE; n++) {
      for (const a of actions) {
        const r = this.regs[a.thread];
        const eip = r[Reg.EIP];
        if (this.sw.has(eip)) return this.stop({ kind: 'swbreak', thread: a.thread });
        if (this.hw.has(eip)) return this.stop({ kind: 'hwbreak', thread: a.thread });
        const hit = this.exec(r);
        if (hit) return this.stop({ ...hit, thread: a.thread });
        if (a.kind === 'step') return this.stop({ kind: 'signal', signal: 5, thread: a.thread });
        if (a.kind === 'range') {
          const pc = r[Reg.EIP];
          if (pc < a.start || pc >= a.end) return this.stop({ kind: 'signal', signal: 5, thread: a.thread });
        }
      }
    }
    setImmediate(() => this.slice(actions));
  }

  private byte(addr: number): number {
    const p = this.translate(addr >>> 0);
    return p < 0 ? 0 : this.mem[p];
  }

  private u32(addr: number): number {
    return (this.byte(addr) | (this.byte(addr + 1) << 8) | (this.byte(addr + 2) << 16) | (this.byte(addr + 3) << 24)) >>> 0;
  }

  /** One instruction; a watchpoint hit if its data access touched one. */
  private exec(r: Uint32Array): { kind: 'watch' | 'rwatch' | 'awatch'; address: number } | null {
    this.executed++;
    const eip = r[Reg.EIP];
    const op = this.byte(eip);
    switch (op) {
      case 0x40:
        r[Reg.EAX] = r[Reg.EAX] + 1;
        r[Reg.EIP] = eip + 1;
        return null;
      case 0xa1:
      case 0xa3: {
        const addr = this.u32(eip + 1);
        const store = op === 0xa3;
        if (store) {
          const v = r[Reg.EAX];
          for (let i = 0; i < 4; i++) {
            const p = this.translate((addr + i) >>> 0);
            if (p >= 0) this.mem[p] = (v >>> (8 * i)) & 0xff;
          }
        } else r[Reg.EAX] = this.u32(addr);
        r[Reg.EIP] = eip + 5;
        for (const w of this.watches) {
          if (addr + 4 <= w.addr || w.addr + w.len <= addr) continue;
          if (w.kind === 'write' && store) return { kind: 'watch', address: w.addr };
          if (w.kind === 'read' && !store) return { kind: 'rwatch', address: w.addr };
          if (w.kind === 'access') return { kind: 'awatch', address: w.addr };
        }
        return null;
      }
      case 0xeb: {
        const rel = (this.byte(eip + 1) << 24) >> 24;
        r[Reg.EIP] = eip + 2 + rel;
        return null;
      }
      default:
        r[Reg.EIP] = eip + 1;
        return null;
    }
  }
}
