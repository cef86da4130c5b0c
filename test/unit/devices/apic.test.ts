import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { ApicBus } from '../../../src/devices/apic-bus.js';
import { Lapic, LapicRouter } from '../../../src/devices/lapic.js';
import { IoApic } from '../../../src/devices/ioapic.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';

const LAPIC = 0xfee00000;
const IOAPIC = 0xfec00000;
// xv6 lapic.c register indices are dword indices; these are byte offsets.
const ID = 0x20, VER = 0x30, TPR = 0x80, EOI = 0xb0, SVR = 0xf0, ESR = 0x280, ICRLO = 0x300, ICRHI = 0x310;
const TIMER = 0x320, PCINT = 0x340, LINT0 = 0x350, LINT1 = 0x360, ERROR = 0x370, TICR = 0x380, TCCR = 0x390, TDCR = 0x3e0;
const ISR = 0x100, IRR = 0x200;
const T_IRQ0 = 32;

function machine(ncpu: number) {
  let now = 0;
  const log: string[] = [];
  const bus = new ApicBus({
    onInit: (id) => log.push(`init ${id}`),
    onStartup: (id, v) => log.push(`sipi ${id} ${v}`),
    onNmi: (id) => log.push(`nmi ${id}`),
  });
  const pic = new Pic8259();
  const lapics = Array.from({ length: ncpu }, (_, i) => new Lapic({ apicId: i, bus, pic: i === 0 ? pic : null, now: () => now }));
  const router = new LapicRouter(lapics);
  const mem = new PhysMem(1 << 20);
  router.register(mem);
  const ioapic = new IoApic(bus, ncpu);
  ioapic.register(mem);
  const w = (reg: number, v: number) => { mem.write32(LAPIC + reg, v); mem.read32(LAPIC + ID); }; // xv6 lapicw
  const r = (reg: number) => mem.read32(LAPIC + reg);
  const iow = (reg: number, v: number) => { mem.write32(IOAPIC, reg); mem.write32(IOAPIC + 0x10, v); };
  const ior = (reg: number) => { mem.write32(IOAPIC, reg); return mem.read32(IOAPIC + 0x10); };
  const at = (t: number) => { now = t; for (const l of lapics) l.advanceTo(t); };
  return { bus, pic, lapics, router, mem, ioapic, w, r, iow, ior, at, log };
}

/** xv6 lapicinit(), on the CPU the router currently points at. */
function xv6LapicInit(m: ReturnType<typeof machine>): void {
  m.w(SVR, 0x100 | (T_IRQ0 + 31));
  m.w(TDCR, 0x0b);
  m.w(TIMER, 0x20000 | (T_IRQ0 + 0));
  m.w(TICR, 10_000_000);
  m.w(LINT0, 0x10000);
  m.w(LINT1, 0x10000);
  if (((m.r(VER) >> 16) & 0xff) >= 4) m.w(PCINT, 0x10000);
  m.w(ERROR, T_IRQ0 + 19);
  m.w(ESR, 0);
  m.w(ESR, 0);
  m.w(EOI, 0);
  m.w(ICRHI, 0);
  m.w(ICRLO, 0x80000 | 0x500 | 0x8000); // BCAST | INIT | LEVEL (de-assert)
  while (m.r(ICRLO) & 0x1000);
  m.w(TPR, 0);
}

