// Hex text <-> numbers and bytes as the remote protocol spells them.
// Every parser returns null on malformed input instead of throwing.

const HEX = '0123456789abcdef';

/** Value of one ASCII hex digit, or -1. */
export function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * A hex number as a u32. Accepts up to 16 digits so a sign-extended
 * 64-bit spelling of a 32-bit address (ffffffff80001000) is read as its
 * low half; anything that does not fit in 32 bits either way is null.
 */
export function parseHexU32(s: string): number | null {
  if (s.length === 0 || s.length > 16) return null;
  let hi = 0;
  let lo = 0;
  const split = Math.max(0, s.length - 8);
  for (let i = 0; i < s.length; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return null;
    if (i < split) hi = hi * 16 + d;
    else lo = lo * 16 + d;
  }
  if (split === 0) return lo >>> 0;
  const ones = 16 ** split - 1;
  if (hi === 0) return lo >>> 0;
  // Sign extension is only honest if bit 31 is set.
  if (hi === ones && lo >= 0x80000000) return lo >>> 0;
  return null;
}

/** A signed hex thread id as the H/T packets spell it: -1, 0, or n. */
export function parseThreadId(s: string): number | null {
  if (s === '-1') return -1;
  if (s.length === 0 || s.length > 8) return null;
  const v = parseHexU32(s);
  return v === null ? null : v;
}

export function hexU8(v: number): string {
  return HEX[(v >> 4) & 15] + HEX[v & 15];
}

/** Minimal lower-case hex, as gdb writes numbers. */
export function hexNum(v: number): string {
  return (v >>> 0).toString(16);
}

/** Little-endian hex of a `bytes`-wide value (target byte order). */
export function hexLE(v: number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) {
    s += i < 4 ? hexU8((v >>> (8 * i)) & 0xff) : '00';
  }
  return s;
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += hexU8(b[i]);
  return s;
}

/** Even-length hex to bytes, or null. */
export function hexToBytes(s: string): Uint8Array | null {
  if ((s.length & 1) !== 0) return null;
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const h = hexDigit(s.charCodeAt(2 * i));
    const l = hexDigit(s.charCodeAt(2 * i + 1));
    if (h < 0 || l < 0) return null;
    out[i] = (h << 4) | l;
  }
  return out;
}

export function asciiToHex(s: string): string {
  return bytesToHex(new TextEncoder().encode(s));
}

export function hexToAscii(s: string): string | null {
  const b = hexToBytes(s);
  return b === null ? null : new TextDecoder('utf-8', { fatal: false }).decode(b);
}

/** Little-endian value of `bytes` hex pairs at `s[off..]` (<= 4 used), or null. */
export function parseHexLE(s: string, off: number, bytes: number): number | null {
  let v = 0;
  for (let i = 0; i < bytes; i++) {
    const h = hexDigit(s.charCodeAt(off + 2 * i));
    const l = hexDigit(s.charCodeAt(off + 2 * i + 1));
    if (h < 0 || l < 0) {
      // 'xx' marks an unavailable byte in g/G; treat as "leave alone".
      return null;
    }
    if (i < 4) v += ((h << 4) | l) * 2 ** (8 * i);
  }
  return v >>> 0;
}
