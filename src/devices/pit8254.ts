// Intel 8254 programmable interval timer: three 16-bit down-counters
// clocked at 1.193182 MHz. Owns ports 0x40-0x43; channel 0 drives IRQ0,
// channel 2's gate and output are reached through port 0x61 (port61.ts).
//
// Counters are not stepped: each channel remembers when its count was
// loaded and derives count and OUT from virtual time (as QEMU's i8254 does),
// so reading the counter costs O(1) and timing is exact and deterministic.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Clocked } from '../bus/clock.js';
import { NS_PER_SECOND } from '../bus/clock.js';

export const PIT_BASE = 0x40;
export const PIT_FREQ_HZ = 1_193_182;

// Read/write access states (8254 datasheet, control word bits RW1 RW0).
const RW_LSB = 1;
const RW_MSB = 2;
const RW_WORD0 = 3; // both bytes, next is LSB
const RW_WORD1 = 4; // both bytes, next is MSB

/** Whole PIT ticks in `ns` nanoseconds (floor), exact for any realistic run length. */
export function nsToTicks(ns: number): number {
  const q = Math.floor(ns / NS_PER_SECOND);
  const r = ns - q * NS_PER_SECOND;
  return q * PIT_FREQ_HZ + Math.floor((r * PIT_FREQ_HZ) / NS_PER_SECOND);
}

/** The first nanosecond at which `ticks` ticks have elapsed (ceiling, inverse of nsToTicks). */
export function ticksToNs(ticks: number): number {
  const q = Math.floor(ticks / PIT_FREQ_HZ);
  const r = ticks - q * PIT_FREQ_HZ;
  return q * NS_PER_SECOND + Math.ceil((r * NS_PER_SECOND) / PIT_FREQ_HZ);
}

class PitChannel {
  count = 0x10000; // reload value, 0 written means 65536
  loadTime = 0; // ns at which counting (re)started
  mode = 3;
  bcd = false;
  gate = true;
  rwMode = RW_WORD0;
  readState = RW_WORD0;
  writeState = RW_WORD0;
  writeLatch = 0;
  latchedCount = 0;
  countLatched = 0; // 0 = none, else the RW state the latch is read in
  status = 0;
  statusLatched = false;

  /** Ticks elapsed since the count was loaded. */
  elapsed(now: number): number {
    return nsToTicks(Math.max(0, now - this.loadTime));
  }

  /** Current counter value (8254 datasheet, "Mode definitions"). */
  getCount(now: number): number {
    const d = this.elapsed(now);
    switch (this.mode) {
      case 0: case 1: case 4: case 5:
        return (this.count - d) & 0xffff;
      case 3: // square wave decrements by two
        return this.count - ((2 * d) % this.count);
      default: // 2: rate generator
        return this.count - (d % this.count);
    }
  }

  /** Level of OUT at `now`. */
  getOut(now: number): boolean {
    const d = this.elapsed(now);
    switch (this.mode) {
      case 0: return d >= this.count; // interrupt on terminal count
      case 1: return d < this.count; // hardware one-shot
      case 2: return d % this.count === 0 && d !== 0; // one-tick pulse per period
      case 3: return d % this.count < ((this.count + 1) >> 1); // square wave
      default: return d === this.count; // 4, 5: strobe
    }
  }

  /** Tick count (since load) of the next OUT transition after tick d, or -1. */
  nextTransitionTick(d: number): number {
    switch (this.mode) {
      case 0: case 1:
        return d < this.count ? this.count : -1;
      case 2: {
        const base = Math.floor(d / this.count) * this.count;
        return d - base === 0 && d !== 0 ? base + 1 : base + this.count;
      }
      case 3: {
        const base = Math.floor(d / this.count) * this.count;
        const half = (this.count + 1) >> 1;
        return d - base < half ? base + half : base + this.count;
      }
      default:
        if (d < this.count) return this.count;
        if (d === this.count) return this.count + 1;
        return -1;
    }
  }

  /** Virtual time (ns) of the next OUT transition after `now`, or Infinity. */
  nextTransitionNs(now: number): number {
    const t = this.nextTransitionTick(this.elapsed(now));
    return t < 0 ? Infinity : this.loadTime + ticksToNs(t);
  }

  latchCount(now: number): void {
    if (this.countLatched === 0) {
      this.latchedCount = this.getCount(now) & 0xffff;
      this.countLatched = this.rwMode;
    }
  }

