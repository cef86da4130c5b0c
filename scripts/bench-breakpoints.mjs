#!/usr/bin/env node
// scripts/bench-breakpoints — what idle debugger breakpoints cost: guest
// MIPS on fixtures/images/bench.elf with 0 and with 50 breakpoints set
// through the machine's DebugTarget (as gdb's Z0 would) at addresses the
// guest never executes (the IDT stubs of vectors 100..149; bench takes no
// interrupts). Target: the 50-breakpoint run within 5 % of the plain one.
// Builds the machine through the library API (dist/ required: npm run build).
//
// Usage: node scripts/bench-breakpoints.mjs [--runs N] [--mode emulate|vmm]...

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const dist = process.env.TRAPVISOR_DIST ?? join(root, 'dist');
const kernel = join(root, 'fixtures', 'images', 'bench.elf');
const COUNT = 50;

/** Entry addresses of trap_stub_100..149, from the image's symbol table. */
function neverExecuted() {
  const syms = new Map();
  for (const line of execFileSync('nm', [kernel], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) \w (trap_stub_(\d+))$/.exec(line.trim());
    if (m) syms.set(Number(m[3]), Number.parseInt(m[1], 16));
  }
  const out = [];
  for (let v = 100; v < 100 + COUNT; v++) {
    if (!syms.has(v)) throw new Error(`bench.elf has no trap_stub_${v}`);
    out.push(syms.get(v));
  }
  return out;
}

async function load() {
  const imp = (p) => import(pathToFileURL(join(dist, p)).href);
  const [{ buildMachine }, { validateConfig }, { ConsoleOutput }, { MachineDebugTarget }] = await Promise.all([
    imp('src/machine/runner.js'), imp('src/machine/config.js'), imp('src/machine/console.js'), imp('src/machine/debug-target.js'),
  ]);
  return { buildMachine, validateConfig, ConsoleOutput, MachineDebugTarget };
}

/** One run to the guest's exit under the DebugTarget's own resume loop; returns { instructions, ms, mips, exit }. */
async function runOnce(lib, mode, addrs) {
  const config = lib.validateConfig({
    kernel, cmdline: 'rounds=200', disks: [], memoryMiB: 128, cpus: 1, mode, serial: 'none', maxInstructions: Infinity, quantum: 10000,
  });
  const m = lib.buildMachine(config, new lib.ConsoleOutput(null, true));
  const target = new lib.MachineDebugTarget({
    runner: m.runner, views: m.views, cpus: m.cpus, memory: m.memory, onFinished: () => {}, onKill: () => {},
  });
  for (const a of addrs) target.addBreakpoint('sw', a);
  const t0 = process.hrtime.bigint();
  const stop = await new Promise((res) => target.resume([{ thread: 0, kind: 'continue' }], res));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const instructions = m.runner.instructions;
  return { instructions, ms, mips: instructions / ms / 1000, stop };
}

export async function benchBreakpoints({ runs = 3, modes = ['emulate'] } = {}) {
  if (!existsSync(join(dist, 'src', 'machine', 'runner.js'))) throw new Error(`${dist} is missing; run \`npm run build\` first`);
  const lib = await load();
  const addrs = neverExecuted();
  for (const mode of modes) {
    const best = {};
    // One unmeasured run first: the JIT warms up on the first machine built.
    await runOnce(lib, mode, []).catch(() => {});
    // Interleave the two kinds so machine noise (other jobs) hits both alike.
    for (let r = 0; r < runs; r++) {
      for (const n of [0, COUNT]) {
        let s;
        try {
          s = await runOnce(lib, mode, addrs.slice(0, n));
        } catch (e) {
          console.log(`bench+bp  ${mode.padEnd(8)} unavailable: ${String(e?.message ?? e).split('\n')[0]}`);
          return;
        }
        if (s.stop.kind !== 'exited') {
          console.log(`bench+bp  ${mode.padEnd(8)} ${n} breakpoints: stopped early (${JSON.stringify(s.stop)})`);
          return;
        }
        if (!best[n] || s.ms < best[n].ms) best[n] = s;
      }
    }
    for (const n of [0, COUNT]) {
      const s = best[n];
      console.log(`bench+bp  ${mode.padEnd(8)} ${String(n).padStart(2)} breakpoints ${String(s.instructions).padStart(11)} instr  ${String(Math.round(s.ms)).padStart(6)} ms  ${s.mips.toFixed(1).padStart(6)} MIPS`);
    }
    const ratio = best[COUNT].mips / best[0].mips;
    console.log(`bench+bp  ${mode.padEnd(8)} ratio    MIPS with ${COUNT} / with 0 breakpoints = ${ratio.toFixed(3)} (target >= 0.95)${ratio >= 0.95 ? '' : '  MISSED'}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  let runs = 3;
  const modes = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else if (args[i] === '--mode') modes.push(args[++i]);
    else { console.error(`bench-breakpoints: unknown argument ${args[i]}`); process.exit(2); }
  }
  benchBreakpoints({ runs, modes: modes.length ? modes : ['emulate', 'vmm'] }).catch((e) => {
    console.error(`bench-breakpoints: ${e.message}`);
    process.exit(2);
  });
}
