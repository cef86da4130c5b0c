#!/usr/bin/env node
// scripts/bench — measures guest MIPS of the engines on CPU-bound fixture
// kernels (built dist/ required: npm run build). Prints one line per run
// and the VMM/emulate wall-time ratio. Speed targets live here, never in
// timed unit tests.
//
// Usage: node scripts/bench.mjs [--runs N] [--rounds N] [--mode M]... [--kernel NAME]...

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli)) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const args = process.argv.slice(2);
let runs = 3;
let rounds = 400; // bench.elf work rounds (its golden test uses the default 40)
const kernels = [];
const modes = [];
let breakpoints = true;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--kernel') kernels.push(args[++i]);
  else if (args[i] === '--mode') modes.push(args[++i]);
  else if (args[i] === '--no-breakpoints') breakpoints = false;
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else { console.error(`bench: unknown argument ${args[i]}`); process.exit(2); }
}
if (kernels.length === 0) kernels.push('bench');
if (modes.length === 0) modes.push('emulate', 'vmm');

const dir = mkdtempSync(join(tmpdir(), 'trapvisor-bench-'));
function runOnce(kernel, mode) {
  const stats = join(dir, 'stats.json');
  try {
    execFileSync('node', [cli, 'run', '--kernel', join(root, 'fixtures', 'images', `${kernel}.elf`), '--mode', mode, '--serial', 'none', '--cmdline', `rounds=${rounds}`, '--stats', stats], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // Fixtures exit through the debug-exit port with a non-zero status by design.
    if (!existsSync(stats)) throw new Error(`${kernel} under ${mode} failed: ${e.stderr?.toString().trim()}`);
  }
  return JSON.parse(readFileSync(stats, 'utf8'));
}

const best = {};
for (const kernel of kernels) {
  for (const mode of modes) {
    let s;
    try {
      const all = Array.from({ length: runs }, () => runOnce(kernel, mode));
      s = all.sort((a, b) => a.wallTimeMs - b.wallTimeMs)[0];
    } catch (e) {
      console.log(`${kernel.padEnd(10)} ${mode.padEnd(8)} unavailable: ${e.message.split('\n')[0]}`);
      continue;
    }
    best[`${kernel}/${mode}`] = s;
    const exits = s.engine?.exits ? Object.values(s.engine.exits).reduce((a, b) => a + b, 0) : 0;
    const extra = mode === 'vmm' && s.instructions ? `  exits/Minstr=${(exits / (s.instructions / 1e6)).toFixed(0)}` : '';
    console.log(`${kernel.padEnd(10)} ${mode.padEnd(8)} ${String(s.instructions).padStart(11)} instr  ${String(s.wallTimeMs).padStart(6)} ms  ${s.mips.toFixed(1).padStart(6)} MIPS${extra}`);
  }
  const e = best[`${kernel}/emulate`], v = best[`${kernel}/vmm`];
  if (e && v) console.log(`${kernel.padEnd(10)} ratio    vmm/emulate wall time = ${(v.wallTimeMs / e.wallTimeMs).toFixed(2)}`);
}
rmSync(dir, { recursive: true, force: true });
if (breakpoints) {
  const { benchBreakpoints } = await import('./bench-breakpoints.mjs');
  await benchBreakpoints({ runs, modes });
}
