// The machine as the gdb stub sees it (stub/target.ts): guest-visible
// registers from each vCPU's view, memory through the guest's own page
// tables read without side effects (original bytes where the VMM planted
// INT 3), breakpoints/watchpoints kept in the CPU (never written into
// guest memory), and execution in bounded slices on the event loop.

import type {
  BreakpointKind, DebugTarget, RegId, ResumeAction, StopReason, WatchKind,
} from '../../stub/target.js';
import type { Cpu } from '../cpu/cpu.js';
import type { GuestRunner } from './pc.js';
import type { VcpuView } from './vcpu-view.js';

/** Guest-physical memory as the debugger sees it. */
export interface DebugMemory {
  read(gpa: number, len: number): Uint8Array;
  write(gpa: number, data: Uint8Array): boolean;
  /** False for addresses that are not guest RAM (device windows, absent memory). */
  isRam(gpa: number): boolean;
}

export interface DebugTargetOptions {
  runner: GuestRunner;
  views: VcpuView[];
  /** Every CPU that may execute this guest's code (breakpoints and watchpoints are armed in all). */
  cpus: Cpu[];
  /** The CPU that executes vCPU `i` right now (where its exit details are). */
  cpuOf: (i: number) => Cpu;
  memory: DebugMemory;
  /** Monitor commands the engine/machine understands besides the generic ones. */
  monitor?: (cmd: string) => string | null;
  monitorHelp?: string;
  /** `monitor reset`: the machine resets and boots its kernel or disk again. */
  reset?: () => void;
  /** Called when the guest has finished for good (exit, triple fault, kill). */
  onFinished: () => void;
  /** gdb's `k`. */
  onKill: () => void;
}

/** Instructions per event-loop turn while continuing. */
const SLICE = 500_000;
/** Steps per event-loop turn while range-stepping. */
const STEP_BATCH = 10_000;

const SIGINT = 2;
const SIGTRAP = 5;
const SIGKILL = 9;
const SIGSEGV = 11;

export class MachineDebugTarget implements DebugTarget {
  private physical = false;
  private readonly swBps = new Map<number, number>();
  private readonly hwBps = new Map<number, number>();
  private interruptRequested = false;
  private running = false;
  private finished = false;

  constructor(private readonly o: DebugTargetOptions) {}

  threads(): readonly number[] {
    return this.o.views.map((_, i) => i);
  }

  threadExtraInfo(thread: number): string {
    const v = this.o.views[thread];
    if (!v) return '';
    return this.o.runner.started[thread] ? v.describe() : `CPU#${thread} [waiting for STARTUP IPI]`;
  }

  readRegisters(thread: number): ArrayLike<number | undefined> {
    return this.o.views[thread]?.registers() ?? [];
  }

  writeRegister(thread: number, reg: RegId, value: number): boolean {
    return this.o.views[thread]?.writeRegister(reg, value) ?? false;
  }

  setPhysicalMode(on: boolean): void {
    this.physical = on;
  }

  private toPhys(thread: number, addr: number): number {
    if (this.physical) return addr >>> 0;
    const v = this.o.views[thread] ?? this.o.views[0];
    return v.translate(addr >>> 0);
  }

