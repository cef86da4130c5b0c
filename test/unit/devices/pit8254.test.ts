import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { Pit8254, nsToTicks, ticksToNs } from '../../../src/devices/pit8254.js';
import { Port61 } from '../../../src/devices/port61.js';
import { Port92 } from '../../../src/devices/port92.js';

/** Independent oracle: PIT ticks in t ns at 1193182 Hz, with BigInt arithmetic. */
const ticksAt = (ns: number): number => Number((BigInt(ns) * 1193182n) / 1_000_000_000n);

function setup() {
  let now = 0;
  const edges: number[] = [];
  let level = false;
  const pit = new Pit8254({
    irq: { set: (l: boolean) => { if (l && !level) edges.push(now); level = l; } },
    now: () => now,
  });
  const io = new IoBus();
  pit.register(io);
  new Port61(pit).register(io);
  const at = (t: number) => { now = t; pit.advanceTo(t); };
  /** Run the clock the way the machine does: jump from deadline to deadline. */
  const runTo = (end: number) => {
    for (;;) {
      const d = pit.nextDeadline();
      if (d > end) break;
      at(d);
    }
    at(end);
  };
  return { pit, io, edges, at, runTo, get now() { return now; } };
}

describe('8254 PIT', () => {
  it('converts time to ticks exactly', () => {
    for (const ns of [0, 837, 838, 1_000_000_000, 123_456_789_012, 3_600_000_000_000]) {
      expect(nsToTicks(ns)).toBe(ticksAt(ns));
    }
    for (const t of [1, 1193, 1193182, 99_999_999]) {
      const ns = ticksToNs(t);
      expect(ticksAt(ns)).toBe(t);
      expect(ticksAt(ns - 1)).toBe(t - 1);
    }
  });

  it('counts down in mode 2 and raises IRQ0 once per period', () => {
    const s = setup();
    s.io.out(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
    s.io.out(0x40, 1, 1193 & 0xff);
    s.io.out(0x40, 1, 1193 >> 8);
    s.edges.length = 0;
    for (const t of [1000, 250_000, 999_000]) {
      s.at(t);
      s.io.out(0x43, 1, 0x00); // counter latch
      const lo = s.io.in(0x40, 1);
      const hi = s.io.in(0x40, 1);
      expect(lo | (hi << 8)).toBe(1193 - (ticksAt(t) % 1193));
    }
    s.edges.length = 0;
    s.runTo(10_000_000);
    // A rising edge each time the count wraps: floor(ticks / 1193) periods.
    expect(s.edges.length).toBe(Math.floor(ticksAt(10_000_000) / 1193));
    // The first edge is the first ns at which 1193 ticks have elapsed.
    expect(ticksAt(s.edges[0])).toBe(1193);
    expect(ticksAt(s.edges[0] - 1)).toBe(1192);
  });

  it('holds a latched count while the counter keeps running', () => {
    const s = setup();
    s.io.out(0x43, 1, 0x30); // mode 0, lo/hi
    s.io.out(0x40, 1, 0x00);
    s.io.out(0x40, 1, 0x10); // 0x1000
    s.at(100_000);
    s.io.out(0x43, 1, 0x00);
    s.at(2_000_000);
    const v = s.io.in(0x40, 1) | (s.io.in(0x40, 1) << 8);
    expect(v).toBe(0x1000 - ticksAt(100_000));
    const live = s.io.in(0x40, 1) | (s.io.in(0x40, 1) << 8);
    expect(live).toBe((0x1000 - ticksAt(2_000_000)) & 0xffff);
  });

  it('mode 0 raises OUT at terminal count, visible in read-back status', () => {
    const s = setup();
    s.io.out(0x43, 1, 0x10); // channel 0, lobyte only, mode 0
    s.io.out(0x40, 1, 100);
    s.edges.length = 0;
    s.io.out(0x43, 1, 0xe2); // read-back: status only, channel 0
    expect(s.io.in(0x40, 1)).toBe(0x10); // OUT low, RW=1, mode 0
    s.runTo(ticksToNs(100) + 5);
    expect(s.edges).toEqual([ticksToNs(100)]);
    s.io.out(0x43, 1, 0xe2);
    expect(s.io.in(0x40, 1)).toBe(0x90);
    expect(s.pit.nextDeadline()).toBe(Infinity); // one-shot: nothing more to do
  });

  it('gates channel 2 through port 0x61 and shows its OUT in bit 5 (calibration loop)', () => {
    const s = setup();
    s.io.out(0x61, 1, (s.io.in(0x61, 1) & ~0x02) | 0x01); // gate on, speaker off
    s.io.out(0x43, 1, 0xb0); // channel 2, lo/hi, mode 0
    s.io.out(0x42, 1, 0xff);
    s.io.out(0x42, 1, 0xff);
    expect(s.io.in(0x61, 1) & 0x20).toBe(0);
    s.at(ticksToNs(0xffff) - 1);
    expect(s.io.in(0x61, 1) & 0x20).toBe(0);
    s.at(ticksToNs(0xffff));
    expect(s.io.in(0x61, 1) & 0x20).toBe(0x20);
    // Refresh bit toggles between reads; writable bits read back.
    const a = s.io.in(0x61, 1);
    const b = s.io.in(0x61, 1);
    expect((a ^ b) & 0x10).toBe(0x10);
    expect(a & 0x03).toBe(0x01);
  });

  it('mode 3 produces a square wave with rising edges each period', () => {
    const s = setup();
    s.io.out(0x43, 1, 0x36);
    s.io.out(0x40, 1, 0x00);
    s.io.out(0x40, 1, 0x01); // 256
    s.edges.length = 0;
    s.runTo(ticksToNs(256 * 5) + 1);
    expect(s.edges.map(ticksAt)).toEqual([256, 512, 768, 1024, 1280]);
    s.at(ticksToNs(256 * 5 + 100));
    expect(s.pit.getOut(0)).toBe(true);
    s.at(ticksToNs(256 * 5 + 128));
    expect(s.pit.getOut(0)).toBe(false);
  });

  it('saves and restores mid-count', () => {
    const s = setup();
    s.io.out(0x43, 1, 0x34);
    s.io.out(0x40, 1, 0x00);
    s.io.out(0x40, 1, 0x02);
    s.at(5000);
    const copy = new Pit8254({ irq: { set: () => {} }, now: () => 5000 });
    copy.loadState(JSON.parse(JSON.stringify(s.pit.saveState())));
    expect(copy.nextDeadline()).toBe(s.pit.nextDeadline());
    expect(copy.portRead(0x40, 1) | (copy.portRead(0x40, 1) << 8)).toBe(s.io.in(0x40, 1) | (s.io.in(0x40, 1) << 8));
    copy.loadState(null);
    copy.loadState({ channels: [{ count: 'x', mode: 99 }] });
  });

  it('port 0x92 remembers A20 and reports a fast reset', () => {
    const io = new IoBus();
    let resets = 0;
    const a20: boolean[] = [];
    new Port92({ onReset: () => resets++, onA20: (e) => a20.push(e) }).register(io);
    io.out(0x92, 1, 0x02);
    expect(io.in(0x92, 1)).toBe(0x02);
    io.out(0x92, 1, 0x03);
    expect(resets).toBe(1);
    expect(a20).toEqual([true]);
  });
});
