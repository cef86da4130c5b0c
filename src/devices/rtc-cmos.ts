// Motorola MC146818 real-time clock and its 128 bytes of CMOS RAM (ports
// 0x70 index + NMI mask, 0x71 data). Owns the calendar (derived from a start
// date given at construction plus virtual time, never the host clock), the
// status registers A-D, the periodic and update-ended interrupts on IRQ8,
// and the CMOS bytes a BIOS leaves (memory sizes, century).
//
// Reference: MC146818A datasheet (registers A-D, BCD/binary and 12/24 h
// formats); IBM AT CMOS map and QEMU's pc.c for the memory-size bytes.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Clocked } from '../bus/clock.js';
import { NS_PER_SECOND } from '../bus/clock.js';

export const RTC_INDEX_PORT = 0x70;
export const RTC_DATA_PORT = 0x71;

// Clock registers.
const SECONDS = 0x00;
const MINUTES = 0x02;
const HOURS = 0x04;
const DAY_OF_WEEK = 0x06;
const DAY_OF_MONTH = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const CENTURY = 0x32; // IBM PC convention

// Register A.
const A_UIP = 0x80; // update in progress
// Register B.
const B_SET = 0x80; // freeze the clock for setting
const B_PIE = 0x40; // periodic interrupt enable
const B_AIE = 0x20;
const B_UIE = 0x10; // update-ended interrupt enable
const B_DM_BINARY = 0x04; // 1 = binary, 0 = BCD
const B_24H = 0x02;
// Register C.
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_UF = 0x10;
// Register D.
const D_VRT = 0x80; // valid RAM and time

/** UIP is set for the last 244 us before each second's update (datasheet "update cycle"). */
const UIP_WINDOW_NS = 244_000;

// CMOS memory-size bytes (IBM AT map, as QEMU's BIOS setup fills them).
const CMOS_BASE_MEM_LO = 0x15;
const CMOS_BASE_MEM_HI = 0x16;
const CMOS_EXT_MEM_LO = 0x17; // KiB above 1 MiB, max 0xFFFF
const CMOS_EXT_MEM_HI = 0x18;
const CMOS_EXT_MEM2_LO = 0x30; // same, as POST found it
const CMOS_EXT_MEM2_HI = 0x31;
const CMOS_HIGH_MEM_LO = 0x34; // 64 KiB units above 16 MiB, max 0xFFFF
const CMOS_HIGH_MEM_HI = 0x35;

export interface RtcCmosOptions {
  /** Wall-clock date at virtual time 0 (UTC), as ms since the epoch or a Date. */
  startTime: number | Date;
  /** Guest RAM in bytes, for the CMOS memory-size bytes. */
  memoryBytes: number;
  /** IRQ8; optional. */
  irq?: IrqLine;
  /** Current virtual time (ns) at I/O; defaults to the last advanceTo. */
  now?: () => number;
}

const toBcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number) => ((v >> 4) & 0x0f) * 10 + (v & 0x0f);

export class RtcCmos implements PortDevice, Clocked {
  private readonly cmos = new Uint8Array(128);
  private index = 0;
  private nmiDisabled = false;
  private readonly irq: IrqLine | null;
  private readonly nowFn: (() => number) | null;
  private lastNow = 0;
  private readonly startSeconds: number;
  /** Seconds the guest has moved the clock by setting it. */
  private offsetSeconds = 0;
  private irqLevel = false;
  private nextPeriodic = Infinity;
  private nextUpdate = Infinity;

  constructor(opts: RtcCmosOptions) {
    const ms = typeof opts.startTime === 'number' ? opts.startTime : opts.startTime.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('RTC start time is not a valid date');
    this.startSeconds = Math.floor(ms / 1000);
    this.irq = opts.irq ?? null;
    this.nowFn = opts.now ?? null;
    this.initCmos(opts.memoryBytes);
  }

  register(io: IoBus): void {
    io.register(RTC_INDEX_PORT, 2, 'rtc-cmos', this);
  }

  private time(): number {
    const t = this.nowFn ? this.nowFn() : this.lastNow;
    return t > this.lastNow ? t : this.lastNow;
  }

