// The classic trap-and-emulate split of the lecture notes: while a guest
// runs the real IF is 1 and the real IOPL 0 whatever the guest believes,
// PUSHF/POPF are patched and emulated against the virtual flags, and port
// I/O always traps and reaches the guest's board only through the VMM
// (string I/O a whole REP run per exit). The plain interpreter on bare
// "hardware" (real CPL 0) is the oracle for what the guest must observe.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { IoBus } from '../../../src/bus/io-bus.js';
import { NO_INTERRUPTS } from '../../../src/bus/irq.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { Exit } from '../../../src/cpu/exit.js';
import { IF, IOPL } from '../../../src/cpu/arch.js';
import { multibootState, writeLoaderGdt } from '../../../src/boot/boot-state.js';
import { Monitor } from '../../../src/vmm/monitor.js';
import { planHost } from '../../../src/vmm/guests.js';

const GUEST = 1 << 20;
const CODE = 0x1000;

/** A port that counts: every 32-bit read returns the next value of a sequence. */
function countingBoard(): { io: IoBus; reads: () => number } {
  const io = new IoBus();
  let n = 0;
  io.register(0x1f0, 1, 'counter', {
    portRead: () => (0x11000000 + n++ * 0x01020304) >>> 0,
    portWrite: () => undefined,
  });
  return { io, reads: () => n };
}

function runEmulated(code: number[]) {
  const mem = new PhysMem(GUEST);
  writeLoaderGdt(mem);
  mem.poke(CODE, Uint8Array.from(code));
  const board = countingBoard();
  const cpu = new Cpu(mem, board.io);
  const s = multibootState(CODE, 0x9000, 0x2badb002);
  cpu.cr0 = s.cr0;
  cpu.gdtrBase = s.gdtrBase; cpu.gdtrLimit = s.gdtrLimit;
  cpu.idtrBase = s.idtrBase; cpu.idtrLimit = s.idtrLimit;
  for (let i = 0; i < 8; i++) cpu.regs[i] = s.regs[i];
  s.segs.forEach((g, i) => cpu.setSegmentRaw(i, g.sel, g.base, g.limit, g.attr));
  cpu.setEflags(s.eflags);
  cpu.eip = s.eip;
  const exit = cpu.run(10_000);
  return { exit, mem, regs: [...cpu.regs], reads: board.reads() };
}

function runVmm(code: number[]) {
  const layout = planHost([{ size: GUEST, vcpus: 1 }]);
  const host = new PhysMem(layout.hostRamBytes);
  const place = layout.guests[0];
  const mem = host.window(place.base, place.size);
  writeLoaderGdt(mem);
  mem.poke(CODE, Uint8Array.from(code));
  const board = countingBoard();
  const mon = new Monitor({ host, mem, place, io: board.io, interrupts: [NO_INTERRUPTS], boot: multibootState(CODE, 0x9000, 0x2badb002) });
  const exit = mon.runVcpu(0, 10_000);
  const ctx = mon.vcpus[0];
  return { exit, mem, mon, ctx, regs: [...ctx.cpu.regs], reads: board.reads() };
}

const FLAGS = [
  0xfa,                               // cli
  0x9c, 0x58,                         // pushf; pop %eax
  0xa3, 0x00, 0x20, 0x00, 0x00,       // mov %eax,0x2000
  0x68, 0x02, 0x30, 0x00, 0x00,       // push $0x3002 (IOPL 3, IF 0)
  0x9d,                               // popf
  0x9c, 0x5b,                         // pushf; pop %ebx
  0x89, 0x1d, 0x04, 0x20, 0x00, 0x00, // mov %ebx,0x2004
  0x68, 0x02, 0x02, 0x00, 0x00,       // push $0x202 (IOPL 0, IF 1)
  0x9d,                               // popf
  0x9c, 0x59,                         // pushf; pop %ecx
  0x89, 0x0d, 0x08, 0x20, 0x00, 0x00, // mov %ecx,0x2008
  0xfa, 0xf4,                         // cli; hlt
];

const REP_INSL = [
  0xba, 0xf0, 0x01, 0x00, 0x00,       // mov $0x1f0,%edx
  0xbf, 0x00, 0x50, 0x00, 0x00,       // mov $0x5000,%edi
  0xb9, 0x80, 0x00, 0x00, 0x00,       // mov $128,%ecx
  0xfc,                               // cld
  0xf3, 0x6d,                         // rep insl
  0xed,                               // in (%dx),%eax
  0xa3, 0x00, 0x20, 0x00, 0x00,       // mov %eax,0x2000
  0xfa, 0xf4,                         // cli; hlt
];

describe('real IF/IOPL stay 1/0; the guest sees only its virtual flags', () => {
  it('pushf/popf in the guest kernel: virtual IF/IOPL as on hardware, real IF=1 IOPL=0, pushf and popf patched', () => {
    const ref = runEmulated(FLAGS);
    const vm = runVmm(FLAGS);
    expect(ref.exit).toBe(Exit.HLT);
    expect(vm.exit).toBe(Exit.HLT);
    for (const at of [0x2000, 0x2004, 0x2008]) expect(vm.mem.read32(at) & (IF | IOPL)).toBe(ref.mem.read32(at) & (IF | IOPL));
    expect(vm.mem.read32(0x2004) & IOPL).toBe(0x3000); // popf at CPL 0 took IOPL 3 (SDM vol. 2, POPF)
    // The guest ended with cli; hlt: virtual IF 0; the real CPU never left IF=1, IOPL=0.
    expect(vm.ctx.v.vif).toBe(false);
    expect(vm.ctx.cpu.getEflags() & (IF | IOPL)).toBe(IF);
    const reasons = vm.mon.guest.registry.patches().map((p) => p.reason);
    expect(reasons).toContain('pushf');
    expect(reasons).toContain('popf');
  });
});

describe('port I/O always traps and is emulated on the guest board', () => {
  it('rep insl moves the whole run in one exit, as the plain CPU does; then in (%dx) continues the sequence', () => {
    const ref = runEmulated(REP_INSL);
    const vm = runVmm(REP_INSL);
    expect(vm.exit).toBe(Exit.HLT);
    expect(vm.reads).toBe(ref.reads);
    expect(vm.mem.ram.subarray(0x5000, 0x5204)).toEqual(ref.mem.ram.subarray(0x5000, 0x5204));
    expect(vm.mem.read32(0x2000)).toBe(ref.mem.read32(0x2000));
    expect(vm.regs[1]).toBe(0);
    expect(vm.regs[7] >>> 0).toBe(0x5200);
    const exits = vm.mon.stats().exits as Record<string, number>;
    expect(exits['emulate:ins']).toBe(1);
  });

  it('the real CPU has no port bus of its own: its IoBus is not the board', () => {
    const vm = runVmm(REP_INSL);
    expect(vm.ctx.cpu.io).not.toBe(vm.mon.guest.io);
  });
});
