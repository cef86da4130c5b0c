// Far control transfers in protected and real mode (SDM vol. 2: JMP, CALL,
// RET, IRET; vol. 3, 5.8 "Privilege level checking when transferring
// program control between code segments"). Call gates with parameter copy
// and the TSS stack switch; task switches are not implemented (#GP).

import {
  ATTR_CODE, ATTR_DB, ATTR_DC, ATTR_P, CS, GP, IF, IOPL_SHIFT, NP, NT, SS, SSV, TF, AC, ID, RF, F_RES1, VM,
  SYS_CALLGATE16, SYS_CALLGATE32,
} from './arch.js';
import { BRK_FLOW, type Cpu } from './cpu.js';
import { fault } from './fault.js';
import { CC_EFLAGS, materialize } from './flags.js';
import {
  checkInnerSS, clearInvalidDataSegs, D, isCode, isData, markAccessed, readDescriptor, segWindow, STK, tssStack, WIN,
} from './segment.js';

/** Build a frame on a stack described by base/window/size without touching CPU state until commit. */
export class FrameWriter {
  base = 0; lo = 0; hi = 0; big = true; sp = 0; user = false; faultVec = SSV; faultErr = 0;
  init(base: number, lo: number, hi: number, big: boolean, sp: number, user: boolean, faultErr: number): void {
    this.base = base; this.lo = lo; this.hi = hi; this.big = big; this.sp = sp; this.user = user; this.faultErr = faultErr;
  }
  push(c: Cpu, size: number, v: number): void {
    const sp = this.big ? (this.sp - size) >>> 0 : (this.sp - size) & 0xffff;
    if (sp < this.lo || sp + size - 1 > this.hi) fault(SSV, this.faultErr);
    c.slowWrite((this.base + sp) >>> 0, size, v, this.user);
    this.sp = sp;
  }
}
const FW = new FrameWriter();

/** Load CS from the descriptor in D as selector `sel` (RPL forced to the new CPL) and jump to `off`. */
function enterCode(c: Cpu, sel: number, off: number, newCpl: number): void {
  markAccessed(c);
  c.setSegmentRaw(CS, (sel & 0xfffc) | newCpl, D.base, D.limit, D.attr);
  c.eip = off >>> 0;
  c.brk |= BRK_FLOW;
}

/** Check a code segment in D as a JMP/CALL target (direct or through a gate's selector). */
function checkCodeTarget(c: Cpu, sel: number, viaGate: boolean): void {
  const idx = sel & 0xfffc;
  if (!isCode(D.attr)) fault(GP, idx);
  if (D.attr & ATTR_DC) {
    if (D.dpl > c.cpl) fault(GP, idx);
  } else if (viaGate) {
    if (D.dpl > c.cpl) fault(GP, idx);
  } else if ((sel & 3) > c.cpl || D.dpl !== c.cpl) {
    fault(GP, idx);
  }
  if (!(D.attr & ATTR_P)) fault(NP, idx);
}

/** JMP ptr16:16/32, JMP m16:16/32. */
export function farJump(c: Cpu, sel: number, off: number, os: number): void {
  sel &= 0xffff;
  if (os === 2) off &= 0xffff;
  if (!c.pe) {
    c.setSegmentRaw(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
    c.eip = off >>> 0;
    c.brk |= BRK_FLOW;
    return;
  }
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!readDescriptor(c, sel)) fault(GP, idx);
  if (D.attr & 0x10) {
    checkCodeTarget(c, sel, false);
    if (off >>> 0 > D.limit) fault(GP, 0);
    enterCode(c, sel, off, c.cpl);
    return;
  }
  const type = D.type & 0xf;
  if (type !== SYS_CALLGATE16 && type !== SYS_CALLGATE32) fault(GP, idx); // task gates/TSS: no task switching
  if (D.dpl < c.cpl || D.dpl < (sel & 3)) fault(GP, idx);
  if (!(D.attr & ATTR_P)) fault(NP, idx);
  const tsel = D.lo >>> 16;
  const toff = type === SYS_CALLGATE32 ? ((D.lo & 0xffff) | (D.hi & 0xffff0000)) >>> 0 : D.lo & 0xffff;
  if ((tsel & 0xfffc) === 0) fault(GP, 0);
  if (!readDescriptor(c, tsel)) fault(GP, tsel & 0xfffc);
  if (!isCode(D.attr)) fault(GP, tsel & 0xfffc);
  // JMP through a gate never changes privilege: non-conforming target must have DPL = CPL.
  if ((D.attr & ATTR_DC) ? D.dpl > c.cpl : D.dpl !== c.cpl) fault(GP, tsel & 0xfffc);
  if (!(D.attr & ATTR_P)) fault(NP, tsel & 0xfffc);
  if (toff > D.limit) fault(GP, 0);
  enterCode(c, tsel, toff, c.cpl);
}

