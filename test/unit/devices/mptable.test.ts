import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { writeMpTable } from '../../../src/devices/mptable.js';

const sum = (m: PhysMem, a: number, len: number) => {
  let s = 0;
  for (const b of m.peek(a, len)) s += b;
  return s & 0xff;
};
const sig = (m: PhysMem, a: number) => String.fromCharCode(...m.peek(a, 4));

/** xv6 mp.c mpsearch1(): "_MP_" on a 16-byte boundary with a zero checksum over 16 bytes. */
function mpsearch1(m: PhysMem, a: number, len: number): number {
  for (let p = a; p < a + len; p += 16) if (sig(m, p) === '_MP_' && sum(m, p, 16) === 0) return p;
  return -1;
}

/** xv6 mpsearch(): EBDA, then the last KiB of base memory, then the BIOS ROM area. */
function mpsearch(m: PhysMem): number {
  const ebda = m.read16(0x40e) << 4;
  if (ebda) {
    const p = mpsearch1(m, ebda, 1024);
    if (p >= 0) return p;
  } else {
    const base = m.read16(0x413) * 1024;
    const p = mpsearch1(m, base - 1024, 1024);
    if (p >= 0) return p;
  }
  return mpsearch1(m, 0xf0000, 0x10000);
}

/** xv6 mpconfig() + mpinit(), plus the fields xv6 ignores, parsed from the spec layout. */
function parse(m: PhysMem) {
  const mp = mpsearch(m);
  expect(mp).toBeGreaterThanOrEqual(0);
  const conf = m.read32(mp + 4);
  expect(conf).not.toBe(0);
  expect(sig(m, conf)).toBe('PCMP');
  expect([1, 4]).toContain(m.read8(conf + 6));
  const length = m.read16(conf + 4);
  expect(sum(m, conf, length)).toBe(0);
  const cpus: { apicid: number; flags: number }[] = [];
  const routes = new Map<number, number>();
  const lints: [number, number, number][] = [];
  let ioapicid = -1;
  let bus = '';
  let p = conf + 44;
  const end = conf + length;
  let entries = 0;
  while (p < end) {
    entries++;
    switch (m.read8(p)) {
      case 0: cpus.push({ apicid: m.read8(p + 1), flags: m.read8(p + 3) }); p += 20; break;
      case 1: bus = String.fromCharCode(...m.peek(p + 2, 6)).trimEnd(); p += 8; break;
      case 2: ioapicid = m.read8(p + 1); expect(m.read32(p + 4)).toBe(0xfec00000); p += 8; break;
      case 3: expect(m.read8(p + 6)).toBe(ioapicid); routes.set(m.read8(p + 5), m.read8(p + 7)); p += 8; break;
      case 4: lints.push([m.read8(p + 1), m.read8(p + 6), m.read8(p + 7)]); p += 8; break;
      default: throw new Error(`xv6 would set ismp = 0: entry type ${m.read8(p)}`);
    }
  }
  expect(entries).toBe(m.read16(conf + 34));
  return { mp, lapic: m.read32(conf + 36), imcrp: m.read8(mp + 12) & 0x80, cpus, ioapicid, bus, routes, lints };
}

describe('MP table', () => {
  it('is found and parsed by the xv6 algorithm in the BIOS area', () => {
    const m = new PhysMem(1 << 20);
    m.write16(0x413, 640); // base memory size, as the BIOS leaves it in the BDA
    const layout = writeMpTable(m, { cpus: 2 });
    const t = parse(m);
    expect(t.mp).toBe(layout.floatAddr);
    expect(t.mp).toBe(0xf5a00);
    expect(t.lapic).toBe(0xfee00000);
    expect(t.imcrp).toBe(0);
    expect(t.cpus).toEqual([{ apicid: 0, flags: 3 }, { apicid: 1, flags: 1 }]);
    expect(t.ioapicid).toBe(2);
    expect(t.bus).toBe('ISA');
    expect(t.routes.get(0)).toBe(2);
    expect(t.routes.has(2)).toBe(false);
    for (let irq = 1; irq < 16; irq++) if (irq !== 2) expect(t.routes.get(irq)).toBe(irq);
    expect(t.lints).toEqual([[3, 0, 0], [1, 0xff, 1]]); // ExtINT -> BSP LINT0, NMI -> all LINT1
  });

  it('can live in the last KiB of base memory and scales to 8 CPUs', () => {
    const m = new PhysMem(1 << 20);
    m.write16(0x413, 639);
    writeMpTable(m, { cpus: 8, address: 638 * 1024 }); // [638K, 639K) is the last KiB below 639K
    const t = parse(m);
    expect(t.mp).toBe(638 * 1024);
    expect(t.cpus.map((c) => c.apicid)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.ioapicid).toBe(8);
  });

  it('refuses bad arguments and memory that is not RAM', () => {
    const m = new PhysMem(64 * 1024);
    expect(() => writeMpTable(m, { cpus: 1 })).toThrow(/not in RAM/);
    expect(() => writeMpTable(m, { cpus: 0, address: 0x1000 })).toThrow(RangeError);
    expect(() => writeMpTable(m, { cpus: 1, address: 0x1008 })).toThrow(RangeError);
  });
});
