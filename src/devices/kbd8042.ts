// The 8042 keyboard controller (ports 0x60 data, 0x64 status/command) with
// an AT keyboard behind it that speaks scan code set 1 (as seen through the
// controller's translation, which is what xv6's kbd.c decodes). Owns the
// status register, command byte, output port, controller commands, the
// keyboard's own command protocol, and the queue of keystrokes the machine
// feeds in (`sendScancodes`, `pressKey`, `typeAscii`). No PS/2 mouse.
//
// Reference: IBM PC/AT Technical Reference (8042 commands, keyboard
// commands), QEMU's hw/input/pckbd.c and ps2.c for reply details.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';

export const KBD_DATA_PORT = 0x60;
export const KBD_STATUS_PORT = 0x64;

// Status register.
const ST_OBF = 0x01; // output buffer full
const ST_IBF = 0x02; // input buffer full (never observed: writes are consumed at once)
const ST_SYS = 0x04; // system flag: self-test passed
const ST_CMD = 0x08; // last write was to the command port
const ST_UNLOCKED = 0x10; // keyboard not inhibited
const ST_AUX_OBF = 0x20; // output buffer holds aux (mouse) data

// Command byte.
const CB_KBD_INT = 0x01;
const CB_AUX_INT = 0x02;
const CB_SYS = 0x04;
const CB_KBD_DISABLE = 0x10;
const CB_AUX_DISABLE = 0x20;
const CB_XLATE = 0x40;

// Output port.
const OP_RESET = 0x01; // 0 = hold the CPU in reset
const OP_A20 = 0x02;

// Keyboard replies.
const KB_ACK = 0xfa;
const KB_BAT_OK = 0xaa;
const KB_RESEND = 0xfe;
const KB_ID = 0xab;

const AUX = 0x100; // marks an output-queue entry as aux data

export interface Kbd8042Options {
  /** IRQ1. */
  irq1: IrqLine;
  /** IRQ12 (aux); optional. */
  irq12?: IrqLine;
  /** Pulse on the reset line (command 0xFE, or output port bit 0 cleared). */
  onReset?: () => void;
  /** A20 gate changes through the output port. */
  onA20?: (enabled: boolean) => void;
}

/** Scan code set 1 make codes for the US layout, by ASCII; bit 8 = needs shift. */
const SHIFT = 0x100;
const ASCII_SET1 = new Uint16Array(128);
(() => {
  const rows: [string, string, number][] = [
    // unshifted, shifted, first make code
    ['1234567890-=', '!@#$%^&*()_+', 0x02],
    ['qwertyuiop[]', 'QWERTYUIOP{}', 0x10],
    ["asdfghjkl;'`", 'ASDFGHJKL:"~', 0x1e],
    ['\\zxcvbnm,./', '|ZXCVBNM<>?', 0x2b],
  ];
  for (const [lo, hi, first] of rows) {
    for (let i = 0; i < lo.length; i++) {
      ASCII_SET1[lo.charCodeAt(i)] = first + i;
      ASCII_SET1[hi.charCodeAt(i)] = SHIFT | (first + i);
    }
  }
  ASCII_SET1[0x20] = 0x39; // space
  ASCII_SET1[0x0a] = 0x1c; // enter
  ASCII_SET1[0x0d] = 0x1c;
  ASCII_SET1[0x09] = 0x0f; // tab
  ASCII_SET1[0x08] = 0x0e; // backspace
  ASCII_SET1[0x7f] = 0x0e;
  ASCII_SET1[0x1b] = 0x01; // escape
})();
const SC_LSHIFT = 0x2a;
const SC_LCTRL = 0x1d;
const BREAK = 0x80;

export class Kbd8042 implements PortDevice {
  private readonly irq1: IrqLine;
  private readonly irq12: IrqLine | null;
  private readonly onReset: (() => void) | null;
  private readonly onA20: ((enabled: boolean) => void) | null;

  private status = 0;
  private commandByte = 0;
  private outputPort = 0;
  private pendingCmd = 0; // controller command waiting for its data byte
  private kbdPendingCmd = 0; // keyboard command waiting for its argument
  private scanning = true;
  private scancodeSet = 2;
  private leds = 0;
  private ob = 0; // the output buffer (value | AUX)
  private readonly replies: number[] = []; // controller/keyboard responses, ahead of keystrokes
  private readonly keys: number[] = []; // scan codes typed by the machine
  private keyHead = 0;
  private irq1Level = false;
  private irq12Level = false;

  constructor(opts: Kbd8042Options) {
    this.irq1 = opts.irq1;
    this.irq12 = opts.irq12 ?? null;
    this.onReset = opts.onReset ?? null;
    this.onA20 = opts.onA20 ?? null;
    this.reset();
  }

  register(io: IoBus): void {
    io.register(KBD_DATA_PORT, 1, 'kbd-data', this);
    io.register(KBD_STATUS_PORT, 1, 'kbd-cmd', this);
  }

