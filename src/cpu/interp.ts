// The step loop: the one place where CpuFault is caught. It fetches decoded
// blocks, runs their instructions, takes external interrupts between
// blocks, and on a fault rewinds EIP/ESP to the faulting instruction and
// either exits (intercepted vector) or delivers it through the IDT,
// escalating to #DF and to shutdown (SDM vol. 3, 6.15, table 6-5).

import { CONTRIBUTORY, DFV, HAS_ERROR_CODE, IF, PFV, TF, DB } from './arch.js';
import { BRK_HALT, BRK_WATCH, type Cpu } from './cpu.js';
import { Exit } from './exit.js';
import { FAULT, isCpuFault } from './fault.js';
import { deliverInterrupt } from './interrupts.js';
import type { Block } from './block.js';

export function runLoop(c: Cpu, budget: number): Exit {
  if (c.shutdown) return Exit.TRIPLE_FAULT;
  c.exitHasError = false;
  const end = c.instructionCount + budget;
  // A breakpoint at the EIP run() starts from fires, unless the debugger
  // resumes from it and set bpSkipEip (a quantum boundary must not hide one).
  let first = true;
  let prev: Block | null = null;
  while (c.instructionCount < end) {
    // ---- external interrupts (between instructions; not in an STI/MOV SS shadow) ----
    if (!c.intShadow && (c.flags & IF) !== 0 && c.interrupts.hasInterrupt()) {
      if (c.interceptInterrupts) return Exit.INTERRUPT;
      c.halted = false;
      const vector = c.interrupts.acknowledge();
      const r = raise(c, vector, 1, 0, false);
      if (r >= 0) return r;
    }
    if (c.halted) return Exit.HLT;
    if (!first) c.bpSkipEip = -1;
    first = false;

    // ---- one block ----
    const shadowWas = c.intShadow;
    const tfWas = (c.flags & TF) !== 0;
    const single = shadowWas || tfWas;
    const left = single ? 1 : end - c.instructionCount; // single instruction, then re-check
    c.brk = 0;
    const regs = c.regs;
    // EIP/ESP/count at the block's start: instruction k of the block starts
    // at blockEip + its offset and is the one running when k instructions
    // of the block have retired, so a fault can find its EIP without the
    // loop storing it before every instruction.
    const blockEip = c.eip;
    const count0 = c.instructionCount;
    let b: Block | null = null;
    try {
      // Follow a remembered link from the previous block when nothing has changed since.
      if (prev !== null && prev.linkEpoch === c.tlb.epoch) {
        if (prev.nextEip1 === blockEip) b = prev.next1;
        else if (prev.nextEip2 === blockEip) b = prev.next2;
      }
      if (b === null) {
        const epoch = c.tlb.epoch;
        const looked = c.blocks.lookup();
        b = looked;
        if (prev !== null && looked.cached && c.tlb.epoch === epoch) {
          if (prev.linkEpoch !== epoch) { prev.linkEpoch = epoch; prev.nextEip1 = -1; prev.next1 = null; prev.nextEip2 = -1; prev.next2 = null; }
          if (prev.nextEip1 === -1) { prev.nextEip1 = blockEip; prev.next1 = looked; } else { prev.nextEip2 = blockEip; prev.next2 = looked; }
        }
      }
      prev = b.cached ? b : null;
      const insns = b.insns;
      const n = b.n < left ? b.n : left;
      for (let k = 0; k < n; k++) {
        const i = insns[k];
        c.insnEsp = regs[4];
        c.eip = (blockEip + i.nextOff) >>> 0; // handlers see the next instruction's EIP
        i.exec(c, i);
        c.instructionCount++;
        if (c.brk !== 0) break;
      }
    } catch (e) {
      if (!isCpuFault(e)) throw e; // an emulator bug stays a real Error
      prev = null;
      // A fetch fault (#PF, #GP on CS limit: b still null) reports the block's
      // first instruction, with ESP untouched; an instruction's fault
      // rewinds to it and to its ESP.
      let eip = blockEip;
      if (b !== null) {
        const k = c.instructionCount - count0;
        if (k < b.n) { const i = b.insns[k]; eip = (blockEip + i.nextOff - i.len) >>> 0; }
        regs[4] = c.insnEsp;
      } else {
        c.insnEsp = regs[4];
      }
      c.insnEip = eip;
      c.eip = eip;
      if (c.pendingBreakpoint) {
        c.pendingBreakpoint = false;
        return Exit.BREAKPOINT;
      }
      const r = raise(c, FAULT.vector, 0, FAULT.error, FAULT.hasError);
      if (r >= 0) return r;
      continue;
    }
    if (!single && c.brk === 0) continue; // the common case: nothing to do after the block
    if (shadowWas) c.intShadow = false;
    if (tfWas && !(c.brk & BRK_HALT)) {
      // Single-step trap after the instruction (SDM vol. 3, 17.3.1.4).
      c.dr[6] |= 0x4000;
      const r = raise(c, DB, 0, 0, false);
      if (r >= 0) return r;
    }
    if (c.brk & BRK_WATCH) return Exit.WATCHPOINT;
    if (c.brk & BRK_HALT && c.halted) {
      // HLT: wake only through an interrupt; if none can come, report HLT.
      if (!((c.flags & IF) && c.interrupts.hasInterrupt())) return Exit.HLT;
    }
  }
  return Exit.BUDGET;
}

/**
 * Deliver exception/interrupt `vector` (kind 0 exception, 1 external),
 * handling intercepts and the double/triple-fault rules. Returns an Exit
 * to stop with, or -1 to continue.
 */
function raise(c: Cpu, vector: number, kind: number, error: number, hasError: boolean): number {
  let v = vector, err = error, hasErr = hasError;
  for (;;) {
    if (kind === 0 && v < 32 && (c.interceptExceptions & (1 << v)) !== 0) {
      c.exitVector = v;
      c.exitErrorCode = err;
      c.exitHasError = hasErr;
      if (v === PFV) c.exitAddress = c.cr2;
      return Exit.EXCEPTION;
    }
    if (kind === 0) hasErr = ((HAS_ERROR_CODE >> v) & 1) !== 0 && v < 32;
    const saveEip = c.eip, saveEsp = c.regs[4];
    try {
      deliverInterrupt(c, v, kind, err, hasErr);
      return -1;
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      c.eip = saveEip; c.regs[4] = saveEsp;
      const v2 = FAULT.vector;
      if (v === DFV) {
        c.shutdown = true;
        c.exitVector = v2;
        return Exit.TRIPLE_FAULT;
      }
      const contrib1 = ((CONTRIBUTORY >> v) & 1) !== 0 && kind === 0;
      const contrib2 = ((CONTRIBUTORY >> v2) & 1) !== 0;
      if ((contrib1 && contrib2) || (kind === 0 && v === PFV && (contrib2 || v2 === PFV))) {
        v = DFV; err = 0; hasErr = true;
      } else {
        v = v2; err = FAULT.error; hasErr = FAULT.hasError;
      }
      kind = 0;
    }
  }
}
