// Interpreted phases of a vCPU: real mode and 16-bit protected-mode
// trampolines cannot run deprivileged (CPL 3 needs protected mode, and
// real-mode segment arithmetic has no descriptor to compress), so, as
// VMware's monitor did, the VMM interprets them on a private Cpu over the
// guest's own memory window and port bus, and hands the vCPU back to the
// real (deprivileged) CPU once the guest is in 32-bit protected mode.
// This file owns the state copies between the two and the rule for when a
// vCPU must be interpreted.

import { BP, CR0_PE, CS, SS } from '../cpu/arch.js';
import { Cpu } from '../cpu/cpu.js';
import { Exit } from '../cpu/exit.js';
import { realAttr, type VcpuContext } from './context.js';
import { walkGuest, WalkResult } from './guest-walk.js';

/** Instructions interpreted between checks for "back in 32-bit protected mode". */
const CHUNK = 64;

/** Guest attribute of a segment the real CPU holds with DPL compressed to 3: CS/SS get the CPL back. */
function guestAttr(attr: number, dpl: number): number {
  return (attr & ~0x60) | (dpl << 5);
}

export class InterpretedPhase {
  readonly cpu: Cpu;
  /** The vCPU is being interpreted (real mode / 16-bit protected mode). */
  active = false;
  /** Instructions interpreted so far (stats: kept apart from native ones). */
  get instructions(): number {
    return this.cpu.instructionCount;
  }
  private readonly walk = new WalkResult();

  constructor(private readonly ctx: VcpuContext) {
    const g = ctx.g;
    this.cpu = new Cpu(g.mem, g.io, { apicId: ctx.index });
    // The guest's own interrupt line and IF: an interpreted guest takes
    // interrupts exactly as the emulator would. Only INT 3 is intercepted,
    // to step over the VMM's own patches.
    this.cpu.interrupts = ctx.source;
    this.cpu.interceptExceptions = 1 << BP;
  }

  /** Must vCPU `ctx` (running natively) switch to interpretation? */
  static needed(ctx: VcpuContext): boolean {
    const v = ctx.v;
    return (v.cr0 & CR0_PE) === 0 || (v.cpl < 3 && !ctx.cpu.cs32);
  }

  /** Is the interpreted guest back in 32-bit protected mode (native execution possible)? */
  private canLeave(): boolean {
    const c = this.cpu;
    return c.pe && c.cs32 && !c.halted;
  }

  /** Move the vCPU's state from the real CPU + virtual state into the interpreter. */
  enter(): void {
    const ctx = this.ctx, v = ctx.v, r = ctx.cpu, c = this.cpu;
    c.blocks.flushAll(); // the real CPU may have rewritten code this interpreter decoded earlier
    c.cr0 = v.cr0; c.cr2 = v.cr2; c.cr3 = v.cr3; c.cr4 = v.cr4;
    c.dr.set(v.dr);
    c.gdtrBase = v.gdtrBase; c.gdtrLimit = v.gdtrLimit;
    c.idtrBase = v.idtrBase; c.idtrLimit = v.idtrLimit;
    c.ldtrSel = v.ldtrSel; c.ldtrBase = v.ldtrBase; c.ldtrLimit = v.ldtrLimit; c.ldtrAttr = v.ldtrAttr;
    c.trSel = v.trSel; c.trBase = v.trBase; c.trLimit = v.trLimit; c.trAttr = v.trAttr;
    for (let k = 0; k < 8; k++) c.regs[k] = r.regs[k];
    for (let s = 0; s < 6; s++) {
      const sel = s === CS ? v.csSel : s === SS ? v.ssSel : r.segSel[s];
      const attr = s === CS || s === SS ? guestAttr(r.segAttr[s], v.cpl) : r.segAttr[s];
      c.setSegmentRaw(s, sel, r.segBase[s], r.segLimit[s], attr);
    }
    c.setCpl(v.cr0 & CR0_PE ? v.cpl : 0);
    c.setEflags(ctx.eflags);
    c.eip = r.eip;
    c.halted = v.halted;
    c.intShadow = v.interruptShadow;
    c.tscOffset = v.tscOffset;
    c.apicBase = v.apicBase;
    this.active = true;
  }

