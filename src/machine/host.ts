// Several guests on one host under the VMM (--guests N): one host RAM
// split by planHost into disjoint guest ranges plus the VMM's areas, one
// board (devices, clock, console) and one monitor per guest, and the
// deterministic round-robin that gives each running guest a quantum of
// instructions in turn. A guest that stops (exit, triple fault, limit)
// drops out; the others go on.

import { PhysMem } from '../bus/phys-mem.js';
import { planHost, GuestScheduler, type GuestPlacement, type HostLayout } from '../vmm/guests.js';
import { createVmmEngine } from '../vmm/monitor.js';
import { Board, type BoardIo } from './board.js';
import type { MachineConfig } from './config.js';
import { startGuest } from './pc.js';
import type { BuiltMachine } from './runner.js';
import { VmmVcpuView } from './vcpu-view.js';
import { vmmMonitor, VMM_MONITOR_HELP } from './vmm-monitor.js';

/** Instructions one guest runs before the next guest's turn. */
export const GUEST_QUANTUM = 100_000;

export interface VmmHost {
  host: PhysMem;
  layout: HostLayout;
  machines: BuiltMachine[];
}

/** One guest's board, monitor and run loop on its placement in `host`. */
export function buildVmmGuest(config: MachineConfig, out: BoardIo, host: PhysMem, place: GuestPlacement): BuiltMachine {
  const board = new Board(config, out, host.window(place.base, place.size));
  const mon = createVmmEngine({ host, mem: board.mem, place, io: board.io, interrupts: board.interruptSources });
  // Breakpoints/watchpoints are armed in the deprivileged CPUs and in the
  // interpreters that run real-mode phases.
  const cpus = mon.vcpus.flatMap((v) => [v.cpu, v.interpreter.cpu]);
  const reg = mon.guest.registry;
  const runner = startGuest(board, mon, config.cpus, config.quantum);
  return {
    board, cpus, engine: mon, runner,
    cpuOf: (i) => (mon.vcpus[i].interpreting ? mon.vcpus[i].interpreter.cpu : mon.vcpus[i].cpu),
    views: mon.vcpus.map((v) => new VmmVcpuView(v)),
    memory: {
      read: (a, l) => reg.originalBytes(a, l),
      write: (a, d) => reg.debuggerWrite(a, d),
      isRam: (a) => board.mem.isRam(a),
    },
    monitor: (cmd) => vmmMonitor(mon, cmd),
    beforeReset: () => {
      // Forget the VMM's view of the old run: put back every original byte
      // it patched and drop every shadow mapping.
      const pages = new Set(reg.patches().map((p) => p.gpa >>> 12));
      for (const page of pages) reg.dropPage(page);
      for (const v of mon.vcpus) v.flushShadow();
    },
    monitorHelp: VMM_MONITOR_HELP,
  };
}

/** Guests side by side on one host: configs[k] runs with console outs[k]. */
export function buildVmmHost(configs: MachineConfig[], outs: BoardIo[]): VmmHost {
  const layout = planHost(configs.map((c) => ({ size: c.memoryMiB << 20, vcpus: c.cpus })));
  const host = new PhysMem(layout.hostRamBytes);
  const machines = configs.map((c, k) => buildVmmGuest(c, outs[k], host, layout.guests[k]));
  return { host, layout, machines };
}

/** Has guest `m` stopped for good (its own stop reason or its board's)? */
export function guestDone(m: BuiltMachine): boolean {
  return m.runner.stop !== null || m.board.stop !== null;
}

/**
 * Deterministic round-robin over guests: each turn, the next guest that
 * can run gets up to GUEST_QUANTUM instructions (never beyond its own
 * `limit`). Runs until `budget` instructions in total have retired or no
 * guest can run. Returns false when every guest is done or waits for
 * outside input (nothing more can happen without the event loop).
 */
export class GuestRoundRobin {
  private readonly sched: GuestScheduler;
  /** Guests that waited (idle, e.g. for stdin) in the last pass. */
  private readonly waiting: boolean[];

  constructor(readonly machines: BuiltMachine[], readonly limit: number, readonly quantum = GUEST_QUANTUM) {
    this.sched = new GuestScheduler(machines.length, quantum);
    this.waiting = machines.map(() => false);
  }

  run(budget: number): boolean {
    let left = budget;
    this.waiting.fill(false);
    while (left > 0) {
      const k = this.sched.pick((i) => !guestDone(this.machines[i]) && !this.waiting[i]);
      if (k < 0) break;
      const r = this.machines[k].runner;
      const mine = this.limit - r.instructions;
      if (mine <= 0) { r.stop = { kind: 'limit' }; continue; }
      const before = r.instructions;
      r.runSlice(Math.min(this.quantum, mine, left));
      left -= r.instructions - before;
      if (r.idled) this.waiting[k] = true;
    }
    return this.machines.some((m) => !guestDone(m)) && left <= 0;
  }

  get allDone(): boolean {
    return this.machines.every(guestDone);
  }
}
