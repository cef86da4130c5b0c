// Small flat guest programs run twice: on the plain interpreter (the
// oracle: the CPU at real CPL 0, as bare hardware) and under the monitor
// at real CPL 3. The guest must not be able to tell the difference.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { IoBus } from '../../../src/bus/io-bus.js';
import { NO_INTERRUPTS } from '../../../src/bus/irq.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { Exit } from '../../../src/cpu/exit.js';
import { multibootState, writeLoaderGdt } from '../../../src/boot/boot-state.js';
import { Monitor } from '../../../src/vmm/monitor.js';
import { planHost } from '../../../src/vmm/guests.js';

const GUEST = 1 << 20;
const CODE = 0x1000;

function load(mem: PhysMem, code: number[]): void {
  writeLoaderGdt(mem);
  mem.poke(CODE, Uint8Array.from(code));
  // An IDT at 0x3000 with one interrupt gate (SDM vol. 3, 6.11): vector 0x30 -> 0x08:0x1800, DPL 0.
  mem.poke(0x3000 + 0x30 * 8, Uint8Array.of(0x00, 0x18, 0x08, 0x00, 0x00, 0x8e, 0x00, 0x00));
  // The handler: records EFLAGS and the frame, then iret.
  mem.poke(0x1800, Uint8Array.from(HANDLER));
  // lidt operand at 0x3400: limit 0x1ff, base 0x3000.
  mem.poke(0x3400, Uint8Array.of(0xff, 0x01, 0x00, 0x30, 0x00, 0x00));
}

const HANDLER = [
  0x9c, 0x5a,                         // pushf; pop %edx
  0x89, 0x15, 0x30, 0x20, 0x00, 0x00, // mov %edx,0x2030
  0x8b, 0x44, 0x24, 0x04,             // mov 4(%esp),%eax   (CS in the frame)
  0xa3, 0x34, 0x20, 0x00, 0x00,       // mov %eax,0x2034
  0x8b, 0x44, 0x24, 0x08,             // mov 8(%esp),%eax   (EFLAGS in the frame)
  0xa3, 0x38, 0x20, 0x00, 0x00,       // mov %eax,0x2038
  0xcf,                               // iret
];

function runEmulated(code: number[]) {
  const mem = new PhysMem(GUEST);
  load(mem, code);
  const cpu = new Cpu(mem, new IoBus());
  const s = multibootState(CODE, 0x9000, 0x2badb002);
  cpu.cr0 = s.cr0;
  cpu.gdtrBase = s.gdtrBase; cpu.gdtrLimit = s.gdtrLimit;
  cpu.idtrBase = s.idtrBase; cpu.idtrLimit = s.idtrLimit;
  for (let i = 0; i < 8; i++) cpu.regs[i] = s.regs[i];
  s.segs.forEach((g, i) => cpu.setSegmentRaw(i, g.sel, g.base, g.limit, g.attr));
  cpu.setEflags(s.eflags);
  cpu.eip = s.eip;
  const exit = cpu.run(10_000);
  return { exit, mem, regs: [...cpu.regs], eip: cpu.eip };
}

function runVmm(code: number[], guests = 1, which = 0) {
  const layout = planHost(Array.from({ length: guests }, () => ({ size: GUEST, vcpus: 1 })));
  const host = new PhysMem(layout.hostRamBytes);
  // Canary in every byte the guest does not own.
  const place = layout.guests[which];
  host.ram.fill(0xa5);
  const mem = host.window(place.base, place.size);
  mem.ram.fill(0);
  load(mem, code);
  const mon = new Monitor({ host, mem, place, io: new IoBus(), interrupts: [NO_INTERRUPTS], boot: multibootState(CODE, 0x9000, 0x2badb002) });
  const exit = mon.runVcpu(0, 10_000);
  const ctx = mon.vcpus[0];
  return { exit, mem, host, place, mon, regs: [...ctx.cpu.regs], eip: ctx.cpu.eip, layout };
}