/** CALL ptr16:16/32, CALL m16:16/32 (return address = c.eip). */
export function farCall(c: Cpu, sel: number, off: number, os: number): void {
  sel &= 0xffff;
  if (os === 2) off &= 0xffff;
  const retCs = c.segSel[CS], retIp = c.eip;
  if (!c.pe) {
    pushSame(c, os, retCs, retIp);
    c.setSegmentRaw(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
    c.eip = off >>> 0;
    c.brk |= BRK_FLOW;
    return;
  }
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!readDescriptor(c, sel)) fault(GP, idx);
  if (D.attr & 0x10) {
    checkCodeTarget(c, sel, false);
    if (off >>> 0 > D.limit) fault(GP, 0);
    pushSame(c, os, retCs, retIp);
    enterCode(c, sel, off, c.cpl);
    return;
  }
  const type = D.type & 0xf;
  if (type !== SYS_CALLGATE16 && type !== SYS_CALLGATE32) fault(GP, idx);
  if (D.dpl < c.cpl || D.dpl < (sel & 3)) fault(GP, idx);
  if (!(D.attr & ATTR_P)) fault(NP, idx);
  const gate32 = type === SYS_CALLGATE32;
  const gsize = gate32 ? 4 : 2;
  const params = D.hi & 0x1f;
  const tsel = D.lo >>> 16;
  const toff = gate32 ? ((D.lo & 0xffff) | (D.hi & 0xffff0000)) >>> 0 : D.lo & 0xffff;
  const tidx = tsel & 0xfffc;
  if (tidx === 0) fault(GP, 0);
  if (!readDescriptor(c, tsel)) fault(GP, tidx);
  checkCodeTarget(c, tsel, true);
  if (toff > D.limit) fault(GP, 0);
  const cs = { base: D.base, limit: D.limit, attr: D.attr, dpl: D.dpl, addr: D.addr, lo: D.lo, hi: D.hi };
  if (!(cs.attr & ATTR_DC) && cs.dpl < c.cpl) {
    // More privileged: switch to the TSS stack for the target DPL and copy parameters (SDM vol. 3, 5.8.5).
    const dpl = cs.dpl;
    tssStack(c, dpl, 0);
    const nss = STK.ss, nesp = STK.esp;
    checkInnerSS(c, nss, dpl, 0);
    const ssBase = D.base, ssLimit = D.limit, ssAttr = D.attr, ssAddr = D.addr, ssHi = D.hi;
    segWindow(ssAttr, ssLimit);
    FW.init(ssBase, WIN.lo, WIN.hi, (ssAttr & ATTR_DB) !== 0, nesp, dpl === 3, nss & 0xfffc);
    const oldSs = c.segSel[SS], oldEsp = c.regs[4] >>> 0;
    FW.push(c, gsize, oldSs);
    FW.push(c, gsize, c.ss32 ? oldEsp : oldEsp & 0xffff);
    for (let k = params - 1; k >= 0; k--) {
      const v = c.rd(gsize, SS, c.ss32 ? (oldEsp + k * gsize) >>> 0 : (oldEsp + k * gsize) & 0xffff);
      FW.push(c, gsize, v);
    }
    FW.push(c, gsize, retCs);
    FW.push(c, gsize, retIp);
    // Commit: SS, ESP, CS, EIP.
    D.addr = ssAddr; D.hi = ssHi; markAccessed(c);
    c.setCpl(dpl);
    c.setSegmentRaw(SS, nss, ssBase, ssLimit, ssAttr | 1);
    if (ssAttr & ATTR_DB) c.regs[4] = FW.sp; else c.regs16[8] = FW.sp;
    D.base = cs.base; D.limit = cs.limit; D.attr = cs.attr; D.addr = cs.addr; D.hi = cs.hi; D.lo = cs.lo;
    enterCode(c, tsel, toff, dpl);
    return;
  }
  pushSame(c, gsize, retCs, retIp);
  D.base = cs.base; D.limit = cs.limit; D.attr = cs.attr; D.addr = cs.addr; D.hi = cs.hi; D.lo = cs.lo;
  enterCode(c, tsel, toff, c.cpl);
}

/** Push CS:EIP on the current stack; ESP changes only if both writes succeed. */
function pushSame(c: Cpu, size: number, cs: number, ip: number): void {
  const m = c.spMask;
  const sp1 = (c.regs[4] - size) & m, sp2 = (sp1 - size) & m;
  c.wr(size, SS, sp1 >>> 0, cs);
  c.wr(size, SS, sp2 >>> 0, ip);
  if (c.ss32) c.regs[4] = sp2; else c.regs16[8] = sp2;
}

