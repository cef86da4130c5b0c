// Lazy arithmetic flags. ALU operations record (kind, width, operands,
// result) instead of computing CF/PF/AF/ZF/SF/OF; the flags are computed
// only when something reads them. The per-kind rules for flags the SDM
// leaves undefined follow what qemu-system-i386 (TCG) computes, so that
// guests printing EFLAGS match QEMU byte for byte.

import { AF, CF, OF, PF, SF, ZF } from './arch.js';

/** The state a lazy-flag record lives in (a slice of Cpu). */
export interface LazyFlags {
  /** EFLAGS; its arithmetic bits are valid only when ccOp === CC_EFLAGS. */
  flags: number;
  ccOp: number;
  /** Operand width in bits: 8, 16 or 32. */
  ccBits: number;
  /** Result, masked to the width: unsigned for 8/16 bits, int32 (same bits) for 32. */
  ccDst: number;
  /** First operand (masked like ccDst); for shifts the value shifted by count-1; for MUL the overflow bit. */
  ccA: number;
  /** Second operand (masked like ccDst). */
  ccB: number;
  /** Carry in (ADC/SBB) or the preserved CF (INC/DEC). */
  ccC: number;
}

export const CC_EFLAGS = 0; // flags are materialized in `flags`
export const CC_ADD = 1;
export const CC_ADC = 2;
export const CC_SUB = 3;
export const CC_SBB = 4;
export const CC_LOGIC = 5;  // CF=OF=AF=0
export const CC_INC = 6;    // CF preserved in ccC
export const CC_DEC = 7;
export const CC_SHL = 8;    // ccA = value << (count-1)
export const CC_SAR = 9;    // ccA = value >> (count-1) (SHR and SAR)
export const CC_MUL = 10;   // ccA = CF=OF; AF=0 (QEMU compute_all_mul)

/** PF lookup: 1 where the byte has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = n & 1 ? 0 : PF;
}

export function getCF(c: LazyFlags): number {
  switch (c.ccOp) {
    case CC_EFLAGS: return c.flags & CF;
    // 32-bit records hold int32: compare as unsigned.
    case CC_ADD: return c.ccDst >>> 0 < c.ccA >>> 0 ? 1 : 0;
    case CC_ADC: return (c.ccC ? c.ccDst >>> 0 <= c.ccA >>> 0 : c.ccDst >>> 0 < c.ccA >>> 0) ? 1 : 0;
    case CC_SUB: return c.ccA >>> 0 < c.ccB >>> 0 ? 1 : 0;
    case CC_SBB: return (c.ccC ? c.ccA >>> 0 <= c.ccB >>> 0 : c.ccA >>> 0 < c.ccB >>> 0) ? 1 : 0;
    case CC_LOGIC: return 0;
    case CC_INC: case CC_DEC: return c.ccC;
    case CC_SHL: return (c.ccA >>> (c.ccBits - 1)) & 1;
    case CC_SAR: return c.ccA & 1;
    case CC_MUL: return c.ccA;
  }
  return 0;
}

export function getZF(c: LazyFlags): number {
  return c.ccOp === CC_EFLAGS ? (c.flags >>> 6) & 1 : c.ccDst === 0 ? 1 : 0;
}

export function getSF(c: LazyFlags): number {
  return c.ccOp === CC_EFLAGS ? (c.flags >>> 7) & 1 : (c.ccDst >>> (c.ccBits - 1)) & 1;
}

export function getPF(c: LazyFlags): number {
  return c.ccOp === CC_EFLAGS ? (c.flags >>> 2) & 1 : PARITY[c.ccDst & 0xff] ? 1 : 0;
}

export function getOF(c: LazyFlags): number {
  const sb = c.ccBits - 1;
  switch (c.ccOp) {
    case CC_EFLAGS: return (c.flags >>> 11) & 1;
    case CC_ADD: case CC_ADC: return (((c.ccA ^ ~c.ccB) & (c.ccA ^ c.ccDst)) >>> sb) & 1;
    case CC_SUB: case CC_SBB: return (((c.ccA ^ c.ccB) & (c.ccA ^ c.ccDst)) >>> sb) & 1;
    case CC_LOGIC: return 0;
    case CC_INC: return c.ccDst >>> 0 === 1 << sb >>> 0 ? 1 : 0;
    case CC_DEC: return c.ccDst >>> 0 === ((1 << sb >>> 0) - 1) ? 1 : 0;
    case CC_SHL: case CC_SAR: return ((c.ccA ^ c.ccDst) >>> sb) & 1;
    case CC_MUL: return c.ccA;
  }
  return 0;
}

export function getAF(c: LazyFlags): number {
  switch (c.ccOp) {
    case CC_EFLAGS: return (c.flags >>> 4) & 1;
    case CC_ADD: case CC_ADC: case CC_SUB: case CC_SBB:
      return ((c.ccA ^ c.ccB ^ c.ccDst) >>> 4) & 1;
    case CC_INC: return (c.ccDst & 0xf) === 0 ? 1 : 0;
    case CC_DEC: return (c.ccDst & 0xf) === 0xf ? 1 : 0;
  }
  return 0; // logic, shifts, mul: QEMU leaves AF clear
}

/** The six arithmetic flags as EFLAGS bits. */
export function arithFlags(c: LazyFlags): number {
  if (c.ccOp === CC_EFLAGS) return c.flags & (CF | PF | AF | ZF | SF | OF);
  return getCF(c) | getPF(c) << 2 | getAF(c) << 4 | getZF(c) << 6 | getSF(c) << 7 | getOF(c) << 11;
}

/** Fold the lazy record into `flags` (ccOp becomes CC_EFLAGS). */
export function materialize(c: LazyFlags): void {
  if (c.ccOp === CC_EFLAGS) return;
  c.flags = (c.flags & ~(CF | PF | AF | ZF | SF | OF)) | arithFlags(c);
  c.ccOp = CC_EFLAGS;
}

/** Evaluate condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc; SDM vol. 1, B.1). */
export function testCond(c: LazyFlags, cc: number): boolean {
  let r: number;
  switch (cc >> 1) {
    case 0: r = getOF(c); break;                          // O
    case 1: r = getCF(c); break;                          // B/C
    case 2: r = getZF(c); break;                          // Z
    case 3: r = getCF(c) | getZF(c); break;               // BE
    case 4: r = getSF(c); break;                          // S
    case 5: r = getPF(c); break;                          // P
    case 6: r = getSF(c) ^ getOF(c); break;               // L
    default: r = (getSF(c) ^ getOF(c)) | getZF(c); break; // LE
  }
  return (r !== 0) !== ((cc & 1) !== 0);
}
