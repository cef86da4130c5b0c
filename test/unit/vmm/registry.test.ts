import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { INT3, PatchRegistry } from '../../../src/vmm/patch/registry.js';

function setup() {
  const mem = new PhysMem(0x4000);
  // pushf; popf; nop; jmp . (9C 9D 90 EB FE) at 0x1000
  mem.poke(0x1000, Uint8Array.of(0x9c, 0x9d, 0x90, 0xeb, 0xfe));
  return { mem, reg: new PatchRegistry(mem) };
}

describe('PatchRegistry', () => {
  it('plants INT 3 and remembers the original byte', () => {
    const { mem, reg } = setup();
    expect(reg.add(0x1001, 0x80001001, 1, 'popf', 'sensitive')).toBe(true);
    expect(mem.read8(0x1001)).toBe(INT3);
    expect(reg.get(0x1001)?.original).toBe(0x9d);
    expect([...reg.originalBytes(0x1000, 5)]).toEqual([0x9c, 0x9d, 0x90, 0xeb, 0xfe]);
  });

  it('never patches the same address twice (the original stays the real one)', () => {
    const { reg } = setup();
    expect(reg.add(0x1000, 0x1000, 1, 'pushf', 'sensitive')).toBe(true);
    expect(reg.add(0x1000, 0x1000, 1, 'pushf', 'sensitive')).toBe(false);
    expect(reg.get(0x1000)?.original).toBe(0x9c);
    expect(reg.made).toBe(1);
  });

  it('refuses addresses outside guest RAM', () => {
    const { reg } = setup();
    expect(reg.add(0x4000, 0, 1, 'x', 'sensitive')).toBe(false);
  });

  it('drops a page before a guest write: originals back, scanned marks gone', () => {
    const { mem, reg } = setup();
    reg.add(0x1000, 0x1000, 1, 'pushf', 'sensitive');
    reg.add(0x1003, 0x1003, 2, 'jmp-rel', 'transfer');
    reg.markScanned(0x1000);
    reg.markScanned(0x1003);
    expect(reg.isCodePage(1)).toBe(true);
    expect(reg.dropPage(1)).toBe(2);
    expect([...mem.peek(0x1000, 5)]).toEqual([0x9c, 0x9d, 0x90, 0xeb, 0xfe]);
    expect(reg.isScanned(0x1000)).toBe(false);
    expect(reg.isCodePage(1)).toBe(false);
    expect(reg.dropped).toBe(2);
    expect(reg.patches()).toEqual([]);
  });

  it('resolving restores only that patch', () => {
    const { mem, reg } = setup();
    reg.add(0x1000, 0x1000, 1, 'pushf', 'sensitive');
    reg.add(0x1003, 0x1003, 2, 'jmp-rel', 'transfer');
    expect(reg.resolve(0x1003)).toBe(true);
    expect(mem.read8(0x1003)).toBe(0xeb);
    expect(mem.read8(0x1000)).toBe(INT3);
    expect(reg.pageHasPatches(1)).toBe(true);
    expect(reg.resolved).toBe(1);
  });

  it('a debugger write to a patched byte updates the original and keeps the patch', () => {
    const { mem, reg } = setup();
    reg.add(0x1001, 0x1001, 1, 'popf', 'sensitive');
    expect(reg.debuggerWrite(0x1000, Uint8Array.of(0x90, 0x90, 0x91))).toBe(true);
    expect([...mem.peek(0x1000, 3)]).toEqual([0x90, INT3, 0x91]);
    expect([...reg.originalBytes(0x1000, 3)]).toEqual([0x90, 0x90, 0x91]);
  });

  it('scanned marks are per byte', () => {
    const { reg } = setup();
    reg.markScanned(0x1ffe);
    expect(reg.isScanned(0x1ffe)).toBe(true);
    expect(reg.isScanned(0x1fff)).toBe(false);
    expect(reg.isScanned(0x2ffe)).toBe(false);
  });

  it('a write beside scanned code on the same page keeps the scan; a write into it drops the page', () => {
    const { mem, reg } = setup();
    reg.add(0x1001, 0x1001, 1, 'popf', 'sensitive');
    reg.markScanned(0x1000, 1); // pushf
    reg.markScanned(0x1001, 1); // popf (patched)
    reg.markScanned(0x1003, 2); // jmp .
    const before = mem.ram.slice(0x1000, 0x2000);
    mem.ram[0x1800] = 0x42; // data that merely shares the page
    expect(reg.afterGuestWrite(1, before)).toBe(false);
    expect(reg.isScanned(0x1003)).toBe(true);
    expect(reg.has(0x1001)).toBe(true);
    const before2 = mem.ram.slice(0x1000, 0x2000);
    mem.ram[0x1004] = 0x00; // jmp's displacement: the code changed
    expect(reg.afterGuestWrite(1, before2)).toBe(true);
    expect(reg.isScanned(0x1003)).toBe(false);
    expect(reg.has(0x1001)).toBe(false);
    expect(mem.read8(0x1001)).toBe(0x9d); // untouched patch site: original back
  });

  it('a guest write over a patch site keeps the guest\'s byte, not the stale original', () => {
    const { mem, reg } = setup();
    reg.add(0x1001, 0x1001, 1, 'popf', 'sensitive');
    reg.markScanned(0x1001, 1);
    const before = mem.ram.slice(0x1000, 0x2000);
    mem.ram[0x1001] = 0x90; // the guest writes a nop where popf was
    expect(reg.afterGuestWrite(1, before)).toBe(true);
    expect(reg.has(0x1001)).toBe(false);
    expect(mem.read8(0x1001)).toBe(0x90);
  });
});