/** RET far [imm16] (SDM vol. 2, RET). */
export function farReturn(c: Cpu, os: number, imm: number): void {
  const ip = c.peekStack(os, 0);
  const sel = c.peekStack(os, os) & 0xffff;
  if (!c.pe) {
    c.addSp(2 * os + imm);
    c.setSegmentRaw(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
    c.eip = ip;
    c.brk |= BRK_FLOW;
    return;
  }
  returnTo(c, os, sel, ip, imm, 2 * os, -1);
}

/**
 * Common tail of RET far and IRET in protected mode: `sel:ip` popped,
 * `frame` bytes consumed so far, `imm` extra bytes released. newFlags >= 0
 * for IRET (applied with the old CPL's privilege).
 */
function returnTo(c: Cpu, os: number, sel: number, ip: number, imm: number, frame: number, newFlags: number): void {
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!readDescriptor(c, sel)) fault(GP, idx);
  const rpl = sel & 3;
  if (rpl < c.cpl || !isCode(D.attr)) fault(GP, idx);
  if ((D.attr & ATTR_DC) ? D.dpl > rpl : D.dpl !== rpl) fault(GP, idx);
  if (!(D.attr & ATTR_P)) fault(NP, idx);
  if (ip > D.limit) fault(GP, 0);
  const cs = { base: D.base, limit: D.limit, attr: D.attr, addr: D.addr, hi: D.hi, lo: D.lo };
  const oldCpl = c.cpl;
  if (rpl === c.cpl) {
    if (newFlags >= 0) applyIretFlags(c, os, newFlags, oldCpl);
    c.addSp(frame + imm);
    enterCode(c, sel, ip, rpl);
    return;
  }
  // Return to an outer level: pop ESP and SS too (SDM vol. 2, RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
  const nesp = c.peekStack(os, frame + imm);
  const nss = c.peekStack(os, frame + imm + os) & 0xffff;
  const sidx = nss & 0xfffc;
  if (sidx === 0) fault(GP, 0);
  if (!readDescriptor(c, nss)) fault(GP, sidx);
  if ((nss & 3) !== rpl || D.dpl !== rpl || !isData(D.attr) || !(D.attr & 2)) fault(GP, sidx);
  if (!(D.attr & ATTR_P)) fault(SSV, sidx);
  markAccessed(c);
  const ssBase = D.base, ssLimit = D.limit, ssAttr = D.attr;
  if (newFlags >= 0) applyIretFlags(c, os, newFlags, oldCpl);
  D.base = cs.base; D.limit = cs.limit; D.attr = cs.attr; D.addr = cs.addr; D.hi = cs.hi; D.lo = cs.lo;
  enterCode(c, sel, ip, rpl);
  c.setSegmentRaw(SS, nss, ssBase, ssLimit, ssAttr);
  const sp = newFlags >= 0 ? nesp : nesp + imm;
  if (ssAttr & ATTR_DB) c.regs[4] = os === 4 ? sp : sp & 0xffff; else c.regs16[8] = sp;
  clearInvalidDataSegs(c);
}

/** EFLAGS from IRET/POPF-like restore: IOPL only at CPL 0, IF only at CPL <= IOPL (old CPL). */
function applyIretFlags(c: Cpu, os: number, v: number, cpl: number): void {
  materialize(c);
  let mask = 0x0cd5 | TF | NT; // CF PF AF ZF SF DF OF + TF NT (0xcd5 = arithmetic + DF)
  mask |= 0x400;
  if (os === 4) mask |= RF | AC | ID;
  if (cpl === 0) mask |= 0x3000;
  if (cpl <= ((c.flags >> IOPL_SHIFT) & 3)) mask |= IF;
  if (os === 2) mask &= 0xffff;
  c.flags = ((c.flags & ~mask) | (v & mask) | F_RES1) & ~VM;
  c.ccOp = CC_EFLAGS;
}

/** IRET/IRETD (SDM vol. 2, IRET). Real mode: pop IP, CS, FLAGS. */
export function iret(c: Cpu, os: number): void {
  const ip = c.peekStack(os, 0);
  const sel = c.peekStack(os, os) & 0xffff;
  const fl = c.peekStack(os, 2 * os);
  if (!c.pe) {
    c.addSp(3 * os);
    c.setSegmentRaw(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
    c.eip = ip;
    materialize(c);
    const mask = os === 4 ? 0x257fd5 : 0x7fd5;
    c.flags = (c.flags & ~mask) | (fl & mask) | F_RES1;
    c.brk |= BRK_FLOW;
    return;
  }
  if (c.flags & NT) {
    // Nested-task return (SDM vol. 2, IRET "TASK-RETURN"): the back link must name a busy TSS in
    // the GDT, else #TS(back link). A valid one would need a task switch, which we do not model.
    const link = c.rdSys16(c.trBase);
    const idx = link & 0xfffc;
    if ((link & 4) || idx === 0 || !readDescriptor(c, link) || ((D.attr & 0x1f) !== 0x0b && (D.attr & 0x1f) !== 0x03)) fault(10, idx);
    fault(GP, 0);
  }
  returnTo(c, os, sel, ip, 0, 3 * os, fl);
  c.brk |= BRK_FLOW;
}
export { IF };
