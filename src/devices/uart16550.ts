// National Semiconductor 16550A UART (COM1 = 0x3F8, IRQ4 on the PC).
// Owns its 8 ports, a 16-byte receive FIFO fed from an unbounded input
// queue (`receive`), and the interrupt identification logic. Transmission
// is instantaneous: each THR write calls `onTransmit` at once, so the
// transmitter is always empty (THRE|TEMT) when the guest looks.
//
// Reference: PC16550D datasheet; QEMU's hw/char/serial.c for the details
// guests rely on (IRQ not gated by MCR.OUT2, THRE interrupt re-armed on IER write).

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';

export const COM1_BASE = 0x3f8;
export const COM2_BASE = 0x2f8;

// Register offsets (PC16550D table 2).
const RBR_THR = 0; // receive buffer / transmit holding (DLL when DLAB)
const IER = 1; // interrupt enable (DLM when DLAB)
const IIR_FCR = 2; // interrupt identification (read) / FIFO control (write)
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RDI = 0x01; // received data available
const IER_THRI = 0x02; // transmitter holding register empty
const IER_RLSI = 0x04; // receiver line status
const IER_MSI = 0x08; // modem status

const IIR_NO_INT = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c; // character timeout
const IIR_FIFO_ENABLED = 0xc0;

const FCR_ENABLE = 0x01;
const FCR_RX_RESET = 0x02;

const LCR_DLAB = 0x80;

const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const LSR_DR = 0x01; // data ready
const LSR_OE = 0x02; // overrun error
const LSR_BI = 0x10; // break interrupt
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_INT_ANY = 0x1e; // OE | PE | FE | BI

const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_DELTAS = 0x0f;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface Uart16550Options {
  irq: IrqLine;
  /** Each byte the guest transmits (not called in loopback mode). */
  onTransmit: (byte: number) => void;
  /** I/O base, COM1 by default. */
  base?: number;
}

export class Uart16550 implements PortDevice {
  readonly base: number;
  private readonly irq: IrqLine;
  private readonly onTransmit: (byte: number) => void;

  private divisor = 12; // 9600 baud; only remembered
  private ier = 0;
  private iir = IIR_NO_INT;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = LSR_THRE | LSR_TEMT;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS; // a connected, ready terminal
  private scr = 0;
  private thrPending = false; // THRE interrupt armed
  private triggerLevel = 1;
  private irqLevel = false;

  // Receive FIFO (a ring; depth 1 behaviour when FIFOs are disabled).
  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;

  // Bytes the outside world has sent that are not yet in the FIFO.
  private input = new Uint8Array(256);
  private inHead = 0;
  private inCount = 0;

  constructor(opts: Uart16550Options) {
    this.irq = opts.irq;
    this.onTransmit = opts.onTransmit;
    this.base = opts.base ?? COM1_BASE;
  }

  register(io: IoBus): void {
    io.register(this.base, 8, `uart@${this.base.toString(16)}`, this);
  }

