// One gdb end-to-end session: start the real `trapvisor` CLI halted with
// `--gdb 0 --wait`, run a stock `gdb -batch` script against it through
// `target remote`, and hand back gdb's own stdout (the thing under test).
// Sessions are limited to a few at a time: the machine has two cores.

import { execa, type ResultPromise } from 'execa';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** TRAPVISOR_DIST lets a run use a build made outside the shared dist/. */
export const CLI = join(process.env.TRAPVISOR_DIST ?? join(ROOT, 'dist'), 'src', 'cli', 'main.js');
export const KERNEL = join(ROOT, 'fixtures', 'images', 'gdbtarget.elf');

/** Why the gdb suite cannot run here, or null. */
export function gdbMissing(): string | null {
  const r = spawnSync('gdb', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'gdb is not installed (apt-get install gdb)';
  return null;
}

export interface Machine {
  port: number;
  proc: ResultPromise;
  stderr(): string;
  /** Ends the trapvisor process if gdb did not (kill/exit) and returns its exit code. */
  stop(): Promise<number | undefined>;
}

export interface MachineOptions {
  mode: string;
  cpus?: number;
}

/** Start trapvisor halted, waiting for gdb; resolves once it printed its port. */
export async function startMachine(o: MachineOptions): Promise<Machine> {
  const proc = execa('node', [
    CLI, 'run', '--kernel', KERNEL, '--gdb', '0', '--wait', '--mode', o.mode, '--serial', 'none', '--cpus', String(o.cpus ?? 1),
  ], { reject: false, cwd: ROOT, stdin: 'ignore', timeout: 60_000, buffer: false });
  let err = '';
  const port = await new Promise<number>((res, rej) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /waiting for gdb on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) res(Number(m[1]));
    });
    proc.then((r) => rej(new Error(`trapvisor exited (${r.exitCode}) before listening: ${err}`)), rej);
  });
  let result: Awaited<ResultPromise> | undefined;
  const ended = proc.then((r) => (result = r));
  return {
    port,
    proc,
    stderr: () => err,
    async stop() {
      const t = setTimeout(() => proc.kill('SIGTERM'), 2000);
      await ended;
      clearTimeout(t);
      return result?.exitCode;
    },
  };
}

export interface GdbOptions {
  /** Send SIGINT to gdb this many ms after it printed `echo <marker>` (a `continue` follows the marker). */
  interruptAfter?: { marker: string; ms: number };
  timeoutMs?: number;
}

/** Run gdb -batch with `lines` after `target remote`; returns its stdout and stderr as gdb wrote them. */
export async function runGdb(port: number, lines: string[], o: GdbOptions = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'trapvisor-gdb-'));
  const script = join(dir, 'script.gdb');
  writeFileSync(script, ['set pagination off', 'set confirm off', 'set width 0', `target remote 127.0.0.1:${port}`, ...lines, ''].join('\n'));
  // stdout and stderr share one file description, so gdb's messages, its
  // errors and the target's monitor output stay in the order gdb wrote them.
  const log = join(dir, 'gdb.out');
  const fd = openSync(log, 'w');
  let poll: NodeJS.Timeout | undefined;
  try {
    const p = execa('gdb', ['-batch', '-nx', '-x', script, KERNEL], { reject: false, cwd: ROOT, stdin: 'ignore', stdout: fd, stderr: fd, timeout: o.timeoutMs ?? 40_000 });
    if (o.interruptAfter) {
      const { marker, ms } = o.interruptAfter;
      poll = setInterval(() => {
        if (!readFileSync(log, 'utf8').includes(marker)) return;
        clearInterval(poll);
        setTimeout(() => p.kill('SIGINT'), ms);
      }, 50);
    }
    await p;
    return readFileSync(log, 'utf8');
  } finally {
    clearInterval(poll);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A machine and one gdb script against it; the machine is always ended. */
export async function session(m: MachineOptions, lines: string[], o: GdbOptions = {}): Promise<{ out: string; machine: Machine }> {
  return limit(async () => {
    const machine = await startMachine(m);
    try {
      const out = await runGdb(machine.port, lines, o);
      return { out, machine };
    } finally {
      await machine.stop();
    }
  });
}

// ---- at most LIMIT sessions at once ----
const LIMIT = Number(process.env.GDB_E2E_JOBS ?? 3);
let active = 0;
const waiting: Array<() => void> = [];
export async function limit<T>(fn: () => Promise<T>): Promise<T> {
  if (active >= LIMIT) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await fn();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

/** gdb's `$N = V` values in order. */
export function values(out: string): string[] {
  return [...out.matchAll(/^\$\d+ = (.*)$/gm)].map((m) => m[1].trim());
}