  latchStatus(now: number): void {
    if (!this.statusLatched) {
      // Read-back status byte: OUT, null count (never: loads are immediate), RW, mode, BCD.
      this.status = (this.getOut(now) ? 0x80 : 0) | (this.rwMode << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
      this.statusLatched = true;
    }
  }

  save(): Record<string, number | boolean> {
    return {
      count: this.count, loadTime: this.loadTime, mode: this.mode, bcd: this.bcd, gate: this.gate,
      rwMode: this.rwMode, readState: this.readState, writeState: this.writeState, writeLatch: this.writeLatch,
      latchedCount: this.latchedCount, countLatched: this.countLatched, status: this.status,
      statusLatched: this.statusLatched,
    };
  }

  load(s: Record<string, unknown>): void {
    const n = (k: string, d: number): number => (typeof s[k] === 'number' && Number.isFinite(s[k]) ? (s[k] as number) : d);
    this.count = Math.min(0x10000, Math.max(1, Math.floor(n('count', 0x10000))));
    this.loadTime = Math.max(0, n('loadTime', 0));
    this.mode = n('mode', 3) & 7;
    if (this.mode > 5) this.mode -= 4;
    this.bcd = s.bcd === true;
    this.gate = s.gate !== false;
    this.rwMode = Math.min(3, Math.max(1, n('rwMode', RW_WORD0)));
    this.readState = Math.min(4, Math.max(1, n('readState', RW_WORD0)));
    this.writeState = Math.min(4, Math.max(1, n('writeState', RW_WORD0)));
    this.writeLatch = n('writeLatch', 0) & 0xff;
    this.latchedCount = n('latchedCount', 0) & 0xffff;
    this.countLatched = Math.min(4, Math.max(0, n('countLatched', 0)));
    this.status = n('status', 0) & 0xff;
    this.statusLatched = s.statusLatched === true;
  }
}

export interface Pit8254Options {
  /** IRQ0. */
  irq: IrqLine;
  /**
   * Current virtual time in ns. Counter reads need the time of the I/O
   * access; without this, the time of the last advanceTo is used.
   */
  now?: () => number;
}

export class Pit8254 implements PortDevice, Clocked {
  private readonly ch: PitChannel[] = [new PitChannel(), new PitChannel(), new PitChannel()];
  private readonly irq: IrqLine;
  private readonly nowFn: (() => number) | null;
  private lastNow = 0;
  private irqLevel = false;
  private nextIrqNs = Infinity;

  constructor(opts: Pit8254Options) {
    this.irq = opts.irq;
    this.nowFn = opts.now ?? null;
    this.reset();
  }

  private time(): number {
    const t = this.nowFn ? this.nowFn() : this.lastNow;
    return t > this.lastNow ? t : this.lastNow;
  }

  register(io: IoBus): void {
    io.register(PIT_BASE, 4, 'pit8254', this);
  }

  /** Power-on state as QEMU leaves it: every channel in mode 3 with count 65536, channel 2 gated off. */
  reset(): void {
    const now = this.time();
    for (let i = 0; i < 3; i++) {
      const c = new PitChannel();
      c.gate = i !== 2;
      c.loadTime = now;
      this.ch[i] = c;
    }
    this.updateIrq(now);
  }

  /** Drive IRQ0 from channel 0's OUT and re-arm the next transition. */
  private updateIrq(now: number): void {
    const c = this.ch[0];
    this.setIrq(c.getOut(now));
    this.nextIrqNs = c.nextTransitionNs(now);
  }

