// Far JMP/CALL emulated for the guest against its own GDT/LDT and its
// virtual CPL (SDM vol. 3, 5.8 "Privilege level checking when transferring
// program control between code segments"; vol. 2, JMP and CALL): direct
// code-segment targets and call gates, including the inner-level stack
// switch from the guest's TSS with parameter copy (SDM vol. 3, 5.8.5).
// The shadow descriptor tables mark every system descriptor not present,
// so a gate never works natively: guest kernel far transfers are patched,
// guest user ones fault (#NP/#GP) and arrive here. Task gates/TSS targets
// fault #GP(sel) exactly like our CPU (no task switching).

import { ATTR_DB, ATTR_DC, ATTR_P, GP, NP, SS, SYS_CALLGATE16, SYS_CALLGATE32 } from '../cpu/arch.js';
import { fault } from '../cpu/fault.js';
import { descAttr, descLimit, type VcpuContext } from './context.js';
import { GuestFrame, INNER, innerStack } from './reflect.js';

const dplOf = (hi: number): number => (hi >>> 13) & 3;
const isCodeAttr = (a: number): boolean => (a & 0x18) === 0x18;
const FW = new GuestFrame();

/** Check the code segment in ctx.desc* as a JMP/CALL target (SDM vol. 3, 5.8.1, 5.8.4). */
function checkCodeTarget(ctx: VcpuContext, sel: number, viaGate: boolean): void {
  const idx = sel & 0xfffc, attr = descAttr(ctx.descHi), dpl = dplOf(ctx.descHi), cpl = ctx.v.cpl;
  if (!isCodeAttr(attr)) fault(GP, idx);
  if (attr & ATTR_DC) { if (dpl > cpl) fault(GP, idx); }
  else if (viaGate) { if (dpl > cpl) fault(GP, idx); }
  else if ((sel & 3) > cpl || dpl !== cpl) fault(GP, idx);
  if (!(attr & ATTR_P)) fault(NP, idx);
}

/** Push CS:EIP on the current stack; ESP changes only when both writes succeed. */
function pushSame(ctx: VcpuContext, size: number, cs: number, ip: number): void {
  const c = ctx.cpu;
  const m = c.spMask;
  const sp1 = (c.regs[4] - size) & m, sp2 = (sp1 - size) & m;
  c.wr(size, SS, sp1 >>> 0, cs);
  c.wr(size, SS, sp2 >>> 0, ip);
  if (c.ss32) c.regs[4] = sp2; else c.regs16[8] = sp2;
}

function enter(ctx: VcpuContext, sel: number, off: number, cpl: number): void {
  ctx.markAccessed(sel);
  ctx.loadCs(sel, cpl);
  ctx.cpu.eip = off >>> 0;
}

/**
 * JMP/CALL far to `sel:off` (protected mode). `ret` is the return EIP (the
 * next instruction); EIP must already be `ret` so faults rewind correctly
 * in the caller.
 */
export function guestFarTransfer(ctx: VcpuContext, sel: number, off: number, os: number, call: boolean, ret: number): void {
  const c = ctx.cpu, v = ctx.v;
  sel &= 0xffff;
  if (os === 2) off &= 0xffff;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!ctx.readDescriptor(sel)) fault(GP, idx);
  const retCs = v.csSel;
  if (ctx.descHi & 0x1000) {
    checkCodeTarget(ctx, sel, false);
    if (off >>> 0 > descLimit(ctx.descLo, ctx.descHi)) fault(GP, 0);
    if (call) {
      const lo = ctx.descLo, hi = ctx.descHi;
      pushSame(ctx, os, retCs, ret);
      ctx.descLo = lo; ctx.descHi = hi;
    }
    enter(ctx, sel, off, v.cpl);
    return;
  }
  // A system descriptor: only call gates are usable (SDM vol. 3, 5.8.3).
  const glo = ctx.descLo, ghi = ctx.descHi;
  const type = (ghi >>> 8) & 0xf, gdpl = dplOf(ghi);
  if (type !== SYS_CALLGATE16 && type !== SYS_CALLGATE32) fault(GP, idx);
  if (gdpl < v.cpl || gdpl < (sel & 3)) fault(GP, idx);
  if (!(ghi & 0x8000)) fault(NP, idx);
  const gate32 = type === SYS_CALLGATE32;
  const gsize = gate32 ? 4 : 2;
  const tsel = glo >>> 16;
  const toff = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  const tidx = tsel & 0xfffc;
  if (tidx === 0) fault(GP, 0);
  if (!ctx.readDescriptor(tsel)) fault(GP, tidx);
  const tattr = descAttr(ctx.descHi), tdpl = dplOf(ctx.descHi);
  if (!call) {
    // JMP through a gate never changes privilege.
    if (!isCodeAttr(tattr)) fault(GP, tidx);
    if (tattr & ATTR_DC ? tdpl > v.cpl : tdpl !== v.cpl) fault(GP, tidx);
    if (!(tattr & ATTR_P)) fault(NP, tidx);
    if (toff > descLimit(ctx.descLo, ctx.descHi)) fault(GP, 0);
    enter(ctx, tsel, toff, v.cpl);
    return;
  }
  checkCodeTarget(ctx, tsel, true);
  if (toff > descLimit(ctx.descLo, ctx.descHi)) fault(GP, 0);
  const clo = ctx.descLo, chi = ctx.descHi;
  if (!(tattr & ATTR_DC) && tdpl < v.cpl) {
    // More privileged: stack from the guest TSS, parameters copied from the old stack.
    innerStack(ctx, tdpl, 0);
    const nss = INNER.ss, sattr = INNER.sattr;
    FW.init(INNER.base, INNER.lo, INNER.hi, (sattr & ATTR_DB) !== 0, INNER.esp, tdpl === 3, nss & 0xfffc);
    const oldSs = v.ssSel, oldEsp = c.regs[4] >>> 0;
    FW.push(ctx, gsize, oldSs);
    FW.push(ctx, gsize, c.ss32 ? oldEsp : oldEsp & 0xffff);
    for (let k = (ghi & 0x1f) - 1; k >= 0; k--) {
      const p = c.rd(gsize, SS, c.ss32 ? (oldEsp + k * gsize) >>> 0 : (oldEsp + k * gsize) & 0xffff);
      FW.push(ctx, gsize, p);
    }
    FW.push(ctx, gsize, retCs);
    FW.push(ctx, gsize, ret);
    // Commit: SS, ESP, CS, EIP.
    ctx.descLo = INNER.sdLo; ctx.descHi = INNER.sdHi;
    ctx.markAccessed(nss);
    ctx.setCpl(tdpl);
    ctx.loadSs(nss);
    if (sattr & ATTR_DB) c.regs[4] = FW.sp; else c.regs16[8] = FW.sp;
    ctx.descLo = clo; ctx.descHi = chi;
    enter(ctx, tsel, toff, tdpl);
    return;
  }
  pushSame(ctx, gsize, retCs, ret);
  ctx.descLo = clo; ctx.descHi = chi;
  enter(ctx, tsel, toff, v.cpl);
}