  private initCmos(memoryBytes: number): void {
    const c = this.cmos;
    c[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    c[REG_B] = B_24H; // 24-hour, BCD: what xv6 expects ("qemu seems to use 24-hour GWT and ... BCD")
    c[REG_C] = 0;
    c[REG_D] = D_VRT;
    const base = Math.min(640, Math.floor(memoryBytes / 1024));
    c[CMOS_BASE_MEM_LO] = base & 0xff;
    c[CMOS_BASE_MEM_HI] = base >> 8;
    const ext = Math.max(0, Math.min(0xffff, Math.floor(memoryBytes / 1024) - 1024));
    c[CMOS_EXT_MEM_LO] = c[CMOS_EXT_MEM2_LO] = ext & 0xff;
    c[CMOS_EXT_MEM_HI] = c[CMOS_EXT_MEM2_HI] = ext >> 8;
    const high = Math.max(0, Math.min(0xffff, Math.floor((memoryBytes - (16 << 20)) / 65536)));
    c[CMOS_HIGH_MEM_LO] = high & 0xff;
    c[CMOS_HIGH_MEM_HI] = high >> 8;
  }

  /** Current calendar time in whole seconds since the epoch. */
  secondsNow(): number {
    return this.startSeconds + this.offsetSeconds + Math.floor(this.time() / NS_PER_SECOND);
  }

  private encode(v: number): number {
    return this.cmos[REG_B] & B_DM_BINARY ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.cmos[REG_B] & B_DM_BINARY ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.cmos[REG_B] & B_24H) return this.encode(h);
    const pm = h >= 12;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (pm ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.cmos[REG_B] & B_24H) return this.decode(v & 0x7f);
    const h12 = this.decode(v & 0x7f) % 12;
    return v & 0x80 ? h12 + 12 : h12;
  }

