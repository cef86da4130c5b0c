// gdb end to end: a stock gdb drives trapvisor through the RSP stub while
// it runs fixtures/gdbtarget, under both engines. Every assertion is on
// gdb's own stdout; expected values come from the fixture's C/asm source
// (labels, C arithmetic) and from gdb itself (its disassembler, symbol
// addresses), never from trapvisor output.

import { describe, expect, it } from 'vitest';
import { gdbMissing, runGdb, session, startMachine, limit, values } from './gdb-session.js';

/** Both engines, whatever test/guest/engines.ts currently enables. */
const MODES = ['emulate', 'vmm'] as const;

const missing = gdbMissing();
if (missing) console.log(`test/e2e/gdb.test.ts skipped: ${missing}`);

/** leaf(x) = 3x + secret with secret = 0x5eed; compute(1) reaches leaf(23) (gdbtarget.c). */
const LEAF_23 = 3 * 23 + 0x5eed;

/** Where an idle gdbtarget can be stopped: halted in idle_loop or taking its timer interrupt. */
const IDLE_PATH = /^#0\s+(?:0x[0-9a-f]+ in )?(idle_loop|sti_hlt|on_tick|irq_dispatch|trap_dispatch|alltraps|pic_eoi|trap_stub_\d+) /m;

/** gdb prints the current function's disassembly at every stop (trap-after watchpoints: the pc follows the access). */
const HOOK_DISASSEMBLE = ['define hook-stop', 'disassemble', 'end'];

/** Each stop's function and the instruction just before the `=>` pc, from HOOK_DISASSEMBLE's dumps. */
function stops(out: string): Array<{ fn: string; pc: number; previous: string }> {
  return [...out.matchAll(/Dump of assembler code for function (\w+):\n([\s\S]*?)End of assembler dump\./g)].map((m) => {
    const lines = m[2].split('\n');
    const k = lines.findIndex((l) => l.startsWith('=> '));
    return { fn: m[1], pc: k >= 0 ? Number(/0x[0-9a-f]+/.exec(lines[k])![0]) : -1, previous: k > 0 ? lines[k - 1] : '' };
  });
}

/** The `$N = 0x...` printed for `p/x &sym` lines, in order. */
function hexValues(out: string): number[] {
  return values(out).filter((v) => /^0x[0-9a-f]+$/.test(v)).map(Number);
}

