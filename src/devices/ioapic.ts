// 82093AA I/O APIC (MMIO at 0xFEC00000): 24 redirection entries that turn
// interrupt pins into APIC bus messages. Owns IOREGSEL/IOWIN, the ID,
// version and arbitration registers, the redirection table, each pin's
// level, and remote IRR for level-triggered pins (cleared by EOI broadcast).
//
// Reference: Intel 82093AA datasheet, 3.2 (register access) and 3.2.4
// (redirection table); QEMU's hw/intc/ioapic.c for edge latching while masked.

import type { AccessSize, MmioHandler, PhysMem } from '../bus/phys-mem.js';
import type { IrqLine } from '../bus/irq.js';
import type { ApicBus, ApicMessage, EoiListener } from './apic-bus.js';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;

const IOREGSEL = 0x00;
const IOWIN = 0x10;

const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARB = 0x02;
const REG_TABLE = 0x10; // entry n: low dword at 0x10+2n, high at 0x11+2n

/** Version 0x11, maximum redirection entry 23 (82093AA 3.2.2). */
export const IOAPIC_VERSION = 0x00170011;

// Redirection entry bits (low dword).
const RTE_DEST_LOGICAL = 1 << 11;
const RTE_DELIVERY_STATUS = 1 << 12;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_LEVEL = 1 << 15;
const RTE_MASKED = 1 << 16;
const RTE_RO_BITS = RTE_DELIVERY_STATUS | RTE_REMOTE_IRR;
const RTE_WRITABLE_LO = 0x0001afff; // all but delivery status and remote IRR

export class IoApic implements MmioHandler, EoiListener {
  id: number;
  private regsel = 0;
  private readonly lo = new Uint32Array(IOAPIC_PINS);
  private readonly hi = new Uint32Array(IOAPIC_PINS);
  /** Pending requests: level pins while high, edge pins from the edge until delivered. */
  private irr = 0;
  private levels = 0; // current pin inputs
  private readonly lines: IrqLine[] = [];
  /** Reused for every delivery: interrupts are a hot path, so no allocation per message. */
  private readonly msg: ApicMessage = { dest: 0, logical: false, deliveryMode: 0, vector: 0, level: false };

  constructor(private readonly bus: ApicBus, id = 0) {
    this.id = id & 0x0f;
    for (let i = 0; i < IOAPIC_PINS; i++) {
      const pin = i;
      this.lines.push({ set: (level: boolean) => this.setPin(pin, level) });
    }
    bus.addEoiListener(this);
    this.reset();
  }

  register(mem: PhysMem, base = IOAPIC_BASE): void {
    mem.addMmio(base, 0x1000, 'ioapic', this);
  }

