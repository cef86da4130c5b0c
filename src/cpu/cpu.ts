// The i386 processor as hardware: architectural state, segmented and paged
// memory access, and the public API the machine, VMM and debugger use.
// It sees only PhysMem, IoBus and an InterruptSource.

import type { IoBus } from '../bus/io-bus.js';
import { NO_INTERRUPTS, type InterruptSource } from '../bus/irq.js';
import type { PhysMem } from '../bus/phys-mem.js';
import {
  ATTR_CODE, ATTR_DB, ATTR_DC, ATTR_P, ATTR_RW, CR0_ET, CR0_PE, CS, DS, ES, F_RES1, FS, GP, GS, IF, SS, SSV,
} from './arch.js';
import { CC_EFLAGS, materialize } from './flags.js';
import { fault } from './fault.js';
import { Exit } from './exit.js';
import { Tlb, TLB_SR, TLB_SW, TLB_UR, TLB_UW, translateNoSideEffects, walk } from './mmu.js';
import { runLoop } from './interp.js';
import { deliverInterrupt as deliver } from './interrupts.js';
import { loadSegmentChecked } from './segment.js';
import { BlockCache } from './block.js';

export type WatchKind = 'write' | 'read' | 'access';

/** Bits of Cpu.brk: reasons to leave the current decoded block after this instruction. */
export const BRK_FLOW = 1;     // mode/CPL/paging change or code write: re-fetch the block
export const BRK_WATCH = 2;    // a watchpoint was hit
export const BRK_HALT = 4;     // HLT executed
export const BRK_SHADOW = 8;   // STI / MOV SS: interrupt shadow for the next instruction

export class Cpu {
  readonly mem: PhysMem;
  readonly io: IoBus;
  interrupts: InterruptSource = NO_INTERRUPTS;
  readonly apicId: number;

  // ---- registers ----
  readonly regs = new Int32Array(8);
  readonly regs16 = new Uint16Array(this.regs.buffer);
  readonly regs8 = new Uint8Array(this.regs.buffer);
  eip = 0;
  /** EFLAGS; arithmetic bits live lazily in the cc* fields (flags.ts) unless ccOp === CC_EFLAGS. */
  flags = F_RES1;
  ccOp = CC_EFLAGS;
  ccBits = 32;
  ccDst = 0;
  ccA = 0;
  ccB = 0;
  ccC = 0;
  cpl = 0;

  readonly segSel = new Uint16Array(6);
  readonly segBase = new Uint32Array(6);
  readonly segLimit = new Uint32Array(6);
  readonly segAttr = new Uint16Array(6);
  /** Derived from the caches: lowest/highest valid offset and read/write permission (0/1). */
  readonly segLo = new Uint32Array(6);
  readonly segHi = new Uint32Array(6);
  readonly segR = new Uint8Array(6);
  readonly segW = new Uint8Array(6);

  private _cr0 = CR0_ET;
  cr2 = 0;
  private _cr3 = 0;
  private _cr4 = 0;
  /** CR0: writing it re-derives the mode and flushes the TLB (SDM vol. 3, 4.10.4.1). */
  get cr0(): number { return this._cr0; }
  set cr0(v: number) { this._cr0 = v >>> 0; this.tlb.flush(); this.updateMode(); }
  /** CR3: writing it flushes the TLB. */
  get cr3(): number { return this._cr3; }
  set cr3(v: number) { this._cr3 = v >>> 0; this.tlb.flush(); this.brk |= BRK_FLOW; }
  get cr4(): number { return this._cr4; }
  set cr4(v: number) { this._cr4 = v >>> 0; this.tlb.flush(); this.brk |= BRK_FLOW; }
  readonly dr = new Uint32Array(8);
  gdtrBase = 0; gdtrLimit = 0xffff;
  idtrBase = 0; idtrLimit = 0x3ff;
  ldtrSel = 0; ldtrBase = 0; ldtrLimit = 0; ldtrAttr = 0;
  trSel = 0; trBase = 0; trLimit = 0; trAttr = 0;
  halted = false;
  instructionCount = 0;
  /** Writable MSR state we model. */
  apicBase: number;
  tscOffset = 0;

  // ---- derived mode bits (recomputed by updateMode) ----
  /** CR0.PE */
  pe = false;
  /** CS.D: default operand/address size 32. */
  cs32 = false;
  /** SS.B: stack pointer is ESP (else SP). */
  ss32 = false;
  /** TLB permission bits for data reads/writes at the current CPL. */
  accR = TLB_SR;
  accW = TLB_SW;