describe('local APIC', () => {
  it('runs the xv6 lapicinit sequence and ticks the periodic timer every TICR ns', () => {
    const m = machine(1);
    const cpu = m.lapics[0];
    xv6LapicInit(m);
    expect(m.log).toEqual([]); // INIT de-assert resets nobody
    expect(m.r(ID) >>> 24).toBe(0);
    expect(cpu.hasInterrupt()).toBe(false);
    expect(cpu.nextDeadline()).toBe(10_000_000);
    m.at(5_000_000);
    expect(m.r(TCCR)).toBe(5_000_000);
    m.at(10_000_000);
    expect(cpu.hasInterrupt()).toBe(true);
    expect(cpu.acknowledge()).toBe(32);
    expect(m.r(ISR + 0x10)).toBe(1); // vector 32 in service
    expect(m.r(TPR + 0x20) & 0xf0).toBe(0x20); // PPR follows the in-service class
    m.w(EOI, 0);
    expect(m.r(ISR + 0x10)).toBe(0);
    expect(cpu.nextDeadline()).toBe(20_000_000);
    m.at(35_000_000); // late: one request, next deadline on the period grid
    expect(cpu.acknowledge()).toBe(32);
    expect(cpu.hasInterrupt()).toBe(false);
    expect(cpu.nextDeadline()).toBe(40_000_000);
  });

  it('counts down a one-shot timer with a divider', () => {
    const m = machine(1);
    m.w(SVR, 0x1ff);
    m.w(TDCR, 0x03); // divide by 16
    m.w(TIMER, 0x40);
    m.w(TICR, 1000);
    m.at(1600);
    expect(m.r(TCCR)).toBe(900);
    m.at(16_000);
    expect(m.r(TCCR)).toBe(0);
    expect(m.lapics[0].acknowledge()).toBe(0x40);
    expect(m.lapics[0].nextDeadline()).toBe(Infinity);
  });

  it('holds back vectors of a class not above the task priority', () => {
    const m = machine(1);
    const cpu = m.lapics[0];
    m.w(SVR, 0x1ff);
    m.w(TPR, 0x50);
    cpu.acceptInterrupt(0x55, false);
    expect(cpu.hasInterrupt()).toBe(false);
    expect(m.r(IRR + 0x20)).toBe(1 << 0x15);
    cpu.acceptInterrupt(0x61, false);
    expect(cpu.acknowledge()).toBe(0x61);
    m.w(TPR, 0);
    expect(cpu.hasInterrupt()).toBe(false); // 0x55 is below the in-service 0x61 class
    m.w(EOI, 0);
    expect(cpu.acknowledge()).toBe(0x55);
  });

  it('starts an AP the xv6 way: INIT assert, INIT de-assert, two STARTUPs', () => {
    const m = machine(2);
    xv6LapicInit(m);
    const apicid = 1, addr = 0x7000;
    m.w(ICRHI, apicid << 24);
    m.w(ICRLO, 0x500 | 0x8000 | 0x4000);
    m.w(ICRLO, 0x500 | 0x8000);
    for (let i = 0; i < 2; i++) {
      m.w(ICRHI, apicid << 24);
      m.w(ICRLO, 0x600 | (addr >> 12));
    }
    expect(m.log).toEqual(['init 1', 'sipi 1 7', 'sipi 1 7']);
  });

  it('delivers fixed IPIs by physical id and shorthand, each CPU seeing its own APIC', () => {
    const m = machine(3);
    for (let c = 0; c < 3; c++) { m.router.currentCpu = c; m.w(SVR, 0x1ff); }
    m.router.currentCpu = 1;
    expect(m.r(ID) >>> 24).toBe(1);
    m.w(ICRHI, 2 << 24);
    m.w(ICRLO, 0x4000 | 0x90); // fixed, physical, vector 0x90
    expect(m.lapics.map((l) => l.hasInterrupt())).toEqual([false, false, true]);
    expect(m.lapics[2].acknowledge()).toBe(0x90);
    m.w(ICRLO, (3 << 18) | 0x4000 | 0xa1); // all excluding self (a higher class than 0x90 in service on CPU 2)
    expect(m.lapics.map((l) => l.hasInterrupt())).toEqual([true, false, true]);
    m.w(ICRLO, (1 << 18) | 0x4000 | 0x92); // self
    expect(m.lapics[1].acknowledge()).toBe(0x92);
    m.w(ICRLO, (2 << 18) | 0x4000 | 0x400); // NMI to all including self
    expect(m.log).toEqual(['nmi 0', 'nmi 1', 'nmi 2']);
  });

  it('reports send errors through write-then-read ESR and the error LVT', () => {
    const m = machine(1);
    m.w(SVR, 0x1ff);
    m.w(ERROR, 0x33);
    m.w(ICRHI, 0);
    m.w(ICRLO, 0x4000 | 0x05); // fixed IPI with an illegal vector
    expect(m.r(ESR)).toBe(0); // not visible until ESR is written
    m.w(ESR, 0);
    expect(m.r(ESR)).toBe(0x20);
    m.w(ESR, 0);
    expect(m.r(ESR)).toBe(0);
    expect(m.lapics[0].acknowledge()).toBe(0x33);
  });

  it('passes 8259 interrupts through LINT0 in ExtINT mode (BSP reset state) and stops when masked', () => {
    const m = machine(1);
    const pic = m.pic;
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0x00]]) pic.portWrite(p, 1, v);
    pic.irqLine(1).set(true);
    expect(m.r(LINT0)).toBe(0x700);
    expect(m.lapics[0].hasInterrupt()).toBe(true); // APIC still software-disabled: virtual wire
    expect(m.lapics[0].acknowledge()).toBe(0x21);
    pic.portWrite(0x20, 1, 0x20);
    pic.irqLine(1).set(false);
    pic.irqLine(1).set(true);
    m.w(LINT0, 0x10700);
    expect(m.lapics[0].hasInterrupt()).toBe(false);
    m.lapics[0].writeApicBaseMsr(0); // globally disabled: the PIC is wired to INTR directly
    expect(m.lapics[0].hasInterrupt()).toBe(true);
  });
});