  private setIrq(level: boolean): void {
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  advanceTo(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    // Replay each OUT transition so the PIC sees every rising edge.
    // If far behind (the machine skipped many periods), collapse the rest
    // into one pulse: an edge-triggered PIC latches only one anyway.
    let guard = 0;
    while (this.nextIrqNs <= now) {
      if (++guard > 8) {
        this.setIrq(false);
        this.setIrq(true);
        this.updateIrq(now);
        break;
      }
      const t = this.nextIrqNs;
      const c = this.ch[0];
      this.setIrq(c.getOut(t));
      this.nextIrqNs = c.nextTransitionNs(t);
    }
  }

  nextDeadline(): number {
    return this.nextIrqNs;
  }

  /** Gate input of channel n (only channel 2's is wired, via port 0x61). */
  setGate(n: number, level: boolean): void {
    const c = this.ch[n];
    if (!c) return;
    const now = this.time();
    // Modes 1, 2, 3, 5: a rising gate edge restarts counting (8254 datasheet,
    // "Gate" table). Modes 0/4 would pause counting; like QEMU we ignore that.
    if (level && !c.gate && c.mode !== 0 && c.mode !== 4) {
      c.loadTime = now;
      if (n === 0) this.updateIrq(now);
    }
    c.gate = level;
  }

  getGate(n: number): boolean {
    return this.ch[n]?.gate ?? false;
  }

  /** OUT of channel n now (channel 2's is bit 5 of port 0x61). */
  getOut(n: number): boolean {
    const c = this.ch[n];
    return c ? c.getOut(this.time()) : false;
  }

  private loadCount(n: number, value: number): void {
    const c = this.ch[n];
    const now = this.time();
    c.count = value === 0 ? 0x10000 : value;
    c.loadTime = now;
    if (n === 0) this.updateIrq(now);
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    const idx = port - PIT_BASE;
    if (idx === 3) {
      const sel = v >> 6;
      const now = this.time();
      if (sel === 3) {
        // Read-back command (8254 datasheet): bits 1-3 select channels,
        // bit 5 clear = latch count, bit 4 clear = latch status.
        for (let i = 0; i < 3; i++) {
          if (!(v & (2 << i))) continue;
          if (!(v & 0x20)) this.ch[i].latchCount(now);
          if (!(v & 0x10)) this.ch[i].latchStatus(now);
        }
        return;
      }
      const c = this.ch[sel];
      const access = (v >> 4) & 3;
      if (access === 0) {
        c.latchCount(now); // counter latch command
        return;
      }
      c.rwMode = access;
      c.readState = access;
      c.writeState = access;
      let mode = (v >> 1) & 7;
      if (mode > 5) mode -= 4; // 6, 7 are aliases of 2, 3
      c.mode = mode;
      c.bcd = (v & 1) !== 0; // BCD counting is remembered but counts stay binary, as in QEMU
      if (sel === 0) this.updateIrq(now);
      return;
    }
    if (idx < 0 || idx > 2) return;
    const c = this.ch[idx];
    switch (c.writeState) {
      case RW_LSB: this.loadCount(idx, v); break;
      case RW_MSB: this.loadCount(idx, v << 8); break;
      case RW_WORD0: c.writeLatch = v; c.writeState = RW_WORD1; break;
      default: this.loadCount(idx, c.writeLatch | (v << 8)); c.writeState = RW_WORD0; break;
    }
  }

  portRead(port: number, _size: AccessSize): number {
    const idx = port - PIT_BASE;
    if (idx < 0 || idx > 2) return 0xff; // control word register is write-only
    const c = this.ch[idx];
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.status;
    }
    if (c.countLatched !== 0) {
      switch (c.countLatched) {
        case RW_LSB: c.countLatched = 0; return c.latchedCount & 0xff;
        case RW_MSB: c.countLatched = 0; return c.latchedCount >> 8;
        case RW_WORD0: c.countLatched = RW_MSB; return c.latchedCount & 0xff;
        default: c.countLatched = 0; return c.latchedCount >> 8;
      }
    }
    const count = c.getCount(this.time()) & 0xffff;
    switch (c.readState) {
      case RW_LSB: return count & 0xff;
      case RW_MSB: return count >> 8;
      case RW_WORD0: c.readState = RW_WORD1; return count & 0xff;
      default: c.readState = RW_WORD0; return count >> 8;
    }
  }

  saveState(): unknown {
    return { channels: this.ch.map((c) => c.save()), lastNow: this.lastNow, irqLevel: this.irqLevel };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const chans = Array.isArray(o.channels) ? o.channels : [];
    for (let i = 0; i < 3; i++) {
      const c = new PitChannel();
      const cs = chans[i];
      c.load(typeof cs === 'object' && cs !== null ? (cs as Record<string, unknown>) : {});
      this.ch[i] = c;
    }
    this.lastNow = typeof o.lastNow === 'number' && Number.isFinite(o.lastNow) ? Math.max(0, o.lastNow) : 0;
    this.irqLevel = o.irqLevel === true;
    this.nextIrqNs = this.ch[0].nextTransitionNs(this.lastNow);
  }
}
