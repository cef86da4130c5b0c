import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { Uart16550 } from '../../../src/devices/uart16550.js';

const COM1 = 0x3f8;

function setup() {
  const out: number[] = [];
  const irq = { level: false, edges: 0 };
  const uart = new Uart16550({
    irq: { set: (l: boolean) => { if (l && !irq.level) irq.edges++; irq.level = l; } },
    onTransmit: (b) => out.push(b),
  });
  const io = new IoBus();
  uart.register(io);
  return { uart, io, out, irq };
}

/** xv6 uart.c uartinit(), step by step. */
function xv6Init(io: IoBus): boolean {
  io.out(COM1 + 2, 1, 0); // turn off the FIFO
  io.out(COM1 + 3, 1, 0x80); // unlock divisor
  io.out(COM1 + 0, 1, 115200 / 9600);
  io.out(COM1 + 1, 1, 0);
  io.out(COM1 + 3, 1, 0x03); // lock divisor, 8 data bits
  io.out(COM1 + 4, 1, 0);
  io.out(COM1 + 1, 1, 0x01); // enable receive interrupts
  if (io.in(COM1 + 5, 1) === 0xff) return false;
  io.in(COM1 + 2, 1);
  io.in(COM1 + 0, 1);
  return true;
}

describe('16550 UART', () => {
  it('survives the xv6 init sequence and transmits with uartputc polling', () => {
    const s = setup();
    expect(xv6Init(s.io)).toBe(true);
    s.io.out(COM1 + 3, 1, 0x83);
    expect(s.io.in(COM1 + 0, 1) | (s.io.in(COM1 + 1, 1) << 8)).toBe(12);
    s.io.out(COM1 + 3, 1, 0x03);
    for (const ch of 'xv6\n') {
      let spins = 0;
      while (!(s.io.in(COM1 + 5, 1) & 0x20) && spins < 128) spins++;
      expect(spins).toBe(0);
      s.io.out(COM1, 1, ch.charCodeAt(0));
    }
    expect(String.fromCharCode(...s.out)).toBe('xv6\n');
    expect(s.irq.level).toBe(false); // THRI not enabled
  });

  it('interrupts on received data the way xv6 uartintr consumes it', () => {
    const s = setup();
    xv6Init(s.io);
    expect(s.irq.level).toBe(false);
    s.uart.receive('ls\n');
    expect(s.irq.level).toBe(true);
    expect(s.io.in(COM1 + 2, 1) & 0x0f).toBe(0x04); // RDA
    // uartgetc loop: LSR.DR then RBR, until no data.
    const got: number[] = [];
    while (s.io.in(COM1 + 5, 1) & 0x01) got.push(s.io.in(COM1, 1));
    expect(String.fromCharCode(...got)).toBe('ls\n');
    expect(s.irq.level).toBe(false);
    expect(s.io.in(COM1 + 2, 1)).toBe(0x01);
    expect(s.irq.edges).toBe(1);
  });

  it('loops TX to RX in loopback mode, with MSR driven by MCR', () => {
    const s = setup();
    s.io.out(COM1 + 3, 1, 0x03);
    s.io.out(COM1 + 4, 1, 0x10 | 0x01 | 0x08); // LOOP + DTR + OUT2
    s.io.in(COM1 + 6, 1); // clear deltas
    s.io.out(COM1 + 1, 1, 0x01);
    s.io.out(COM1, 1, 0xae);
    expect(s.out).toEqual([]); // nothing goes out on the wire
    expect(s.irq.level).toBe(true);
    expect(s.io.in(COM1 + 2, 1) & 0x0f).toBe(0x04);
    expect(s.io.in(COM1, 1)).toBe(0xae);
    expect(s.irq.level).toBe(false);
    expect(s.io.in(COM1 + 6, 1) & 0xf0).toBe(0x20 | 0x80); // DSR from DTR, DCD from OUT2
    s.io.out(COM1 + 4, 1, 0x10 | 0x02);
    expect(s.io.in(COM1 + 6, 1)).toBe(0x10 | 0x01 | 0x02 | 0x08); // CTS, and deltas for CTS, DSR, DCD
    s.io.out(COM1 + 4, 1, 0x00);
    expect(s.io.in(COM1 + 6, 1) & 0xf0).toBe(0xb0);
  });

  it('raises THRE interrupts, acknowledged by reading IIR or writing THR', () => {
    const s = setup();
    s.io.out(COM1 + 3, 1, 0x03);
    s.io.out(COM1 + 1, 1, 0x02); // THRI while THR is empty: immediate interrupt
    expect(s.irq.level).toBe(true);
    expect(s.io.in(COM1 + 2, 1)).toBe(0x02);
    expect(s.irq.level).toBe(false);
    expect(s.io.in(COM1 + 2, 1)).toBe(0x01);
    s.io.out(COM1, 1, 0x41); // sending re-arms it when the byte is gone
    expect(s.irq.level).toBe(true);
    expect(s.out).toEqual([0x41]);
  });

  it('orders received-data above THRE and honours the FIFO trigger level', () => {
    const s = setup();
    s.io.out(COM1 + 2, 1, 0x87); // FIFO on, reset both, trigger at 8
    s.io.out(COM1 + 1, 1, 0x03);
    s.uart.receive([1, 2, 3]);
    // Below the trigger level: character-timeout, which still outranks THRE.
    expect(s.io.in(COM1 + 2, 1)).toBe(0xcc);
    s.uart.receive([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(s.io.in(COM1 + 2, 1)).toBe(0xc4);
    const got: number[] = [];
    while (s.io.in(COM1 + 5, 1) & 0x01) got.push(s.io.in(COM1, 1));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // the queue refills the 16-byte FIFO
    expect(s.io.in(COM1 + 2, 1)).toBe(0xc2); // now THRE
  });

  it('round-trips state including pending input', () => {
    const s = setup();
    xv6Init(s.io);
    s.uart.receive('abc');
    s.io.in(COM1, 1);
    const copy = new Uart16550({ irq: { set: () => {} }, onTransmit: () => {} });
    copy.loadState(JSON.parse(JSON.stringify(s.uart.saveState())));
    expect(copy.portRead(COM1 + 5, 1) & 1).toBe(1);
    expect(copy.portRead(COM1, 1)).toBe(0x62);
    expect(copy.portRead(COM1, 1)).toBe(0x63);
    copy.loadState({ rx: 'nope', input: [1e9, 'x'] });
  });
});