  // ---- run-loop plumbing ----
  brk = 0;
  /** After a fault: EIP of the faulting instruction (rewound to). While a block runs: the block's first EIP (interp.ts). */
  insnEip = 0;
  /** ESP at the start of the running instruction (restored on fault). */
  insnEsp = 0;
  /** Interrupts are inhibited until after the next instruction (STI, MOV/POP SS). */
  intShadow = false;
  /** Nesting depth of exception delivery (double/triple fault). */
  deliveryDepth = 0;
  /** Set by the interrupt-delivery path when a shutdown (triple fault) happened. */
  shutdown = false;

  // ---- exits ----
  exitVector = 0;
  exitErrorCode = 0;
  exitHasError = false;
  exitAddress = 0;
  interceptExceptions = 0;
  interceptInterrupts = false;

  // ---- memory machinery ----
  // (declared before the control registers' setters can run)
  readonly tlb: Tlb = new Tlb();
  readonly ramView: DataView;
  readonly blocks: BlockCache;
  /** Per linear page: number of watchpoints on it (those pages stay out of the TLB). */
  readonly watchPages = new Uint16Array(1 << 20);
  readonly watches: Array<{ lin: number; len: number; kind: WatchKind }> = [];
  readonly breakpoints = new Set<number>();
  /** EIP whose breakpoint is ignored once: set by a debugger resuming from a breakpoint stop; cleared after the first block of the next run(). */
  bpSkipEip = -1;
  /** Set by a breakpoint wrapper just before it stops the run. */
  pendingBreakpoint = false;

  constructor(mem: PhysMem, io: IoBus, opts: { apicId?: number } = {}) {
    this.mem = mem;
    this.io = io;
    this.apicId = opts.apicId ?? 0;
    this.apicBase = this.apicId === 0 ? 0xfee00900 : 0xfee00800;
    this.ramView = new DataView(mem.ram.buffer, mem.ram.byteOffset, mem.ram.byteLength);
    this.blocks = new BlockCache(this);
    this.reset();
  }

  // =================== state ===================

