// One guest's PC board: its guest-physical memory, port bus, virtual clock
// and devices, wired the way a PC wires them. Knows nothing of how its
// vCPUs are executed (emulate or VMM); it only tells the run loop when the
// guest asked to stop and what time it is.

import { readFileSync } from 'node:fs';
import { PhysMem } from '../bus/phys-mem.js';
import { IoBus } from '../bus/io-bus.js';
import { Clock } from '../bus/clock.js';
import type { InterruptSource, IrqLine } from '../bus/irq.js';
import { Pic8259 } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Port61 } from '../devices/port61.js';
import { Port92 } from '../devices/port92.js';
import { Uart16550, COM1_BASE } from '../devices/uart16550.js';
import { DebugExit } from '../devices/debug-exit.js';
import { PortE9 } from '../devices/port-e9.js';
import { PostPort } from '../devices/post-port.js';
import { IdeChannel } from '../devices/ide.js';
import { DiskImage } from '../devices/disk-image.js';
import { Kbd8042 } from '../devices/kbd8042.js';
import { ApicBus } from '../devices/apic-bus.js';
import { Lapic, LapicRouter } from '../devices/lapic.js';
import { IoApic } from '../devices/ioapic.js';
import { writeMpTable } from '../devices/mptable.js';
import { fanout } from '../bus/irq.js';
import { Cga } from '../devices/cga.js';
import { RtcCmos } from '../devices/rtc-cmos.js';
import { loadMultiboot, MULTIBOOT_BOOTLOADER_MAGIC } from '../boot/multiboot.js';
import { loadBootSector, BOOT_DRIVE } from '../boot/bootsector.js';
import { writeBiosData } from '../boot/bios.js';
import { bootSectorState, multibootState, writeLoaderGdt, type BootState } from '../boot/boot-state.js';
import { BootError } from '../boot/elf.js';
import { placeDisks, type DiskSpec, type MachineConfig } from './config.js';

/** What the RTC reads at virtual time 0. */
export const RTC_EPOCH = Date.UTC(2026, 0, 1, 0, 0, 0);

export type BoardStop = { kind: 'exit'; status: number } | { kind: 'reset'; vcpu: number };

export interface BoardIo {
  /** A byte the guest wrote to COM1. */
  serialOut(byte: number): void;
  /** Text the guest put on the CGA screen, recovered as a teletype stream. */
  cgaText?(text: string): void;
  /** A byte the guest wrote to the 0xE9 debug console. */
  debugConsoleOut?(byte: number): void;
}

export class Board {
  readonly mem: PhysMem;
  readonly io = new IoBus();
  readonly clock = new Clock();
  readonly pic: Pic8259;
  readonly pit: Pit8254;
  readonly uart: Uart16550;
  readonly ide: IdeChannel;
  readonly kbd: Kbd8042;
  readonly apicBus: ApicBus;
  readonly lapics: Lapic[];
  readonly lapicRouter: LapicRouter;
  readonly ioapic: IoApic;
  readonly cga: Cga;
  readonly rtc: RtcCmos;
  /** INIT/STARTUP IPIs reach the vCPUs through this (set by the machine). */
  cpuControl: { init(apicId: number): void; startup(apicId: number, vector: number): void } = { init: () => {}, startup: () => {} };
  readonly disks: DiskImage[];
  readonly master: DiskImage | null;
  readonly slave: DiskImage | null;
  /** Per vCPU: what its INTR pin is connected to. */
  readonly interruptSources: InterruptSource[];
  stop: BoardStop | null = null;
  /** Interactive console or debugger: idle waits for the outside instead of ending. */
  externalWakeups = false;
  throttleIdle = false;
  private currentCpu = 0;
  private quantumStartNs = 0;
  private quantumStartInsns = 0;
  private instructionsOf: (i: number) => number = () => 0;