  /** Power-on style entry (boot sector, STARTUP IPI): the interpreter already holds the state. */
  enterAsIs(): void {
    this.cpu.blocks.flushAll();
    this.active = true;
  }

  /** Move the state back to the virtual state + real CPU (guest now in 32-bit protected mode). */
  leave(): void {
    const ctx = this.ctx, v = ctx.v, r = ctx.cpu, c = this.cpu;
    v.cr0 = c.cr0; v.cr2 = c.cr2; v.cr3 = c.cr3; v.cr4 = c.cr4;
    v.dr.set(c.dr);
    v.gdtrBase = c.gdtrBase; v.gdtrLimit = c.gdtrLimit;
    v.idtrBase = c.idtrBase; v.idtrLimit = c.idtrLimit;
    v.ldtrSel = c.ldtrSel; v.ldtrBase = c.ldtrBase; v.ldtrLimit = c.ldtrLimit; v.ldtrAttr = c.ldtrAttr;
    v.trSel = c.trSel; v.trBase = c.trBase; v.trLimit = c.trLimit; v.trAttr = c.trAttr;
    v.tscOffset = c.tscOffset;
    v.apicBase = c.apicBase;
    const flags = c.getEflags();
    v.cpl = c.cpl;
    ctx.applyReal();
    ctx.flushShadow();
    ctx.syncTables();
    for (let k = 0; k < 8; k++) r.regs[k] = c.regs[k];
    for (let s = 0; s < 6; s++) {
      const sel = c.segSel[s];
      const real = s === CS || s === SS ? (sel & ~3) | 3 : sel;
      r.setSegmentRaw(s, real, c.segBase[s], c.segLimit[s], realAttr(c.segAttr[s]));
    }
    v.csSel = c.segSel[CS];
    v.ssSel = c.segSel[SS];
    r.eip = c.eip;
    ctx.eflags = flags;
    v.halted = c.halted;
    v.interruptShadow = c.intShadow;
    this.active = false;
  }

  /**
   * Interpret up to `budget` instructions. Returns the exit to report to
   * the machine (HLT, TRIPLE_FAULT, BUDGET); `active` turns false when the
   * guest reached 32-bit protected mode and the state went back native.
   */
  run(budget: number): Exit {
    const c = this.cpu, g = this.ctx.g;
    const end = c.instructionCount + budget;
    while (c.instructionCount < end) {
      const exit = c.run(Math.min(CHUNK, end - c.instructionCount));
      if (exit === Exit.EXCEPTION && c.exitVector === BP) {
        // One of the VMM's INT 3 patches (restore that page's original
        // bytes: native execution rescans it) or the guest's own int3.
        const gpa = walkGuest(g.mem, c, (c.segBase[CS] + c.eip) >>> 0, false, c.cpl === 3, false, this.walk) ? this.walk.gpa : -1;
        if (gpa >= 0 && g.registry.has(gpa)) {
          g.registry.dropPage(gpa >>> 12);
          c.blocks.flushAll();
        } else {
          // The guest's own int3: let the interpreter execute it as the CPU would.
          c.interceptExceptions = 0;
          const e2 = c.run(1);
          c.interceptExceptions = 1 << BP;
          if (e2 === Exit.TRIPLE_FAULT) return e2;
        }
        continue;
      }
      if (exit === Exit.TRIPLE_FAULT || exit === Exit.HLT || exit === Exit.BREAKPOINT || exit === Exit.WATCHPOINT) return exit;
      if (this.canLeave()) {
        this.leave();
        return Exit.BUDGET;
      }
    }
    return Exit.BUDGET;
  }
}
