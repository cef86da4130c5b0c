// Pure integer ALU semantics: operands in, result out, lazy flag record
// written (flags.ts). No operand fetching or storing here (that is the
// plumbing in exec.ts). Widths are 8, 16 or 32 bits; values are returned
// masked to the width: unsigned for 8 and 16 bits, and for 32 bits as a
// signed int32 (the same bits). Int32 values stay small integers in V8, so
// they cross calls and land in fields without allocating a heap number;
// flags.ts compares them unsigned where it matters.

import { CF, OF, AF, ZF, SF, PF } from '../arch.js';
import {
  CC_ADC, CC_ADD, CC_DEC, CC_EFLAGS, CC_INC, CC_LOGIC, CC_MUL, CC_SAR, CC_SBB, CC_SHL, CC_SUB,
  getCF, materialize, PARITY, type LazyFlags,
} from '../flags.js';

export function mask(bits: number, v: number): number {
  return bits === 32 ? v | 0 : bits === 16 ? v & 0xffff : v & 0xff;
}

/** Sign-extend a `bits`-wide value to a JS int32. */
export function sext(bits: number, v: number): number {
  return bits === 32 ? v | 0 : bits === 16 ? (v << 16) >> 16 : (v << 24) >> 24;
}

function rec(c: LazyFlags, op: number, bits: number, a: number, b: number, r: number): number {
  c.ccOp = op; c.ccBits = bits; c.ccA = a; c.ccB = b; c.ccDst = r;
  return r;
}

export function add(c: LazyFlags, bits: number, a: number, b: number): number {
  a = mask(bits, a); b = mask(bits, b);
  return rec(c, CC_ADD, bits, a, b, mask(bits, a + b));
}
export function adc(c: LazyFlags, bits: number, a: number, b: number): number {
  const cin = getCF(c);
  a = mask(bits, a); b = mask(bits, b);
  c.ccC = cin;
  return rec(c, CC_ADC, bits, a, b, mask(bits, a + b + cin));
}
export function sub(c: LazyFlags, bits: number, a: number, b: number): number {
  a = mask(bits, a); b = mask(bits, b);
  return rec(c, CC_SUB, bits, a, b, mask(bits, a - b));
}
export function sbb(c: LazyFlags, bits: number, a: number, b: number): number {
  const cin = getCF(c);
  a = mask(bits, a); b = mask(bits, b);
  c.ccC = cin;
  return rec(c, CC_SBB, bits, a, b, mask(bits, a - b - cin));
}
export function and(c: LazyFlags, bits: number, a: number, b: number): number {
  return rec(c, CC_LOGIC, bits, 0, 0, mask(bits, a & b));
}
export function or(c: LazyFlags, bits: number, a: number, b: number): number {
  return rec(c, CC_LOGIC, bits, 0, 0, mask(bits, a | b));
}
export function xor(c: LazyFlags, bits: number, a: number, b: number): number {
  return rec(c, CC_LOGIC, bits, 0, 0, mask(bits, a ^ b));
}
/** Flags for a result as a logical op would set them (TEST, AAM/AAD via QEMU). */
export function logicFlags(c: LazyFlags, bits: number, r: number): void {
  rec(c, CC_LOGIC, bits, 0, 0, mask(bits, r));
}

/** The eight group-1 operations in ModRM.reg order: ADD OR ADC SBB AND SUB XOR CMP. */
export function alu(c: LazyFlags, op: number, bits: number, a: number, b: number): number {
  switch (op) {
    case 0: return add(c, bits, a, b);
    case 1: return or(c, bits, a, b);
    case 2: return adc(c, bits, a, b);
    case 3: return sbb(c, bits, a, b);
    case 4: return and(c, bits, a, b);
    case 5: return sub(c, bits, a, b);
    case 6: return xor(c, bits, a, b);
    default: return sub(c, bits, a, b); // CMP: caller discards the result
  }
}

export function inc(c: LazyFlags, bits: number, a: number): number {
  c.ccC = getCF(c);
  a = mask(bits, a);
  return rec(c, CC_INC, bits, a, 1, mask(bits, a + 1));
}
export function dec(c: LazyFlags, bits: number, a: number): number {
  c.ccC = getCF(c);
  a = mask(bits, a);
  return rec(c, CC_DEC, bits, a, 1, mask(bits, a - 1));
}
export function neg(c: LazyFlags, bits: number, a: number): number {
  return sub(c, bits, 0, a);
}

/** Set the arithmetic flags explicitly (materializes first). */
export function setArith(c: LazyFlags, bitsToSet: number, bitsToClear: number): void {
  materialize(c);
  c.flags = (c.flags & ~bitsToClear) | bitsToSet;
}

// ---- shifts and rotates (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR) ----
// `count` is already masked to 5 bits by the caller. Count 0 changes nothing.

export function shl(c: LazyFlags, bits: number, v: number, count: number): number {
  if (count === 0) return mask(bits, v);
  v = mask(bits, v);
  const pre = count > 32 ? 0 : mask(bits, count - 1 >= 32 ? 0 : v << (count - 1));
  const r = count >= 32 ? 0 : mask(bits, v << count);
  return rec(c, CC_SHL, bits, pre, 0, r);
}
export function shr(c: LazyFlags, bits: number, v: number, count: number): number {
  if (count === 0) return mask(bits, v);
  v = mask(bits, v);
  const pre = v >>> (count - 1);
  const r = count >= 32 ? 0 : v >>> count;
  return rec(c, CC_SAR, bits, mask(bits, pre), 0, r);
}
export function sar(c: LazyFlags, bits: number, v: number, count: number): number {
  if (count === 0) return mask(bits, v);
  const s = sext(bits, v);
  const pre = s >> (count - 1);
  const r = s >> Math.min(count, 31);
  return rec(c, CC_SAR, bits, mask(bits, pre), 0, mask(bits, r));
}

