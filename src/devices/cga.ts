// CGA/VGA colour text mode (80x25): the 32 KiB text frame buffer at
// 0xB8000-0xBFFFF as an MMIO window backed by our own array, the 6845 CRTC
// at 0x3D4/0x3D5 (cursor, start address), the status port 0x3DA, and inert
// MDA ports 0x3B4/0x3B5/0x3BA. Owns the screen contents, a text rendering
// (`screenText`), and a best-effort "teletype" mirror that turns a kernel's
// print-at-the-cursor screen output back into a character stream.
//
// Reference: IBM CGA / Motorola 6845 register map (R10-R15); the mirror is
// modelled on how xv6's console.c cgaputc drives the screen.

import type { AccessSize, MmioHandler, PhysMem } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';

export const CGA_VRAM_BASE = 0xb8000;
export const CGA_VRAM_SIZE = 0x8000;
export const CGA_COLS = 80;
export const CGA_ROWS = 25;

const CRTC_INDEX = 0x3d4;
const CRTC_DATA = 0x3d5;
const CGA_STATUS = 0x3da;
const MDA_INDEX = 0x3b4;
const MDA_DATA = 0x3b5;
const MDA_STATUS = 0x3ba;

// CRTC registers (6845 numbering).
const R_CURSOR_START = 0x0a;
const R_CURSOR_END = 0x0b;
const R_START_HI = 0x0c;
const R_START_LO = 0x0d;
const R_CURSOR_HI = 0x0e;
const R_CURSOR_LO = 0x0f;
const CRTC_REGS = 0x19; // VGA has 25; a CGA 18

const CELLS = CGA_VRAM_SIZE / 2;

export interface CgaOptions {
  /** Called after any change of screen contents, cursor or start address. */
  onChange?: () => void;
  /** Characters recovered by the teletype mirror (see `Cga`). */
  onText?: (text: string) => void;
}

/**
 * The teletype mirror: a character written into the cell under the
 * hardware cursor is "pending"; when the guest then moves the cursor
 * (detected on the write of the low cursor byte, R15, which kernels
 * write last), a pending character is emitted. A move to a later row is a
 * newline, a move one cell back a backspace. A write into the top row
 * while the cursor is lower means the screen scrolled, so the old cursor
 * is taken to be one row higher. Runs of spaces are held back and
 * dropped at a newline, so the blank that xv6 paints under the cursor
 * never shows. Deterministic; it cannot know about text written elsewhere.
 */
export class Cga implements MmioHandler, PortDevice {
  readonly vram = new Uint8Array(CGA_VRAM_SIZE);
  private readonly crtc = new Uint8Array(CRTC_REGS);
  private crtcIndex = 0;
  private statusToggle = 0;
  private readonly onChange: (() => void) | null;
  private readonly onText: ((text: string) => void) | null;

  // Teletype mirror state.
  private cursorForMirror = 0; // cursor cell as of the last R15 write
  private pendingChar = -1;
  private scrolled = false;
  private heldSpaces = 0;

  constructor(opts: CgaOptions = {}) {
    this.onChange = opts.onChange ?? null;
    this.onText = opts.onText ?? null;
    this.reset();
  }

  register(io: IoBus, mem?: PhysMem): void {
    io.register(MDA_INDEX, 2, 'mda-crtc', this);
    io.register(MDA_STATUS, 1, 'mda-status', this);
    io.register(CRTC_INDEX, 2, 'cga-crtc', this);
    io.register(CGA_STATUS, 1, 'cga-status', this);
    mem?.addMmio(CGA_VRAM_BASE, CGA_VRAM_SIZE, 'cga-vram', this);
  }

  /** Blank screen (light grey on black spaces), cursor at 0, as after a BIOS mode set. */
  reset(): void {
    for (let i = 0; i < CELLS; i++) {
      this.vram[2 * i] = 0x20;
      this.vram[2 * i + 1] = 0x07;
    }
    this.crtc.fill(0);
    this.crtc[R_CURSOR_START] = 0x0d; // underline cursor, scan lines 13-14 (BIOS mode 3)
    this.crtc[R_CURSOR_END] = 0x0e;
    this.crtcIndex = 0;
    this.statusToggle = 0;
    this.cursorForMirror = 0;
    this.pendingChar = -1;
    this.scrolled = false;
    this.heldSpaces = 0;
  }

  /** Cursor position as a cell index (CRTC R14:R15). */
  get cursor(): number {
    return (this.crtc[R_CURSOR_HI] << 8) | this.crtc[R_CURSOR_LO];
  }

  /** Display start address as a cell index (CRTC R12:R13). */
  get startAddress(): number {
    return (this.crtc[R_START_HI] << 8) | this.crtc[R_START_LO];
  }

  /** Character and attribute at a visible cell. */
  cellAt(row: number, col: number): { ch: number; attr: number } {
    const i = ((this.startAddress + row * CGA_COLS + col) % CELLS) * 2;
    return { ch: this.vram[i], attr: this.vram[i + 1] };
  }

