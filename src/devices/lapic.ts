// Local APIC (xAPIC, MMIO at 0xFEE00000), one per CPU, and the router that
// shows each CPU its own APIC at the shared address. Owns the APIC
// registers, IRR/ISR/TMR, priority logic, the APIC timer, LINT0/LINT1 and
// ICR-sent IPIs; it is the CPU's InterruptSource and merges the 8259 when
// LINT0 is in ExtINT mode (virtual wire, as a BIOS leaves it).
//
// Reference: Intel SDM vol. 3A chapter 10 (10.4 register map, 10.5 LVT and
// timer, 10.6 IPIs, 10.8 priority/EOI). QEMU's hw/intc/apic.c for reset values
// and PIC pass-through (apic_accept_pic_intr).

import type { AccessSize, MmioHandler, PhysMem } from '../bus/phys-mem.js';
import type { InterruptSource } from '../bus/irq.js';
import type { Clocked } from '../bus/clock.js';
import {
  type ApicBus, type ApicBusMember,
  DM_EXTINT, DM_FIXED, DM_INIT, DM_NMI, DM_SMI, DM_STARTUP,
} from './apic-bus.js';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_SIZE = 0x1000;

// Register offsets (SDM table 10-1).
const REG_ID = 0x020;
const REG_VERSION = 0x030;
const REG_TPR = 0x080;
const REG_APR = 0x090;
const REG_PPR = 0x0a0;
const REG_EOI = 0x0b0;
const REG_RRD = 0x0c0;
const REG_LDR = 0x0d0;
const REG_DFR = 0x0e0;
const REG_SVR = 0x0f0;
const REG_ISR = 0x100; // 8 registers, 0x100-0x170
const REG_TMR = 0x180;
const REG_IRR = 0x200;
const REG_ESR = 0x280;
const REG_LVT_CMCI = 0x2f0;
const REG_ICR_LO = 0x300;
const REG_ICR_HI = 0x310;
const REG_LVT_TIMER = 0x320;
const REG_LVT_THERMAL = 0x330;
const REG_LVT_PERF = 0x340;
const REG_LVT_LINT0 = 0x350;
const REG_LVT_LINT1 = 0x360;
const REG_LVT_ERROR = 0x370;
const REG_TIMER_INIT = 0x380;
const REG_TIMER_CUR = 0x390;
const REG_TIMER_DIV = 0x3e0;

// LVT indices.
const LVT_TIMER = 0;
const LVT_THERMAL = 1;
const LVT_PERF = 2;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
const LVT_COUNT = 6;
/** Writable bits per LVT (SDM figure 10-8). */
const LVT_WRITABLE = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];

const LVT_MASKED = 1 << 16;
const LVT_LEVEL = 1 << 15; // trigger mode (LINT0/1)
const LVT_REMOTE_IRR = 1 << 14;
const TIMER_PERIODIC = 1 << 17;

const SVR_ENABLE = 1 << 8;
const SVR_EOI_SUPPRESS = 1 << 12;

// ICR fields (SDM figure 10-12).
const ICR_DEST_LOGICAL = 1 << 11;
const ICR_LEVEL_ASSERT = 1 << 14;
const ICR_TRIGGER_LEVEL = 1 << 15;

// ESR bits (SDM figure 10-9).
const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
const ESR_RECV_ILLEGAL_VECTOR = 1 << 6;
const ESR_ILLEGAL_REGISTER = 1 << 7;

/** Version register: version 0x14 (integrated APIC), max LVT entry 5, as QEMU reports. */
export const LAPIC_VERSION = 0x00050014;

/** IA32_APIC_BASE MSR (SDM 10.4.4). */
const APICBASE_BSP = 1 << 8;
const APICBASE_ENABLE = 1 << 11;

/** Highest set bit index in a 256-bit register, -1 if none. */
function highestBit(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    if (r[i] !== 0) return i * 32 + 31 - Math.clz32(r[i]);
  }
  return -1;
}

const setBit = (r: Uint32Array, v: number) => { r[v >> 5] |= 1 << (v & 31); };
const clearBit = (r: Uint32Array, v: number) => { r[v >> 5] &= ~(1 << (v & 31)); };
const testBit = (r: Uint32Array, v: number) => (r[v >> 5] & (1 << (v & 31))) !== 0;