/** Store CF and OF only, leaving the other arithmetic flags (rotates). */
function setCfOf(c: LazyFlags, cf: number, of: number): void {
  materialize(c);
  c.flags = (c.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

export function rol(c: LazyFlags, bits: number, v: number, count: number): number {
  v = mask(bits, v);
  if (count === 0) return v;
  const n = count & (bits - 1);
  const r = n === 0 ? v : mask(bits, (v << n) | (v >>> (bits - n)));
  const cf = r & 1;
  setCfOf(c, cf, cf ^ ((r >>> (bits - 1)) & 1));
  return r;
}
export function ror(c: LazyFlags, bits: number, v: number, count: number): number {
  v = mask(bits, v);
  if (count === 0) return v;
  const n = count & (bits - 1);
  const r = n === 0 ? v : mask(bits, (v >>> n) | (v << (bits - n)));
  const msb = (r >>> (bits - 1)) & 1;
  setCfOf(c, msb, msb ^ ((r >>> (bits - 2)) & 1));
  return r;
}
export function rcl(c: LazyFlags, bits: number, v: number, count: number): number {
  v = mask(bits, v);
  const n = count % (bits + 1);
  if (n === 0) return v;
  let cf = getCF(c);
  let r = v;
  for (let i = 0; i < n; i++) {
    const out = (r >>> (bits - 1)) & 1;
    r = mask(bits, (r << 1) | cf);
    cf = out;
  }
  // OF = old MSB xor new MSB for every count (QEMU helper_rcl; the SDM defines only count 1).
  setCfOf(c, cf, ((v ^ r) >>> (bits - 1)) & 1);
  return r;
}
export function rcr(c: LazyFlags, bits: number, v: number, count: number): number {
  v = mask(bits, v);
  const n = count % (bits + 1);
  if (n === 0) return v;
  let cf = getCF(c);
  let r = v;
  for (let i = 0; i < n; i++) {
    const out = r & 1;
    r = mask(bits, (r >>> 1) | (cf << (bits - 1)));
    cf = out;
  }
  setCfOf(c, cf, ((v ^ r) >>> (bits - 1)) & 1);
  return r;
}

/** Group-2 dispatch in ModRM.reg order: ROL ROR RCL RCR SHL SHR SAL(=SHL) SAR. */
export function shift(c: LazyFlags, op: number, bits: number, v: number, count: number): number {
  switch (op) {
    case 0: return rol(c, bits, v, count);
    case 1: return ror(c, bits, v, count);
    case 2: return rcl(c, bits, v, count);
    case 3: return rcr(c, bits, v, count);
    case 4: case 6: return shl(c, bits, v, count);
    case 5: return shr(c, bits, v, count);
    default: return sar(c, bits, v, count);
  }
}

/**
 * SHLD (SDM vol. 2): shift `dst` left, filling from `src`; count masked to 5
 * bits. A 16-bit count above 16 is undefined; like QEMU we shift the 48-bit
 * pattern dst:src:dst.
 */
export function shld(c: LazyFlags, bits: number, dst: number, src: number, count: number): number {
  dst = mask(bits, dst); src = mask(bits, src);
  if (count === 0) return dst;
  let r: number, pre: number;
  if (bits === 32) {
    r = dst << count | src >>> (32 - count);
    pre = count === 1 ? dst : dst << (count - 1) | src >>> (33 - count);
  } else {
    const v = dst * 4294967296 + src * 65536 + dst; // < 2^48: exact in a double
    r = Math.floor(v / 2 ** (32 - count)) % 65536;
    pre = Math.floor(v / 2 ** (33 - count)) % 65536;
  }
  return rec(c, CC_SHL, bits, pre, 0, r);
}

/** SHRD: shift `dst` right, filling from `src` (16-bit count > 16: pattern dst:src:dst). */
export function shrd(c: LazyFlags, bits: number, dst: number, src: number, count: number): number {
  dst = mask(bits, dst); src = mask(bits, src);
  if (count === 0) return dst;
  let r: number, pre: number;
  if (bits === 32) {
    r = dst >>> count | src << (32 - count);
    pre = (dst >>> (count - 1)) | 0; // QEMU keeps only dst here: OF for count > 1 ignores src bits
  } else {
    const v = dst * 4294967296 + src * 65536 + dst;
    r = Math.floor(v / 2 ** count) % 65536;
    pre = Math.floor(v / 2 ** (count - 1)) % 65536;
  }
  return rec(c, CC_SAR, bits, pre, 0, r);
}

// ---- bit scans (QEMU: ZF from the source, other flags as a logic op on it, dst unchanged if 0) ----
export function bsfFlags(c: LazyFlags, bits: number, src: number): void {
  rec(c, CC_LOGIC, bits, 0, 0, mask(bits, src));
}

/** Flags after MUL/IMUL (QEMU compute_all_mul: CF=OF=overflow, ZF/SF/PF from the low result, AF=0). */
export function mulFlags(c: LazyFlags, bits: number, low: number, overflow: boolean): void {
  rec(c, CC_MUL, bits, overflow ? 1 : 0, 0, mask(bits, low));
}

/** Used by DAA/DAS/AAA/AAS: set all six flags explicitly. */
export function setAllArith(c: LazyFlags, cf: number, pf: number, af: number, zf: number, sf: number, of: number): void {
  c.ccOp = CC_EFLAGS;
  c.flags = (c.flags & ~(CF | PF | AF | ZF | SF | OF)) |
    (cf ? CF : 0) | (pf ? PF : 0) | (af ? AF : 0) | (zf ? ZF : 0) | (sf ? SF : 0) | (of ? OF : 0);
}
export { PARITY };