describe('IOAPIC', () => {
  it('answers xv6 ioapicinit and routes ioapicenable(IRQ_COM1, 0) to the LAPIC', () => {
    const m = machine(2);
    m.router.currentCpu = 0;
    xv6LapicInit(m);
    const maxintr = (m.ior(0x01) >>> 16) & 0xff;
    expect(maxintr).toBe(23);
    expect(m.ior(0x00) >>> 24).toBe(2); // ioapicid = ncpu, as the MP table says
    for (let i = 0; i <= maxintr; i++) {
      m.iow(0x10 + 2 * i, 0x10000 | (T_IRQ0 + i));
      m.iow(0x10 + 2 * i + 1, 0);
    }
    m.ioapic.irqLine(4).set(true);
    expect(m.lapics[0].hasInterrupt()).toBe(false); // masked
    m.ioapic.irqLine(4).set(false);
    m.iow(0x10 + 2 * 4, T_IRQ0 + 4);
    m.iow(0x10 + 2 * 4 + 1, 0 << 24);
    m.ioapic.irqLine(4).set(true);
    expect(m.lapics[0].acknowledge()).toBe(36);
    expect(m.lapics[1].hasInterrupt()).toBe(false);
    // ioapicenable(IRQ_IDE, ncpu - 1) goes to CPU 1.
    m.iow(0x10 + 2 * 14, T_IRQ0 + 14);
    m.iow(0x10 + 2 * 14 + 1, 1 << 24);
    m.router.currentCpu = 1;
    m.w(SVR, 0x1ff);
    m.ioapic.irqLine(14).set(true);
    expect(m.lapics[1].acknowledge()).toBe(46);
  });

  it('holds a level-triggered pin with remote IRR until the LAPIC EOI broadcast', () => {
    const m = machine(1);
    m.w(SVR, 0x1ff);
    m.iow(0x10 + 2 * 9, (1 << 15) | 0x49); // level, vector 0x49, dest 0
    m.ioapic.irqLine(9).set(true);
    expect(m.ior(0x10 + 2 * 9) & (1 << 14)).not.toBe(0);
    const cpu = m.lapics[0];
    expect(cpu.acknowledge()).toBe(0x49);
    expect(m.r(0x180 + 0x20) & (1 << 9)).not.toBe(0); // TMR marks it level
    expect(cpu.hasInterrupt()).toBe(false);
    m.w(EOI, 0); // line still high: remote IRR clears and the pin fires again
    expect(cpu.acknowledge()).toBe(0x49);
    m.ioapic.irqLine(9).set(false);
    m.w(EOI, 0);
    expect(m.ior(0x10 + 2 * 9) & (1 << 14)).toBe(0);
    expect(cpu.hasInterrupt()).toBe(false);
  });

  it('saves and restores LAPIC and IOAPIC state', () => {
    const m = machine(1);
    xv6LapicInit(m);
    m.iow(0x10 + 2 * 3, 0x23);
    m.at(3_000_000);
    const l2 = new Lapic({ apicId: 0, bus: new ApicBus(), now: () => 3_000_000 });
    l2.loadState(JSON.parse(JSON.stringify(m.lapics[0].saveState())));
    expect(l2.nextDeadline()).toBe(10_000_000);
    expect(l2.mmioRead(TCCR, 4)).toBe(7_000_000);
    const io2 = new IoApic(new ApicBus(), 0);
    io2.loadState(JSON.parse(JSON.stringify(m.ioapic.saveState())));
    io2.mmioWrite(0, 4, 0x16);
    expect(io2.mmioRead(0x10, 4)).toBe(0x23);
    l2.loadState(7);
    io2.loadState({ lo: ['x'] });
  });
});
