#!/usr/bin/env node
// The `trapvisor` command: flags -> MachineConfig -> machine. Thin on
// purpose; every user-facing failure becomes one line on stderr and a
// non-zero exit, never a stack trace.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { writeFileSync } from 'node:fs';
import {
  ConfigError, DEFAULT_MEMORY_MIB, parseDiskSpec, validateConfig, type MachineConfig, type Mode,
} from '../machine/config.js';
import { BootError } from '../boot/elf.js';
import { runMachine, type RunOptions } from '../machine/runner.js';

function fail(msg: string, code = 2): never {
  process.stderr.write(`trapvisor: ${msg}\n`);
  process.exit(code);
}

async function runCommand(argv: Record<string, unknown>): Promise<void> {
  const disks = ((argv.disk as string[] | undefined) ?? []).map(parseDiskSpec);
  const config: MachineConfig = validateConfig({
    kernel: argv.kernel as string | undefined,
    cmdline: (argv.cmdline as string | undefined) ?? '',
    disks,
    memoryMiB: argv.memory as number,
    cpus: argv.cpus as number,
    mode: argv.mode as Mode,
    serial: argv.serial as string,
    maxInstructions: (argv['max-instructions'] as number | undefined) ?? Infinity,
    quantum: argv.quantum as number,
    guests: argv.guests as number,
  });
  const gdbArg = argv.gdb as number | undefined;
  const opts: RunOptions = {
    gdbPort: gdbArg === undefined ? undefined : gdbArg,
    wait: Boolean(argv.wait),
    cgaMirror: argv.cga as 'auto' | 'on' | 'off',
  };
  const result = await runMachine(config, opts);
  if (argv.stats) {
    writeFileSync(argv.stats as string, JSON.stringify(result.stats, null, 2) + '\n');
  }
  if (result.message) process.stderr.write(`trapvisor: ${result.message}\n`);
  process.exitCode = result.exitCode;
}

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('trapvisor')
    .usage('$0 run --kernel FILE | --disk FILE [options]')
    .command(
      'run',
      'boot a kernel (multiboot ELF) or a disk image and run it',
      (y) => y
        .option('kernel', { type: 'string', describe: 'multiboot (v1) ELF kernel to load' })
        .option('disk', { type: 'string', array: true, describe: 'IDE disk image FILE[,writable][,master|,slave]: first = primary master, second = slave (with --kernel a lone disk is the slave); without --kernel the master is booted. Writes stay in memory unless ,writable' })
        .option('cmdline', { type: 'string', describe: 'multiboot command line' })
        .option('memory', { type: 'number', default: DEFAULT_MEMORY_MIB, describe: 'guest memory in MiB' })
        .option('cpus', { type: 'number', default: 1, describe: 'number of vCPUs' })
        .option('mode', { choices: ['vmm', 'emulate'] as const, default: 'vmm' as const, describe: 'execution engine: vmm runs the guest kernel deprivileged at CPL 3 (trap-and-emulate, shadow page tables, INT 3 patching); emulate interprets everything (the baseline)' })
        .option('serial', { type: 'string', default: 'stdio', describe: 'COM1: stdio, none, or a FILE to write output to' })
        .option('cga', { choices: ['auto', 'on', 'off'] as const, default: 'auto' as const, describe: 'mirror CGA text output to stdout (auto: when the guest never uses COM1)' })
        .option('max-instructions', { type: 'number', describe: 'stop after this many guest instructions (exit status 124)' })
        .option('guests', { type: 'number', default: 1, describe: 'with --mode vmm: run N copies of the guest side by side on one host (disjoint RAM, own devices, round-robin in 100000-instruction turns). Guest 0\'s COM1 goes to --serial, guest k\'s to FILE.k (with stdio or none, guests 1..N-1 are discarded); exit status is guest 0\'s; --stats has one entry per guest' })
        .option('quantum', { type: 'number', default: 10000, describe: 'instructions a vCPU runs before the next one (SMP interleave)' })
        .option('stats', { type: 'string', describe: 'write run statistics (JSON) to FILE' })
        .option('gdb', { type: 'number', describe: 'listen for gdb on this TCP port (0 = pick a free one); bare --gdb means 1234', coerce: (v: unknown) => (v === undefined || Number.isNaN(v) ? 1234 : v) })
        .option('wait', { type: 'boolean', default: false, describe: 'with --gdb: start halted until gdb continues (like QEMU -S)' })
        .check((a) => {
          if (!a.kernel && (!a.disk || a.disk.length === 0)) throw new ConfigError('give --kernel FILE or --disk FILE');
          return true;
        }),
      (argv) => runCommand(argv as Record<string, unknown>),
    )
    .demandCommand(1, 'give a command (try: trapvisor run --help)')
    .strict()
    .fail((msg, err) => {
      if (err instanceof ConfigError || err instanceof BootError) fail(err.message);
      if (err && !msg) internalError(err);
      fail((msg ?? err?.message ?? 'bad arguments').split('\n').map((l) => l.trim()).filter(Boolean).join(' '));
    })
    .help()
    .version()
    .parseAsync();
}

/** An emulator bug, not bad input: say so, keep the stack for DEBUG=1, exit 70 (EX_SOFTWARE). */
function internalError(err: unknown): never {
  const e = err as Error;
  if (process.env.DEBUG) console.error(e);
  fail(`internal error: ${e?.message ?? String(err)} (set DEBUG=1 for a stack trace)`, 70);
}

main(hideBin(process.argv)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof BootError) fail(err.message);
  internalError(err);
});