describe.skipIf(missing !== null).concurrent.each(MODES)('gdb under --mode %s', (mode) => {
  it('break on a function, continue, bt, info registers in the kernel, finish', async () => {
    const { out } = await session({ mode }, [
      'break leaf', 'continue', 'bt', 'info registers cs ss eflags', 'finish', 'kill',
    ]);
    expect(out).toMatch(/Breakpoint 1, leaf \(x=23\)/);
    const frames = [...out.matchAll(/^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+) /gm)].map((m) => m[2]);
    expect(frames.slice(0, 6)).toEqual(['leaf', 'level3', 'level2', 'level1', 'compute', 'kmain']);
    expect(out).toMatch(/^cs\s+0x8\s/m);
    expect(out).toMatch(/^ss\s+0x10\s/m);
    // kmain ran sti() before compute(): the guest believes IF=1.
    expect(out).toMatch(/^eflags\s+0x[0-9a-f]+\s+\[[^\]]*\bIF\b/m);
    expect(out).toMatch(/^level3 \(.*\) at .*gdbtarget\.c/m);
    expect(out).toContain(`Value returned is $1 = ${LEAF_23}`);
  });

  it('breakpoints right after a patched/emulated instruction (ret, popf, iret) hit', async () => {
    // Under the VMM each of these follows an INT 3 exit, so the CPU resumes
    // exactly at the breakpoint: it must still report it (regression: the
    // run loop used to skip a breakpoint at the EIP where every run() starts).
    const { out } = await session({ mode }, [
      'tbreak leaf', 'continue', 'break *(*(unsigned *)$sp)', 'continue', 'delete 2',
      'break sb_int30', 'break sb_after_int30', 'continue', 'continue', 'p $pc == &sb_after_int30', 'kill',
    ]);
    expect(out).toMatch(/^Breakpoint 2, (0x[0-9a-f]+ in )?level3 /m);
    expect(out).toMatch(/^Breakpoint 3, sb_int30 /m);
    expect(out).toMatch(/^Breakpoint 4, sb_after_int30 /m);
    expect(values(out).at(-1)).toBe('1');
  });

  it('x/8i shows the original pushf/popf/iret; stepi across each with the IF the guest believes; hook-stop; monitor', async () => {
    const { out } = await session({ mode }, [
      'define hook-stop', 'x/i $pc', 'end',
      'break sensitive_block', 'continue',
      'x/8i $pc',
      'echo STEP-pushf\\n', 'stepi', 'p $pc == &sb_cli', 'p/x *(unsigned *)$sp & 0x200', 'info registers eflags',
      'echo STEP-cli\\n', 'stepi', 'p $pc == &sb_incl', 'info registers eflags',
      'stepi', 'p $pc == &sb_popf',
      'echo STEP-popf\\n', 'stepi', 'p $pc == &sb_int30', 'info registers eflags',
      'echo STEP-int\\n', 'stepi', 'p $pc == &int30_entry', 'info registers cs eflags',
      'stepi', 'p $pc == &int30_pushf',
      'echo STEP-handler-pushf\\n', 'stepi', 'p/x *(unsigned *)$sp & 0x200', 'stepi', 'p $pc == &int30_iret',
      'echo STEP-iret\\n', 'stepi', 'p $pc == &sb_after_int30', 'info registers cs eflags',
      'echo PATCHES\\n', 'p/x &sb_pushf', 'p/x &sb_popf', 'p/x &int30_iret',
      'monitor info patches', 'echo HELP\\n', 'monitor help', 'kill',
    ]);
    // gdb's disassembler on the bytes the stub returns: originals, never int3.
    const x8 = out.slice(out.indexOf('Breakpoint 1, sensitive_block'), out.indexOf('STEP-pushf'));
    const insns = [...x8.matchAll(/^(?:=> )?\s*0x[0-9a-f]+ <(\w+)[^>]*>:\s+(\S+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(insns).toEqual([
      'sensitive_block:pushf', 'sb_cli:cli', 'sb_incl:incl', 'sb_popf:popf', 'sb_int30:int', 'sb_after_int30:ret',
      'int30_entry:incl', 'int30_pushf:pushf',
    ]);
    expect(out).not.toMatch(/int3\b/);
    // Every stepi landed on the next label (the fixture's own layout).
    const v = values(out);
    const bools = v.filter((s) => s === '0' || s === '1');
    expect(bools).toEqual(['1', '1', '1', '1', '1', '1', '1', '1']);
    // pushf pushes the IF the guest believes: 1 after its sti(), 0 inside the interrupt gate's handler.
    expect(v.filter((s) => s.startsWith('0x') && !/^0x1[0-9a-f]{5}$/.test(s))).toEqual(['0x200', '0x0']);
    const flagsAfter = (tag: string) => /eflags\s+0x[0-9a-f]+\s+\[([^\]]*)\]/.exec(out.slice(out.indexOf(tag)))?.[1] ?? 'none';
    expect(flagsAfter('STEP-pushf')).toMatch(/\bIF\b/);
    expect(flagsAfter('STEP-cli')).not.toMatch(/\bIF\b/);
    expect(flagsAfter('STEP-popf')).toMatch(/\bIF\b/);
    expect(flagsAfter('STEP-int')).not.toMatch(/\bIF\b/); // interrupt gate cleared it
    expect(flagsAfter('STEP-iret')).toMatch(/\bIF\b/);
    expect(out.slice(out.indexOf('STEP-int'))).toMatch(/^cs\s+0x8\s/m);
    expect(out.slice(out.indexOf('STEP-iret'))).toMatch(/^cs\s+0x8\s/m);
    // xv6-style hook-stop: `x/i $pc` printed at every stop.
    expect(out.match(/^=> 0x[0-9a-f]+ <\w+(\+\d+)?>:/gm)?.length ?? 0).toBeGreaterThanOrEqual(8);
    const help = out.slice(out.indexOf('HELP'));
    expect(help).toContain('info registers');
    const patchesOut = out.slice(out.indexOf('PATCHES'), out.indexOf('HELP'));
    if (mode === 'vmm') {
      // The VMM patched pushf, popf and iret here with INT 3 (gdb saw none of them); it lists
      // the originals. pushf is sensitive because the real IF is always 1 while a guest runs.
      const [pushfAt, popfAt, iretAt] = hexValues(patchesOut);
      for (const [at, name] of [[pushfAt, 'pushf'], [popfAt, 'popf'], [iretAt, 'iret']] as const) {
        expect(patchesOut).toMatch(new RegExp(`^0*${at.toString(16)} .*${name}`, 'm'));
      }
      expect(help).toContain('info patches');
    } else {
      expect(out).toContain('unknown command: info patches');
    }
  });

  it('watch / awatch ticks stop right after the instructions that touch it', async () => {
    const { out } = await session({ mode }, [
      'p/x &ticks', ...HOOK_DISASSEMBLE,
      'watch ticks', 'continue', 'continue', 'continue', 'delete',
      'echo AWATCH\\n', 'awatch ticks', 'continue', 'continue', 'continue', 'continue', 'kill',
    ]);
    const addr = `0x${hexValues(out)[0].toString(16)}`;
    const w = out.slice(0, out.indexOf('AWATCH'));
    // Three writes, by one each, and nothing in between.
    expect([...w.matchAll(/Old value = (\d+)\s+New value = (\d+)/g)].map((m) => `${m[1]}->${m[2]}`)).toEqual(['0->1', '1->2', '2->3']);
    const ws = stops(w);
    expect(ws.map((s) => s.fn)).toEqual(['on_tick', 'on_tick', 'on_tick']);
    for (const s of ws) expect(s.previous).toContain(addr);
    const as = stops(out.slice(out.indexOf('AWATCH')));
    expect(as.length).toBe(4);
    for (const s of as) expect(s.previous).toContain(addr);
  });

  it('rwatch secret stops at each of its three reads, then the guest exits', async () => {
    const { out } = await session({ mode }, [
      'p/x &secret', ...HOOK_DISASSEMBLE, 'rwatch secret', 'continue', 'continue', 'continue', 'continue',
    ]);
    const addr = `0x${hexValues(out)[0].toString(16)}`;
    expect([...out.matchAll(/Value = (\d+)\s*\n0x[0-9a-f]+ in (\w+) \(x=(\d+)\)/g)].map((m) => m.slice(1).join(' '))).toEqual([
      '24301 leaf 23', '24301 leaf 25', '24301 leaf 27',
    ]);
    const rs = stops(out);
    expect(rs.length).toBe(3);
    for (const s of rs) expect(s.previous).toContain(addr);
    expect(out).toContain('exited with code 01');
  });

  it('hbreak in ring 3: cs 0x1b, ss 0x23, IF; every loop pass hits; stepi over int $0x80 enters the kernel', async () => {
    const { out } = await session({ mode }, [
      'hbreak user_int80', 'continue', 'info registers cs ss eflags', 'p $pc == &user_int80', 'p $ebx',
      'stepi', 'p $pc == trap_stubs[0x80]', 'info registers cs',
      'continue', 'p $ebx', 'continue', 'p $ebx', 'continue', 'p $ebx', 'kill',
    ]);
    expect(out).toMatch(/Breakpoint 1, user_int80/);
    expect(out).toMatch(/^cs\s+0x1b\s/m);
    expect(out).toMatch(/^ss\s+0x23\s/m);
    expect(out).toMatch(/^eflags\s+0x[0-9a-f]+\s+\[[^\]]*\bIF\b/m);
    expect(values(out)).toEqual(['1', '0', '1', '1', '2', '3']);
    // After the int from ring 3 the CPU is in the kernel (vectors.S stub).
    expect(out.split(/^\$3 = /m)[1]).toMatch(/^cs\s+0x8\s/m);
  });

  it('Ctrl-C stops a running guest in its idle loop; it then runs to its exit', async () => {
    const { out } = await session({ mode }, [
      'set var stay_idle = 1', 'echo CONTINUING\\n', 'continue',
      'bt', 'p ticks > 3', 'set var stay_idle = 0', 'continue',
    ], { interruptAfter: { marker: 'CONTINUING', ms: 1500 } });
    expect(out).toContain('Program received signal SIGINT');
    expect(out.slice(out.indexOf('SIGINT'))).toMatch(IDLE_PATH);
    expect(values(out)).toEqual(['1']);
    expect(out).toContain('exited with code 01');
  });

  it('info threads with --cpus 2 shows the AP started by INIT/SIPI', async () => {
    const { out } = await session({ mode, cpus: 2 }, [
      'break ap_main', 'continue', 'info threads', 'thread 1', 'p $pc == &ap_main', 'thread 2', 'p $pc == &ap_main', 'info registers cs', 'kill',
    ]);
    expect(out).toMatch(/Thread 2 hit Breakpoint 1, ap_main/);
    const rows = [...out.matchAll(/^\*?\s+(\d)\s+Thread (\d) \((CPU#\d)[^)]*\)/gm)].map((m) => `${m[1]}:${m[3]}`);
    expect(rows).toEqual(['1:CPU#0', '2:CPU#1']);
    expect(values(out)).toEqual(['0', '1']);
    expect(out).toMatch(/^cs\s+0x8\s/m);
  });

  it('detach leaves the guest running; a second gdb attaches, stops it and lets it finish', async () => {
    await limit(async () => {
      const m = await startMachine({ mode });
      try {
        const first = await runGdb(m.port, ['break level1', 'continue', 'p x', 'delete', 'set var stay_idle = 1', 'detach']);
        expect(first).toMatch(/Breakpoint 1, level1 \(x=1\)/);
        expect(first).toContain('(Remote target) detached');
        const second = await runGdb(m.port, ['p stay_idle', 'p ticks > 3', 'bt', 'set var stay_idle = 0', 'continue']);
        expect(values(second)).toEqual(['1', '1']);
        expect(second).toMatch(IDLE_PATH);
        expect(second).toContain('exited with code 01');
      } finally {
        // Status 1 = debug_exit(EXIT_OK): the guest ran to its end.
        expect(await m.stop()).toBe(1);
      }
    });
  });

  it('monitor reset boots the guest again; monitor info registers shows every vCPU', async () => {
    const { out } = await session({ mode }, [
      'break compute', 'continue', 'set var secret = 1', 'monitor reset', 'continue', 'p/x secret', 'echo REGS\\n', 'monitor info registers', 'kill',
    ]);
    // The second stop at compute comes from the reboot: the image was
    // loaded again, so the variable gdb changed has its initial value.
    expect(out.match(/Breakpoint 1, compute /g)).toHaveLength(2);
    expect(out).toContain('system reset');
    expect(values(out).at(-1)).toBe('0x5eed');
    const regs = out.split('REGS')[1] ?? '';
    expect(regs).toMatch(/CPU#0 \[protected/);
    expect(regs).toMatch(/\bcs\s+00000008\b/);
    if (mode === 'vmm') expect(regs).toMatch(/real\s+cs=000b/); // the deprivileged CPU: selector 0x08 with RPL 3
  });
});