export interface LapicOptions {
  apicId: number;
  bus: ApicBus;
  /** Bootstrap processor: LINT0 starts in ExtINT mode, as QEMU leaves it for the BIOS. */
  bsp?: boolean;
  /** The 8259 pair, merged as ExtINT through LINT0. */
  pic?: InterruptSource | null;
  /** Current virtual time (ns) at the moment of an access; defaults to the last advanceTo. */
  now?: () => number;
}

export class Lapic implements MmioHandler, InterruptSource, Clocked, ApicBusMember {
  apicId: number;
  private readonly bus: ApicBus;
  private readonly bsp: boolean;
  pic: InterruptSource | null;
  private readonly nowFn: (() => number) | null;
  private lastNow = 0;

  private apicBase = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private esr = 0; // visible after the last ESR write
  private esrPending = 0; // errors accumulated since
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private lvtCmci = LVT_MASKED;
  private divideConf = 0;
  private initialCount = 0;
  private timerStart = 0; // ns at which the current count was loaded
  private timerDeadline = Infinity; // ns of the next expiry
  private lint0Level = false;
  private lint1Level = false;

  constructor(opts: LapicOptions) {
    this.apicId = opts.apicId & 0xff;
    this.bus = opts.bus;
    this.bsp = opts.bsp ?? opts.apicId === 0;
    this.pic = opts.pic ?? null;
    this.nowFn = opts.now ?? null;
    this.reset();
    this.bus.attach(this);
  }

  private time(): number {
    const t = this.nowFn ? this.nowFn() : this.lastNow;
    return t > this.lastNow ? t : this.lastNow;
  }

  /** Power-on / INIT state (SDM 10.4.7.1), plus QEMU's BSP LINT0 = ExtINT. */
  reset(): void {
    this.apicBase = (LAPIC_BASE | APICBASE_ENABLE | (this.bsp ? APICBASE_BSP : 0)) >>> 0;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.lvtCmci = LVT_MASKED;
    if (this.bsp) this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.divideConf = 0;
    this.initialCount = 0;
    this.timerStart = 0;
    this.timerDeadline = Infinity;
  }

  // --- IA32_APIC_BASE MSR, for the CPU's RDMSR/WRMSR 0x1B ---

  readApicBaseMsr(): number {
    return this.apicBase;
  }

  /** Bits 8 (BSP, read-only) and 11 (global enable) matter; the base stays at 0xFEE00000. */
  writeApicBaseMsr(v: number): void {
    const wasEnabled = this.globallyEnabled;
    this.apicBase = ((this.apicBase & ~APICBASE_ENABLE) | (v & APICBASE_ENABLE)) >>> 0;
    // Clearing the global enable is sticky until reset and resets the APIC state (SDM 10.4.3).
    if (wasEnabled && !this.globallyEnabled) {
      const base = this.apicBase;
      this.reset();
      this.apicBase = base;
    }
  }

  get globallyEnabled(): boolean {
    return (this.apicBase & APICBASE_ENABLE) !== 0;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  // --- priorities (SDM 10.8.3) ---

  private ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  get arbitrationPriority(): number {
    return this.tpr & 0xff;
  }

  /** >0: deliverable vector; -1: something in IRR but blocked by PPR; 0: nothing (QEMU apic_irq_pending). */
  private pendingVector(): number {
    if (!this.softwareEnabled || !this.globallyEnabled) return 0;
    const irrv = highestBit(this.irr);
    if (irrv < 0) return 0;
    const ppr = this.ppr();
    if (ppr !== 0 && (irrv & 0xf0) <= (ppr & 0xf0)) return -1;
    return irrv;
  }

  /**
   * Whether 8259 interrupts reach this CPU: the APIC is globally disabled
   * (the PIC is wired straight to INTR), or LINT0 is unmasked in ExtINT mode.
   */
  acceptsPic(): boolean {
    if (!this.globallyEnabled) return true;
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASKED) === 0 && ((l >> 8) & 7) === DM_EXTINT;
  }

  hasInterrupt(): boolean {
    if (this.pendingVector() > 0) return true;
    return this.pic !== null && this.acceptsPic() && this.pic.hasInterrupt();
  }

  /** INTA: the APIC's own vector first, else the 8259's (ExtINT), else the spurious vector. */
  acknowledge(): number {
    const v = this.pendingVector();
    if (v > 0) {
      clearBit(this.irr, v);
      setBit(this.isr, v);
      return v;
    }
    if (v === 0 && this.pic !== null && this.acceptsPic() && this.pic.hasInterrupt()) return this.pic.acknowledge();
    return this.svr & 0xff;
  }

