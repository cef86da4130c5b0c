// Operand plumbing: effective addresses and the register/memory operands
// named by ModRM, at the width the decoder chose. Semantics live in ops/.

import { EA_BASE, EA_BASE_INDEX, EA_DISP, type Insn } from './insn.js';
import type { Cpu } from './cpu.js';

/** Byte register number -> byte offset in the register file (AL CL DL BL AH CH DH BH). */
export const R8 = new Uint8Array([0, 4, 8, 12, 1, 5, 9, 13]);

/** Effective address offset (SDM vol. 2, 2.1.5), wrapped to the address size. */
export function ea(c: Cpu, i: Insn): number {
  const r = c.regs;
  let a: number;
  switch (i.eaKind) {
    case EA_DISP: a = i.disp; break;
    case EA_BASE: a = r[i.base] + i.disp; break;
    case EA_BASE_INDEX: a = r[i.base] + (r[i.index] << i.scale) + i.disp; break;
    default: a = (r[i.index] << i.scale) + i.disp; break;
  }
  return i.as === 4 ? a >>> 0 : a & 0xffff;
}

export function getReg(c: Cpu, w: number, r: number): number {
  return w === 4 ? c.regs[r] >>> 0 : w === 2 ? c.regs16[r << 1] : c.regs8[R8[r]];
}

export function setReg(c: Cpu, w: number, r: number, v: number): void {
  if (w === 4) c.regs[r] = v;
  else if (w === 2) c.regs16[r << 1] = v;
  else c.regs8[R8[r]] = v;
}

/** Read the ModRM r/m operand (unsigned, width i.w). */
export function readE(c: Cpu, i: Insn): number {
  if (i.mod === 3) return getReg(c, i.w, i.rm);
  return c.rd(i.w, i.seg, ea(c, i));
}

export function writeE(c: Cpu, i: Insn, v: number): void {
  if (i.mod === 3) setReg(c, i.w, i.rm, v);
  else c.wr(i.w, i.seg, ea(c, i), v);
}

export function readG(c: Cpu, i: Insn): number {
  return getReg(c, i.w, i.reg);
}

export function writeG(c: Cpu, i: Insn, v: number): void {
  setReg(c, i.w, i.reg, v);
}

/** Read r/m with an explicit width. */
export function readEw(c: Cpu, i: Insn, w: number): number {
  if (i.mod === 3) return getReg(c, w, i.rm);
  return c.rd(w, i.seg, ea(c, i));
}

export function writeEw(c: Cpu, i: Insn, w: number, v: number): void {
  if (i.mod === 3) setReg(c, w, i.rm, v);
  else c.wr(w, i.seg, ea(c, i), v);
}
