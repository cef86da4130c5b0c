// Reflection: exceptions and interrupts delivered through the *guest's*
// IDT, with the frame hardware would build (SDM vol. 3, 6.12: gate checks,
// TSS stack switch on a privilege change, EFLAGS/CS/EIP[/error] pushed,
// TF/NT/RF/VM cleared, IF cleared by interrupt gates), and the far
// returns that undo it (IRET, RET far). Everything is read from and
// written to guest memory through the guest's own tables; only the
// guest-visible values (virtual IF/IOPL, guest CS/SS selectors) go in
// frames. Mirrors src/cpu/interrupts.ts and transfer.ts rule for rule.

import {
  AC, ATTR_DB, ATTR_DC, ATTR_P, ATTR_RW, CONTRIBUTORY, CS, DFV, DS, ES, FS, GP, GS, ID, IF, IOPL, NP, NT, PFV, RF, SS, SSV,
  SYS_INTGATE16, SYS_INTGATE32, SYS_TRAPGATE16, SYS_TRAPGATE32, TF, TS, VM,
} from '../cpu/arch.js';
import { fault, FAULT, isCpuFault } from '../cpu/fault.js';
import { descAttr, descBase, descLimit, type VcpuContext } from './context.js';

export const KIND_EXCEPTION = 0;
export const KIND_EXTERNAL = 1;
export const KIND_SOFT = 2;

const isCodeAttr = (a: number): boolean => (a & 0x18) === 0x18;
const isDataAttr = (a: number): boolean => (a & 0x18) === 0x10;
const dplOf = (hi: number): number => (hi >>> 13) & 3;

/** Offset window of a segment (expand-down aware, SDM vol. 3, 3.4.5.1). */
function window(attr: number, limit: number): [number, number] {
  if (!(attr & 8) && (attr & ATTR_DC)) return [(limit + 1) >>> 0, attr & ATTR_DB ? 0xffffffff : 0xffff];
  return [0, limit];
}

/** Pushes onto a guest stack through the guest's tables; nothing commits until the caller does. */
export class GuestFrame {
  base = 0; lo = 0; hi = 0; big = true; sp = 0; user = false; err = 0;
  init(base: number, lo: number, hi: number, big: boolean, sp: number, user: boolean, err: number): void {
    this.base = base; this.lo = lo; this.hi = hi; this.big = big; this.sp = sp; this.user = user; this.err = err;
  }
  push(ctx: VcpuContext, size: number, v: number): void {
    const sp = this.big ? (this.sp - size) >>> 0 : (this.sp - size) & 0xffff;
    if (sp < this.lo || sp + size - 1 > this.hi) fault(SSV, this.err);
    ctx.write((this.base + sp) >>> 0, size, v, this.user);
    this.sp = sp;
  }
}
const FR = new GuestFrame();

/** The inner stack a privilege change to `dpl` switches to, read from the guest's TSS (SDM vol. 3, 7.2.1). */
export const INNER = { ss: 0, esp: 0, lo: 0, hi: 0, base: 0, sattr: 0, sdLo: 0, sdHi: 0 };

/**
 * Fetch SS:ESP for `dpl` from the guest TSS and check the SS descriptor
 * as hardware does (#TS/#SS with `ext`); fills INNER (descriptor too).
 */
export function innerStack(ctx: VcpuContext, dpl: number, ext: number): void {
  const v = ctx.v;
  const is32 = (v.trAttr & 0xf) === 0x9 || (v.trAttr & 0xf) === 0xb;
  const toff = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  if (toff + (is32 ? 7 : 3) > v.trLimit || !(v.trSel & 0xfffc)) fault(TS, (v.trSel & 0xfffc) | ext);
  const nesp = is32 ? ctx.read((v.trBase + toff) >>> 0, 4, false) : ctx.read((v.trBase + toff) >>> 0, 2, false);
  const nss = ctx.read((v.trBase + toff + (is32 ? 4 : 2)) >>> 0, 2, false);
  const sidx = nss & 0xfffc;
  if (sidx === 0) fault(TS, ext);
  if (!ctx.readDescriptor(nss)) fault(TS, sidx | ext);
  const slo = ctx.descLo, shi = ctx.descHi, sattr = descAttr(shi);
  if ((nss & 3) !== dpl || dplOf(shi) !== dpl || !isDataAttr(sattr) || !(sattr & ATTR_RW)) fault(TS, sidx | ext);
  if (!(sattr & ATTR_P)) fault(SSV, sidx | ext);
  const [wlo, whi] = window(sattr, descLimit(slo, shi));
  INNER.ss = nss; INNER.esp = nesp >>> 0; INNER.lo = wlo; INNER.hi = whi; INNER.base = descBase(slo, shi);
  INNER.sattr = sattr; INNER.sdLo = slo; INNER.sdHi = shi;
}

