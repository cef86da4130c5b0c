import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { Kbd8042 } from '../../../src/devices/kbd8042.js';

function setup() {
  const irq1 = { level: false, edges: 0 };
  const irq12 = { level: false, edges: 0 };
  const events: string[] = [];
  const kbd = new Kbd8042({
    irq1: { set: (l: boolean) => { if (l && !irq1.level) irq1.edges++; irq1.level = l; } },
    irq12: { set: (l: boolean) => { if (l && !irq12.level) irq12.edges++; irq12.level = l; } },
    onReset: () => events.push('reset'),
    onA20: (e) => events.push(`a20 ${e}`),
  });
  const io = new IoBus();
  kbd.register(io);
  /** Drain the output buffer the way xv6 kbdgetc polls it: status bit 0, then data. */
  const drain = () => {
    const out: number[] = [];
    while (io.in(0x64, 1) & 0x01) out.push(io.in(0x60, 1));
    return out;
  };
  return { kbd, io, irq1, irq12, events, drain };
}

describe('8042 keyboard controller', () => {
  it('0xD2 writes the keyboard output buffer: IRQ1, then the byte on port 0x60', () => {
    const s = setup();
    expect(s.io.in(0x64, 1) & 0x01).toBe(0);
    s.io.out(0x64, 1, 0xd2);
    s.io.out(0x60, 1, 0x1e);
    expect(s.irq1.level).toBe(true);
    expect(s.io.in(0x64, 1) & 0x21).toBe(0x01);
    expect(s.io.in(0x60, 1)).toBe(0x1e);
    expect(s.irq1.level).toBe(false);
    expect(s.io.in(0x64, 1) & 0x01).toBe(0);
    s.io.out(0x64, 1, 0xa8); // enable aux
    s.io.out(0x64, 1, 0x20);
    const cb = s.io.in(0x60, 1);
    s.io.out(0x64, 1, 0x60);
    s.io.out(0x60, 1, cb | 0x02); // aux interrupt on
    s.io.out(0x64, 1, 0xd3);
    s.io.out(0x60, 1, 0x08);
    expect(s.irq12.level).toBe(true);
    expect(s.io.in(0x64, 1) & 0x21).toBe(0x21);
    expect(s.io.in(0x60, 1)).toBe(0x08);
  });

  it('runs controller self-tests and reads/writes the command byte', () => {
    const s = setup();
    s.io.out(0x64, 1, 0xaa);
    expect(s.drain()).toEqual([0x55]);
    expect(s.io.in(0x64, 1) & 0x04).toBe(0x04); // system flag
    s.io.out(0x64, 1, 0xab);
    expect(s.drain()).toEqual([0x00]);
    s.io.out(0x64, 1, 0x60);
    s.io.out(0x60, 1, 0x00); // no interrupts
    s.io.out(0x64, 1, 0x20);
    expect(s.irq1.level).toBe(false);
    expect(s.drain()).toEqual([0x00]);
  });

  it('answers keyboard commands with ACKs: reset, identify, LEDs, scan code set', () => {
    const s = setup();
    s.io.out(0x60, 1, 0xff);
    expect(s.drain()).toEqual([0xfa, 0xaa]);
    s.io.out(0x60, 1, 0xf2);
    expect(s.drain()).toEqual([0xfa, 0xab, 0x41]); // translated ID, as QEMU
    s.io.out(0x60, 1, 0xed);
    s.io.out(0x60, 1, 0x04);
    expect(s.drain()).toEqual([0xfa, 0xfa]);
    expect(s.kbd.ledState).toBe(4);
    s.io.out(0x60, 1, 0xf0);
    s.io.out(0x60, 1, 0x00);
    expect(s.drain()).toEqual([0xfa, 0xfa, 0x41]); // every byte to the keyboard is ACKed, then the (translated) set 2
    s.io.out(0x60, 1, 0xf5);
    s.io.out(0x60, 1, 0xf4);
    s.io.out(0x60, 1, 0x12); // not a command
    expect(s.drain()).toEqual([0xfa, 0xfa, 0xfe]);
  });

  it('types ASCII as set-1 make/break codes with shift, one IRQ1 per byte', () => {
    const s = setup();
    s.kbd.typeAscii('aA\n');
    // IBM set 1: a = 1E, left shift = 2A, enter = 1C; break = make | 0x80.
    const got: number[] = [];
    while (s.irq1.level) got.push(s.io.in(0x60, 1));
    expect(got).toEqual([0x1e, 0x9e, 0x2a, 0x1e, 0x9e, 0xaa, 0x1c, 0x9c]);
    expect(s.irq1.edges).toBe(8);
    s.kbd.typeAscii('\x03'); // ctrl-c
    expect(s.drain()).toEqual([0x1d, 0x2e, 0xae, 0x9d]);
  });

  it('holds keystrokes while the keyboard is disabled', () => {
    const s = setup();
    s.io.out(0x64, 1, 0xad);
    s.kbd.pressKey(0x10);
    expect(s.io.in(0x64, 1) & 0x01).toBe(0);
    s.io.out(0x64, 1, 0xae);
    expect(s.drain()).toEqual([0x10, 0x90]);
  });

  it('drives A20 and reset through the output port and 0xFE', () => {
    const s = setup();
    s.io.out(0x64, 1, 0xd0);
    expect(s.drain()).toEqual([0x03]);
    s.io.out(0x64, 1, 0xd1);
    s.io.out(0x60, 1, 0x01); // A20 off
    s.io.out(0x64, 1, 0xdf); // A20 on
    s.io.out(0x64, 1, 0xfe);
    expect(s.events).toEqual(['a20 false', 'a20 true', 'reset']);
  });

  it('round-trips state with pending keys', () => {
    const s = setup();
    s.kbd.typeAscii('hi');
    s.io.in(0x60, 1);
    const k2 = new Kbd8042({ irq1: { set: () => {} } });
    k2.loadState(JSON.parse(JSON.stringify(s.kbd.saveState())));
    const out: number[] = [];
    while (k2.portRead(0x64, 1) & 1) out.push(k2.portRead(0x60, 1));
    expect(out).toEqual([0xa3, 0x17, 0x97]);
    k2.loadState({ replies: 'x', keys: [null] });
  });
});