  readMemory(thread: number, addr: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = (addr + done) >>> 0;
      const pa = this.toPhys(thread, a);
      if (pa < 0 || !this.o.memory.isRam(pa)) break;
      const n = Math.min(len - done, 0x1000 - (a & 0xfff), 0x1000 - (pa & 0xfff));
      out.set(this.o.memory.read(pa, n), done);
      done += n;
    }
    return done === 0 ? null : out.subarray(0, done);
  }

  writeMemory(thread: number, addr: number, data: Uint8Array): boolean {
    // All or nothing: translate every page first.
    const pieces: Array<[number, Uint8Array]> = [];
    let done = 0;
    while (done < data.length) {
      const a = (addr + done) >>> 0;
      const pa = this.toPhys(thread, a);
      if (pa < 0 || !this.o.memory.isRam(pa)) return false;
      const n = Math.min(data.length - done, 0x1000 - (a & 0xfff), 0x1000 - (pa & 0xfff));
      pieces.push([pa, data.subarray(done, done + n)]);
      done += n;
    }
    for (const [pa, d] of pieces) if (!this.o.memory.write(pa, d)) return false;
    return true;
  }

  addBreakpoint(kind: BreakpointKind, addr: number): boolean {
    const m = kind === 'sw' ? this.swBps : this.hwBps;
    addr >>>= 0;
    const n = m.get(addr) ?? 0;
    m.set(addr, n + 1);
    if (!this.swBps.has(addr) || !this.hwBps.has(addr) || n > 0) {
      // First breakpoint of any kind at this address: arm the CPUs.
      if ((this.swBps.get(addr) ?? 0) + (this.hwBps.get(addr) ?? 0) === 1) for (const c of this.o.cpus) c.addBreakpoint(addr);
    }
    return true;
  }

  removeBreakpoint(kind: BreakpointKind, addr: number): boolean {
    const m = kind === 'sw' ? this.swBps : this.hwBps;
    addr >>>= 0;
    const n = m.get(addr);
    if (n === undefined) return false;
    if (n > 1) m.set(addr, n - 1);
    else m.delete(addr);
    if (!this.swBps.has(addr) && !this.hwBps.has(addr)) for (const c of this.o.cpus) c.removeBreakpoint(addr);
    return true;
  }

  addWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    if (len <= 0) return false;
    for (const c of this.o.cpus) c.addWatchpoint(addr >>> 0, len, kind);
    return true;
  }

  removeWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    for (const c of this.o.cpus) c.removeWatchpoint(addr >>> 0, len, kind);
    return true;
  }

  resume(actions: readonly ResumeAction[], onStop: (r: StopReason) => void): void {
    if (this.finished) {
      onStop({ kind: 'exited', code: 0 });
      return;
    }
    const runner = this.o.runner;
    runner.stop = null;
    this.interruptRequested = false;
    this.running = true;
    // An instruction sitting at a breakpoint is executed, not reported again.
    for (const c of this.o.cpus) c.bpSkipEip = c.eip;
    const stepper = actions.find((a) => a.kind === 'step' || a.kind === 'range');
    const done = (r: StopReason) => {
      this.running = false;
      onStop(r);
      if (this.finished) this.o.onFinished();
    };
    if (stepper) {
      const t = stepper.thread;
      const view = this.o.views[t];
      if (!view) { done({ kind: 'signal', signal: SIGTRAP, thread: 0 }); return; }
      const tick = () => {
        for (let k = 0; k < STEP_BATCH; k++) {
          const before = this.o.runner.engine.instructions(t);
          runner.runSlice(1, t);
          const r = this.stopReason(t);
          if (r) { done(r); return; }
          if (this.interruptRequested) { done({ kind: 'signal', signal: SIGINT, thread: t }); return; }
          if (this.o.runner.engine.instructions(t) === before) continue; // halted: time advanced, try again
          if (stepper.kind === 'step') { done({ kind: 'signal', signal: SIGTRAP, thread: t }); return; }
          const pc = view.registers()[8];
          if (pc < stepper.start || pc >= stepper.end) { done({ kind: 'signal', signal: SIGTRAP, thread: t }); return; }
        }
        setImmediate(tick);
      };
      tick();
      return;
    }
    const tick = () => {
      runner.runSlice(SLICE);
      const r = this.stopReason(0);
      if (r) { done(r); return; }
      if (this.interruptRequested) { done({ kind: 'signal', signal: SIGINT, thread: this.currentThread() }); return; }
      if (runner.idled) setTimeout(tick, 2);
      else setImmediate(tick);
    };
    setImmediate(tick);
  }

  interrupt(): void {
    if (this.running) this.interruptRequested = true;
  }

  private currentThread(): number {
    return 0;
  }

  /** Map the runner's/board's stop into gdb's terms; null = keep going. */
  private stopReason(thread: number): StopReason | null {
    const runner = this.o.runner;
    const bs = runner.board.stop;
    if (bs !== null) {
      this.finished = true;
      if (bs.kind === 'exit') return { kind: 'exited', code: bs.status & 0xff };
      return { kind: 'exited', code: 0 };
    }
    const s = runner.stop;
    if (s === null) return null;
    switch (s.kind) {
      case 'breakpoint': {
        const pc = this.o.views[s.vcpu].pcLinear();
        const kind = this.swBps.has(pc) || !this.hwBps.has(pc) ? 'swbreak' : 'hwbreak';
        return { kind, thread: s.vcpu };
      }
      case 'watchpoint': {
        const cpu = this.o.cpuOf(s.vcpu);
        const a = cpu.exitAddress >>> 0;
        const w = cpu.watches.find((x) => a >= x.lin && a < x.lin + x.len);
        const kind = w?.kind === 'read' ? 'rwatch' : w?.kind === 'access' ? 'awatch' : 'watch';
        return { kind, thread: s.vcpu, address: w ? w.lin : a };
      }
      case 'triple-fault':
        this.finished = true;
        return { kind: 'terminated', signal: SIGSEGV };
      case 'limit':
      case 'idle':
        this.finished = s.kind === 'limit';
        return s.kind === 'limit' ? { kind: 'terminated', signal: SIGKILL } : { kind: 'signal', signal: SIGTRAP, thread };
      default:
        return { kind: 'signal', signal: SIGTRAP, thread };
    }
  }

  monitor(cmd: string): string {
    const words = cmd.trim().split(/\s+/);
    if (words[0] === 'info' && words[1] === 'registers') {
      // Under the VMM, the real (deprivileged) CPU state follows the virtual one.
      return this.infoRegisters() + (this.o.monitor?.('info real') ?? '');
    }
    if (words[0] === 'reset' && this.o.reset) {
      this.o.reset();
      this.finished = false;
      return 'system reset; the guest boots again from the start\n';
    }
    if (words[0] === 'info' && words[1] === 'mem') return this.infoMem();
    const r = this.o.monitor?.(cmd.trim());
    if (r !== null && r !== undefined) return r;
    return `unknown command: ${cmd.trim()} (try 'monitor help')\n`;
  }

  monitorHelp(): string {
    return [
      'info registers -- guest-visible registers of every vCPU',
      'info mem -- the guest\'s virtual memory mappings (from its own page tables)',
      ...(this.o.reset ? ['reset -- reset the machine and boot again (RAM kept, devices and vCPUs reset)'] : []),
      ...(this.o.monitorHelp ? [this.o.monitorHelp.trimEnd()] : []),
    ].join('\n') + '\n';
  }

  kill(): void {
    this.finished = true;
    this.o.onKill();
  }

  private infoRegisters(): string {
    const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs',
      'cs_base', 'ss_base', 'ds_base', 'es_base', 'fs_base', 'gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'gdtr_base', 'gdtr_limit', 'idtr_base', 'idtr_limit', 'ldtr', 'tr'];
    let out = '';
    this.o.views.forEach((v, i) => {
      out += `${this.threadExtraInfo(i)}\n`;
      const r = v.registers();
      for (let k = 0; k < names.length; k += 4) {
        out += names.slice(k, k + 4).map((n, j) => `${n.padEnd(10)} ${(r[k + j] >>> 0).toString(16).padStart(8, '0')}`).join('  ') + '\n';
      }
    });
    return out;
  }

  /** Coalesced ranges of mapped guest-linear memory, like QEMU's `info mem`. */
  private infoMem(): string {
    const v = this.o.views[0];
    const regs = v.registers();
    if (!(regs[22] & 0x80000000)) return 'paging is disabled\n';
    let out = '';
    let start = -1;
    let last = -1;
    const flush = (end: number) => {
      if (start >= 0) out += `${start.toString(16).padStart(8, '0')}-${end.toString(16).padStart(8, '0')} ${(end - start).toString(16).padStart(8, '0')} -> ${last.toString(16)}\n`;
      start = -1;
    };
    let prevPa = -2;
    for (let lin = 0; lin < 0x100000000; lin += 0x1000) {
      const pa = v.translate(lin);
      if (pa < 0) { flush(lin); prevPa = -2; continue; }
      if (start < 0 || pa !== prevPa + 0x1000) { flush(lin); start = lin; last = pa; }
      prevPa = pa;
    }
    flush(0x100000000);
    return out || 'no mappings\n';
  }
}