/**
 * Deliver `vector` to the guest once (no double-fault handling): throws
 * the CpuFault hardware would raise during delivery.
 */
function deliverOnce(ctx: VcpuContext, vector: number, kind: number, error: number, hasError: boolean): void {
  const v = ctx.v, c = ctx.cpu;
  vector &= 0xff;
  v.halted = false;
  const ext = kind === KIND_SOFT ? 0 : 1;
  const gateErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > v.idtrLimit) fault(GP, gateErr);
  const gaddr = (v.idtrBase + vector * 8) >>> 0;
  const glo = ctx.read(gaddr, 4, false), ghi = ctx.read((gaddr + 4) >>> 0, 4, false);
  const type = (ghi >>> 8) & 0x1f;
  if (type !== SYS_INTGATE16 && type !== SYS_INTGATE32 && type !== SYS_TRAPGATE16 && type !== SYS_TRAPGATE32) fault(GP, gateErr);
  if (kind === KIND_SOFT && dplOf(ghi) < v.cpl) fault(GP, vector * 8 + 2);
  if (!(ghi & 0x8000)) fault(NP, gateErr);
  const size = type & 8 ? 4 : 2;
  const sel = glo >>> 16;
  const off = size === 4 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, ext);
  if (!ctx.readDescriptor(sel)) fault(GP, idx | ext);
  let lo = ctx.descLo, hi = ctx.descHi;
  const attr = descAttr(hi), dpl = dplOf(hi);
  if (!isCodeAttr(attr) || dpl > v.cpl) fault(GP, idx | ext);
  if (!(attr & ATTR_P)) fault(NP, idx | ext);
  if (off > descLimit(lo, hi)) fault(GP, ext);
  const flags = ctx.eflags;
  const oldCs = v.csSel, oldEip = c.eip >>> 0;
  if (!(attr & ATTR_DC) && dpl < v.cpl) {
    // Inner level: SS:ESP from the guest's TSS (SDM vol. 3, 6.12.1, 7.2.1).
    innerStack(ctx, dpl, ext);
    const nss = INNER.ss, sattr = INNER.sattr;
    FR.init(INNER.base, INNER.lo, INNER.hi, (sattr & ATTR_DB) !== 0, INNER.esp, dpl === 3, (nss & 0xfffc) | ext);
    FR.push(ctx, size, v.ssSel);
    FR.push(ctx, size, c.regs[4] >>> 0);
    FR.push(ctx, size, flags);
    FR.push(ctx, size, oldCs);
    FR.push(ctx, size, oldEip);
    if (hasError) FR.push(ctx, size, error);
    ctx.descLo = INNER.sdLo; ctx.descHi = INNER.sdHi;
    ctx.markAccessed(nss);
    ctx.loadSs(nss);
    if (sattr & ATTR_DB) c.regs[4] = FR.sp; else c.regs16[8] = FR.sp;
    if (!ctx.readDescriptor(sel)) fault(GP, idx | ext);
    ctx.markAccessed(sel);
    ctx.loadCs(sel, dpl);
  } else {
    if (!(attr & ATTR_DC) && dpl !== v.cpl) fault(GP, idx | ext);
    if (!c.segW[SS]) fault(SSV, ext);
    FR.init(c.segBase[SS], c.segLo[SS], c.segHi[SS], c.ss32, c.regs[4] >>> 0, v.cpl === 3, ext);
    FR.push(ctx, size, flags);
    FR.push(ctx, size, oldCs);
    FR.push(ctx, size, oldEip);
    if (hasError) FR.push(ctx, size, error);
    if (c.ss32) c.regs[4] = FR.sp; else c.regs16[8] = FR.sp;
    ctx.descLo = lo; ctx.descHi = hi;
    ctx.markAccessed(sel);
    lo = ctx.descLo; hi = ctx.descHi;
    ctx.loadCs(sel, v.cpl);
  }
  c.eip = off;
  let nf = flags & ~(TF | NT | RF | VM);
  if (!(type & 1)) nf &= ~IF;
  ctx.eflags = nf;
}

