import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { RtcCmos } from '../../../src/devices/rtc-cmos.js';

function setup(memoryBytes = 32 << 20) {
  let now = 0;
  const irq = { level: false, edges: 0 };
  const rtc = new RtcCmos({
    startTime: Date.UTC(2024, 1, 29, 23, 59, 58), // a leap day, two seconds before midnight
    memoryBytes,
    irq: { set: (l: boolean) => { if (l && !irq.level) irq.edges++; irq.level = l; } },
    now: () => now,
  });
  const io = new IoBus();
  rtc.register(io);
  const read = (reg: number) => { io.out(0x70, 1, reg); return io.in(0x71, 1); };
  const write = (reg: number, v: number) => { io.out(0x70, 1, reg); io.out(0x71, 1, v); };
  const at = (t: number) => { now = t; rtc.advanceTo(t); };
  return { rtc, io, read, write, at, irq };
}

const bcd = (v: number) => (v >> 4) * 10 + (v & 0xf);

/** xv6 lapic.c cmostime(): wait out UIP, read twice until stable, decode BCD. */
function cmostime(read: (r: number) => number) {
  const sb = read(0x0b);
  const isBcd = (sb & (1 << 2)) === 0;
  const fill = () => [0x00, 0x02, 0x04, 0x07, 0x08, 0x09].map(read);
  let t1: number[];
  for (;;) {
    t1 = fill();
    if (read(0x0a) & 0x80) continue;
    const t2 = fill();
    if (t1.every((v, i) => v === t2[i])) break;
  }
  const [second, minute, hour, day, month, year] = isBcd ? t1.map(bcd) : t1;
  return { second, minute, hour, day, month, year: year + 2000 };
}

describe('MC146818 RTC + CMOS', () => {
  it('reports the start date in BCD 24h and advances with virtual time across a month end', () => {
    const s = setup();
    expect(cmostime(s.read)).toEqual({ second: 58, minute: 59, hour: 23, day: 29, month: 2, year: 2024 });
    expect(s.read(0x06)).toBe(5); // Thursday (1 = Sunday)
    expect(s.read(0x32)).toBe(0x20);
    s.at(3_000_000_000);
    expect(cmostime(s.read)).toEqual({ second: 1, minute: 0, hour: 0, day: 1, month: 3, year: 2024 });
    expect(s.read(0x0d)).toBe(0x80);
  });

  it('shows update-in-progress only in the last 244 us of each second', () => {
    const s = setup();
    s.at(500_000_000);
    expect(s.read(0x0a) & 0x80).toBe(0);
    s.at(999_800_000);
    expect(s.read(0x0a) & 0x80).toBe(0x80);
    s.at(1_000_000_000);
    expect(s.read(0x0a) & 0x80).toBe(0);
  });

  it('switches to binary and 12-hour formats via register B', () => {
    const s = setup();
    s.write(0x0b, 0x04); // binary, 12 h
    expect(s.read(0x04)).toBe(0x80 | 11); // 23:00 is 11 PM
    expect(s.read(0x00)).toBe(58);
    expect(s.read(0x09)).toBe(24);
  });

  it('lets the guest set the clock with the SET bit', () => {
    const s = setup();
    s.write(0x0b, 0x82); // SET, 24 h, BCD
    s.write(0x09, 0x99);
    s.write(0x32, 0x19);
    s.write(0x08, 0x12);
    s.write(0x07, 0x31);
    s.write(0x04, 0x23);
    s.write(0x02, 0x59);
    s.write(0x00, 0x50);
    s.at(5_000_000_000); // frozen while SET
    expect(s.read(0x00)).toBe(0x50);
    s.write(0x0b, 0x02);
    s.at(15_000_000_000);
    expect(cmostime(s.read)).toEqual({ second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 2000 });
    expect(s.read(0x32)).toBe(0x20);
  });

  it('raises periodic interrupts on IRQ8, acknowledged by reading register C', () => {
    const s = setup();
    s.write(0x0a, 0x26); // 1024 Hz
    s.write(0x0b, 0x42); // PIE
    const d = s.rtc.nextDeadline();
    expect(Math.abs(d - 1e9 / 1024)).toBeLessThan(1);
    s.at(d);
    expect(s.irq.level).toBe(true);
    expect(s.read(0x0c) & 0xc0).toBe(0xc0);
    expect(s.irq.level).toBe(false);
    expect(s.read(0x0c)).toBe(0);
    s.at(s.rtc.nextDeadline());
    expect(s.irq.edges).toBe(2);
    s.write(0x0b, 0x02);
    expect(s.rtc.nextDeadline()).toBe(Infinity);
  });

  it('fills the CMOS memory-size bytes like a BIOS and keeps the NMI mask', () => {
    const s = setup(32 << 20);
    expect(s.read(0x15) | (s.read(0x16) << 8)).toBe(640);
    expect(s.read(0x17) | (s.read(0x18) << 8)).toBe(31 * 1024);
    expect(s.read(0x30) | (s.read(0x31) << 8)).toBe(31 * 1024);
    expect(s.read(0x34) | (s.read(0x35) << 8)).toBe(256);
    const big = setup(256 << 20);
    expect(big.read(0x17) | (big.read(0x18) << 8)).toBe(0xffff);
    expect(big.read(0x34) | (big.read(0x35) << 8)).toBe(240 * 16);
    s.io.out(0x70, 1, 0x8f);
    expect(s.rtc.nmiMasked).toBe(true);
    s.io.out(0x71, 1, 0x0a); // shutdown status byte (xv6 lapicstartap writes it)
    expect(s.rtc.peekCmos(0x0f)).toBe(0x0a);
  });

  it('round-trips its state', () => {
    const s = setup();
    s.write(0x0b, 0x82);
    s.write(0x09, 0x30);
    s.write(0x0b, 0x02);
    const r2 = new RtcCmos({ startTime: Date.UTC(2024, 1, 29, 23, 59, 58), memoryBytes: 1 << 20 });
    r2.loadState(JSON.parse(JSON.stringify(s.rtc.saveState())));
    r2.portWrite(0x70, 1, 0x09);
    expect(r2.portRead(0x71, 1)).toBe(0x30);
    r2.loadState(undefined);
  });
});