// Each program ends with cli; hlt and stores what it observed at 0x2000..
const SENSITIVE = [
  0xfa,                               // cli
  0x9c, 0x58,                         // pushf; pop %eax
  0xa3, 0x00, 0x20, 0x00, 0x00,       // mov %eax,0x2000
  0xfb,                               // sti
  0x9c, 0x5b,                         // pushf; pop %ebx
  0x89, 0x1d, 0x04, 0x20, 0x00, 0x00, // mov %ebx,0x2004
  0x0e, 0x59,                         // push %cs; pop %ecx
  0x89, 0x0d, 0x08, 0x20, 0x00, 0x00, // mov %ecx,0x2008
  0x8c, 0xd2,                         // mov %ss,%edx
  0x89, 0x15, 0x0c, 0x20, 0x00, 0x00, // mov %edx,0x200c
  0x0f, 0x01, 0x05, 0x10, 0x20, 0x00, 0x00, // sgdt 0x2010
  0x0f, 0x01, 0x0d, 0x18, 0x20, 0x00, 0x00, // sidt 0x2018
  0x0f, 0x01, 0xe6,                   // smsw %esi
  0x0f, 0x20, 0xc7,                   // mov %cr0,%edi
  0x66, 0x8c, 0xc8,                   // mov %cs,%ax
  0x16, 0x5d,                         // push %ss; pop %ebp
  0x6a, 0x02, 0x9d,                   // push $2; popf (IF off again)
  0x9c, 0x8f, 0x05, 0x20, 0x20, 0x00, 0x00, // pushf; pop 0x2020
  0xf4,                               // hlt (IF=0: stays halted)
];

// lidt; sti; int $0x30 (reflected through the guest IDT), then look at IF after iret.
const INTERRUPT = [
  0x0f, 0x01, 0x1d, 0x00, 0x34, 0x00, 0x00, // lidt 0x3400
  0xfb,                               // sti
  0xcd, 0x30,                         // int $0x30
  0x9c, 0x8f, 0x05, 0x3c, 0x20, 0x00, 0x00, // pushf; pop 0x203c
  0xfa, 0xf4,                         // cli; hlt
];

describe('guest programs under the monitor match plain emulation', () => {
  it('int n through the guest IDT: frame with guest CS and virtual IF, IF cleared in the handler, restored by iret', () => {
    const ref = runEmulated(INTERRUPT);
    const vm = runVmm(INTERRUPT);
    expect(ref.exit).toBe(Exit.HLT);
    expect(vm.mon.stopReason).toBeNull();
    expect(vm.exit).toBe(Exit.HLT);
    expect(vm.regs).toEqual(ref.regs);
    expect([...vm.mem.peek(0x2030, 0x10)]).toEqual([...ref.mem.peek(0x2030, 0x10)]);
    expect(vm.mon.stats()).toMatchObject({ realCpl0Instructions: 0 });
  });

  it('sensitive instructions show virtual state (cli/sti/pushf/popf/push cs/ss/sgdt/sidt/smsw/mov cr0)', () => {
    const ref = runEmulated(SENSITIVE);
    const vm = runVmm(SENSITIVE);
    expect(ref.exit).toBe(Exit.HLT);
    expect(vm.mon.stopReason).toBeNull();
    expect(vm.exit).toBe(Exit.HLT);
    expect(vm.regs).toEqual(ref.regs);
    expect(vm.eip).toBe(ref.eip);
    expect([...vm.mem.peek(0x2000, 0x24)]).toEqual([...ref.mem.peek(0x2000, 0x24)]);
    // Patched bytes are invisible to a debugger through the registry.
    expect([...vm.mon.guest.registry.originalBytes(CODE, SENSITIVE.length)]).toEqual(SENSITIVE);
    expect(vm.mon.stats()).toMatchObject({ realCpl0Instructions: 0 });
  });

  it('a guest at a non-zero host base sees the same, and writes nothing outside its range', () => {
    const ref = runEmulated(SENSITIVE);
    const vm = runVmm(SENSITIVE, 2, 1);
    expect(vm.mon.stopReason).toBeNull();
    expect(vm.regs).toEqual(ref.regs);
    expect([...vm.mem.peek(0x2000, 0x24)]).toEqual([...ref.mem.peek(0x2000, 0x24)]);
    // Guest 0's range still holds the canary everywhere.
    const g0 = vm.layout.guests[0];
    expect(vm.host.ram.subarray(g0.base, g0.base + g0.size).every((b) => b === 0xa5)).toBe(true);
  });
});