/** Outcome of a reflection. */
export type ReflectResult = 'ok' | 'triple-fault';

/**
 * Deliver an event through the guest's IDT as hardware would, including
 * the double-fault rules (SDM vol. 3, 6.15 interrupt 8, table 6-5) and
 * shutdown on a fault while delivering #DF.
 */
export function reflect(ctx: VcpuContext, vector: number, kind: number, error: number, hasError: boolean, insnEip = -1): ReflectResult {
  const c = ctx.cpu;
  // A fault while delivering INT n is reported at the INT instruction
  // itself (it did not complete), not after it.
  const esp = c.regs[4], eip = kind === KIND_SOFT && insnEip >= 0 ? insnEip : c.eip;
  const contributory = (n: number): boolean => n < 32 && ((CONTRIBUTORY >>> n) & 1) !== 0;
  let vec = vector, k = kind, err = error, hasErr = hasError;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      deliverOnce(ctx, vec, k, err, hasErr);
      return 'ok';
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      c.regs[4] = esp; c.eip = eip;
      const second = FAULT.vector;
      if (vec === DFV && k === KIND_EXCEPTION) return 'triple-fault';
      // Only an exception being delivered can escalate to #DF; INT n and
      // external interrupts turn into the new fault (SDM vol. 3, table 6-5).
      const exc = k === KIND_EXCEPTION;
      if ((exc && contributory(vec) && contributory(second)) || (exc && vec === PFV && (contributory(second) || second === PFV))) {
        vec = DFV; err = 0; hasErr = true;
      } else {
        vec = second; err = FAULT.error; hasErr = FAULT.hasError;
      }
      k = KIND_EXCEPTION;
    }
  }
  return 'triple-fault';
}

// ---------------- far returns (IRET, RET far) ----------------

/**
 * IRET/IRETD at virtual CPL < 3 (SDM vol. 2, IRET, protected mode):
 * pops EIP, CS, EFLAGS, and for a return to an outer level ESP and SS;
 * data segment registers the new CPL may not use are nulled.
 */
export function guestIret(ctx: VcpuContext, os: number): void {
  const v = ctx.v;
  if (ctx.eflags & NT) {
    // A task return through the back link of the guest TSS (SDM vol. 2,
    // IRET "TASK-RETURN"; vol. 3, 7.3): the link must name a busy TSS in
    // the GDT, else #TS(link). No task switching here: a valid link gets
    // #GP(0), as on our CPU.
    const link = ctx.read(v.trBase, 2, false);
    if (link & 4) fault(TS, link & 0xfffc);
    if (!ctx.readDescriptor(link)) fault(TS, link & 0xfffc);
    const type = (ctx.descHi >>> 8) & 0x1f;
    if (type !== 0x03 && type !== 0x0b) fault(TS, link & 0xfffc);
    fault(GP, 0);
  }
  const ip = popPeek(ctx, os, 0);
  const sel = popPeek(ctx, os, os) & 0xffff;
  const fl = popPeek(ctx, os, 2 * os);
  returnTo(ctx, os, sel, ip, 0, 3 * os, fl);
  void v;
}

/** RET far [imm16]. */
export function guestRetFar(ctx: VcpuContext, os: number, imm: number): void {
  const ip = popPeek(ctx, os, 0);
  const sel = popPeek(ctx, os, os) & 0xffff;
  returnTo(ctx, os, sel, ip, imm, 2 * os, -1);
}

/** Read the guest stack at ESP+delta (segment checked), as the CPU's peekStack. */
function popPeek(ctx: VcpuContext, size: number, delta: number): number {
  const c = ctx.cpu;
  const sp = c.ss32 ? (c.regs[4] + delta) >>> 0 : (c.regs[4] + delta) & 0xffff;
  if (!c.segR[SS] || sp < c.segLo[SS] || sp + size - 1 > c.segHi[SS]) fault(SSV, 0);
  return ctx.read((c.segBase[SS] + sp) >>> 0, size, ctx.v.cpl === 3);
}