  constructor(readonly config: MachineConfig, out: BoardIo, mem?: PhysMem) {
    this.mem = mem ?? new PhysMem(config.memoryMiB << 20);
    const now = () => this.now();
    this.pic = new Pic8259();
    this.pic.register(this.io);
    // Local APICs (one per vCPU, all at 0xFEE00000: the router picks the
    // running vCPU's) and an IOAPIC, connected by the APIC bus. The BSP's
    // LINT0 is ExtINT, so the 8259 still reaches it (virtual wire mode).
    this.apicBus = new ApicBus({
      onInit: (id) => this.cpuControl.init(id),
      onStartup: (id, vector) => this.cpuControl.startup(id, vector),
    });
    this.lapics = Array.from({ length: config.cpus }, (_, i) => new Lapic({ apicId: i, bus: this.apicBus, bsp: i === 0, pic: i === 0 ? this.pic : null, now }));
    this.lapicRouter = new LapicRouter(this.lapics);
    this.lapicRouter.register(this.mem);
    for (const l of this.lapics) this.clock.add(l);
    this.ioapic = new IoApic(this.apicBus, config.cpus);
    this.ioapic.register(this.mem);
    // ISA IRQ n drives PIC input n and IOAPIC pin n, except IRQ0 -> pin 2
    // (the MP table's interrupt override, as on QEMU's board).
    const isa = Array.from({ length: 16 }, (_, n) => fanout(this.pic.irqLine(n), this.ioapic.irqLine(n === 0 ? 2 : n)));
    const irq = (n: number): IrqLine => isa[n];
    this.pit = new Pit8254({ irq: irq(0), now });
    this.pit.register(this.io);
    this.clock.add(this.pit);
    new Port61(this.pit).register(this.io);
    new Port92({ onReset: () => this.requestStop({ kind: 'reset', vcpu: this.currentCpu }) }).register(this.io);
    this.uart = new Uart16550({ irq: irq(4), onTransmit: (b) => { if (this.stop === null) out.serialOut(b); }, base: COM1_BASE });
    this.uart.register(this.io);
    new DebugExit((status) => this.requestStop({ kind: 'exit', status })).register(this.io);
    new PortE9((b) => out.debugConsoleOut?.(b)).register(this.io);
    new PostPort().register(this.io);
    const placed = placeDisks(config.disks, config.kernel !== undefined);
    const open = (d?: DiskSpec) => (d ? DiskImage.fromFile(d.path, { writable: d.writable }) : null);
    this.master = open(placed.master);
    this.slave = open(placed.slave);
    this.disks = [this.master, this.slave].filter((d): d is DiskImage => d !== null);
    this.ide = new IdeChannel({ irq: irq(14), master: this.master, slave: this.slave });
    this.ide.register(this.io);
    this.cga = new Cga({ onText: (t) => out.cgaText?.(t) });
    this.cga.register(this.io, this.mem);
    // Deterministic wall clock: the RTC starts at a fixed date and advances
    // with virtual time, so runs reproduce.
    this.rtc = new RtcCmos({ startTime: RTC_EPOCH, memoryBytes: this.mem.ramSize, irq: irq(8), now });
    this.rtc.register(this.io);
    this.clock.add(this.rtc);
    this.kbd = new Kbd8042({ irq1: irq(1), irq12: irq(12), onReset: () => this.requestStop({ kind: 'reset', vcpu: this.currentCpu }) });
    this.kbd.register(this.io);
    this.interruptSources = this.lapics;
  }

  /** Current virtual time in ns, including instructions retired in the running quantum. */
  now(): number {
    return this.quantumStartNs + (this.instructionsOf(this.currentCpu) - this.quantumStartInsns);
  }

  setInstructionCounter(f: (i: number) => number): void {
    this.instructionsOf = f;
  }

  setCurrentCpu(i: number): void {
    this.currentCpu = i;
    this.lapicRouter.currentCpu = i;
  }

  beginQuantum(nowNs: number, instructionsBefore: number): void {
    this.quantumStartNs = nowNs;
    this.quantumStartInsns = instructionsBefore;
  }

  requestStop(s: BoardStop): void {
    if (this.stop === null) this.stop = s;
  }

  mayWakeFromOutside(): boolean {
    return this.externalWakeups;
  }

  describeTripleFault(i: number): string {
    return `guest triple-faulted on vCPU ${i} (shutdown)`;
  }

  /** A system reset as the chipset's reset line gives it: every device back to its power-on state (RAM is kept). */
  resetDevices(): void {
    this.pic.reset();
    this.pit.reset();
    this.uart.reset();
    this.ide.reset();
    this.kbd.reset();
    this.cga.reset();
    for (const l of this.lapics) l.reset();
    this.ioapic.reset();
    this.stop = null;
  }

  /** Load what the config boots into guest memory; returns the BSP's starting state. */
  boot(): BootState {
    writeBiosData(this.mem);
    writeMpTable(this.mem, { cpus: this.config.cpus });
    const c = this.config;
    if (c.kernel !== undefined) {
      let img: Uint8Array;
      try {
        img = new Uint8Array(readFileSync(c.kernel));
      } catch (e) {
        throw new BootError(`cannot read kernel ${c.kernel}: ${(e as Error).message}`);
      }
      const k = loadMultiboot(this.mem, img, c.cmdline);
      writeLoaderGdt(this.mem);
      return multibootState(k.entry, k.infoAddr, MULTIBOOT_BOOTLOADER_MAGIC);
    }
    if (!this.master) throw new BootError('no primary master disk to boot from');
    loadBootSector(this.mem, this.master.data);
    return bootSectorState(BOOT_DRIVE);
  }
}