  /** Input line for pin 0..23. */
  irqLine(pin: number): IrqLine {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) throw new RangeError(`IOAPIC has no pin ${pin}`);
    return this.lines[pin];
  }

  reset(): void {
    this.regsel = 0;
    this.lo.fill(RTE_MASKED); // every entry masked at reset (82093AA 3.2.4)
    this.hi.fill(0);
    this.irr = 0;
  }

  setPin(pin: number, level: boolean): void {
    const bit = 1 << pin;
    const was = (this.levels & bit) !== 0;
    if (level) this.levels |= bit; else this.levels &= ~bit;
    if (this.lo[pin] & RTE_LEVEL) {
      if (level) this.irr |= bit; else this.irr &= ~bit;
    } else if (level && !was) {
      this.irr |= bit; // edge: latched until delivered (QEMU keeps it across a mask)
    }
    this.service();
  }

  /** Send a message for every pending, unmasked pin not waiting for an EOI. */
  private service(): void {
    if (this.irr === 0) return;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const bit = 1 << pin;
      if (!(this.irr & bit)) continue;
      const lo = this.lo[pin];
      if (lo & RTE_MASKED) continue;
      const level = (lo & RTE_LEVEL) !== 0;
      if (level) {
        if (lo & RTE_REMOTE_IRR) continue;
        this.lo[pin] = lo | RTE_REMOTE_IRR; // set until the LAPIC's EOI comes back
      } else {
        this.irr &= ~bit;
      }
      const m = this.msg;
      m.dest = this.hi[pin] >>> 24;
      m.logical = (lo & RTE_DEST_LOGICAL) !== 0;
      m.deliveryMode = (lo >> 8) & 7;
      m.vector = lo & 0xff;
      m.level = level;
      this.bus.deliver(m);
    }
  }

  /** EOI broadcast for `vector`: clear remote IRR of matching level entries, re-deliver if still asserted. */
  eoi(vector: number): void {
    let hit = false;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.lo[pin];
      if ((lo & 0xff) === vector && lo & RTE_REMOTE_IRR) {
        this.lo[pin] = lo & ~RTE_REMOTE_IRR;
        hit = true;
      }
    }
    if (hit) this.service();
  }

  private readReg(): number {
    const r = this.regsel;
    if (r === REG_ID) return (this.id << 24) >>> 0;
    if (r === REG_VERSION) return IOAPIC_VERSION;
    if (r === REG_ARB) return (this.id << 24) >>> 0;
    if (r >= REG_TABLE && r < REG_TABLE + 2 * IOAPIC_PINS) {
      const pin = (r - REG_TABLE) >> 1;
      return (r & 1 ? this.hi[pin] : this.lo[pin]) >>> 0;
    }
    return 0;
  }

  private writeReg(v: number): void {
    const r = this.regsel;
    if (r === REG_ID) { this.id = (v >>> 24) & 0x0f; return; }
    if (r >= REG_TABLE && r < REG_TABLE + 2 * IOAPIC_PINS) {
      const pin = (r - REG_TABLE) >> 1;
      if (r & 1) {
        this.hi[pin] = (v & 0xff000000) >>> 0;
      } else {
        let lo = (this.lo[pin] & RTE_RO_BITS) | (v & RTE_WRITABLE_LO);
        if (!(lo & RTE_LEVEL)) lo &= ~RTE_REMOTE_IRR; // remote IRR is meaningless for edge pins
        this.lo[pin] = lo >>> 0;
        // Switching trigger mode re-evaluates the pin from its current level.
        if (lo & RTE_LEVEL) {
          if (this.levels & (1 << pin)) this.irr |= 1 << pin; else this.irr &= ~(1 << pin);
        }
        this.service();
      }
    }
    // Version and arbitration are read-only.
  }

  mmioRead(offset: number, size: AccessSize): number {
    let v: number;
    if ((offset & ~3) === IOREGSEL) v = this.regsel;
    else if ((offset & ~3) === IOWIN) v = this.readReg();
    else return 0;
    v >>>= (offset & 3) * 8;
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  mmioWrite(offset: number, _size: AccessSize, value: number): void {
    if (offset === IOREGSEL) this.regsel = value & 0xff;
    else if (offset === IOWIN) this.writeReg(value >>> 0);
  }

  saveState(): unknown {
    return {
      id: this.id, regsel: this.regsel, lo: Array.from(this.lo), hi: Array.from(this.hi),
      irr: this.irr, levels: this.levels,
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    this.reset();
    this.id = typeof o.id === 'number' ? o.id & 0x0f : 0;
    this.regsel = typeof o.regsel === 'number' ? o.regsel & 0xff : 0;
    const lo = Array.isArray(o.lo) ? o.lo : [];
    const hi = Array.isArray(o.hi) ? o.hi : [];
    for (let i = 0; i < IOAPIC_PINS; i++) {
      if (typeof lo[i] === 'number') this.lo[i] = (lo[i] as number) & (RTE_WRITABLE_LO | RTE_RO_BITS);
      if (typeof hi[i] === 'number') this.hi[i] = ((hi[i] as number) & 0xff000000) >>> 0;
    }
    this.irr = typeof o.irr === 'number' ? o.irr & 0xffffff : 0;
    this.levels = typeof o.levels === 'number' ? o.levels & 0xffffff : 0;
  }
}
