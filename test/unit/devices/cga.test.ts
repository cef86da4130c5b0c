import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { Cga } from '../../../src/devices/cga.js';

function setup() {
  const text: string[] = [];
  let changes = 0;
  const cga = new Cga({ onText: (t) => text.push(t), onChange: () => changes++ });
  const io = new IoBus();
  const mem = new PhysMem(1 << 20);
  cga.register(io, mem);
  return { cga, io, mem, text, get changes() { return changes; } };
}

/** The screen protocol of xv6 console.c cgaputc(), driven through ports and memory. */
function cgaputc(io: IoBus, mem: PhysMem, c: number): void {
  const crt = (i: number) => 0xb8000 + 2 * i;
  io.out(0x3d4, 1, 14);
  let pos = io.in(0x3d5, 1) << 8;
  io.out(0x3d4, 1, 15);
  pos |= io.in(0x3d5, 1);
  if (c === 0x0a) pos += 80 - (pos % 80);
  else if (c === 0x100) { if (pos > 0) --pos; } // BACKSPACE
  else mem.write16(crt(pos++), (c & 0xff) | 0x0700);
  if (pos / 80 >= 24) { // scroll up
    for (let i = 0; i < 23 * 80; i++) mem.write16(crt(i), mem.read16(crt(i + 80)));
    pos -= 80;
    for (let i = pos; i < 24 * 80; i++) mem.write16(crt(i), 0);
  }
  io.out(0x3d4, 1, 14);
  io.out(0x3d5, 1, pos >> 8);
  io.out(0x3d4, 1, 15);
  io.out(0x3d5, 1, pos & 0xff);
  mem.write16(crt(pos), 0x20 | 0x0700);
}

const puts = (s: ReturnType<typeof setup>, str: string) => { for (const ch of str) cgaputc(s.io, s.mem, ch.charCodeAt(0)); };

describe('CGA text mode', () => {
  it('stores what the guest writes and renders the screen', () => {
    const s = setup();
    s.mem.write16(0xb8000, 0x1f41);
    s.mem.write8(0xb8002, 0x42);
    s.mem.write32(0xb8000 + 160, 0x07690748);
    expect(s.mem.read16(0xb8000)).toBe(0x1f41);
    expect(s.mem.read8(0xb8001)).toBe(0x1f);
    expect(s.mem.read32(0xb8000 + 160)).toBe(0x07690748);
    expect(s.cga.screenText()).toBe('AB\nHi');
    expect(s.changes).toBeGreaterThan(0);
    // The 32 KiB window is all there: the last byte too.
    s.mem.write8(0xbffff, 0x5a);
    expect(s.mem.read8(0xbffff)).toBe(0x5a);
  });

  it('keeps CRTC cursor registers and toggles the status port', () => {
    const s = setup();
    s.io.out(0x3d4, 1, 0x0e);
    s.io.out(0x3d5, 1, 0x01);
    s.io.out(0x3d4, 1, 0x0f);
    s.io.out(0x3d5, 1, 0x23);
    expect(s.cga.cursor).toBe(0x123);
    s.io.out(0x3d4, 2, 0x050a); // index + data in one 16-bit write
    s.io.out(0x3d4, 1, 0x0a);
    expect(s.io.in(0x3d5, 1)).toBe(0x05);
    const a = s.io.in(0x3da, 1);
    const b = s.io.in(0x3da, 1);
    expect((a ^ b) & 0x09).toBe(0x09);
    s.io.out(0x3b4, 1, 0x0e);
    expect(s.io.in(0x3b5, 1)).toBe(0xff); // no MDA
  });

  it('mirrors xv6 console output as a text stream, through newlines, backspace and scrolling', () => {
    const s = setup();
    puts(s, 'xv6...\ncpu0: starting 0\n');
    expect(s.text.join('')).toBe('xv6...\ncpu0: starting 0\n');
    s.text.length = 0;
    puts(s, 'lx');
    cgaputc(s.io, s.mem, 0x100);
    puts(s, 's \n');
    expect(s.text.join('')).toBe('lx\bs\n');
    s.text.length = 0;
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${'#'.repeat(i % 7)}`);
    puts(s, lines.join('\n') + '\n');
    // By design the mirror drops trailing spaces (it cannot tell them from the cursor blank).
    expect(s.text.join('')).toBe(lines.map((l) => l.trimEnd()).join('\n') + '\n');
    s.text.length = 0;
    puts(s, 'w'.repeat(85) + '\n'); // wraps at the bottom row: no newline in the middle
    expect(s.text.join('')).toBe('w'.repeat(85) + '\n');
    // xv6 uses 24 rows: 21 earlier lines, the wrapped line on two rows, the empty cursor row.
    const screen = s.cga.screenText().split('\n');
    expect(screen[screen.length - 2]).toBe('w'.repeat(80));
    expect(screen[screen.length - 1]).toBe('wwwww');
    expect(screen.length).toBe(23);
    expect(screen[0]).toBe(lines[40 - 21].trimEnd());
  });

  it('round-trips its state', () => {
    const s = setup();
    puts(s, 'saved\n');
    const c2 = new Cga();
    c2.loadState(JSON.parse(JSON.stringify(s.cga.saveState())));
    expect(c2.screenText()).toBe('saved');
    expect(c2.cursor).toBe(80);
    c2.loadState({ vram: 12, crtc: 'x' });
  });
});
