// Real gdb (`gdb -batch`, via execa) against the stub serving the fake
// target over loopback TCP: the assertions are on gdb's own output, so
// they check that a stock gdb accepts our target description, stop
// replies and thread list. Skipped, with the reason printed, without gdb.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { FakeTarget } from './fake-target.js';
import { startGdbServer, type GdbServer } from '../../../stub/server.js';
import { Reg } from '../../../stub/target.js';

async function haveGdb(): Promise<boolean> {
  try {
    await execa('gdb', ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

const gdbOk = await haveGdb();
if (!gdbOk) console.log('gdb-e2e: skipped, `gdb` is not installed');

describe.skipIf(!gdbOk)('real gdb against the stub', () => {
  let server: GdbServer;
  let target: FakeTarget;

  beforeAll(async () => {
    target = new FakeTarget(2);
    target.regs[0][Reg.EAX] = 0x1234;
    target.regs[0][Reg.CR3] = 0x3000;
    server = await startGdbServer({ target, port: 0 });
  });
  afterAll(async () => {
    // gdb -batch detaches at exit, so the fake guest runs on: stop it.
    target.interrupt();
    await server.close();
  });

  async function gdb(...cmds: string[]): Promise<string> {
    const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${server.port}`];
    for (const c of cmds) args.push('-ex', c);
    const r = await execa('gdb', args, { timeout: 30_000, reject: false, all: true });
    return r.all ?? '';
  }

  it('info registers (core + system feature) and x/4xw', async () => {
    const out = await gdb('info registers', 'info registers cr3', 'info registers cr0', 'x/4xw 0x1000', 'p/x $cs');
    expect(out).toMatch(/^eax\s+0x1234\s+4660$/m);
    expect(out).toMatch(/^eip\s+0x1000\s+0x1000$/m);
    expect(out).toMatch(/^eflags\s+0x202\s+\[ IF \]$/m);
    expect(out).toMatch(/^cs\s+0x8\s+8$/m);
    expect(out).toMatch(/^cr3\s+0x3000\s+0x3000$/m);
    expect(out).toMatch(/^cr0\s+0x80000011\s+\[ PE ET PG \]$/m);
    // bytes 40 a3 00 40 | 00 00 90 a1 | 00 40 00 00 | eb f2 .. as little-endian words
    expect(out).toMatch(/^0x1000:\s+0x4000a340\s+0xa1900000\s+0x00004000\s+0x0000f2eb$/m);
    expect(out).toMatch(/^\$1 = 0x8$/m);
  });

  it('break *ADDR + continue, stepi, info threads, monitor help', async () => {
    const out = await gdb('break *0x1007', 'continue', 'p/x $pc', 'stepi', 'p/x $pc', 'info threads', 'monitor help', 'monitor info stats');
    expect(out).toMatch(/Breakpoint 1, 0x00001007 in \?\? \(\)/);
    expect(out).toMatch(/^\$1 = 0x1007$/m);
    expect(out).toMatch(/^\$2 = 0x100c$/m);
    expect(out).toMatch(/^\*\s+1\s+Thread 1 \(CPU#0 \[fake, CPL0\]\) 0x0000100c in \?\? \(\)$/m);
    expect(out).toMatch(/^\s+2\s+Thread 2 \(CPU#1 \[fake, CPL0\]\)/m);
    expect(out).toMatch(/^phys on\|off\s+/m);
    expect(out).toMatch(/^instructions: \d+$/m);
    // gdb -batch detaches at the end (qAttached=1): the breakpoint is gone.
    await new Promise((r) => setTimeout(r, 50));
    expect(target.sw.size).toBe(0);
  });

  it('hbreak, watch and rwatch stop exactly', async () => {
    const out = await gdb(
      'hbreak *0x100c', 'continue', 'delete',
      'watch *(int*)0x4000', 'continue', 'p/x $pc', 'delete',
      'rwatch *(int*)0x4000', 'continue', 'p/x $pc', 'delete',
    );
    expect(out).toMatch(/Hardware assisted breakpoint 1 at 0x100c/);
    expect(out).toMatch(/Thread 1 hit Breakpoint 1, 0x0000100c in \?\? \(\)/);
    expect(out).toMatch(/hit Hardware watchpoint 2: \*\(int\*\)0x4000\s+Old value = \d+\s+New value = \d+/);
    expect(out).toMatch(/^\$1 = 0x1006$/m);
    expect(out).toMatch(/Hardware read watchpoint 3: \*\(int\*\)0x4000\s+Value = \d+/);
    expect(out).toMatch(/^\$2 = 0x100c$/m);
  });

  it('writes registers and memory', async () => {
    const out = await gdb('set $eax = 0x55aa', 'set {char}0x6000 = 0x7f', 'set $cr3 = 0x9000', 'p/x $eax', 'x/1xb 0x6000');
    // The guest runs on after gdb -batch detaches, so eax is checked through gdb.
    expect(out).toMatch(/^\$1 = 0x55aa$/m);
    expect(out).toMatch(/^0x6000:\s+0x7f$/m);
    expect(target.regs[0][Reg.CR3]).toBe(0x9000);
    expect(target.mem[0x6000]).toBe(0x7f);
  });

  it('physical mode through maint packet Qqemu.PhyMemMode and monitor phys', async () => {
    const out = await gdb('x/2xb 0x80001000', 'maint packet Qqemu.PhyMemMode:1', 'x/2xb 0x80001000', 'monitor phys off', 'x/2xb 0x80001000');
    const lines = out.split('\n').filter((l) => l.startsWith('0x80001000:'));
    expect(lines[0]).toMatch(/0x40\s+0xa3$/);
    expect(out).toMatch(/received: "OK"/);
    expect(lines[1]).toMatch(/Cannot access memory at address 0x80001000/);
    expect(lines[2]).toMatch(/0x40\s+0xa3$/);
  });

  it('real mode: gdb can switch between 16- and 32-bit decoding, as a boot-block hook does', async () => {
    const real = new FakeTarget(1);
    real.regs[0][Reg.CR0] = 0x10; // PE clear
    real.regs[0][Reg.CS] = 0;
    const srv = await startGdbServer({ target: real, port: 0 });
    try {
      const r = await execa('gdb', [
        '-nx', '-batch', '-ex', `target remote 127.0.0.1:${srv.port}`,
        '-ex', 'set architecture i8086', '-ex', 'x/2i $cs*16+$eip',
        '-ex', 'set architecture i386', '-ex', 'x/2i $pc',
      ], { timeout: 30_000, reject: false, all: true });
      const out = r.all ?? '';
      expect(out).toMatch(/0x1000:\s+inc\s+%ax\n\s+0x1001:\s+mov\s+%ax,0x4000/);
      expect(out).toMatch(/0x1000:\s+inc\s+%eax\n\s+0x1001:\s+mov\s+%eax,0x4000/);
      expect(out).not.toMatch(/OS ABI/);
    } finally {
      await srv.close();
    }
  });

  it('protected mode: plain x/i decodes 32-bit code', async () => {
    const out = await gdb('x/2i 0x1000');
    expect(out).toMatch(/0x1000:\s+inc\s+%eax\n\s+0x1001:\s+mov\s+%eax,0x4000/);
  });

  it('Ctrl-C (SIGINT to gdb) stops a running guest with SIGINT', async () => {
    const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${server.port}`, '-ex', 'continue', '-ex', 'p/x $pc'];
    const resumes = target.resumes.length;
    const child = execa('gdb', args, { timeout: 30_000, reject: false, all: true });
    // Wait until gdb's `continue` really runs the guest (the guest may
    // already run on from the previous gdb's detach), then interrupt gdb
    // as a terminal would.
    const t0 = Date.now();
    while (!(target.running && target.resumes.length > resumes) && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(target.running).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const out = (await child).all ?? '';
    expect(out).toMatch(/received signal SIGINT, Interrupt\./);
    expect(out).toMatch(/^\$1 = 0x1[01][0-9a-f]{2}$/m);
  });
});