  // --- ApicBusMember ---

  matchesLogical(dest: number): boolean {
    if (dest === 0xff) return true;
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0; // flat model
    // Cluster model: high nibble = cluster, low nibble = member bitmap.
    return (dest >> 4) === (ldr >> 4) && (dest & ldr & 0x0f) !== 0;
  }

  acceptInterrupt(vector: number, level: boolean): void {
    if (vector < 16) {
      this.error(ESR_RECV_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector);
    if (level) setBit(this.tmr, vector); else clearBit(this.tmr, vector);
  }

  private error(bit: number): void {
    this.esrPending |= bit;
    const l = this.lvt[LVT_ERROR];
    if (!(l & LVT_MASKED) && (l & 0xff) >= 16) {
      setBit(this.irr, l & 0xff);
      clearBit(this.tmr, l & 0xff);
    }
  }

  // --- local interrupt pins ---

  /** LINT0 input level (the machine may wire the 8259's INTR here for non-ExtINT setups). */
  setLint0(level: boolean): void {
    const rising = level && !this.lint0Level;
    this.lint0Level = level;
    this.localPin(LVT_LINT0, level, rising);
  }

  /** LINT1 input level (NMI on a PC). */
  setLint1(level: boolean): void {
    const rising = level && !this.lint1Level;
    this.lint1Level = level;
    this.localPin(LVT_LINT1, level, rising);
  }

  private localPin(idx: number, level: boolean, rising: boolean): void {
    const l = this.lvt[idx];
    if (l & LVT_MASKED) return;
    const mode = (l >> 8) & 7;
    const levelTrig = (l & LVT_LEVEL) !== 0;
    if (mode === DM_FIXED) {
      if (levelTrig ? level : rising) this.acceptInterrupt(l & 0xff, levelTrig);
      if (levelTrig && level) this.lvt[idx] |= LVT_REMOTE_IRR;
    } else if (mode === DM_NMI && rising) {
      this.bus.callbacks.onNmi?.(this.apicId);
    } else if (mode === DM_SMI && rising) {
      this.bus.callbacks.onSmi?.(this.apicId);
    }
    // ExtINT is polled through `pic` in hasInterrupt/acknowledge.
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) {
      clearBit(this.tmr, v);
      if ((this.lvt[LVT_LINT0] & 0xff) === v) this.lvt[LVT_LINT0] &= ~LVT_REMOTE_IRR;
      if ((this.lvt[LVT_LINT1] & 0xff) === v) this.lvt[LVT_LINT1] &= ~LVT_REMOTE_IRR;
      if (!(this.svr & SVR_EOI_SUPPRESS)) this.bus.broadcastEoi(v);
    }
  }

  // --- timer (SDM 10.5.4) ---

  private divisor(): number {
    const v = (this.divideConf & 3) | ((this.divideConf & 8) >> 1);
    return v === 7 ? 1 : 2 << v;
  }

  private periodic(): boolean {
    return (this.lvt[LVT_TIMER] & TIMER_PERIODIC) !== 0;
  }

  /** Current count: bus clock 1 GHz (1 tick per ns) divided by the divide configuration. */
  private currentCount(now: number): number {
    if (this.initialCount === 0) return 0;
    const ticks = Math.floor((now - this.timerStart) / this.divisor());
    if (this.periodic()) return this.initialCount - (ticks % this.initialCount);
    return ticks >= this.initialCount ? 0 : this.initialCount - ticks;
  }

  /** Recompute the next expiry from the load time (first expiry after `now`). */
  private rearm(now: number): void {
    if (this.initialCount === 0) { this.timerDeadline = Infinity; return; }
    const period = this.initialCount * this.divisor();
    const elapsed = now - this.timerStart;
    if (this.periodic()) {
      const k = Math.floor(elapsed / period) + 1;
      this.timerDeadline = this.timerStart + k * period;
    } else {
      this.timerDeadline = elapsed < period ? this.timerStart + period : Infinity;
    }
  }

  advanceTo(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    if (this.timerDeadline > now) return;
    const period = this.initialCount * this.divisor();
    if (this.periodic() && period > 0) {
      // Several periods may have passed; IRR holds one request per vector anyway.
      const k = Math.floor((now - this.timerStart) / period) + 1;
      this.timerDeadline = this.timerStart + k * period;
    } else {
      this.timerDeadline = Infinity;
    }
    const l = this.lvt[LVT_TIMER];
    if (!(l & LVT_MASKED)) this.acceptInterrupt(l & 0xff, false);
  }

