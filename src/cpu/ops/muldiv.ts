// MUL/IMUL/DIV/IDIV (SDM vol. 2). Flags after multiplication follow QEMU's
// compute_all_mul: CF=OF=overflow, ZF/SF/PF from the low half, AF=0.
// Division leaves the flags unchanged (as QEMU's helpers do). #DE on a zero
// divisor or a quotient that does not fit.

import { DE } from '../arch.js';
import type { Cpu } from '../cpu.js';
import { faultNoCode } from '../fault.js';
import type { Insn } from '../insn.js';
import { ea, getReg, readE, setReg } from '../operand.js';
import { mulFlags, sext } from './alu.js';

/** Unsigned 32x32 -> 64 multiply without BigInt: result in mulHi/mulLo. */
let mulHi = 0, mulLo = 0;
function umul32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulLo = (((mid & 0xffff) << 16) | (ll & 0xffff)) >>> 0;
  mulHi = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** F6/F7 /4: mul. */
export function mul(c: Cpu, i: Insn): void {
  const src = readE(c, i);
  if (i.w === 1) {
    const r = c.regs8[0] * src;
    c.regs16[0] = r;
    mulFlags(c, 8, r, (r & 0xff00) !== 0);
  } else if (i.w === 2) {
    const r = c.regs16[0] * src;
    c.regs16[0] = r; c.regs16[4] = r >>> 16;
    mulFlags(c, 16, r, (r >>> 16) !== 0);
  } else {
    umul32(c.regs[0], src);
    c.regs[0] = mulLo; c.regs[2] = mulHi;
    mulFlags(c, 32, mulLo, mulHi !== 0);
  }
}

/** F6/F7 /5: one-operand imul. */
export function imul1(c: Cpu, i: Insn): void {
  const src = readE(c, i);
  if (i.w === 1) {
    const r = ((c.regs8[0] << 24) >> 24) * ((src << 24) >> 24);
    c.regs16[0] = r;
    mulFlags(c, 8, r, r !== ((r << 24) >> 24));
  } else if (i.w === 2) {
    const r = ((c.regs16[0] << 16) >> 16) * ((src << 16) >> 16);
    c.regs16[0] = r; c.regs16[4] = r >> 16;
    mulFlags(c, 16, r, r !== ((r << 16) >> 16));
  } else {
    const a = c.regs[0], b = src | 0;
    umul32(a, b);
    let hi = mulHi;
    if (a < 0) hi = (hi - (b >>> 0)) >>> 0;
    if (b < 0) hi = (hi - (a >>> 0)) >>> 0;
    c.regs[0] = mulLo; c.regs[2] = hi;
    mulFlags(c, 32, mulLo, hi !== ((mulLo | 0) >> 31 >>> 0));
  }
}

function imulCore(c: Cpu, bits: number, a: number, b: number): number {
  const sa = sext(bits, a), sb = sext(bits, b);
  if (bits === 32) {
    const lo = Math.imul(sa, sb);
    const p = sa * sb;
    mulFlags(c, 32, lo, p !== lo); // lo as int32: no heap number (mulFlags masks it the same)
    return lo;
  }
  const r = sa * sb;
  mulFlags(c, 16, r, r !== ((r << 16) >> 16));
  return r;
}
/** 0F AF: imul Gv,Ev. */
export function imul2(c: Cpu, i: Insn): void {
  setReg(c, i.os, i.reg, imulCore(c, i.os * 8, getReg(c, i.os, i.reg), readE(c, i)));
}
/** 69/6B: imul Gv,Ev,Iz/Ib. */
export function imul3(c: Cpu, i: Insn): void {
  if (i.os === 4) { // 32-bit operands read as int32 (rd32/regs), not through readE's unsigned value
    const a = i.mod === 3 ? c.regs[i.rm] : c.rd32(i.seg, ea(c, i));
    c.regs[i.reg] = imulCore(c, 32, a, i.imm);
    return;
  }
  setReg(c, i.os, i.reg, imulCore(c, i.os * 8, readE(c, i), i.imm));
}

/** F6/F7 /6: div. */
export function div(c: Cpu, i: Insn): void {
  const d = readE(c, i);
  if (d === 0) faultNoCode(DE);
  if (i.w === 1) {
    const n = c.regs16[0], q = Math.floor(n / d);
    if (q > 0xff) faultNoCode(DE);
    c.regs8[0] = q; c.regs8[1] = n % d;
  } else if (i.w === 2) {
    const n = c.regs16[4] * 65536 + c.regs16[0], q = Math.floor(n / d);
    if (q > 0xffff) faultNoCode(DE);
    c.regs16[0] = q; c.regs16[4] = n % d;
  } else {
    const hi = c.regs[2] >>> 0, lo = c.regs[0] >>> 0;
    if (hi === 0) {
      c.regs[0] = Math.floor(lo / d); c.regs[2] = lo % d;
      return;
    }
    if (hi >= d) faultNoCode(DE);
    const n = (BigInt(hi) << 32n) | BigInt(lo), bd = BigInt(d);
    c.regs[0] = Number(n / bd); c.regs[2] = Number(n % bd);
  }
}

/** F6/F7 /7: idiv (quotient truncates toward zero, remainder has the dividend's sign). */
export function idiv(c: Cpu, i: Insn): void {
  const raw = readE(c, i);
  if (raw === 0) faultNoCode(DE);
  if (i.w === 1) {
    const n = (c.regs16[0] << 16) >> 16, d = (raw << 24) >> 24;
    const q = Math.trunc(n / d);
    if (q > 127 || q < -128) faultNoCode(DE);
    c.regs8[0] = q; c.regs8[1] = n - q * d;
  } else if (i.w === 2) {
    const n = ((c.regs16[4] << 16) | c.regs16[0]) | 0, d = (raw << 16) >> 16;
    const q = Math.trunc(n / d);
    if (q > 32767 || q < -32768) faultNoCode(DE);
    c.regs16[0] = q; c.regs16[4] = n - q * d;
  } else {
    const hi = c.regs[2], lo = c.regs[0], d = raw | 0;
    if (hi === (lo >> 31)) {
      const n = lo;
      if (n === -2147483648 && d === -1) faultNoCode(DE);
      const q = Math.trunc(n / d);
      c.regs[0] = q; c.regs[2] = n - Math.imul(q, d);
      return;
    }
    const n = (BigInt(hi) << 32n) | BigInt(lo >>> 0), bd = BigInt(d);
    const q = n / bd;
    if (q > 2147483647n || q < -2147483648n) faultNoCode(DE);
    c.regs[0] = Number(q); c.regs[2] = Number(n % bd);
  }
}

