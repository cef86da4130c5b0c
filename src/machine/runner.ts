// Runs a configured machine to completion on Node's event loop: bounded
// slices with setImmediate between them so stdin and the gdb socket are
// always served; turns the way the guest stopped into an exit status.

import { closeSync, openSync } from 'node:fs';
import { Cpu } from '../cpu/cpu.js';
import { Board } from './board.js';
import { EmulateEngine } from './emulate-engine.js';
import type { Engine } from './engine.js';
import { GuestRunner, type StopReason } from './pc.js';
import { ConfigError, type MachineConfig } from './config.js';
import { ConsoleOutput, attachStdin } from './console.js';
import { CpuView, VmmVcpuView, type VcpuView } from './vcpu-view.js';
import { MachineDebugTarget, type DebugMemory } from './debug-target.js';
import { PhysMem } from '../bus/phys-mem.js';
import { planHost } from '../vmm/guests.js';
import { createVmmEngine } from '../vmm/monitor.js';
import { vmmMonitor, VMM_MONITOR_HELP } from './vmm-monitor.js';
import { startGdbServer } from '../../stub/index.js';

export interface RunOptions {
  gdbPort?: number;
  wait?: boolean;
  cgaMirror?: 'auto' | 'on' | 'off';
}

export interface RunResult {
  exitCode: number;
  message?: string;
  stats: Record<string, unknown>;
}

/** Instructions per event-loop turn: ~10-40 ms of work. */
const SLICE = 1_000_000;

export interface BuiltMachine {
  board: Board;
  /** The CPUs executing the guest (under the VMM: the real, deprivileged ones). */
  cpus: Cpu[];
  engine: Engine;
  runner: GuestRunner;
  views: VcpuView[];
  memory: DebugMemory;
  monitor?: (cmd: string) => string | null;
  monitorHelp?: string;
}

/** Build the board, vCPUs and engine for a config. */
export function buildMachine(config: MachineConfig, out: ConsoleOutput): BuiltMachine {
  const guestBytes = config.memoryMiB << 20;
  let board: Board;
  let cpus: Cpu[];
  let engine: Engine;
  let views: VcpuView[];
  let memory: DebugMemory;
  let monitor: BuiltMachine['monitor'];
  let monitorHelp: string | undefined;
  if (config.mode === 'vmm') {
    // The guest's RAM is a window on host RAM; the VMM's structures and
    // every other guest live outside it.
    const layout = planHost([{ size: guestBytes, vcpus: config.cpus }]);
    const host = new PhysMem(layout.hostRamBytes);
    const place = layout.guests[0];
    board = new Board(config, out, host.window(place.base, place.size));
    const mon = createVmmEngine({ host, mem: board.mem, place, io: board.io, interrupts: board.interruptSources });
    engine = mon;
    cpus = mon.vcpus.map((v) => v.cpu);
    views = mon.vcpus.map((v) => new VmmVcpuView(v));
    const reg = mon.guest.registry;
    memory = {
      read: (a, l) => reg.originalBytes(a, l),
      write: (a, d) => reg.debuggerWrite(a, d),
      isRam: (a) => board.mem.isRam(a),
    };
    monitor = (cmd) => vmmMonitor(mon, cmd);
    monitorHelp = VMM_MONITOR_HELP;
  } else {
    board = new Board(config, out);
    cpus = Array.from({ length: config.cpus }, (_, i) => {
      const cpu = new Cpu(board.mem, board.io, { apicId: i });
      cpu.interrupts = board.interruptSources[i];
      return cpu;
    });
    engine = new EmulateEngine(cpus);
    views = cpus.map((c, i) => new CpuView(c, i));
    memory = {
      read: (a, l) => board.mem.peek(a, l),
      write: (a, d) => board.mem.poke(a, d),
      isRam: (a) => board.mem.isRam(a),
    };
  }
  board.setInstructionCounter((i) => engine.instructions(i));
  const runner = new GuestRunner(board, engine, config.cpus, config.quantum);
  board.cpuControl = {
    init: (id) => { if (id < cpus.length) { engine.initVcpu(id); runner.started[id] = false; } },
    startup: (id, vector) => { if (id < cpus.length && !runner.started[id]) { engine.startupVcpu(id, vector); runner.started[id] = true; } },
  };
  engine.loadBootState(0, board.boot());
  return { board, cpus, engine, runner, views, memory, monitor, monitorHelp };
}