  /** Write the calendar for `secs` into the clock registers. */
  private latchTime(secs: number): void {
    const d = new Date(secs * 1000);
    const c = this.cmos;
    c[SECONDS] = this.encode(d.getUTCSeconds());
    c[MINUTES] = this.encode(d.getUTCMinutes());
    c[HOURS] = this.encodeHour(d.getUTCHours());
    c[DAY_OF_WEEK] = this.encode(d.getUTCDay() + 1); // 1 = Sunday
    c[DAY_OF_MONTH] = this.encode(d.getUTCDate());
    c[MONTH] = this.encode(d.getUTCMonth() + 1);
    c[YEAR] = this.encode(d.getUTCFullYear() % 100);
    c[CENTURY] = this.encode(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The guest set the clock: take the registers as the time now. */
  private adoptRegisters(): void {
    const c = this.cmos;
    const year = this.decode(c[CENTURY]) * 100 + this.decode(c[YEAR]);
    const ms = Date.UTC(year, this.decode(c[MONTH]) - 1, this.decode(c[DAY_OF_MONTH]),
      this.decodeHour(c[HOURS]), this.decode(c[MINUTES]), this.decode(c[SECONDS]));
    if (!Number.isFinite(ms)) return; // nonsense date: keep the old time
    this.offsetSeconds = Math.floor(ms / 1000) - this.startSeconds - Math.floor(this.time() / NS_PER_SECOND);
  }

  // --- interrupts (IRQ8) ---

  /** Periodic rate from register A's RS bits (datasheet table 3): 32768 >> (RS-1) Hz, RS 1/2 alias 8/9. */
  private periodNs(): number {
    let rs = this.cmos[REG_A] & 0x0f;
    if (rs === 0) return 0;
    if (rs <= 2) rs += 7;
    return Math.round((NS_PER_SECOND * (1 << (rs - 1))) / 32768);
  }

  private rearm(now: number): void {
    const b = this.cmos[REG_B];
    const p = this.periodNs();
    this.nextPeriodic = b & B_PIE && p > 0 ? (Math.floor(now / p) + 1) * p : Infinity;
    this.nextUpdate = b & B_UIE && !(b & B_SET) ? (Math.floor(now / NS_PER_SECOND) + 1) * NS_PER_SECOND : Infinity;
  }

  private raise(flag: number): void {
    const c = this.cmos;
    c[REG_C] |= flag;
    const enabled = ((c[REG_B] & B_PIE) && (c[REG_C] & C_PF)) || ((c[REG_B] & B_UIE) && (c[REG_C] & C_UF));
    if (enabled) c[REG_C] |= C_IRQF;
    this.setIrq((c[REG_C] & C_IRQF) !== 0);
  }

  private setIrq(level: boolean): void {
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.set(level);
    }
  }

  advanceTo(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    // Only the latest tick matters: the flags are sticky until register C is read.
    if (this.nextPeriodic <= now) {
      this.raise(C_PF);
      const p = this.periodNs();
      this.nextPeriodic = p > 0 ? (Math.floor(now / p) + 1) * p : Infinity;
    }
    if (this.nextUpdate <= now) {
      this.raise(C_UF);
      this.nextUpdate = (Math.floor(now / NS_PER_SECOND) + 1) * NS_PER_SECOND;
    }
  }

  nextDeadline(): number {
    return Math.min(this.nextPeriodic, this.nextUpdate);
  }

  // --- ports ---

  portRead(port: number, _size: AccessSize): number {
    if (port === RTC_INDEX_PORT) return 0xff; // the index register is write-only
    const i = this.index;
    const c = this.cmos;
    switch (i) {
      case SECONDS: case MINUTES: case HOURS: case DAY_OF_WEEK:
      case DAY_OF_MONTH: case MONTH: case YEAR: case CENTURY:
        if (!(c[REG_B] & B_SET)) this.latchTime(this.secondsNow());
        return c[i];
      case REG_A: {
        const intoSecond = this.time() % NS_PER_SECOND;
        const uip = !(c[REG_B] & B_SET) && intoSecond >= NS_PER_SECOND - UIP_WINDOW_NS;
        return (c[REG_A] & 0x7f) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        // Reading C acknowledges: all flags clear and IRQ8 drops.
        const v = c[REG_C];
        c[REG_C] = 0;
        this.setIrq(false);
        return v;
      }
      default:
        return c[i];
    }
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    if (port === RTC_INDEX_PORT) {
      this.index = v & 0x7f;
      this.nmiDisabled = (v & 0x80) !== 0; // bit 7 gates NMI on the PC
      return;
    }
    const i = this.index;
    const c = this.cmos;
    switch (i) {
      case SECONDS: case MINUTES: case HOURS: case DAY_OF_WEEK:
      case DAY_OF_MONTH: case MONTH: case YEAR: case CENTURY:
        if (!(c[REG_B] & B_SET)) this.latchTime(this.secondsNow());
        c[i] = v;
        if (!(c[REG_B] & B_SET)) this.adoptRegisters();
        return;
      case REG_A:
        c[REG_A] = v & 0x7f; // UIP is read-only
        this.rearm(this.time());
        return;
      case REG_B: {
        const old = c[REG_B];
        if (v & B_SET && !(old & B_SET)) this.latchTime(this.secondsNow()); // freeze: registers hold the time
        // Switching BCD/binary or 12/24 h while frozen would reinterpret the latched bytes; follow the new format.
        c[REG_B] = v;
        if (!(v & B_SET) && old & B_SET) this.adoptRegisters();
        this.rearm(this.time());
        if ((c[REG_C] & C_IRQF) && !((v & B_PIE && c[REG_C] & C_PF) || (v & B_UIE && c[REG_C] & C_UF) || v & B_AIE)) {
          c[REG_C] &= ~C_IRQF;
          this.setIrq(false);
        }
        return;
      }
      case REG_C: case REG_D:
        return; // read-only
      default:
        c[i] = v;
    }
  }

  /** NMI mask (port 0x70 bit 7), for the machine's NMI logic. */
  get nmiMasked(): boolean {
    return this.nmiDisabled;
  }

  /** Raw CMOS byte, side-effect free (for the BIOS / debugger). */
  peekCmos(i: number): number {
    return this.cmos[i & 0x7f];
  }

  /** Set a CMOS byte from the machine (e.g. the shutdown status byte 0x0F). */
  pokeCmos(i: number, v: number): void {
    this.cmos[i & 0x7f] = v & 0xff;
  }

  saveState(): unknown {
    return {
      cmos: Array.from(this.cmos), index: this.index, nmiDisabled: this.nmiDisabled,
      offsetSeconds: this.offsetSeconds, lastNow: this.lastNow, irqLevel: this.irqLevel,
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const cm = Array.isArray(o.cmos) ? o.cmos : [];
    for (let i = 0; i < 128; i++) if (typeof cm[i] === 'number') this.cmos[i] = cm[i] as number;
    this.index = typeof o.index === 'number' ? o.index & 0x7f : 0;
    this.nmiDisabled = o.nmiDisabled === true;
    this.offsetSeconds = typeof o.offsetSeconds === 'number' && Number.isFinite(o.offsetSeconds) ? Math.trunc(o.offsetSeconds) : 0;
    this.lastNow = typeof o.lastNow === 'number' && Number.isFinite(o.lastNow) ? Math.max(0, o.lastNow) : 0;
    this.irqLevel = o.irqLevel === true;
    this.rearm(this.lastNow);
  }
}