  /** Power-on/RESET state (SDM vol. 3, 9.1.1, table 9-1). */
  reset(): void {
    this.regs.fill(0);
    this.regs[2] = 0x00000500; // EDX: family 5 (Pentium) signature
    this.flags = F_RES1;
    this.ccOp = CC_EFLAGS;
    this.cr0 = 0x60000010; this.cr2 = 0; this.cr3 = 0; this.cr4 = 0;
    this.dr.fill(0); this.dr[6] = 0xffff0ff0; this.dr[7] = 0x400;
    this.gdtrBase = 0; this.gdtrLimit = 0xffff;
    this.idtrBase = 0; this.idtrLimit = 0xffff;
    this.ldtrSel = 0; this.ldtrBase = 0; this.ldtrLimit = 0xffff; this.ldtrAttr = 0x82;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trAttr = 0x8b;
    for (let s = 0; s < 6; s++) this.setSegmentRaw(s, 0, 0, 0xffff, 0x93);
    this.setSegmentRaw(CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
    this.eip = 0xfff0;
    this.cpl = 0;
    this.halted = false;
    this.intShadow = false;
    this.shutdown = false;
    this.tlb.flush();
    this.updateMode();
  }

  /** Real mode at CS:IP (startup IPI: cs = vector << 8, ip = 0), not halted. */
  startAt(cs: number, ip: number): void {
    this.cr0 &= ~(CR0_PE | 0x80000000);
    this.cpl = 0;
    this.setSegmentRaw(CS, cs & 0xffff, (cs & 0xffff) << 4, 0xffff, 0x9b);
    this.eip = ip & 0xffff;
    this.halted = false;
    this.shutdown = false;
    this.tlb.flush();
    this.updateMode();
  }

  getEflags(): number {
    materialize(this);
    return (this.flags | F_RES1) >>> 0;
  }

  setEflags(v: number): void {
    this.flags = (v & 0x003f7fd5) | F_RES1;
    this.ccOp = CC_EFLAGS;
  }

  /** Set a segment register and its hidden cache directly, without checks. */
  setSegmentRaw(sreg: number, sel: number, base: number, limit: number, attr: number): void {
    this.segSel[sreg] = sel;
    this.segBase[sreg] = base >>> 0;
    this.segLimit[sreg] = limit >>> 0;
    this.segAttr[sreg] = attr & 0xf0ff;
    if (sreg === CS && (this._cr0 & CR0_PE)) this.cpl = sel & 3;
    this.updateMode();
    this.refreshSeg(sreg);
  }

  /** Load a segment register as MOV Sreg would in the current mode (throws CpuFault). */
  loadSegment(sreg: number, selector: number): void {
    loadSegmentChecked(this, sreg, selector & 0xffff);
  }

  /** Recompute the derived access window of one segment register. */
  refreshSeg(s: number): void {
    const attr = this.segAttr[s];
    const limit = this.segLimit[s];
    if (!this.pe) {
      this.segLo[s] = 0; this.segHi[s] = limit; this.segR[s] = 1; this.segW[s] = 1;
      return;
    }
    if (!(attr & ATTR_P) || (s !== CS && (this.segSel[s] & 0xfffc) === 0)) {
      this.segLo[s] = 1; this.segHi[s] = 0; this.segR[s] = 0; this.segW[s] = 0;
      return;
    }
    if (attr & ATTR_CODE) {
      this.segR[s] = attr & ATTR_RW ? 1 : 0; this.segW[s] = 0;
      this.segLo[s] = 0; this.segHi[s] = limit;
    } else {
      this.segR[s] = 1; this.segW[s] = attr & ATTR_RW ? 1 : 0;
      if (attr & ATTR_DC) { // expand-down (SDM vol. 3, 3.4.5.1)
        this.segLo[s] = (limit + 1) >>> 0;
        this.segHi[s] = attr & ATTR_DB ? 0xffffffff : 0xffff;
        if (limit === 0xffffffff) { this.segLo[s] = 1; this.segHi[s] = 0; }
      } else {
        this.segLo[s] = 0; this.segHi[s] = limit;
      }
    }
  }

  /** Recompute PE/CS.D/SS.B/privilege-derived fields after CR0, CS, SS or CPL changes. */
  updateMode(): void {
    const pe = (this._cr0 & CR0_PE) !== 0;
    if (pe !== this.pe) {
      this.pe = pe;
      for (let s = 0; s < 6; s++) this.refreshSeg(s);
    }
    if (!pe) this.cpl = 0;
    this.cs32 = (this.segAttr[CS] & ATTR_DB) !== 0;
    this.ss32 = (this.segAttr[SS] & ATTR_DB) !== 0;
    this.accR = this.cpl === 3 ? TLB_UR : TLB_SR;
    this.accW = this.cpl === 3 ? TLB_UW : TLB_SW;
    this.brk |= BRK_FLOW;
    this.tlb.epoch++;
  }

  setCpl(cpl: number): void {
    this.cpl = cpl;
    this.updateMode();
  }

  // =================== segmented access ===================

  segFault(seg: number): never {
    return fault(seg === SS ? SSV : GP, 0);
  }

  /** Linear address of seg:off for a `size`-byte read (checks limit and type). */
  segRead(seg: number, off: number, size: number): number {
    off >>>= 0;
    if (this.segR[seg] === 0 || off < this.segLo[seg] || off + size - 1 > this.segHi[seg]) this.segFault(seg);
    return (this.segBase[seg] + off) | 0;
  }

  segWrite(seg: number, off: number, size: number): number {
    off >>>= 0;
    if (this.segW[seg] === 0 || off < this.segLo[seg] || off + size - 1 > this.segHi[seg]) this.segFault(seg);
    return (this.segBase[seg] + off) | 0;
  }

  rd8(seg: number, off: number): number { return this.rdLin8(this.segRead(seg, off, 1)); }
  rd16(seg: number, off: number): number { return this.rdLin16(this.segRead(seg, off, 2)); }
  rd32(seg: number, off: number): number { return this.rdLin32(this.segRead(seg, off, 4)); }
  wr8(seg: number, off: number, v: number): void { this.wrLin8(this.segWrite(seg, off, 1), v); }
  wr16(seg: number, off: number, v: number): void { this.wrLin16(this.segWrite(seg, off, 2), v); }
  wr32(seg: number, off: number, v: number): void { this.wrLin32(this.segWrite(seg, off, 4), v); }

  /** Read `size` (1/2/4) bytes, unsigned. */
  rd(size: number, seg: number, off: number): number {
    return size === 4 ? this.rd32(seg, off) >>> 0 : size === 2 ? this.rd16(seg, off) : this.rd8(seg, off);
  }
  wr(size: number, seg: number, off: number, v: number): void {
    if (size === 4) this.wr32(seg, off, v); else if (size === 2) this.wr16(seg, off, v); else this.wr8(seg, off, v);
  }

  // =================== linear access at the current privilege ===================

  rdLin8(lin: number): number {
    const e = this.tlb.entry[lin >>> 12];
    if (e & this.accR) return this.mem.ram[(e & ~0xfff) | (lin & 0xfff)];
    return this.slowRead(lin, 1, this.cpl === 3);
  }
  rdLin16(lin: number): number {
    const e = this.tlb.entry[lin >>> 12];
    if ((e & this.accR) && (lin & 0xfff) <= 0xffe) return this.ramView.getUint16((e & ~0xfff) | (lin & 0xfff), true);
    return this.slowRead(lin, 2, this.cpl === 3);
  }
  rdLin32(lin: number): number {
    const e = this.tlb.entry[lin >>> 12];
    if ((e & this.accR) && (lin & 0xfff) <= 0xffc) return this.ramView.getInt32((e & ~0xfff) | (lin & 0xfff), true);
    return this.slowRead(lin, 4, this.cpl === 3) | 0;
  }
  wrLin8(lin: number, v: number): void {
    const e = this.tlb.entry[lin >>> 12];
    if ((e & this.accW) && this.mem.codePages[e >>> 12] === 0) { this.mem.ram[(e & ~0xfff) | (lin & 0xfff)] = v; return; }
    this.slowWrite(lin, 1, v, this.cpl === 3);
  }
  wrLin16(lin: number, v: number): void {
    const e = this.tlb.entry[lin >>> 12];
    if ((e & this.accW) && (lin & 0xfff) <= 0xffe && this.mem.codePages[e >>> 12] === 0) {
      this.ramView.setUint16((e & ~0xfff) | (lin & 0xfff), v, true); return;
    }
    this.slowWrite(lin, 2, v, this.cpl === 3);
  }
  wrLin32(lin: number, v: number): void {
    const e = this.tlb.entry[lin >>> 12];
    if ((e & this.accW) && (lin & 0xfff) <= 0xffc && this.mem.codePages[e >>> 12] === 0) {
      this.ramView.setInt32((e & ~0xfff) | (lin & 0xfff), v, true); return;
    }
    this.slowWrite(lin, 4, v, this.cpl === 3);
  }

  /** Read through paging with explicit privilege (user=false: supervisor, e.g. descriptor tables). */
  slowRead(lin: number, size: number, user: boolean): number {
    lin >>>= 0;
    if ((lin & 0xfff) + size > 0x1000) {
      let v = 0;
      for (let k = 0; k < size; k++) v += this.slowRead((lin + k) >>> 0, 1, user) * 2 ** (8 * k);
      return v;
    }
    const phys = walk(this, lin, false, user);
    if (this.watches.length !== 0 && this.watchPages[lin >>> 12] !== 0) this.checkWatch(lin, size, false);
    return size === 1 ? this.mem.read8(phys) : size === 2 ? this.mem.read16(phys) : this.mem.read32(phys);
  }

  slowWrite(lin: number, size: number, v: number, user: boolean): void {
    lin >>>= 0;
    if ((lin & 0xfff) + size > 0x1000) {
      // Check both pages before writing any byte so the fault is precise.
      walk(this, lin, true, user);
      walk(this, (lin + size - 1) >>> 0, true, user);
      for (let k = 0; k < size; k++) this.slowWrite((lin + k) >>> 0, 1, (v >>> (8 * k)) & 0xff, user);
      return;
    }
    const phys = walk(this, lin, true, user);
    if (this.watches.length !== 0 && this.watchPages[lin >>> 12] !== 0) this.checkWatch(lin, size, true);
    if (size === 1) this.mem.write8(phys, v); else if (size === 2) this.mem.write16(phys, v); else this.mem.write32(phys, v);
  }

  /** Supervisor-privileged ("implicit") access: descriptor tables, TSS, IDT. */
  rdSys32(lin: number): number { return this.slowRead(lin, 4, false) >>> 0; }
  rdSys16(lin: number): number { return this.slowRead(lin, 2, false); }
  wrSys8(lin: number, v: number): void { this.slowWrite(lin, 1, v, false); }

  private checkWatch(lin: number, size: number, write: boolean): void {
    for (const w of this.watches) {
      if (w.kind === 'write' && !write) continue;
      if (w.kind === 'read' && write) continue;
      const end = lin + size, wend = w.lin + w.len;
      if (lin < wend && w.lin < end) {
        this.exitAddress = Math.max(lin, w.lin) >>> 0;
        this.brk |= BRK_WATCH;
        return;
      }
    }
  }

  // =================== stack ===================

  /** Stack pointer mask from SS.B. */
  get spMask(): number { return this.ss32 ? 0xffffffff : 0xffff; }

  push32(v: number): void {
    const sp = this.ss32 ? (this.regs[4] - 4) >>> 0 : (this.regs[4] - 4) & 0xffff;
    this.wr32(SS, sp, v);
    if (this.ss32) this.regs[4] = sp; else this.regs16[8] = sp;
  }
  push16(v: number): void {
    const sp = this.ss32 ? (this.regs[4] - 2) >>> 0 : (this.regs[4] - 2) & 0xffff;
    this.wr16(SS, sp, v);
    if (this.ss32) this.regs[4] = sp; else this.regs16[8] = sp;
  }
  push(size: number, v: number): void { if (size === 4) this.push32(v); else this.push16(v); }
  pop32(): number {
    const sp = this.ss32 ? this.regs[4] >>> 0 : this.regs[4] & 0xffff;
    const v = this.rd32(SS, sp);
    if (this.ss32) this.regs[4] = sp + 4; else this.regs16[8] = sp + 4;
    return v >>> 0;
  }
  pop16(): number {
    const sp = this.ss32 ? this.regs[4] >>> 0 : this.regs[4] & 0xffff;
    const v = this.rd16(SS, sp);
    if (this.ss32) this.regs[4] = sp + 2; else this.regs16[8] = sp + 2;
    return v;
  }
  pop(size: number): number { return size === 4 ? this.pop32() : this.pop16(); }
  /** Read the stack at ESP+delta without popping. */
  peekStack(size: number, delta: number): number {
    const sp = this.ss32 ? (this.regs[4] + delta) >>> 0 : (this.regs[4] + delta) & 0xffff;
    return this.rd(size, SS, sp);
  }
  addSp(n: number): void {
    if (this.ss32) this.regs[4] = this.regs[4] + n; else this.regs16[8] = this.regs16[8] + n;
  }

  // =================== running ===================

  /** Run up to `budget` instructions; never throws for guest behaviour. */
  run(budget: number): Exit {
    return runLoop(this, budget);
  }

  deliverInterrupt(vector: number, kind: 'external' | 'exception' | 'soft', errorCode?: number): void {
    deliver(this, vector, kind === 'external' ? 1 : kind === 'soft' ? 2 : 0, errorCode ?? 0, errorCode !== undefined);
  }

  // =================== debugger support ===================

  addBreakpoint(linear: number): void {
    this.breakpoints.add(linear >>> 0);
    this.blocks.flushAll();
  }
  removeBreakpoint(linear: number): void {
    if (this.breakpoints.delete(linear >>> 0)) this.blocks.flushAll();
  }
  addWatchpoint(linear: number, len: number, kind: WatchKind): void {
    linear >>>= 0;
    this.watches.push({ lin: linear, len, kind });
    for (let p = linear >>> 12; p <= ((linear + Math.max(len, 1) - 1) >>> 12); p++) this.watchPages[p & 0xfffff]++;
    this.tlb.flush();
  }
  removeWatchpoint(linear: number, len: number, kind: WatchKind): void {
    linear >>>= 0;
    const k = this.watches.findIndex((w) => w.lin === linear && w.len === len && w.kind === kind);
    if (k < 0) return;
    this.watches.splice(k, 1);
    for (let p = linear >>> 12; p <= ((linear + Math.max(len, 1) - 1) >>> 12); p++) this.watchPages[p & 0xfffff]--;
  }

  /** Side-effect-free page walk: physical address or -1. */
  translate(linear: number, write: boolean, user: boolean): number {
    return translateNoSideEffects(this, linear, write, user);
  }

  readLinearNoSideEffects(linear: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let k = 0; k < len; k++) {
      const p = this.translate((linear + k) >>> 0, false, false);
      if (p < 0 || !this.mem.isRam(p)) return null;
      out[k] = this.mem.ram[p];
    }
    return out;
  }

  // =================== VMM support: linear access with protection ===================

  readLinear32(linear: number, asUser = false): number { return this.slowRead(linear, 4, asUser) >>> 0; }
  readLinear16(linear: number, asUser = false): number { return this.slowRead(linear, 2, asUser); }
  readLinear8(linear: number, asUser = false): number { return this.slowRead(linear, 1, asUser); }
  writeLinear32(linear: number, v: number, asUser = false): void { this.slowWrite(linear, 4, v, asUser); }
  writeLinear16(linear: number, v: number, asUser = false): void { this.slowWrite(linear, 2, v, asUser); }
  writeLinear8(linear: number, v: number, asUser = false): void { this.slowWrite(linear, 1, v, asUser); }

  /** IF as the hardware sees it (for the machine: can an interrupt be taken now?). */
  get interruptsEnabled(): boolean { return (this.flags & IF) !== 0 && !this.intShadow; }
}

export { ES, CS, SS, DS, FS, GS };