function describe(stop: StopReason | null): { exitCode: number; message?: string } {
  if (stop === null) return { exitCode: 0 };
  switch (stop.kind) {
    case 'exit': return { exitCode: stop.status };
    case 'triple-fault': return { exitCode: 3, message: stop.message };
    case 'reset': return { exitCode: 0, message: 'guest requested a system reset; stopping (like qemu -no-reboot)' };
    case 'limit': return { exitCode: 124, message: 'instruction limit reached (--max-instructions)' };
    case 'idle': return { exitCode: 0, message: 'guest halted with nothing left to wake it' };
    default: return { exitCode: 5, message: `stopped: ${stop.kind}` };
  }
}

export async function runMachine(config: MachineConfig, opts: RunOptions = {}): Promise<RunResult> {
  let serialFd: number | null = null;
  if (config.serial !== 'stdio' && config.serial !== 'none') {
    try {
      serialFd = openSync(config.serial, 'w');
    } catch (e) {
      throw new ConfigError(`cannot open serial output ${config.serial}: ${(e as Error).message}`);
    }
  }
  const out = new ConsoleOutput(config.serial === 'stdio' ? 1 : serialFd, config.serial === 'none', opts.cgaMirror ?? 'auto');
  const m = buildMachine(config, out);
  const { board, engine, runner } = m;
  const detachStdin = config.serial === 'stdio' ? attachStdin(board, () => runner.stop === null && (runner.stop = { kind: 'exit', status: 0 })) : () => {};

  const t0 = process.hrtime.bigint();
  try {
    if (opts.gdbPort !== undefined) {
      await serveGdb(opts.gdbPort, Boolean(opts.wait), m, out);
    } else while (runner.stop === null && board.stop === null) {
      const left = config.maxInstructions - runner.instructions;
      if (left <= 0) { runner.stop = { kind: 'limit' }; break; }
      runner.runSlice(Math.min(SLICE, left));
      out.flush();
      if (runner.stop === null && board.stop === null) {
        await new Promise<void>((r) => (runner.idled ? setTimeout(r, 2) : setImmediate(r)));
      }
    }
  } finally {
    out.flush();
    detachStdin();
    if (serialFd !== null) closeSync(serialFd);
    for (const d of board.disks) d.close();
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const stop = board.stop ?? runner.stop;
  const res = describe(stop);
  const stats = {
    mode: engine.name,
    cpus: config.cpus,
    instructions: runner.instructions,
    wallTimeMs: Math.round(wallMs),
    mips: wallMs > 0 ? Math.round((runner.instructions / wallMs / 1000) * 10) / 10 : 0,
    virtualTimeNs: board.clock.now,
    stop: stop?.kind ?? 'none',
    engine: engine.stats(),
  };
  return { ...res, stats };
}

/** Run under the debugger: gdb drives execution until the guest ends or gdb kills it. */
async function serveGdb(port: number, wait: boolean, m: BuiltMachine, out: ConsoleOutput): Promise<void> {
  const { runner, board } = m;
  board.externalWakeups = true; // Ctrl-C can always come
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const flushing = setInterval(() => out.flush(), 50);
  const target = new MachineDebugTarget({
    runner,
    views: m.views,
    cpus: m.cpus,
    memory: m.memory,
    monitor: m.monitor,
    monitorHelp: m.monitorHelp,
    onFinished: () => finish(),
    onKill: () => {
      runner.stop = { kind: 'exit', status: 0 };
      finish();
    },
  });
  let server;
  try {
    server = await startGdbServer({ target, port, startRunning: !wait, onKill: () => finish() });
  } catch (e) {
    clearInterval(flushing);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`gdb port ${port} is already in use`);
    if (code === 'EACCES') throw new ConfigError(`no permission to listen on gdb port ${port}`);
    throw new ConfigError(`cannot listen for gdb on port ${port}: ${(e as Error).message}`);
  }
  process.stderr.write(`trapvisor: waiting for gdb on 127.0.0.1:${server.port}${wait ? ' (guest halted until gdb continues)' : ''}\n`);
  try {
    await finished;
  } finally {
    clearInterval(flushing);
    await server.close();
  }
}