function addSp(ctx: VcpuContext, n: number): void {
  const c = ctx.cpu;
  if (c.ss32) c.regs[4] = c.regs[4] + n; else c.regs16[8] = c.regs16[8] + n;
}

function returnTo(ctx: VcpuContext, os: number, sel: number, ip: number, imm: number, frame: number, newFlags: number): void {
  const v = ctx.v, c = ctx.cpu;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!ctx.readDescriptor(sel)) fault(GP, idx);
  const lo = ctx.descLo, hi = ctx.descHi, attr = descAttr(hi), dpl = dplOf(hi);
  const rpl = sel & 3;
  if (rpl < v.cpl || !isCodeAttr(attr)) fault(GP, idx);
  if (attr & ATTR_DC ? dpl > rpl : dpl !== rpl) fault(GP, idx);
  if (!(attr & ATTR_P)) fault(NP, idx);
  if (ip > descLimit(lo, hi)) fault(GP, 0);
  const oldCpl = v.cpl;
  if (rpl === v.cpl) {
    if (newFlags >= 0) applyIretFlags(ctx, os, newFlags, oldCpl);
    addSp(ctx, frame + imm);
    ctx.descLo = lo; ctx.descHi = hi;
    ctx.markAccessed(sel);
    ctx.loadCs(sel, rpl);
    c.eip = ip >>> 0;
    return;
  }
  const nesp = popPeek(ctx, os, frame + imm);
  const nss = popPeek(ctx, os, frame + imm + os) & 0xffff;
  const sidx = nss & 0xfffc;
  if (sidx === 0) fault(GP, 0);
  if (!ctx.readDescriptor(nss)) fault(GP, sidx);
  const shi = ctx.descHi, sattr = descAttr(shi);
  if ((nss & 3) !== rpl || dplOf(shi) !== rpl || !isDataAttr(sattr) || !(sattr & 2)) fault(GP, sidx);
  if (!(sattr & ATTR_P)) fault(SSV, sidx);
  ctx.markAccessed(nss);
  const slo = ctx.descLo, shi2 = ctx.descHi;
  if (newFlags >= 0) applyIretFlags(ctx, os, newFlags, oldCpl);
  ctx.descLo = lo; ctx.descHi = hi;
  ctx.markAccessed(sel);
  ctx.loadCs(sel, rpl);
  c.eip = ip >>> 0;
  ctx.descLo = slo; ctx.descHi = shi2;
  ctx.loadSs(nss);
  const sp = newFlags >= 0 ? nesp : nesp + imm;
  if (sattr & ATTR_DB) c.regs[4] = os === 4 ? sp : sp & 0xffff; else c.regs16[8] = sp;
  clearInvalidDataSegs(ctx);
}

/** IRET's EFLAGS restore: IOPL only at CPL 0, IF only at CPL <= IOPL (SDM vol. 2, IRET). */
function applyIretFlags(ctx: VcpuContext, os: number, val: number, cpl: number): void {
  const cur = ctx.eflags;
  let mask = 0x0cd5 | TF | NT | 0x400;
  if (os === 4) mask |= RF | AC | ID;
  if (cpl === 0) mask |= IOPL;
  if (cpl <= ((cur >>> 12) & 3)) mask |= IF;
  if (os === 2) mask &= 0xffff;
  ctx.eflags = ((cur & ~mask) | (val & mask) | 2) & ~VM;
}

/**
 * After a return to an outer level: data segment registers whose
 * (guest) DPL is below the new CPL become null. The real caches carry the
 * compressed DPL, so the guest's descriptor decides.
 */
function clearInvalidDataSegs(ctx: VcpuContext): void {
  const c = ctx.cpu, v = ctx.v;
  for (const s of [ES, DS, FS, GS]) {
    const sel = c.segSel[s];
    if ((sel & 0xfffc) === 0) continue;
    let dpl = 0, attr = 0;
    try {
      if (!ctx.readDescriptor(sel)) { c.setSegmentRaw(s, 0, 0, 0, 0); continue; }
      attr = descAttr(ctx.descHi); dpl = dplOf(ctx.descHi);
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      continue;
    }
    const conformingCode = (attr & 8) !== 0 && (attr & ATTR_DC) !== 0;
    if (!conformingCode && dpl < v.cpl) c.setSegmentRaw(s, 0, 0, 0, 0);
  }
}

export { CS };