  /** Queue bytes arriving on the serial line. They enter the FIFO as room frees up, so none is lost. */
  receive(bytes: Uint8Array | ArrayLike<number> | string): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (let i = 0; i < data.length; i++) {
      if (this.inCount === this.input.length) {
        const bigger = new Uint8Array(this.input.length * 2);
        for (let j = 0; j < this.inCount; j++) bigger[j] = this.input[(this.inHead + j) % this.input.length];
        this.input = bigger;
        this.inHead = 0;
      }
      this.input[(this.inHead + this.inCount) % this.input.length] = data[i] & 0xff;
      this.inCount++;
    }
    this.pump();
    this.updateIrq();
  }

  /** Bytes queued for the guest and not yet read. */
  pendingInput(): number {
    return this.inCount + this.rxCount;
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  /** Move queued input into the receive FIFO (not while looped back: the line is disconnected). */
  private pump(): void {
    if (this.mcr & MCR_LOOP) return;
    const cap = this.rxCapacity();
    while (this.inCount > 0 && this.rxCount < cap) {
      this.pushRx(this.input[this.inHead]);
      this.inHead = (this.inHead + 1) % this.input.length;
      this.inCount--;
    }
  }

  private pushRx(b: number): void {
    if (this.rxCount >= this.rxCapacity()) {
      this.lsr |= LSR_OE; // only loopback can overrun: external input waits in the queue
      return;
    }
    this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = b;
    this.rxCount++;
    this.lsr |= LSR_DR;
  }

  private popRx(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead];
    this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
    this.rxCount--;
    return b;
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.lsr &= ~(LSR_DR | LSR_BI);
  }

  /**
   * Interrupt identification, highest priority first (PC16550D table 4):
   * line status, received data (or character timeout), THR empty, modem status.
   * With FIFOs on and fewer bytes than the trigger level, real hardware
   * reports a character timeout after four character times; with no
   * wall clock we report it at once (deterministic, same guest handler).
   */
  private updateIrq(): void {
    let id = IIR_NO_INT;
    if (this.ier & IER_RLSI && this.lsr & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (this.ier & IER_RDI && this.lsr & LSR_DR) {
      id = !this.fifoEnabled() || this.rxCount >= this.triggerLevel ? IIR_RDI : IIR_CTI;
    } else if (this.ier & IER_THRI && this.thrPending) {
      id = IIR_THRI;
    } else if (this.ier & IER_MSI && this.currentMsr() & MSR_DELTAS) {
      id = IIR_MSI;
    }
    this.iir = id | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
    // Like QEMU (and unlike a real PC board) the line is not gated by
    // MCR.OUT2: xv6 writes MCR=0 and still expects interrupts.
    const level = id !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  /** MSR as the guest sees it: in loopback the modem inputs are the MCR outputs. */
  private currentMsr(): number {
    if (!(this.mcr & MCR_LOOP)) return this.msr;
    return (this.msr & MSR_DELTAS) |
      (this.mcr & MCR_RTS ? MSR_CTS : 0) | (this.mcr & MCR_DTR ? MSR_DSR : 0) |
      (this.mcr & MCR_OUT1 ? MSR_RI : 0) | (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  private transmit(b: number): void {
    if (this.mcr & MCR_LOOP) this.pushRx(b);
    else this.onTransmit(b);
    // The shift register empties at once: THR empty again, interrupt armed.
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrPending = true;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    switch (port - this.base) {
      case RBR_THR:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | v;
        } else {
          this.thrPending = false;
          this.lsr &= ~(LSR_THRE | LSR_TEMT);
          this.transmit(v);
        }
        break;
      case IER:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0x00ff) | (v << 8);
        } else {
          const changed = (this.ier ^ v) & 0x0f;
          this.ier = v & 0x0f;
          // Enabling THRI while THR is empty raises the interrupt at once (QEMU does the same).
          if (changed & IER_THRI) this.thrPending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
        }
        break;
      case IIR_FCR: {
        if ((this.fcr ^ v) & FCR_ENABLE || v & FCR_RX_RESET) this.clearRx();
        // The transmit FIFO is always empty, so a TX reset (bit 2) has nothing to clear.
        this.fcr = v & 0xc9;
        this.triggerLevel = TRIGGER_LEVELS[v >> 6];
        this.pump();
        break;
      }
      case LCR:
        this.lcr = v;
        break;
      case MCR: {
        const wasLoop = (this.mcr & MCR_LOOP) !== 0;
        const before = this.currentMsr();
        this.mcr = v & 0x1f;
        if (wasLoop || this.mcr & MCR_LOOP) {
          // Loopback rewires MSR; record which modem lines changed (delta bits).
          const after = this.currentMsr();
          const diff = before ^ after;
          if (diff & MSR_CTS) this.msr |= MSR_DCTS;
          if (diff & MSR_DSR) this.msr |= MSR_DDSR;
          if (diff & MSR_DCD) this.msr |= MSR_DDCD;
          if (before & MSR_RI && !(after & MSR_RI)) this.msr |= MSR_TERI;
        }
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.pump();
        break;
      }
      case SCR:
        this.scr = v;
        break;
      default: // LSR and MSR writes are factory-test only
        break;
    }
    this.updateIrq();
  }

  portRead(port: number, _size: AccessSize): number {
    let ret = 0xff;
    switch (port - this.base) {
      case RBR_THR:
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        ret = this.popRx();
        if (this.rxCount === 0) this.lsr &= ~(LSR_DR | LSR_BI);
        this.pump();
        break;
      case IER:
        return this.lcr & LCR_DLAB ? this.divisor >> 8 : this.ier;
      case IIR_FCR:
        ret = this.iir;
        // Reading IIR while it reports THRE acknowledges that interrupt.
        if ((ret & 0x0f) === IIR_THRI) this.thrPending = false;
        break;
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        ret = this.lsr;
        if (this.lsr & (LSR_BI | LSR_OE)) this.lsr &= ~(LSR_BI | LSR_OE);
        break;
      case MSR:
        ret = this.currentMsr();
        this.msr &= ~MSR_DELTAS; // reading MSR clears the delta bits
        break;
      case SCR:
        return this.scr;
      default:
        return 0xff;
    }
    this.updateIrq();
    return ret;
  }

  reset(): void {
    this.divisor = 12;
    this.ier = 0;
    this.fcr = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsr = LSR_THRE | LSR_TEMT;
    this.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    this.scr = 0;
    this.thrPending = false;
    this.triggerLevel = 1;
    this.clearRx();
    this.updateIrq();
  }

  saveState(): unknown {
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rx[(this.rxHead + i) % FIFO_SIZE]);
    const input: number[] = [];
    for (let i = 0; i < this.inCount; i++) input.push(this.input[(this.inHead + i) % this.input.length]);
    return {
      divisor: this.divisor, ier: this.ier, fcr: this.fcr, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr,
      msr: this.msr, scr: this.scr, thrPending: this.thrPending, rx, input,
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const n = (k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
    this.divisor = n('divisor', 12) & 0xffff;
    this.ier = n('ier', 0) & 0x0f;
    this.fcr = n('fcr', 0) & 0xc9;
    this.triggerLevel = TRIGGER_LEVELS[this.fcr >> 6];
    this.lcr = n('lcr', 0) & 0xff;
    this.mcr = n('mcr', 0) & 0x1f;
    this.lsr = n('lsr', LSR_THRE | LSR_TEMT) & 0xff;
    this.msr = n('msr', MSR_DCD | MSR_DSR | MSR_CTS) & 0xff;
    this.scr = n('scr', 0) & 0xff;
    this.thrPending = o.thrPending === true;
    this.rxHead = 0;
    this.rxCount = 0;
    const rx = Array.isArray(o.rx) ? o.rx : [];
    for (const b of rx.slice(0, FIFO_SIZE)) this.rx[this.rxCount++] = Number(b) & 0xff;
    this.lsr = this.rxCount > 0 ? this.lsr | LSR_DR : this.lsr & ~LSR_DR;
    this.inHead = 0;
    this.inCount = 0;
    const input = Array.isArray(o.input) ? o.input : [];
    this.receive(input.map((b) => Number(b) & 0xff));
  }
}