  nextDeadline(): number {
    return this.timerDeadline;
  }

  // --- ICR (SDM 10.6.1) ---

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const level = (lo & ICR_TRIGGER_LEVEL) !== 0;
    // INIT level de-assert only resynchronises arbitration IDs: nothing to do.
    if (mode === DM_INIT && level && !(lo & ICR_LEVEL_ASSERT)) return;
    if ((mode === DM_FIXED || mode === 1) && vector < 16) {
      this.error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.bus.deliver({
      dest: this.icrHi >>> 24,
      logical: (lo & ICR_DEST_LOGICAL) !== 0,
      deliveryMode: mode,
      vector,
      level,
      shorthand: (lo >> 18) & 3,
      source: this,
    });
    // Delivery status (bit 12) is always idle: the message went out at once.
  }

  // --- MMIO ---

  private readReg(reg: number): number {
    switch (reg) {
      case REG_ID: return (this.apicId << 24) >>> 0;
      case REG_VERSION: return LAPIC_VERSION;
      case REG_TPR: return this.tpr;
      case REG_APR: return 0;
      case REG_PPR: return this.ppr();
      case REG_EOI: return 0;
      case REG_RRD: return 0;
      case REG_LDR: return this.ldr;
      case REG_DFR: return this.dfr;
      case REG_SVR: return this.svr;
      case REG_ESR: return this.esr;
      case REG_LVT_CMCI: return this.lvtCmci;
      case REG_ICR_LO: return this.icrLo & ~(1 << 12);
      case REG_ICR_HI: return this.icrHi;
      case REG_LVT_TIMER: return this.lvt[LVT_TIMER];
      case REG_LVT_THERMAL: return this.lvt[LVT_THERMAL];
      case REG_LVT_PERF: return this.lvt[LVT_PERF];
      case REG_LVT_LINT0: return this.lvt[LVT_LINT0];
      case REG_LVT_LINT1: return this.lvt[LVT_LINT1];
      case REG_LVT_ERROR: return this.lvt[LVT_ERROR];
      case REG_TIMER_INIT: return this.initialCount;
      case REG_TIMER_CUR: return this.currentCount(this.time());
      case REG_TIMER_DIV: return this.divideConf;
      default:
        if (reg >= REG_ISR && reg < REG_ISR + 0x80) return this.isr[(reg - REG_ISR) >> 4];
        if (reg >= REG_TMR && reg < REG_TMR + 0x80) return this.tmr[(reg - REG_TMR) >> 4];
        if (reg >= REG_IRR && reg < REG_IRR + 0x80) return this.irr[(reg - REG_IRR) >> 4];
        return 0;
    }
  }

  private writeReg(reg: number, v: number): void {
    v >>>= 0;
    switch (reg) {
      case REG_ID: this.apicId = v >>> 24; return;
      case REG_TPR: this.tpr = v & 0xff; return;
      case REG_EOI: this.eoi(); return;
      case REG_LDR: this.ldr = (v & 0xff000000) >>> 0; return;
      case REG_DFR: this.dfr = (v | 0x0fffffff) >>> 0; return;
      case REG_SVR:
        this.svr = v & 0x11ff;
        // Software disable masks every LVT entry (SDM 10.4.7.2).
        if (!(v & SVR_ENABLE)) for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
        return;
      case REG_ESR:
        // Write-then-read: a write latches the errors since the last write (SDM 10.5.3).
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case REG_LVT_CMCI: this.lvtCmci = v & 0x107ff; return;
      case REG_ICR_LO: this.icrLo = v & 0x000ccfff; this.sendIpi(); return;
      case REG_ICR_HI: this.icrHi = (v & 0xff000000) >>> 0; return;
      case REG_LVT_TIMER: case REG_LVT_THERMAL: case REG_LVT_PERF:
      case REG_LVT_LINT0: case REG_LVT_LINT1: case REG_LVT_ERROR: {
        const idx = (reg - REG_LVT_TIMER) >> 4;
        let nv = (this.lvt[idx] & LVT_REMOTE_IRR) | (v & LVT_WRITABLE[idx]);
        if (!this.softwareEnabled) nv |= LVT_MASKED;
        this.lvt[idx] = nv >>> 0;
        if (idx === LVT_TIMER) this.rearm(this.time());
        return;
      }
      case REG_TIMER_INIT: {
        const now = this.time();
        this.initialCount = v;
        this.timerStart = now;
        this.rearm(now);
        return;
      }
      case REG_TIMER_DIV: {
        // Keep the current count across the change, as the divider only slows or speeds the decrement.
        const now = this.time();
        const cur = this.currentCount(now);
        this.divideConf = v & 0xb;
        if (this.initialCount !== 0 && cur !== 0) this.timerStart = now - (this.initialCount - cur) * this.divisor();
        this.rearm(now);
        return;
      }
      case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD: case REG_TIMER_CUR:
        return; // read-only
      default:
        if (reg >= REG_ISR && reg < REG_IRR + 0x80) return; // ISR/TMR/IRR are read-only
        this.error(ESR_ILLEGAL_REGISTER);
    }
  }

