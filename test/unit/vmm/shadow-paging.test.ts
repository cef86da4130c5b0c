import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { hostFrame, shadowPte, ShadowPageTables, SHADOW_KERNEL, SHADOW_USER, VMM_WINDOW_PDE, type GuestRange } from '../../../src/vmm/shadow-paging.js';

function guest(base: number, size: number, host: PhysMem): GuestRange {
  const mem = host.window(base, size);
  mem.addMmio(0x3000, 0x1000, 'dev', { mmioRead: () => 0, mmioWrite: () => {} });
  return { base, size, mem, openBus: host.ramSize, mmioProxy: (p) => host.ramSize + 0x1000 + p * 0 };
}

describe('hostFrame', () => {
  const host = new PhysMem(0x40000);
  const g = guest(0x10000, 0x8000, host);
  it('adds the base to RAM frames', () => {
    expect(hostFrame(g, 0x0)).toBe(0x10000);
    expect(hostFrame(g, 0x7fff)).toBe(0x17000);
  });
  it('never lets a frame past the guest range reach host memory', () => {
    expect(hostFrame(g, 0x8000)).toBe(host.ramSize);
    expect(hostFrame(g, 0xfffff000)).toBe(host.ramSize);
    expect(hostFrame(g, 0x30000)).toBe(host.ramSize); // would be host 0x40000.. but is outside the guest
  });
  it('maps guest MMIO pages to their proxy', () => {
    expect(hostFrame(g, 0x3004)).toBe(host.ramSize + 0x1000);
  });
});

describe('shadowPte', () => {
  it('is present and user, writable only on request', () => {
    expect(shadowPte(0x12345000, false)).toBe(0x12345005);
    expect(shadowPte(0x12345678, true) >>> 0).toBe(0x12345007);
  });
});

describe('ShadowPageTables', () => {
  function setup() {
    const host = new PhysMem(0x100000);
    const inval: number[] = [];
    const sp = new ShadowPageTables(host, 0x80000, 8, 0x7f000, (p) => inval.push(p));
    return { host, sp, inval };
  }
  it('both directories map the VMM window supervisor-only', () => {
    const { host, sp } = setup();
    for (const d of [SHADOW_KERNEL, SHADOW_USER]) {
      const pde = host.read32(sp.directory(d) + VMM_WINDOW_PDE * 4);
      expect(pde & ~0xfff).toBe(0x7f000);
      expect(pde & 7).toBe(3); // P|W, U=0
    }
  });
  it('installs entries lazily, per directory, and invalidates the real TLB entry', () => {
    const { sp, inval } = setup();
    sp.install(SHADOW_KERNEL, 0x80105000, shadowPte(0x20000, true));
    expect(sp.lookup(SHADOW_KERNEL, 0x80105123) >>> 0).toBe(0x20007);
    expect(sp.lookup(SHADOW_USER, 0x80105123)).toBe(0);
    expect(sp.stats.tablesBuilt).toBe(1);
    expect(inval).toContain(0x80105);
  });
  it('invlpg drops one entry in both directories', () => {
    const { sp } = setup();
    sp.install(SHADOW_KERNEL, 0x1000, shadowPte(0x20000, false));
    sp.install(SHADOW_USER, 0x1000, shadowPte(0x20000, false));
    sp.install(SHADOW_KERNEL, 0x2000, shadowPte(0x21000, false));
    sp.invalidate(0x1000, false);
    expect(sp.lookup(SHADOW_KERNEL, 0x1000)).toBe(0);
    expect(sp.lookup(SHADOW_USER, 0x1000)).toBe(0);
    expect(sp.lookup(SHADOW_KERNEL, 0x2000)).not.toBe(0);
  });
  it('flush empties everything but the window, and a full pool flushes itself', () => {
    const { host, sp, inval } = setup();
    for (let i = 0; i < 6; i++) sp.install(SHADOW_KERNEL, i << 22, shadowPte(0x20000, false));
    expect(sp.pagesInUse).toBe(8);
    expect(sp.stats.flushes).toBe(0);
    sp.install(SHADOW_KERNEL, 6 << 22, shadowPte(0x20000, false)); // pool full -> flush, then install
    expect(sp.stats.flushes).toBe(1);
    expect(inval).toContain(-1);
    expect(sp.lookup(SHADOW_KERNEL, 0)).toBe(0);
    expect(sp.lookup(SHADOW_KERNEL, 6 << 22)).not.toBe(0);
    expect(host.read32(sp.directory(SHADOW_KERNEL) + VMM_WINDOW_PDE * 4) & ~0xfff).toBe(0x7f000);
  });
  it('refuses to map inside the VMM window', () => {
    const { sp } = setup();
    expect(() => sp.install(SHADOW_KERNEL, 0xffc01000, 0)).toThrow();
  });
});
