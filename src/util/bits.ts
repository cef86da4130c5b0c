// Numeric helpers for guest values. Guest registers are unsigned 32-bit
// numbers held in JS doubles; these keep every value canonical.

export const u8 = (v: number): number => v & 0xff;
export const u16 = (v: number): number => v & 0xffff;
export const u32 = (v: number): number => v >>> 0;
export const s8 = (v: number): number => (v << 24) >> 24;
export const s16 = (v: number): number => (v << 16) >> 16;
export const s32 = (v: number): number => v | 0;

/** `0x` + lower-case hex, zero-padded to `digits`. */
export function hex(v: number, digits = 8): string {
  return '0x' + (v >>> 0).toString(16).padStart(digits, '0');
}
