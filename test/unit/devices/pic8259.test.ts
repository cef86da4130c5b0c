import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';

/** The classic BIOS/Linux remap: master at 0x20, slave at 0x28, cascade on IR2. */
function setup(): { pic: Pic8259; io: IoBus } {
  const pic = new Pic8259();
  const io = new IoBus();
  pic.register(io);
  io.out(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
  io.out(0x21, 1, 0x20); // ICW2: vector base
  io.out(0x21, 1, 0x04); // ICW3: slave on IR2
  io.out(0x21, 1, 0x01); // ICW4: 8086 mode
  io.out(0xa0, 1, 0x11);
  io.out(0xa1, 1, 0x28);
  io.out(0xa1, 1, 0x02);
  io.out(0xa1, 1, 0x01);
  io.out(0x21, 1, 0x00); // unmask all
  io.out(0xa1, 1, 0x00);
  return { pic, io };
}

describe('8259A pair', () => {
  it('delivers a master IRQ with the programmed vector and holds it in service until EOI', () => {
    const { pic, io } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    pic.irqLine(1).set(true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.hasInterrupt()).toBe(false);
    io.out(0x20, 1, 0x0b); // OCW3: read ISR
    expect(io.in(0x20, 1)).toBe(0x02);
    io.out(0x20, 1, 0x0a); // OCW3: read IRR
    expect(io.in(0x20, 1)).toBe(0x00);
    // Edge triggered: the line staying high does not request again.
    pic.irqLine(1).set(false);
    pic.irqLine(1).set(true);
    expect(pic.hasInterrupt()).toBe(false); // same level still in service
    io.out(0x20, 1, 0x20); // non-specific EOI
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('routes slave IRQs through the cascade and needs EOI on both chips', () => {
    const { pic, io } = setup();
    pic.irqLine(14).set(true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2e);
    expect(pic.regs.isr).toEqual([0x04, 0x40]);
    pic.irqLine(14).set(false);
    pic.irqLine(12).set(true); // higher priority than 14 on the slave
    expect(pic.hasInterrupt()).toBe(false); // master IR2 still in service blocks it (not SFNM)
    io.out(0xa0, 1, 0x20);
    io.out(0x20, 1, 0x20);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
  });

  it('resolves priority: IR0 before IR3, IR3 waits while IR0 is in service', () => {
    const { pic, io } = setup();
    pic.irqLine(3).set(true);
    pic.irqLine(0).set(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.hasInterrupt()).toBe(false);
    io.out(0x20, 1, 0x60); // specific EOI for IR0
    expect(pic.acknowledge()).toBe(0x23);
    // A higher priority request nests over a lower one in service.
    pic.irqLine(0).set(false);
    pic.irqLine(0).set(true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.regs.isr[0]).toBe(0x09);
    io.out(0x20, 1, 0x20); // non-specific EOI clears the highest (IR0)
    expect(pic.regs.isr[0]).toBe(0x08);
  });

  it('masks with OCW1 (xv6 picinit masks everything)', () => {
    const { pic, io } = setup();
    io.out(0x21, 1, 0xff);
    io.out(0xa1, 1, 0xff);
    expect(io.in(0x21, 1)).toBe(0xff);
    pic.irqLine(0).set(true);
    pic.irqLine(9).set(true);
    expect(pic.hasInterrupt()).toBe(false);
    io.out(0x21, 1, 0xfe); // unmask IR0: the latched edge is delivered
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('answers a withdrawn level request with spurious IRQ7 without setting ISR', () => {
    const { pic, io } = setup();
    io.out(0x4d0, 1, 0x20); // IRQ5 level triggered
    expect(io.in(0x4d0, 1)).toBe(0x20);
    pic.irqLine(5).set(true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.irqLine(5).set(false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.regs.isr[0]).toBe(0);
  });

  it('answers a withdrawn slave request with spurious IRQ15: slave ISR clear, master IR2 in service', () => {
    const { pic, io } = setup();
    io.out(0x4d1, 1, 0x02); // IRQ9 level triggered
    pic.irqLine(9).set(true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.irqLine(9).set(false);
    // The master still has IR2 latched (edge); the slave has nothing left.
    expect(pic.acknowledge()).toBe(0x2f);
    expect(pic.regs.isr).toEqual([0x04, 0x00]);
  });

  it('supports auto-EOI and the poll command', () => {
    const pic = new Pic8259();
    const io = new IoBus();
    pic.register(io);
    io.out(0x20, 1, 0x13); // single, ICW4
    io.out(0x21, 1, 0x40);
    io.out(0x21, 1, 0x03); // AEOI
    pic.irqLine(4).set(true);
    expect(pic.acknowledge()).toBe(0x44);
    expect(pic.regs.isr[0]).toBe(0);
    pic.irqLine(6).set(true);
    io.out(0x20, 1, 0x0c); // OCW3 poll
    expect(io.in(0x20, 1)).toBe(0x86);
    expect(io.in(0x20, 1)).toBe(0x00); // poll is one-shot; IRR now empty
  });

  it('round-trips its state through JSON', () => {
    const { pic } = setup();
    pic.irqLine(3).set(true);
    const copy = new Pic8259();
    copy.loadState(JSON.parse(JSON.stringify(pic.saveState())));
    expect(copy.hasInterrupt()).toBe(true);
    expect(copy.acknowledge()).toBe(0x23);
    copy.loadState('garbage'); // malformed input must not throw
    expect(copy.hasInterrupt()).toBe(false);
  });
});
