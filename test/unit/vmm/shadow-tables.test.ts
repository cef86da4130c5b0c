import { describe, expect, it } from 'vitest';
import { shadowDescriptorHigh, ShadowTable } from '../../../src/vmm/shadow-tables.js';

// xv6-style flat descriptors (SDM vol. 3, 3.4.5): high dwords.
const KCODE = 0x00cf9a00; // P=1 DPL=0 S=1 type=A (code, readable)
const KDATA = 0x00cf9200;
const UCODE = 0x00cffa00; // DPL=3
const TSS32 = 0x00008900; // P=1 DPL=0 S=0 type=9
const DPL = (hi: number) => (hi >>> 13) & 3;

describe('shadowDescriptorHigh', () => {
  it('compresses kernel DPL to 3 in the kernel variant only', () => {
    expect(DPL(shadowDescriptorHigh(KCODE, false))).toBe(3);
    expect(DPL(shadowDescriptorHigh(KDATA, false))).toBe(3);
    expect(DPL(shadowDescriptorHigh(KDATA, true))).toBe(0);
    expect(DPL(shadowDescriptorHigh(0x00cfb200, true))).toBe(0); // DPL 1 -> 0 for user
  });
  it('keeps everything else of code/data descriptors', () => {
    expect(shadowDescriptorHigh(KCODE, false) & ~0x6000).toBe(KCODE);
    expect(shadowDescriptorHigh(UCODE, false)).toBe(UCODE);
    expect(shadowDescriptorHigh(UCODE, true)).toBe(UCODE);
  });
  it('makes system descriptors not present', () => {
    expect(shadowDescriptorHigh(TSS32, false) & 0x8000).toBe(0);
    expect(shadowDescriptorHigh(TSS32, true) & 0x8000).toBe(0);
  });
});

describe('ShadowTable.sync', () => {
  it('copies limit+1 bytes of descriptors and clears what a shorter table no longer covers', () => {
    const ram = new Uint8Array(0x40000);
    const guest = new Map<number, number>([[0x100, 0], [0x104, 0], [0x108, 0xffff], [0x10c, KCODE], [0x110, 0xffff], [0x114, KDATA]]);
    const t = new ShadowTable(ram, 0x10000, 0x20000);
    t.sync((a) => guest.get(a) ?? null, 0x100, 23);
    const k = new DataView(ram.buffer, 0x10000);
    const u = new DataView(ram.buffer, 0x20000);
    expect(k.getUint32(8, true)).toBe(0xffff);
    expect(DPL(k.getUint32(12, true))).toBe(3);
    expect(DPL(u.getUint32(12, true))).toBe(0);
    t.sync((a) => guest.get(a) ?? null, 0x100, 15);
    expect(k.getUint32(16, true)).toBe(0);
    expect(k.getUint32(20, true)).toBe(0);
    expect(k.getUint32(12, true)).not.toBe(0);
  });
  it('unreadable guest entries become not present', () => {
    const ram = new Uint8Array(0x40000);
    const t = new ShadowTable(ram, 0x10000, 0x20000);
    t.sync(() => null, 0x100, 15);
    expect(new DataView(ram.buffer, 0x10000).getUint32(12, true)).toBe(0);
  });
});
