// Runs a configured machine to completion on Node's event loop: bounded
// slices with setImmediate between them so stdin and the gdb socket are
// always served; turns the way the guest stopped into an exit status.

import { closeSync, openSync } from 'node:fs';
import { Cpu } from '../cpu/cpu.js';
import { Board } from './board.js';
import { EmulateEngine } from './emulate-engine.js';
import type { Engine } from './engine.js';
import { GuestRunner, startGuest, type StopReason } from './pc.js';
import { ConfigError, type MachineConfig } from './config.js';
import { ConsoleOutput, attachStdin } from './console.js';
import { CpuView, type VcpuView } from './vcpu-view.js';
import { MachineDebugTarget, type DebugMemory } from './debug-target.js';
import { buildVmmHost, GuestRoundRobin, guestDone } from './host.js';
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
  /** The CPUs executing the guest (under the VMM: the real, deprivileged ones and the real-mode interpreters). */
  cpus: Cpu[];
  /** The CPU executing vCPU i right now. */
  cpuOf: (i: number) => Cpu;
  engine: Engine;
  runner: GuestRunner;
  views: VcpuView[];
  memory: DebugMemory;
  monitor?: (cmd: string) => string | null;
  monitorHelp?: string;
  /** Engine state to drop before a system reset. */
  beforeReset?: () => void;
}

/** Build the board, vCPUs and engine for a config. */
export function buildMachine(config: MachineConfig, out: ConsoleOutput): BuiltMachine {
  // Under the VMM the guest's RAM is a window on host RAM; the VMM's
  // structures and every other guest live outside it (host.ts).
  if (config.mode === 'vmm') return buildVmmHost([config], [out]).machines[0];
  const board = new Board(config, out);
  const cpus = Array.from({ length: config.cpus }, (_, i) => {
    const cpu = new Cpu(board.mem, board.io, { apicId: i });
    cpu.interrupts = board.interruptSources[i];
    return cpu;
  });
  const engine = new EmulateEngine(cpus);
  return {
    board, cpus, engine,
    cpuOf: (i) => cpus[i],
    runner: startGuest(board, engine, config.cpus, config.quantum),
    views: cpus.map((c, i) => new CpuView(c, i)),
    memory: {
      read: (a, l) => board.mem.peek(a, l),
      write: (a, d) => board.mem.poke(a, d),
      isRam: (a) => board.mem.isRam(a),
    },
  };
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

/** Where guest `k`'s COM1 goes with --guests N: guest 0 to --serial, guest k to FILE.k (stdio/none: discarded). */
export function guestSerial(serial: string, k: number): string {
  if (k === 0) return serial;
  return serial === 'stdio' || serial === 'none' ? 'none' : `${serial}.${k}`;
}

/** --guests N (N > 1) under the VMM: N copies of the configured guest, round-robin. */
async function runGuests(config: MachineConfig, opts: RunOptions): Promise<RunResult> {
  const n = config.guests ?? 1;
  const fds: Array<number | null> = [];
  const outs: ConsoleOutput[] = [];
  try {
    for (let k = 0; k < n; k++) {
      const serial = guestSerial(config.serial, k);
      let fd: number | null = null;
      if (serial !== 'stdio' && serial !== 'none') {
        try {
          fd = openSync(serial, 'w');
        } catch (e) {
          throw new ConfigError(`cannot open serial output ${serial}: ${(e as Error).message}`);
        }
      }
      fds.push(fd);
      outs.push(new ConsoleOutput(serial === 'stdio' ? 1 : fd, serial === 'none', opts.cgaMirror ?? 'auto'));
    }
    const { machines } = buildVmmHost(Array.from({ length: n }, () => config), outs);
    const first = machines[0];
    const detachStdin = config.serial === 'stdio'
      ? attachStdin(first.board, () => first.runner.stop === null && (first.runner.stop = { kind: 'exit', status: 0 }))
      : () => {};
    const rr = new GuestRoundRobin(machines, config.maxInstructions);
    const t0 = process.hrtime.bigint();
    try {
      while (!rr.allDone) {
        const busy = rr.run(SLICE);
        for (const o of outs) o.flush();
        if (!rr.allDone) await new Promise<void>((r) => (busy ? setImmediate(r) : setTimeout(r, 2)));
      }
    } finally {
      for (const o of outs) o.flush();
      detachStdin();
      for (const m of machines) for (const d of m.board.disks) d.close();
    }
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const perGuest = machines.map((m, k) => {
      const stop = m.board.stop ?? m.runner.stop;
      const d = describe(stop);
      return {
        guest: k, serial: guestSerial(config.serial, k), exitCode: d.exitCode, message: d.message ?? null,
        instructions: m.runner.instructions, virtualTimeNs: m.board.clock.now, stop: stop?.kind ?? 'none', engine: m.engine.stats(),
      };
    });
    const total = perGuest.reduce((a, g) => a + g.instructions, 0);
    const messages = perGuest.filter((g) => g.message).map((g) => `guest ${g.guest}: ${g.message}`);
    return {
      exitCode: perGuest[0].exitCode,
      message: messages.length ? messages.join('; ') : undefined,
      stats: {
        mode: 'vmm', guests: n, cpus: config.cpus, instructions: total, wallTimeMs: Math.round(wallMs),
        mips: wallMs > 0 ? Math.round((total / wallMs / 1000) * 10) / 10 : 0, perGuest,
      },
    };
  } finally {
    for (const fd of fds) if (fd !== null) closeSync(fd);
  }
}

export async function runMachine(config: MachineConfig, opts: RunOptions = {}): Promise<RunResult> {
  if ((config.guests ?? 1) > 1) {
    if (config.mode !== 'vmm') throw new ConfigError('--guests needs --mode vmm');
    if (opts.gdbPort !== undefined) throw new ConfigError('--gdb debugs one guest: not with --guests');
    return runGuests(config, opts);
  }
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

/** Reset line: devices and vCPUs to power-on state, then boot the configured kernel/disk again. */
export function resetMachine(m: BuiltMachine): void {
  const { board, engine, runner } = m;
  m.beforeReset?.();
  board.resetDevices();
  for (let i = 0; i < runner.vcpuCount; i++) {
    engine.initVcpu(i);
    runner.started[i] = i === 0;
  }
  runner.stop = null;
  engine.loadBootState(0, board.boot());
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
    cpuOf: m.cpuOf,
    memory: m.memory,
    monitor: m.monitor,
    monitorHelp: m.monitorHelp,
    reset: () => resetMachine(m),
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
