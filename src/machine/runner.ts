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
import { MachineDebugTarget } from './debug-target.js';
import { CpuView } from './vcpu-view.js';
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

/** Build the board, vCPUs and engine for a config (emulate mode). */
export function buildMachine(config: MachineConfig, out: ConsoleOutput): { board: Board; cpus: Cpu[]; engine: Engine; runner: GuestRunner } {
  if (config.mode === 'vmm') throw new ConfigError('--mode vmm is not built yet; use --mode emulate');
  const board = new Board(config, out);
  const cpus = Array.from({ length: config.cpus }, (_, i) => {
    const cpu = new Cpu(board.mem, board.io, { apicId: i });
    cpu.interrupts = board.interruptSources[i];
    return cpu;
  });
  const engine = new EmulateEngine(cpus);
  board.setInstructionCounter((i) => engine.instructions(i));
  const runner = new GuestRunner(board, engine, config.cpus, config.quantum);
  board.cpuControl = {
    init: (id) => { if (id < cpus.length) { engine.initVcpu(id); runner.started[id] = false; } },
    startup: (id, vector) => { if (id < cpus.length && !runner.started[id]) { engine.startupVcpu(id, vector); runner.started[id] = true; } },
  };
  engine.loadBootState(0, board.boot());
  return { board, cpus, engine, runner };
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
  const out = new ConsoleOutput(config.serial === 'stdio' ? 1 : serialFd, config.serial === 'none');
  const { board, engine, runner, cpus } = buildMachine(config, out);
  const detachStdin = config.serial === 'stdio' ? attachStdin(board, () => runner.stop === null && (runner.stop = { kind: 'exit', status: 0 })) : () => {};

  const t0 = process.hrtime.bigint();
  try {
    if (opts.gdbPort !== undefined) {
      await serveGdb(opts.gdbPort, Boolean(opts.wait), runner, cpus, board, out);
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
async function serveGdb(port: number, wait: boolean, runner: GuestRunner, cpus: Cpu[], board: Board, out: ConsoleOutput): Promise<void> {
  board.externalWakeups = true; // Ctrl-C can always come
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const flushing = setInterval(() => out.flush(), 50);
  const target = new MachineDebugTarget({
    runner,
    views: cpus.map((c, i) => new CpuView(c, i)),
    cpus,
    memory: {
      read: (a, l) => board.mem.peek(a, l),
      write: (a, d) => board.mem.poke(a, d),
      isRam: (a) => board.mem.isRam(a),
    },
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