  /** The state a BIOS leaves: self-test passed, translation on, keyboard interrupt on, aux off. */
  reset(): void {
    this.status = ST_CMD | ST_UNLOCKED | ST_SYS;
    this.commandByte = CB_XLATE | CB_AUX_DISABLE | CB_SYS | CB_KBD_INT;
    this.outputPort = OP_RESET | OP_A20;
    this.pendingCmd = 0;
    this.kbdPendingCmd = 0;
    this.scanning = true;
    this.scancodeSet = 2;
    this.leds = 0;
    this.ob = 0;
    this.replies.length = 0;
    this.updateIrq();
  }

  // --- input from the machine ---

  /** Raw scan code bytes, as if the keyboard sent them. */
  sendScancodes(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.keys.push(bytes[i] & 0xff);
    this.fill();
  }

  /** Press and release one key by its set-1 make code (E0-prefixed if `extended`). */
  pressKey(make: number, extended = false): void {
    const m = make & 0x7f;
    this.sendScancodes(extended ? [0xe0, m, 0xe0, m | BREAK] : [m, m | BREAK]);
  }

  /**
   * Type ASCII text on a US keyboard: shift around shifted characters,
   * ctrl for control codes 1-26 (other than tab, newline, backspace, CR).
   * Characters with no key are skipped.
   */
  typeAscii(text: string): void {
    const out: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128) continue;
      let code = ASCII_SET1[c];
      let ctrl = false;
      if (code === 0 && c >= 1 && c <= 26) {
        code = ASCII_SET1[c + 0x60];
        ctrl = true;
      }
      if (code === 0) continue;
      const make = code & 0xff;
      if (ctrl) out.push(SC_LCTRL);
      if (code & SHIFT) out.push(SC_LSHIFT);
      out.push(make, make | BREAK);
      if (code & SHIFT) out.push(SC_LSHIFT | BREAK);
      if (ctrl) out.push(SC_LCTRL | BREAK);
    }
    this.sendScancodes(out);
  }

  /** Keystrokes not yet read by the guest. */
  pendingKeys(): number {
    return this.keys.length - this.keyHead;
  }

  // --- output buffer ---

  private updateIrq(): void {
    const full = (this.status & ST_OBF) !== 0;
    const aux = (this.status & ST_AUX_OBF) !== 0;
    const l1 = full && !aux && (this.commandByte & CB_KBD_INT) !== 0;
    const l12 = full && aux && (this.commandByte & CB_AUX_INT) !== 0;
    if (l1 !== this.irq1Level) { this.irq1Level = l1; this.irq1.set(l1); }
    if (l12 !== this.irq12Level) { this.irq12Level = l12; this.irq12?.set(l12); }
  }

  /** Load the next byte into an empty output buffer: replies first, then keystrokes if the keyboard may send. */
  private fill(): void {
    if (!(this.status & ST_OBF)) {
      let next = -1;
      if (this.replies.length > 0) {
        next = this.replies.shift()!;
      } else if (this.keyHead < this.keys.length && this.scanning && !(this.commandByte & CB_KBD_DISABLE)) {
        next = this.keys[this.keyHead++];
        if (this.keyHead === this.keys.length) { this.keys.length = 0; this.keyHead = 0; }
      }
      if (next >= 0) {
        this.ob = next;
        this.status |= ST_OBF;
        if (next & AUX) this.status |= ST_AUX_OBF; else this.status &= ~ST_AUX_OBF;
      }
    }
    this.updateIrq();
  }

  private reply(v: number): void {
    this.replies.push(v);
  }

  // --- ports ---

  portRead(port: number, _size: AccessSize): number {
    if (port === KBD_STATUS_PORT) return this.status;
    const v = this.ob & 0xff; // reading an empty buffer returns the last byte again
    if (this.status & ST_OBF) {
      this.status &= ~(ST_OBF | ST_AUX_OBF);
      // Drop the line before loading the next byte, so an edge-triggered
      // PIC sees one rising edge per byte (the real 8042 also pauses here).
      this.updateIrq();
      this.fill();
    }
    return v;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    if (port === KBD_STATUS_PORT) {
      this.status |= ST_CMD;
      this.controllerCommand(v);
    } else {
      this.status &= ~ST_CMD;
      this.dataWrite(v);
    }
    this.fill();
  }

  private setOutputPort(v: number): void {
    const old = this.outputPort;
    this.outputPort = v;
    if ((old ^ v) & OP_A20) this.onA20?.((v & OP_A20) !== 0);
    if (!(v & OP_RESET)) this.onReset?.();
  }

  private controllerCommand(c: number): void {
    switch (c) {
      case 0x20: this.reply(this.commandByte); break; // read command byte
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pendingCmd = c; break; // take a data byte
      case 0xa7: this.commandByte |= CB_AUX_DISABLE; break;
      case 0xa8: this.commandByte &= ~CB_AUX_DISABLE; break;
      case 0xa9: this.reply(0x00); break; // aux interface test: OK
      case 0xaa: this.status |= ST_SYS; this.reply(0x55); break; // controller self-test passed
      case 0xab: this.reply(0x00); break; // keyboard interface test: OK
      case 0xad: this.commandByte |= CB_KBD_DISABLE; break;
      case 0xae: this.commandByte &= ~CB_KBD_DISABLE; break;
      case 0xc0: this.reply(0x00); break; // input port
      case 0xd0: this.reply(this.outputPort); break;
      case 0xdd: this.setOutputPort(this.outputPort & ~OP_A20); break;
      case 0xdf: this.setOutputPort(this.outputPort | OP_A20); break;
      default:
        // 0xF0-0xFF pulse output port bits 0-3 low; bit 0 is the CPU reset line.
        if (c >= 0xf0 && !(c & 1)) this.onReset?.();
        break;
    }
  }

  private dataWrite(v: number): void {
    const cmd = this.pendingCmd;
    this.pendingCmd = 0;
    switch (cmd) {
      case 0x60: // write command byte
        this.commandByte = v;
        this.status = (this.status & ~ST_SYS) | (v & CB_SYS);
        return;
      case 0xd1: this.setOutputPort(v); return;
      case 0xd2: this.reply(v); return; // as if the keyboard sent it
      case 0xd3: this.reply(v | AUX); return; // as if the mouse sent it
      case 0xd4: return; // to the mouse: there is none, the byte is lost
      default: this.keyboardCommand(v); return;
    }
  }

  /** Bytes written to port 0x60 go to the keyboard itself (AT keyboard command set). */
  private keyboardCommand(v: number): void {
    const xlate = (this.commandByte & CB_XLATE) !== 0;
    const arg = this.kbdPendingCmd;
    if (arg !== 0) {
      this.kbdPendingCmd = 0;
      if (arg === 0xed) { this.leds = v & 7; this.reply(KB_ACK); return; }
      if (arg === 0xf3) { this.reply(KB_ACK); return; } // typematic rate: accepted
      if (arg === 0xf0) {
        this.reply(KB_ACK);
        if (v === 0) {
          // Report the set; through translation the reply byte is itself translated (QEMU ps2.c).
          const xl = [0, 0x43, 0x41, 0x3f];
          this.reply(xlate ? xl[this.scancodeSet] : this.scancodeSet);
        } else if (v >= 1 && v <= 3) {
          this.scancodeSet = v; // remembered; keystrokes are produced in set 1 as the guest sees them translated
        }
        return;
      }
    }
    switch (v) {
      case 0xed: case 0xf0: case 0xf3: this.kbdPendingCmd = v; this.reply(KB_ACK); break;
      case 0xee: this.reply(0xee); break; // echo
      case 0xf2: this.reply(KB_ACK); this.reply(KB_ID); this.reply(xlate ? 0x41 : 0x83); break;
      case 0xf4: this.scanning = true; this.reply(KB_ACK); break;
      case 0xf5: this.scanning = false; this.leds = 0; this.reply(KB_ACK); break;
      case 0xf6: this.leds = 0; this.reply(KB_ACK); break;
      case 0xff: // reset and basic assurance test
        this.scanning = true;
        this.leds = 0;
        this.scancodeSet = 2;
        this.keys.length = 0;
        this.keyHead = 0;
        this.reply(KB_ACK);
        this.reply(KB_BAT_OK);
        break;
      default: this.reply(KB_RESEND); break;
    }
  }

  /** Keyboard LEDs as last set with 0xED (bit 0 scroll, 1 num, 2 caps). */
  get ledState(): number {
    return this.leds;
  }

  saveState(): unknown {
    return {
      status: this.status, commandByte: this.commandByte, outputPort: this.outputPort, pendingCmd: this.pendingCmd,
      kbdPendingCmd: this.kbdPendingCmd, scanning: this.scanning, scancodeSet: this.scancodeSet, leds: this.leds,
      ob: this.ob, replies: [...this.replies], keys: this.keys.slice(this.keyHead),
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const n = (k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
    this.reset();
    this.status = n('status', this.status) & 0xff & ~ST_IBF;
    this.commandByte = n('commandByte', this.commandByte) & 0xff;
    this.outputPort = n('outputPort', this.outputPort) & 0xff;
    this.pendingCmd = n('pendingCmd', 0) & 0xff;
    this.kbdPendingCmd = n('kbdPendingCmd', 0) & 0xff;
    this.scanning = o.scanning !== false;
    this.scancodeSet = Math.min(3, Math.max(1, n('scancodeSet', 2)));
    this.leds = n('leds', 0) & 7;
    this.ob = n('ob', 0) & 0x1ff;
    const rep = Array.isArray(o.replies) ? o.replies : [];
    for (const r of rep) this.replies.push(Number(r) & 0x1ff);
    this.keys.length = 0;
    this.keyHead = 0;
    const keys = Array.isArray(o.keys) ? o.keys : [];
    for (const k of keys) this.keys.push(Number(k) & 0xff);
    this.irq1Level = false;
    this.irq12Level = false;
    this.fill();
  }
}
