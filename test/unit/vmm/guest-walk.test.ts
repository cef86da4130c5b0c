import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { walkGuest, WalkResult } from '../../../src/vmm/guest-walk.js';

// Hand-built guest tables (SDM vol. 3, 4.3): PD at 0x1000, PT at 0x2000.
const P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80;
const PG = 0x80000000, WP = 0x10000, PSE = 0x10;

function setup() {
  const mem = new PhysMem(0x800000);
  mem.write32(0x1000 + 0 * 4, 0x2000 | P | W | U);         // 0-4M -> PT
  mem.write32(0x2000 + 5 * 4, 0x7000 | P | U);             // 0x5000 -> 0x7000 user read-only
  mem.write32(0x2000 + 6 * 4, 0x8000 | P | W);             // 0x6000 -> 0x8000 supervisor rw
  mem.write32(0x1000 + 1 * 4, 0x400000 | P | W | PS);      // 4-8M -> 4M page at 4M, supervisor
  return { mem, out: new WalkResult() };
}

describe('walkGuest', () => {
  it('identity when paging is off', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: 1, cr3: 0x1000, cr4: 0 }, 0x12345678, true, true, true, out)).toBe(true);
    expect(out.gpa).toBe(0x12345678);
  });

  it('4 KiB read sets A in PDE and PTE, not D', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x5abc, false, true, true, out)).toBe(true);
    expect(out.gpa).toBe(0x7abc);
    expect(mem.read32(0x1000) & A).toBe(A);
    expect(mem.read32(0x2014)).toBe(0x7000 | P | U | A);
    expect(out.dirty).toBe(false);
  });

  it('user write to a read-only page: #PF error P|W|U, no A bits set', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x5000, true, true, true, out)).toBe(false);
    expect(out.error).toBe(7);
    expect(mem.read32(0x2014) & (A | D)).toBe(0);
  });

  it('supervisor write to a read-only page: allowed with WP=0, #PF P|W with WP=1', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x5004, true, false, true, out)).toBe(true);
    expect(mem.read32(0x2014) & (A | D)).toBe(A | D);
    expect(walkGuest(mem, { cr0: PG | WP | 1, cr3: 0x1000, cr4: 0 }, 0x5004, true, false, true, out)).toBe(false);
    expect(out.error).toBe(3);
  });

  it('user access to a supervisor page: #PF P|U', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x6000, false, true, true, out)).toBe(false);
    expect(out.error).toBe(5);
  });

  it('not present: error without P', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x9000, true, false, true, out)).toBe(false);
    expect(out.error).toBe(2);
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x00c00000, false, true, true, out)).toBe(false);
    expect(out.error).toBe(4);
  });

  it('4 MiB page with CR4.PSE: A and D in the PDE; without PSE the PDE is a table pointer', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: PSE }, 0x00512345, true, false, true, out)).toBe(true);
    expect(out.gpa).toBe(0x00512345);
    expect(out.large).toBe(true);
    expect(mem.read32(0x1004)).toBe(0x400000 | P | W | PS | A | D);
    // Without PSE, bits 31:12 of that PDE name a page table at 0x400000 (all zero: not present).
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x00512345, false, false, true, out)).toBe(false);
  });

  it('setAD=false leaves the guest tables untouched', () => {
    const { mem, out } = setup();
    expect(walkGuest(mem, { cr0: PG | 1, cr3: 0x1000, cr4: 0 }, 0x6000, true, false, false, out)).toBe(true);
    expect(mem.read32(0x2018)).toBe(0x8000 | P | W);
    expect(mem.read32(0x1000)).toBe(0x2000 | P | W | U);
  });
});
