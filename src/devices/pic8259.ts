// The PC's cascaded pair of 8259A programmable interrupt controllers.
// Owns: ports 0x20/0x21 (master), 0xA0/0xA1 (slave), 0x4D0/0x4D1 (ELCR),
// the 16 ISA IRQ inputs, and the INTR/INTA interface seen by the CPU (or LAPIC LINT0).
//
// Reference: Intel 8259A datasheet (ICW1-4, OCW1-3); behaviour follows
// QEMU's i8259 where the datasheet leaves room (spurious IRQ7/15, poll).

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { InterruptSource, IrqLine } from '../bus/irq.js';

export const PIC_MASTER_BASE = 0x20;
export const PIC_SLAVE_BASE = 0xa0;
export const PIC_ELCR_BASE = 0x4d0;
const CASCADE_IRQ = 2; // slave INT drives master IR2 on the PC

const ICW1_IC4 = 0x01; // ICW4 needed
const ICW1_SNGL = 0x02; // single (no cascade)
const ICW1_INIT = 0x10; // distinguishes ICW1 from OCW2/OCW3 on the command port
const OCW3_SELECT = 0x08; // bit 3 set (with bit 4 clear) = OCW3, else OCW2
const OCW3_POLL = 0x04;
const OCW3_RR = 0x02; // read-register command valid
const OCW3_RIS = 0x01; // 1 = ISR, 0 = IRR
const OCW3_ESMM = 0x40; // special mask mode change enable
const OCW3_SMM = 0x20;
const ICW4_AEOI = 0x02;
const ICW4_SFNM = 0x10;

/** One 8259A. Priorities are rotated by `priorityAdd` (the lowest-priority IR is priorityAdd-1). */
class Pic8259Chip {
  irr = 0; // interrupt request register
  isr = 0; // in-service register
  imr = 0; // interrupt mask register (OCW1)
  lastLevel = 0; // input levels, for edge detection
  elcr = 0; // edge/level control (1 = level)
  elcrMask: number;
  vectorBase = 0;
  priorityAdd = 0;
  initState = 0; // 0 = operational, 1..3 = waiting for ICW2..ICW4
  needIcw4 = false;
  single = false;
  readIsr = false;
  poll = false;
  specialMask = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;

  constructor(elcrMask: number, private readonly isMaster: boolean, private readonly update: () => void) {
    this.elcrMask = elcrMask;
  }

  /** Rank (0 = highest) of the highest-priority bit set in `mask`, 8 if none. */
  priorityOf(mask: number): number {
    if ((mask & 0xff) === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IR input the chip would deliver now, or -1 (fully nested mode, 8259A datasheet "priority resolver"). */
  pending(): number {
    const req = this.priorityOf(this.irr & ~this.imr);
    if (req === 8) return -1;
    let inService = this.isr;
    // Special mask mode: masked in-service levels do not block lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: the cascade input may interrupt itself
    // so higher-priority slave requests get through while IR2 is in service.
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << CASCADE_IRQ);
    const cur = this.priorityOf(inService);
    return req < cur ? (req + this.priorityAdd) & 7 : -1;
  }

  setInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (this.elcr & bit) {
      // Level triggered: IRR follows the line.
      if (level) this.irr |= bit; else this.irr &= ~bit;
    } else if (level && !(this.lastLevel & bit)) {
      this.irr |= bit; // rising edge latches
    }
    if (level) this.lastLevel |= bit; else this.lastLevel &= ~bit;
  }

