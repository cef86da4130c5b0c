// Interrupt and exception delivery (SDM vol. 3, 6.12 protected mode via
// the IDT; 20.1.4 real mode via the IVT). The frame is written before any
// register changes, so a fault while delivering leaves the state as it
// was and can be turned into a double fault by the step loop.

import {
  AC, ATTR_DB, ATTR_DC, ATTR_P, CS, GP, IF, NP, NT, RF, SS, TF, VM,
  SYS_INTGATE16, SYS_INTGATE32, SYS_TRAPGATE16, SYS_TRAPGATE32,
} from './arch.js';
import { BRK_FLOW, type Cpu } from './cpu.js';
import { fault } from './fault.js';
import { materialize } from './flags.js';
import { checkInnerSS, D, isCode, markAccessed, readDescriptor, segWindow, STK, tssStack, WIN } from './segment.js';
import { FrameWriter } from './transfer.js';

const FW = new FrameWriter();

/** kind: 0 exception, 1 external interrupt, 2 software (INT n, INT3, INTO). */
export function deliverInterrupt(c: Cpu, vector: number, kind: number, error: number, hasError: boolean): void {
  vector &= 0xff;
  materialize(c);
  c.halted = false;
  if (!c.pe) return deliverReal(c, vector);
  // EXT (bit 0 of the error code): the event was not caused by the program (SDM vol. 3, 6.13).
  const ext = kind === 2 ? 0 : 1;
  const gateErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > c.idtrLimit) fault(GP, gateErr);
  const gaddr = (c.idtrBase + vector * 8) >>> 0;
  const glo = c.rdSys32(gaddr), ghi = c.rdSys32((gaddr + 4) >>> 0);
  const type = (ghi >>> 8) & 0x1f; // includes S (must be 0)
  if (type !== SYS_INTGATE16 && type !== SYS_INTGATE32 && type !== SYS_TRAPGATE16 && type !== SYS_TRAPGATE32) {
    fault(GP, gateErr); // task gates: no task switching
  }
  const gdpl = (ghi >>> 13) & 3;
  if (kind === 2 && gdpl < c.cpl) fault(GP, vector * 8 + 2);
  if (!(ghi & 0x8000)) fault(NP, gateErr);
  const gate32 = (type & 8) !== 0;
  const size = gate32 ? 4 : 2;
  const sel = glo >>> 16;
  const off = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, ext);
  if (!readDescriptor(c, sel)) fault(GP, idx | ext);
  if (!isCode(D.attr) || D.dpl > c.cpl) fault(GP, idx | ext);
  if (!(D.attr & ATTR_P)) fault(NP, idx | ext);
  if (off > D.limit) fault(GP, ext);
  const csBase = D.base, csLimit = D.limit, csAttr = D.attr, csAddr = D.addr, csHi = D.hi, dpl = D.dpl;
  const flags = c.getEflags();
  const oldCs = c.segSel[CS], oldEip = c.eip;
  let newCpl = c.cpl;
  if (!(csAttr & ATTR_DC) && dpl < c.cpl) {
    // Inner level: stack from the TSS (SDM vol. 3, 6.12.1 "Stack switching").
    newCpl = dpl;
    tssStack(c, dpl, ext);
    const nss = STK.ss, nesp = STK.esp;
    checkInnerSS(c, nss, dpl, ext);
    const ssBase = D.base, ssLimit = D.limit, ssAttr = D.attr;
    segWindow(ssAttr, ssLimit);
    FW.init(ssBase, WIN.lo, WIN.hi, (ssAttr & ATTR_DB) !== 0, nesp, dpl === 3, (nss & 0xfffc) | ext);
    FW.push(c, size, c.segSel[SS]);
    FW.push(c, size, c.regs[4]);
    FW.push(c, size, flags);
    FW.push(c, size, oldCs);
    FW.push(c, size, oldEip);
    if (hasError) FW.push(c, size, error);
    markAccessed(c); // SS descriptor (still in D)
    c.setCpl(dpl);
    c.setSegmentRaw(SS, nss, ssBase, ssLimit, ssAttr | 1);
    if (ssAttr & ATTR_DB) c.regs[4] = FW.sp; else c.regs16[8] = FW.sp;
  } else {
    if (!(csAttr & ATTR_DC) && dpl !== c.cpl) fault(GP, idx | ext);
    const ss32 = c.ss32;
    FW.init(c.segBase[SS], c.segLo[SS], c.segHi[SS], ss32, c.regs[4] >>> 0, c.cpl === 3, ext);
    if (c.segW[SS] === 0) fault(0xc, ext);
    FW.push(c, size, flags);
    FW.push(c, size, oldCs);
    FW.push(c, size, oldEip);
    if (hasError) FW.push(c, size, error);
    if (ss32) c.regs[4] = FW.sp; else c.regs16[8] = FW.sp;
  }
  // Load CS:EIP; TF, NT, RF, VM cleared; interrupt gates also clear IF (SDM vol. 3, 6.12.1.2).
  D.base = csBase; D.limit = csLimit; D.attr = csAttr; D.addr = csAddr; D.hi = csHi;
  markAccessed(c);
  c.setSegmentRaw(CS, idx | newCpl, csBase, csLimit, D.attr);
  c.eip = off;
  c.flags &= ~(TF | NT | RF | VM);
  if (!(type & 1)) c.flags &= ~IF;
  c.brk |= BRK_FLOW;
}

/** Real-mode delivery: push FLAGS, CS, IP; IF/TF/AC cleared; CS:IP from the IVT (SDM vol. 3, 20.1.4). */
function deliverReal(c: Cpu, vector: number): void {
  if (vector * 4 + 3 > c.idtrLimit) fault(GP, 0);
  const ent = c.slowRead((c.idtrBase + vector * 4) >>> 0, 4, false) >>> 0;
  const m = c.spMask;
  const sp = c.regs[4];
  const s1 = (sp - 2) & m, s2 = (s1 - 2) & m, s3 = (s2 - 2) & m;
  c.wr16(SS, s1, c.getEflags());
  c.wr16(SS, s2, c.segSel[CS]);
  c.wr16(SS, s3, c.eip);
  if (c.ss32) c.regs[4] = s3; else c.regs16[8] = s3;
  const sel = ent >>> 16;
  c.setSegmentRaw(CS, sel, sel << 4, c.segLimit[CS], c.segAttr[CS]);
  c.eip = ent & 0xffff;
  c.flags &= ~(IF | TF | AC);
  c.brk |= BRK_FLOW;
}