  mmioRead(offset: number, size: AccessSize): number {
    const reg = offset & 0xff0;
    const sub = offset & 0xf;
    if (offset >= LAPIC_SIZE || sub + size > 4) return 0; // registers live in the first dword of each 16 bytes
    const v = this.readReg(reg) >>> (sub * 8);
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    // Only aligned 32-bit accesses are defined (SDM 10.4.1); others are dropped.
    if (offset >= LAPIC_SIZE || (offset & 0xf) !== 0 || size !== 4) return;
    this.writeReg(offset & 0xff0, value);
  }

  saveState(): unknown {
    return {
      apicId: this.apicId, apicBase: this.apicBase, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr,
      irr: Array.from(this.irr), isr: Array.from(this.isr), tmr: Array.from(this.tmr),
      esr: this.esr, esrPending: this.esrPending, icrLo: this.icrLo, icrHi: this.icrHi,
      lvt: Array.from(this.lvt), lvtCmci: this.lvtCmci, divideConf: this.divideConf,
      initialCount: this.initialCount, timerStart: this.timerStart, lastNow: this.lastNow,
      lint0: this.lint0Level, lint1: this.lint1Level,
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const n = (k: string, d: number): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : d);
    const arr = (k: string, dst: Uint32Array, d: number) => {
      const a = Array.isArray(o[k]) ? (o[k] as unknown[]) : [];
      for (let i = 0; i < dst.length; i++) dst[i] = typeof a[i] === 'number' ? (a[i] as number) : d;
    };
    this.reset();
    this.apicId = n('apicId', this.apicId) & 0xff;
    this.apicBase = n('apicBase', this.apicBase) >>> 0;
    this.tpr = n('tpr', 0) & 0xff;
    this.ldr = (n('ldr', 0) & 0xff000000) >>> 0;
    this.dfr = (n('dfr', 0xffffffff) | 0x0fffffff) >>> 0;
    this.svr = n('svr', 0xff) & 0x11ff;
    arr('irr', this.irr, 0);
    arr('isr', this.isr, 0);
    arr('tmr', this.tmr, 0);
    this.esr = n('esr', 0) & 0xff;
    this.esrPending = n('esrPending', 0) & 0xff;
    this.icrLo = n('icrLo', 0) & 0x000ccfff;
    this.icrHi = (n('icrHi', 0) & 0xff000000) >>> 0;
    arr('lvt', this.lvt, LVT_MASKED);
    this.lvtCmci = n('lvtCmci', LVT_MASKED) & 0x107ff;
    this.divideConf = n('divideConf', 0) & 0xb;
    this.initialCount = n('initialCount', 0) >>> 0;
    this.timerStart = n('timerStart', 0);
    this.lastNow = Math.max(0, n('lastNow', 0));
    this.lint0Level = o.lint0 === true;
    this.lint1Level = o.lint1 === true;
    this.rearm(this.lastNow);
  }
}

/**
 * Every CPU sees its own local APIC at 0xFEE00000. The machine sets
 * `currentCpu` before it runs a CPU; accesses go to that CPU's APIC.
 */
export class LapicRouter implements MmioHandler {
  currentCpu = 0;

  constructor(readonly lapics: Lapic[]) {}

  register(mem: PhysMem, base = LAPIC_BASE): void {
    mem.addMmio(base, LAPIC_SIZE, 'lapic', this);
  }

  mmioRead(offset: number, size: AccessSize): number {
    const l = this.lapics[this.currentCpu];
    return l ? l.mmioRead(offset, size) : 0xffffffff;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    this.lapics[this.currentCpu]?.mmioWrite(offset, size, value);
  }
}