  /** INTA on this chip for input `irq`: move it from IRR to ISR (or auto-EOI). */
  ack(irq: number): void {
    const bit = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= bit;
    }
    // An edge request is consumed by the acknowledge; a level one stays while the line is high.
    if (!(this.elcr & bit)) this.irr &= ~bit;
  }

  initReset(): void {
    this.lastLevel = 0;
    this.irr &= this.elcr;
    this.imr = 0;
    this.isr = 0;
    this.priorityAdd = 0;
    this.vectorBase = 0;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
    this.initState = 0;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.needIcw4 = false;
    this.single = false;
  }

  writeCommand(v: number): void {
    if (v & ICW1_INIT) {
      // ICW1 (8259A datasheet, "Initialization Command Words"): starts the sequence.
      this.initReset();
      this.initState = 1;
      this.needIcw4 = (v & ICW1_IC4) !== 0;
      this.single = (v & ICW1_SNGL) !== 0;
      // LTIM (bit 3) would make every input level triggered; PCs use the ELCR instead.
    } else if (v & OCW3_SELECT) {
      if (v & OCW3_POLL) this.poll = true;
      if (v & OCW3_RR) this.readIsr = (v & OCW3_RIS) !== 0;
      if (v & OCW3_ESMM) this.specialMask = (v & OCW3_SMM) !== 0;
    } else {
      // OCW2: R SL EOI bits.
      const cmd = v >> 5;
      switch (cmd) {
        case 0: // rotate in auto-EOI mode: clear
        case 4: // rotate in auto-EOI mode: set
          this.rotateOnAutoEoi = cmd === 4;
          break;
        case 1: // non-specific EOI
        case 5: { // rotate on non-specific EOI
          const p = this.priorityOf(this.isr);
          if (p !== 8) {
            const irq = (p + this.priorityAdd) & 7;
            this.isr &= ~(1 << irq);
            if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
          }
          break;
        }
        case 3: // specific EOI
          this.isr &= ~(1 << (v & 7));
          break;
        case 6: // set priority: IR v&7 becomes the lowest
          this.priorityAdd = ((v & 7) + 1) & 7;
          break;
        case 7: // rotate on specific EOI
          this.isr &= ~(1 << (v & 7));
          this.priorityAdd = ((v & 7) + 1) & 7;
          break;
        default: // 2: no operation
          break;
      }
    }
    this.update();
  }

  writeData(v: number): void {
    switch (this.initState) {
      case 0: // OCW1: the mask
        this.imr = v;
        break;
      case 1: // ICW2: vector base (T7-T3)
        this.vectorBase = v & 0xf8;
        this.initState = this.single ? (this.needIcw4 ? 3 : 0) : 2;
        break;
      case 2: // ICW3: cascade wiring, fixed on a PC
        this.initState = this.needIcw4 ? 3 : 0;
        break;
      default: // ICW4
        this.specialFullyNested = (v & ICW4_SFNM) !== 0;
        this.autoEoi = (v & ICW4_AEOI) !== 0;
        this.initState = 0;
        break;
    }
    this.update();
  }

  /** Poll command read: acknowledges the highest request (bit 7 = valid, bits 2-0 = level). */
  pollRead(): number {
    const irq = this.pending();
    if (irq < 0) return 0;
    this.ack(irq);
    this.update();
    return 0x80 | irq;
  }

  read(cmdPort: boolean): number {
    if (this.poll) {
      this.poll = false;
      return this.pollRead();
    }
    if (cmdPort) return this.readIsr ? this.isr : this.irr;
    return this.imr;
  }

  save(): Record<string, number | boolean> {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lastLevel: this.lastLevel, elcr: this.elcr,
      vectorBase: this.vectorBase, priorityAdd: this.priorityAdd, initState: this.initState,
      needIcw4: this.needIcw4, single: this.single, readIsr: this.readIsr, poll: this.poll,
      specialMask: this.specialMask, autoEoi: this.autoEoi, rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested,
    };
  }

  load(s: Record<string, unknown>): void {
    const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) & 0xff : 0);
    const b = (k: string): boolean => s[k] === true;
    this.irr = n('irr'); this.isr = n('isr'); this.imr = n('imr'); this.lastLevel = n('lastLevel');
    this.elcr = n('elcr') & this.elcrMask; this.vectorBase = n('vectorBase') & 0xf8;
    this.priorityAdd = n('priorityAdd') & 7; this.initState = n('initState') & 3;
    this.needIcw4 = b('needIcw4'); this.single = b('single'); this.readIsr = b('readIsr');
    this.poll = b('poll'); this.specialMask = b('specialMask'); this.autoEoi = b('autoEoi');
    this.rotateOnAutoEoi = b('rotateOnAutoEoi'); this.specialFullyNested = b('specialFullyNested');
  }
}

export class Pic8259 implements InterruptSource, PortDevice {
  private readonly master: Pic8259Chip;
  private readonly slave: Pic8259Chip;
  private readonly lines: IrqLine[] = [];
  /** Level of the master's INT output (the CPU's INTR). */
  private intr = false;
  /** Called whenever INTR changes, e.g. to wake a halted CPU. Optional. */
  onIntrChange: ((level: boolean) => void) | null = null;

  constructor() {
    const upd = () => this.updateOutputs();
    // ELCR bits that exist on a PIIX: IRQ0-2, 8 and 13 are always edge.
    this.master = new Pic8259Chip(0xf8, true, upd);
    this.slave = new Pic8259Chip(0xde, false, upd);
    for (let i = 0; i < 16; i++) {
      const n = i;
      this.lines.push({ set: (level: boolean) => this.setIrq(n, level) });
    }
  }

