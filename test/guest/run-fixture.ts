// Runs a fixture kernel through the real `trapvisor` CLI (as a user would)
// and returns its serial output and exit status.

import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface FixtureRun {
  serial: Buffer;
  status: number;
  stderr: string;
}

/** Extra trapvisor flags a fixture needs (disks, cpus), from fixtures/<name>/trapvisor.args. */
export function fixtureArgs(name: string): string[] {
  const f = join(ROOT, 'fixtures', name, 'trapvisor.args');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split(/\s+/).filter(Boolean).map((a) => a.replaceAll('$ROOT', ROOT));
}

export async function runFixture(name: string, mode: string, extra: string[] = []): Promise<FixtureRun> {
  const dir = mkdtempSync(join(tmpdir(), 'trapvisor-'));
  const out = join(dir, 'serial.txt');
  try {
    const r = await execa('node', [
      CLI, 'run', '--kernel', join(ROOT, 'fixtures', 'images', `${name}.elf`),
      '--mode', mode, '--memory', '128', '--serial', out, '--max-instructions', '3000000000', ...fixtureArgs(name), ...extra,
    ], { reject: false, cwd: ROOT, stdin: 'ignore', timeout: 120_000 });
    return { serial: existsSync(out) ? readFileSync(out) : Buffer.alloc(0), status: r.exitCode ?? -1, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
