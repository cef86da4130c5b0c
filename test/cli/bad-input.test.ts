// Bad input gets one clear line on stderr and a non-zero exit status,
// never a stack trace (the CLI as a user runs it).

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../guest/run-fixture.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trapvisor-bad-'));
  writeFileSync(join(dir, 'notelf'), 'this is not a kernel\n');
  writeFileSync(join(dir, 'odd.img'), Buffer.alloc(1000));
  writeFileSync(join(dir, 'noboot.img'), Buffer.alloc(1024));
  writeFileSync(join(dir, 'unreadable.img'), Buffer.alloc(512));
  chmodSync(join(dir, 'unreadable.img'), 0o000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const demo = join(ROOT, 'fixtures', 'images', 'demo.elf');
// An ELF without a multiboot header: the fixture build's own objects are not
// kept, so use node's binary, which is an ELF executable of another machine.
const cases: Array<[string, () => string[], RegExp]> = [
  ['no kernel or disk', () => [], /give --kernel FILE or --disk FILE/],
  ['missing kernel', () => ['--kernel', join(dir, 'nope.elf')], /kernel not found/],
  ['not an ELF', () => ['--kernel', join(dir, 'notelf')], /not an ELF file/],
  ['ELF without multiboot header', () => ['--kernel', process.execPath], /multiboot header|not i386|32-bit/],
  ['missing disk', () => ['--kernel', demo, '--disk', join(dir, 'nope.img')], /disk image not found/],
  ['disk size not a multiple of 512', () => ['--kernel', demo, '--disk', join(dir, 'odd.img')], /multiple of 512/],
  ['disk without boot signature', () => ['--disk', join(dir, 'noboot.img')], /boot signature/],
  ['zero cpus', () => ['--kernel', demo, '--cpus', '0'], /--cpus must be/],
  ['too little memory', () => ['--kernel', demo, '--memory', '1'], /--memory must be/],
  ['unknown mode', () => ['--kernel', demo, '--mode', 'turbo'], /Invalid values/],
  ['unknown flag', () => ['--kernel', demo, '--frobnicate'], /Unknown argument/],
];
if (process.getuid?.() !== 0) {
  cases.push(['unreadable disk', () => ['--kernel', demo, '--disk', join(dir, 'unreadable.img')], /not readable/]);
}

describe('bad input', () => {
  it.each(cases)('%s: one line, non-zero exit', async (_name, args, pattern) => {
    const r = await execa('node', [CLI, 'run', ...args(), '--serial', 'none', '--max-instructions', '100000'], { reject: false, stdin: 'ignore' });
    expect(r.exitCode).not.toBe(0);
    expect(r.exitCode).not.toBe(70); // 70 = internal error (an emulator bug)
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^trapvisor: /);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a kernel too big for --memory is refused before it runs', async () => {
    // The demo kernel loads at 1 MiB; 2 MiB of RAM holds it, so make the
    // point with a kernel whose segment lies at 3 MiB: patch the demo ELF's
    // first PT_LOAD physical address.
    const elf = Buffer.from(await import('node:fs').then((fs) => fs.readFileSync(demo)));
    const phoff = elf.readUInt32LE(28);
    elf.writeUInt32LE(0x300000, phoff + 12); // p_paddr
    const big = join(dir, 'high.elf');
    writeFileSync(big, elf);
    const r = await execa('node', [CLI, 'run', '--kernel', big, '--memory', '2', '--serial', 'none'], { reject: false, stdin: 'ignore' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^trapvisor: kernel needs at least 4 MiB of memory/);
  });
});

describe('a guest that triple-faults', () => {
  it.each(['emulate', 'vmm'])('stops with one line and status 3 under --mode %s', async (mode) => {
    const kernel = join(ROOT, 'fixtures', 'images', 'triplefault.elf');
    const r = await execa('node', [CLI, 'run', '--kernel', kernel, '--mode', mode, '--serial', 'none', '--max-instructions', '10000000'], { reject: false, stdin: 'ignore' });
    expect(r.exitCode).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^trapvisor: .*triple/);
  });
});