  register(io: IoBus): void {
    io.register(PIC_MASTER_BASE, 2, 'pic-master', this);
    io.register(PIC_SLAVE_BASE, 2, 'pic-slave', this);
    io.register(PIC_ELCR_BASE, 2, 'pic-elcr', this);
  }

  /** The input line for ISA IRQ n (0..15). IRQ2 is the cascade and is ignored as an input. */
  irqLine(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n > 15) throw new RangeError(`PIC has no IRQ ${n}`);
    return this.lines[n];
  }

  setIrq(n: number, level: boolean): void {
    if (n === CASCADE_IRQ) return; // driven only by the slave
    if (n < 8) this.master.setInput(n, level);
    else this.slave.setInput(n - 8, level);
    this.updateOutputs();
  }

  /** Propagate the slave's INT to master IR2, then the master's INT to INTR. */
  private updateOutputs(): void {
    this.master.setInput(CASCADE_IRQ, this.slave.pending() >= 0);
    const out = this.master.pending() >= 0;
    if (out !== this.intr) {
      this.intr = out;
      if (this.onIntrChange) this.onIntrChange(out);
    }
  }

  hasInterrupt(): boolean {
    return this.intr;
  }

  /**
   * INTA cycle. With nothing pending any more (request withdrawn between
   * INTR and INTA), the 8259A answers IR7 of the responding chip without
   * setting ISR: the "spurious" interrupt (vector base+7 / slave base+7).
   */
  acknowledge(): number {
    let vector: number;
    const irq = this.master.pending();
    if (irq >= 0) {
      if (irq === CASCADE_IRQ) {
        const irq2 = this.slave.pending();
        if (irq2 >= 0) {
          this.slave.ack(irq2);
          vector = this.slave.vectorBase + irq2;
        } else {
          vector = this.slave.vectorBase + 7;
        }
      } else {
        vector = this.master.vectorBase + irq;
      }
      this.master.ack(irq);
    } else {
      vector = this.master.vectorBase + 7;
    }
    this.updateOutputs();
    return vector;
  }

  portRead(port: number, _size: AccessSize): number {
    switch (port) {
      case PIC_MASTER_BASE: return this.master.read(true);
      case PIC_MASTER_BASE + 1: return this.master.read(false);
      case PIC_SLAVE_BASE: return this.slave.read(true);
      case PIC_SLAVE_BASE + 1: return this.slave.read(false);
      case PIC_ELCR_BASE: return this.master.elcr;
      case PIC_ELCR_BASE + 1: return this.slave.elcr;
      default: return 0xff;
    }
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    switch (port) {
      case PIC_MASTER_BASE: this.master.writeCommand(v); break;
      case PIC_MASTER_BASE + 1: this.master.writeData(v); break;
      case PIC_SLAVE_BASE: this.slave.writeCommand(v); break;
      case PIC_SLAVE_BASE + 1: this.slave.writeData(v); break;
      case PIC_ELCR_BASE: this.master.elcr = v & this.master.elcrMask; this.updateOutputs(); break;
      case PIC_ELCR_BASE + 1: this.slave.elcr = v & this.slave.elcrMask; this.updateOutputs(); break;
      default: break;
    }
  }

  /** Interrupt vector the master would deliver next, for debugging (-1 if none). Side-effect free. */
  peekPending(): number {
    const irq = this.master.pending();
    if (irq < 0) return -1;
    if (irq === CASCADE_IRQ) {
      const irq2 = this.slave.pending();
      return irq2 >= 0 ? 8 + irq2 : -1;
    }
    return irq;
  }

  /** Registers for tests and the debugger: [master, slave] IRR/ISR/IMR. */
  get regs(): { irr: [number, number]; isr: [number, number]; imr: [number, number] } {
    return {
      irr: [this.master.irr, this.slave.irr],
      isr: [this.master.isr, this.slave.isr],
      imr: [this.master.imr, this.slave.imr],
    };
  }

  reset(): void {
    this.master.initReset();
    this.slave.initReset();
    this.master.elcr = 0;
    this.slave.elcr = 0;
    this.updateOutputs();
  }

  saveState(): unknown {
    return { master: this.master.save(), slave: this.slave.save(), intr: this.intr };
  }

  loadState(s: unknown): void {
    const o = (s ?? {}) as Record<string, unknown>;
    const m = o.master;
    const sl = o.slave;
    this.master.load(typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {});
    this.slave.load(typeof sl === 'object' && sl !== null ? (sl as Record<string, unknown>) : {});
    this.intr = false;
    this.updateOutputs();
  }
}