  /** The visible 80x25 screen as text: rows right-trimmed, trailing blank rows dropped, non-ASCII as '?'. */
  screenText(): string {
    const rows: string[] = [];
    for (let r = 0; r < CGA_ROWS; r++) {
      let s = '';
      for (let c = 0; c < CGA_COLS; c++) {
        const ch = this.cellAt(r, c).ch;
        s += ch === 0 ? ' ' : ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : '?';
      }
      rows.push(s.trimEnd());
    }
    while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
    return rows.join('\n');
  }

  // --- MMIO: reads return exactly what was written ---

  mmioRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.vram[(offset + i) & (CGA_VRAM_SIZE - 1)];
    return v >>> 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const a = (offset + i) & (CGA_VRAM_SIZE - 1);
      const b = (value >>> (8 * i)) & 0xff;
      this.vram[a] = b;
      if ((a & 1) === 0) this.charWritten(a >> 1, b);
    }
    this.onChange?.();
  }

  // --- teletype mirror ---

  private charWritten(cell: number, ch: number): void {
    const visible = (cell - this.startAddress + CELLS) % CELLS;
    const cur = this.cursorForMirror;
    // NUL is clearing (memset after a scroll), not typing: it must not replace a pending character.
    if (visible === cur) { if (ch !== 0) this.pendingChar = ch; }
    else if (visible < CGA_COLS && cur >= CGA_COLS) this.scrolled = true; // top row rewritten: scroll
  }

  private emit(s: string): void {
    this.onText?.(s);
  }

  private put(ch: number): void {
    if (ch === 0x20) { this.heldSpaces++; return; }
    if (this.heldSpaces > 0) { this.emit(' '.repeat(this.heldSpaces)); this.heldSpaces = 0; }
    this.emit(ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : '?');
  }

  private cursorMoved(): void {
    const to = this.cursor;
    const from = this.cursorForMirror - (this.scrolled ? CGA_COLS : 0);
    if (this.pendingChar >= 0 && to > from) this.put(this.pendingChar); // moving back un-types it
    this.pendingChar = -1;
    if (to === from - 1 && Math.floor(to / CGA_COLS) === Math.floor(from / CGA_COLS)) {
      if (this.heldSpaces > 0) this.heldSpaces--; else this.emit('\b');
    } else if (to !== from + 1 && Math.floor(to / CGA_COLS) > Math.floor(from / CGA_COLS)) {
      this.heldSpaces = 0;
      this.emit('\n'.repeat(Math.floor(to / CGA_COLS) - Math.floor(from / CGA_COLS)));
    }
    this.cursorForMirror = to;
    this.scrolled = false;
  }

  // --- ports ---

  portRead(port: number, _size: AccessSize): number {
    switch (port) {
      case CRTC_INDEX: return this.crtcIndex;
      case CRTC_DATA: return this.crtcIndex < CRTC_REGS ? this.crtc[this.crtcIndex] : 0xff;
      case CGA_STATUS:
        // Display-enable (bit 0) and vertical retrace (bit 3) alternate on
        // every read: deterministic, and every "wait for retrace" loop ends.
        this.statusToggle ^= 0x09;
        return this.statusToggle;
      default: return 0xff; // no MDA
    }
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    const v = value & 0xff;
    if (port === CRTC_INDEX) {
      this.crtcIndex = v & 0x1f;
      // A 16-bit OUT to the index port writes the data register too.
      if (size === 2) this.portWrite(CRTC_DATA, 1, (value >> 8) & 0xff);
    } else if (port === CRTC_DATA) {
      if (this.crtcIndex >= CRTC_REGS) return;
      this.crtc[this.crtcIndex] = v;
      if (this.crtcIndex === R_CURSOR_LO) this.cursorMoved();
      if (this.crtcIndex >= R_START_HI && this.crtcIndex <= R_CURSOR_LO) this.onChange?.();
    }
    // MDA ports and the status port ignore writes.
  }

  saveState(): unknown {
    return {
      vram: Buffer.from(this.vram).toString('base64'), crtc: Array.from(this.crtc), crtcIndex: this.crtcIndex,
      statusToggle: this.statusToggle, cursorForMirror: this.cursorForMirror,
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    this.reset();
    if (typeof o.vram === 'string') {
      const b = Buffer.from(o.vram, 'base64');
      this.vram.set(b.subarray(0, CGA_VRAM_SIZE));
    }
    const crtc = Array.isArray(o.crtc) ? o.crtc : [];
    for (let i = 0; i < CRTC_REGS; i++) if (typeof crtc[i] === 'number') this.crtc[i] = crtc[i] as number;
    this.crtcIndex = typeof o.crtcIndex === 'number' ? o.crtcIndex & 0x1f : 0;
    this.statusToggle = o.statusToggle === 9 ? 9 : 0;
    this.cursorForMirror = typeof o.cursorForMirror === 'number' ? o.cursorForMirror & 0xffff : this.cursor;
  }
}
