// Protection, paging, interrupts and the debugger/VMM hooks, with hand-built
// descriptor tables. Expected values follow from the SDM's definitions.
import { describe, expect, test } from 'vitest';
import { Exit } from '../../../src/cpu/exit.js';
import { CODE, flat32, hexBytes, load, makeCpu, real16 } from './harness.js';

const GDT = 0x3000, IDT = 0x4000, TSS = 0x5000, PD = 0x10000, PT = 0x11000;
const K_STACK = 0x90000, U_STACK = 0x70000;

function desc(base: number, limit: number, access: number, flags = 0xc): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}
function gate(sel: number, off: number, type: number, dpl: number, params = 0): [number, number] {
  return [((sel << 16) | (off & 0xffff)) >>> 0, ((off & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8) | params) >>> 0];
}

/** GDT: 08 k-code, 10 k-data, 18 u-code, 20 u-data, 28 TSS, 30 call gate (DPL3 -> 08:0x6000, 1 param), 38 not-present data. */
function setupPM(cpu: ReturnType<typeof makeCpu>['cpu'], mem: ReturnType<typeof makeCpu>['mem']): void {
  const ents: Array<[number, number]> = [
    [0, 0],
    desc(0, 0xfffff, 0x9a), desc(0, 0xfffff, 0x92), desc(0, 0xfffff, 0xfa), desc(0, 0xfffff, 0xf2),
    desc(TSS, 0x2067, 0x89, 0), gate(0x08, 0x6000, 0xc, 3, 1), desc(0, 0xfffff, 0x12),
  ];
  ents.forEach(([lo, hi], k) => { mem.write32(GDT + k * 8, lo); mem.write32(GDT + k * 8 + 4, hi); });
  cpu.gdtrBase = GDT; cpu.gdtrLimit = ents.length * 8 - 1;
  cpu.idtrBase = IDT; cpu.idtrLimit = 256 * 8 - 1;
  // TSS: esp0/ss0 and an I/O bitmap at offset 0x68 allowing everything except port 0x81.
  mem.write32(TSS + 4, K_STACK); mem.write32(TSS + 8, 0x10);
  mem.write16(TSS + 0x66, 0x68);
  mem.write8(TSS + 0x68 + 0x10, 0x02);
  flat32(cpu);
  cpu.trSel = 0x28; cpu.trBase = TSS; cpu.trLimit = 0x2067; cpu.trAttr = 0x8b;
}
function setIdt(mem: ReturnType<typeof makeCpu>['mem'], vec: number, off: number, type = 0xe, dpl = 0): void {
  const [lo, hi] = gate(0x08, off, type, dpl);
  mem.write32(IDT + vec * 8, lo); mem.write32(IDT + vec * 8 + 4, hi);
}
function toRing3(cpu: ReturnType<typeof makeCpu>['cpu']): void {
  cpu.setSegmentRaw(1, 0x1b, 0, 0xffffffff, 0xc0fb);
  for (const s of [0, 2, 3, 4, 5]) cpu.setSegmentRaw(s, 0x23, 0, 0xffffffff, 0xc0f3);
  cpu.regs[4] = U_STACK;
}
function pm(): ReturnType<typeof makeCpu> {
  const m = makeCpu();
  setupPM(m.cpu, m.mem);
  return m;
}

describe('segmentation', () => {
  const cases: Array<[string, string, number, number]> = [
    ['mov ss,ax (null) -> #GP(0)', '8e d0', 0x0, 0],
    ['mov ds,ax (beyond GDT limit) -> #GP(sel)', '8e d8', 0x100, 0x100],
    ['mov ds,ax (TSS descriptor) -> #GP(sel)', '8e d8', 0x28, 0x28],
    ['mov ds,ax (not present) -> #NP(sel)', '8e d8', 0x38, 0x38],
    ['mov ss,ax (ring-3 data at CPL0) -> #GP(sel)', '8e d0', 0x23, 0x20],
  ];
  for (const [name, code, sel, err] of cases) {
    test(name, () => {
      const { cpu, mem } = pm();
      load(mem, CODE, hexBytes(code));
      cpu.regs[0] = sel; cpu.eip = CODE; cpu.interceptExceptions = ~0;
      expect(cpu.run(1)).toBe(Exit.EXCEPTION);
      expect(cpu.exitVector).toBe(name.includes('#NP') ? 11 : 13);
      expect(cpu.exitErrorCode).toBe(err);
      expect(cpu.eip).toBe(CODE);
    });
  }
  test('load sets the accessed bit and the cache', () => {
    const { cpu, mem } = pm();
    mem.write8(GDT + 0x10 + 5, 0x92);
    load(mem, CODE, hexBytes('8e d8'));
    cpu.regs[0] = 0x10; cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
    expect(mem.read8(GDT + 0x10 + 5)).toBe(0x93);
    expect(cpu.segLimit[3]).toBe(0xffffffff);
  });
  test('limit violation -> #GP(0); expand-down segment', () => {
    const { cpu, mem } = pm();
    cpu.setSegmentRaw(3, 0x10, 0, 0xfff, 0x4093);
    load(mem, CODE, hexBytes('8b 05 fe 0f 00 00'));    // mov eax,[0xffe]: bytes ffe..1001 > limit
    cpu.eip = CODE; cpu.interceptExceptions = ~0;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.exitErrorCode]).toEqual([13, 0]);
    cpu.setSegmentRaw(3, 0x10, 0, 0xfff, 0x4097); // expand-down: valid 0x1000..0xffffffff
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    load(mem, CODE, hexBytes('8b 05 00 10 00 00'));
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
  });
  test('stack limit -> #SS(0)', () => {
    const { cpu, mem } = pm();
    cpu.setSegmentRaw(2, 0x10, 0, 0xfff, 0x4093);
    cpu.regs[4] = 0x2;
    load(mem, CODE, hexBytes('50'));
    cpu.eip = CODE; cpu.interceptExceptions = ~0;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.exitErrorCode, cpu.regs[4]]).toEqual([12, 0, 2]);
  });
});

describe('paging', () => {
  function paged(): ReturnType<typeof makeCpu> {
    const m = pm();
    const { cpu, mem } = m;
    mem.write32(PD, PT | 0x7);                    // 0-4 MiB via a page table, user+write
    for (let k = 0; k < 1024; k++) mem.write32(PT + k * 4, (k << 12) | 0x7);
    mem.write32(PT + 0x20 * 4, 0x20000 | 0x1);    // 0x20000: present, read-only, supervisor
    mem.write32(PT + 0x21 * 4, 0);                // 0x21000: not present
    mem.write32(PD + 4, 0x400000 | 0x83);         // 4-8 MiB: one 4 MiB page, supervisor RW
    cpu.cr4 = 0x10; cpu.cr3 = PD; cpu.cr0 = 0x80000011;
    cpu.interceptExceptions = 1 << 14;
    return m;
  }
  test('not-present read: #PF err 0, CR2', () => {
    const { cpu, mem } = paged();
    load(mem, CODE, hexBytes('8b 05 10 10 02 00'));
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.exitErrorCode, cpu.cr2, cpu.eip]).toEqual([14, 0, 0x21010, CODE]);
  });
  test('supervisor write to read-only page: allowed with WP=0, #PF 3 with WP=1', () => {
    const { cpu, mem } = paged();
    load(mem, CODE, hexBytes('a3 00 00 02 00'));
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
    cpu.cr0 = 0x80010011;
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect([cpu.exitErrorCode, cpu.cr2]).toEqual([3, 0x20000]);
  });
  test('user read of supervisor page: #PF 5; user write: #PF 7', () => {
    const { cpu, mem } = paged();
    toRing3(cpu);
    load(mem, CODE, hexBytes('8b 05 00 00 02 00'));
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect(cpu.exitErrorCode).toBe(5);
    load(mem, CODE, hexBytes('a3 00 00 02 00'));
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect(cpu.exitErrorCode).toBe(7);
  });
  test('accessed and dirty bits are written back', () => {
    const { cpu, mem } = paged();
    load(mem, CODE, hexBytes('8b 05 00 50 00 00 a3 00 60 00 00'));
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect(mem.read32(PT + 5 * 4) & 0x60).toBe(0x20);
    expect(mem.read32(PT + 6 * 4) & 0x60).toBe(0x60);
    expect(mem.read32(PD) & 0x20).toBe(0x20);
  });
  test('4 MiB page maps 0x400000+x to the PDE frame', () => {
    const { cpu, mem } = paged();
    mem.write32(PD + 4, 0x800000 >>> 0 | 0x83); // remap 4-8 MiB onto RAM... RAM is 4 MiB: use a 16 MiB machine below
    expect(cpu.translate(0x400123, false, false)).toBe(0x800123);
    expect(cpu.translate(0x400123, false, true)).toBe(-1);
  });
  test('4 MiB page load and the dirty bit on the PDE', () => {
    const m = makeCpu(16 << 20);
    setupPM(m.cpu, m.mem);
    const { cpu, mem } = m;
    for (let k = 0; k < 4; k++) mem.write32(PD + k * 4, (k << 22) | 0x83);
    mem.write32(PD + 4, (2 << 22) | 0x83); // linear 4 MiB -> physical 8 MiB
    mem.write32(0x800010, 0xdeadbeef);
    cpu.cr4 = 0x10; cpu.cr3 = PD; cpu.cr0 = 0x80000011;
    load(mem, CODE, hexBytes('a1 10 00 40 00 a3 20 00 40 00'));
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect(cpu.regs[0] >>> 0).toBe(0xdeadbeef);
    expect(mem.read32(0x800020)).toBe(0xdeadbeef);
    expect(mem.read32(PD + 4) & 0x60).toBe(0x60);
  });
  test('TLB: a PTE change is seen only after invlpg / CR3 reload', () => {
    const { cpu, mem } = paged();
    mem.write32(0x5000, 111); mem.write32(0x6000, 222);
    load(mem, CODE, hexBytes('a1 00 50 00 00 0f 01 3d 00 50 00 00 a1 00 50 00 00'));
    cpu.eip = CODE;
    cpu.run(1);
    expect(cpu.regs[0]).toBe(111);
    mem.write32(PT + 5 * 4, 0x6000 | 7);
    cpu.run(2);
    expect(cpu.regs[0]).toBe(222);
  });
});

describe('interrupts and privilege', () => {
  test('int 0x80 from ring 3 switches to the TSS stack; iret returns to ring 3', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 0x80, 0x6000, 0xe, 3);
    load(mem, 0x6000, hexBytes('b8 07 00 00 00 cf'));   // mov eax,7; iret
    load(mem, CODE, hexBytes('cd 80 90'));
    toRing3(cpu);
    cpu.setEflags(0x202);
    cpu.eip = CODE;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
    expect([cpu.cpl, cpu.eip, cpu.segSel[1], cpu.segSel[2], cpu.regs[4]]).toEqual([0, 0x6000, 0x08, 0x10, K_STACK - 20]);
    expect(cpu.getEflags() & 0x200).toBe(0); // interrupt gate clears IF
    const frame = [0, 4, 8, 12, 16].map((o) => mem.read32(K_STACK - 20 + o));
    expect(frame).toEqual([CODE + 2, 0x1b, 0x202, U_STACK, 0x23]);
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect([cpu.cpl, cpu.eip, cpu.segSel[1], cpu.segSel[2], cpu.regs[4], cpu.regs[0]]).toEqual([3, CODE + 2, 0x1b, 0x23, U_STACK, 7]);
    expect(cpu.getEflags() & 0x200).toBe(0x200);
  });
  test('iret to ring 3 nulls data segment registers the new CPL may not use', () => {
    const { cpu, mem } = pm();
    // frame for iret: eip, cs=0x1b, eflags, esp, ss=0x23
    [0x1000, 0x1b, 0x202, U_STACK, 0x23].forEach((v, k) => mem.write32(0x7fff0 - 4 + k * 4, v));
    cpu.regs[4] = 0x7fff0 - 4;
    load(mem, 0x2000, hexBytes('cf'));
    cpu.eip = 0x2000;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[3]).toBe(0); // DS was ring-0 data
  });
  test('int n with gate DPL < CPL -> #GP(vector*8+2)', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 0x30, 0x6000, 0xe, 0);
    load(mem, CODE, hexBytes('cd 30'));
    toRing3(cpu);
    cpu.eip = CODE; cpu.interceptExceptions = 1 << 13;
    expect(cpu.run(1)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.exitErrorCode]).toEqual([13, 0x30 * 8 + 2]);
  });
  test('exception through the IDT pushes an error code (#GP in ring 0, same stack)', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 13, 0x6000);
    load(mem, CODE, hexBytes('8e d8'));  // mov ds,ax with ax=0x100 -> #GP(0x100)
    load(mem, 0x6000, hexBytes('f4'));
    cpu.regs[0] = 0x100; cpu.eip = CODE;
    expect(cpu.run(10)).toBe(Exit.HLT);
    expect(cpu.eip).toBe(0x6001);
    expect([0, 4, 8].map((o) => mem.read32(0x80000 - 16 + o))).toEqual([0x100, CODE, 0x08]);
  });
  test('far call through a call gate with one parameter, lret back to ring 3', () => {
    const { cpu, mem } = pm();
    load(mem, 0x6000, hexBytes('8b 44 24 08 ca 04 00'));  // mov eax,[esp+8]; lret 4
    load(mem, CODE, hexBytes('6a 2a 9a 00 00 00 00 33 00 90'));  // push 42; lcall 0x33:0
    toRing3(cpu);
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect([cpu.cpl, cpu.eip, cpu.regs[4]]).toEqual([0, 0x6000, K_STACK - 20]);
    expect([0, 4, 8, 12, 16].map((o) => mem.read32(K_STACK - 20 + o))).toEqual([CODE + 9, 0x1b, 42, U_STACK - 4, 0x23]);
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect([cpu.cpl, cpu.eip, cpu.regs[4], cpu.regs[0]]).toEqual([3, CODE + 9, U_STACK, 42]);
  });
  test('I/O permission bitmap at CPL 3 with IOPL 0', () => {
    const { cpu, mem, io } = pm();
    const seen: number[] = [];
    io.register(0x80, 2, 'probe', { portRead: () => 0, portWrite: (p) => { seen.push(p); } });
    load(mem, CODE, hexBytes('e6 80 e6 81'));
    toRing3(cpu);
    cpu.eip = CODE; cpu.interceptExceptions = 1 << 13;
    expect(cpu.run(2)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.exitErrorCode, cpu.eip]).toEqual([13, 0, CODE + 2]);
    expect(seen).toEqual([0x80]);
  });
  test('CPL 3: popf keeps IF/IOPL silently, pushf shows the real IF, cli faults', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('6a 00 9d 9c 58 fa'));  // push 0; popf; pushf; pop eax; cli
    toRing3(cpu);
    cpu.setEflags(0x202);
    cpu.eip = CODE; cpu.interceptExceptions = 1 << 13;
    expect(cpu.run(5)).toBe(Exit.EXCEPTION);
    expect(cpu.regs[0] & 0x3200).toBe(0x200);
    expect([cpu.exitVector, cpu.eip]).toEqual([13, CODE + 5]);
  });
  test('CPL 3: push cs shows RPL 3; sgdt works; lgdt/hlt/mov cr0 raise #GP(0)', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('0e 0f 01 05 00 20 00 00'));
    toRing3(cpu);
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect(mem.read32(U_STACK - 4)).toBe(0x1b);
    expect(mem.read16(0x2000)).toBe(cpu.gdtrLimit);
    expect(mem.read32(0x2002)).toBe(GDT);
    cpu.interceptExceptions = 1 << 13;
    for (const code of ['0f 01 15 00 20 00 00', 'f4', '0f 22 c0', '0f 20 c0', 'fb', '0f 32']) {
      load(mem, CODE, hexBytes(code));
      cpu.eip = CODE;
      expect(cpu.run(1), code).toBe(Exit.EXCEPTION);
      expect([cpu.exitVector, cpu.exitErrorCode], code).toEqual([13, 0]);
    }
  });
  test('triple fault: no usable IDT', () => {
    const { cpu, mem } = pm();
    cpu.idtrLimit = 0;
    load(mem, CODE, hexBytes('0f 0b'));
    cpu.eip = CODE;
    expect(cpu.run(10)).toBe(Exit.TRIPLE_FAULT);
  });
  test('double fault delivered through vector 8', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 8, 0x6000);
    // #GP handler gate not present -> #NP while delivering #GP -> #DF
    mem.write32(IDT + 13 * 8, 0x00086000); mem.write32(IDT + 13 * 8 + 4, 0x00000e00);
    load(mem, CODE, hexBytes('8e d8'));
    load(mem, 0x6000, hexBytes('f4'));
    cpu.regs[0] = 0x100; cpu.eip = CODE;
    expect(cpu.run(10)).toBe(Exit.HLT);
    expect(cpu.eip).toBe(0x6001);
    expect(mem.read32(0x80000 - 16)).toBe(0);
  });
  test('HLT with IF=1 exits HLT; an interrupt then wakes the CPU through the IDT', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 0x20, 0x6000);
    let pending = false;
    cpu.interrupts = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x20; } };
    load(mem, CODE, hexBytes('fb f4 90'));
    load(mem, 0x6000, hexBytes('40 f4'));
    cpu.eip = CODE;
    expect(cpu.run(100)).toBe(Exit.HLT);
    expect(cpu.halted).toBe(true);
    pending = true;
    expect(cpu.run(1)).toBe(Exit.BUDGET);
    expect([cpu.eip, cpu.regs[0]]).toEqual([0x6001, 1]);
    expect(mem.read32(0x80000 - 12)).toBe(CODE + 2);
  });
  test('STI shadow: interrupt taken after the instruction following sti', () => {
    const { cpu, mem } = pm();
    setIdt(mem, 0x20, 0x6000);
    let pending = true;
    cpu.interrupts = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x20; } };
    load(mem, CODE, hexBytes('fb 40 40'));
    load(mem, 0x6000, hexBytes('f4'));
    cpu.eip = CODE;
    cpu.run(3);
    expect([cpu.regs[0], cpu.eip]).toEqual([1, 0x6001]);
    expect(mem.read32(0x80000 - 12)).toBe(CODE + 2);
  });
  test('interceptInterrupts exits INTERRUPT without acknowledging', () => {
    const { cpu, mem } = pm();
    let acks = 0;
    cpu.interrupts = { hasInterrupt: () => true, acknowledge: () => { acks++; return 0x20; } };
    cpu.interceptInterrupts = true;
    load(mem, CODE, hexBytes('90'));
    cpu.setEflags(0x202); cpu.eip = CODE;
    expect(cpu.run(5)).toBe(Exit.INTERRUPT);
    expect(acks).toBe(0);
  });
});

describe('VMM and debugger hooks', () => {
  test('intercepted int3 exits EXCEPTION with EIP at the int3', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('40 cc 40'));
    cpu.eip = CODE; cpu.interceptExceptions = 1 << 3;
    expect(cpu.run(10)).toBe(Exit.EXCEPTION);
    expect([cpu.exitVector, cpu.eip, cpu.regs[0]]).toEqual([3, CODE + 1, 1]);
  });
  test('breakpoint exits before the instruction; resuming executes it', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('40 40 40 40 40 40 f4'));
    cpu.eip = CODE;
    cpu.addBreakpoint(CODE + 5);
    expect(cpu.run(100)).toBe(Exit.BREAKPOINT);
    expect([cpu.eip, cpu.regs[0]]).toEqual([CODE + 5, 5]);
    // A new run() at the breakpoint (a quantum boundary) reports it again...
    expect(cpu.run(100)).toBe(Exit.BREAKPOINT);
    // ...until the debugger resumes from it.
    cpu.bpSkipEip = cpu.eip;
    expect(cpu.run(100)).toBe(Exit.HLT);
    expect(cpu.regs[0]).toBe(6);
    cpu.removeBreakpoint(CODE + 5);
  });
  test('write watchpoint exits after the writing instruction', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('8b 1d 02 20 00 00 a3 00 20 00 00 41'));
    cpu.addWatchpoint(0x2002, 2, 'write');
    cpu.eip = CODE;
    expect(cpu.run(100)).toBe(Exit.WATCHPOINT);
    expect([cpu.eip, cpu.exitAddress, cpu.regs[1]]).toEqual([CODE + 11, 0x2002, 0]);
  });
  test('self-modifying code within the running block is seen', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('c6 05 08 10 00 00 41 90 90 f4'));
    cpu.eip = CODE;
    expect(cpu.run(100)).toBe(Exit.HLT);
    expect(cpu.regs[1]).toBe(1);
    mem.poke(CODE + 8, Uint8Array.of(0x49)); // dec ecx, written by a "loader"
    cpu.eip = CODE + 8;
    cpu.halted = false;
    cpu.run(1);
    expect(cpu.regs[1]).toBe(0);
  });
  test('rdtsc counts retired instructions', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('90 90 90 0f 31'));
    cpu.eip = CODE;
    cpu.run(4);
    expect(cpu.regs[0]).toBe(3);
  });
});

describe('real mode and mode switches', () => {
  test('int 0x10 through the IVT pushes FLAGS, CS, IP', () => {
    const { cpu, mem } = makeCpu();
    real16(cpu);
    mem.write32(0x10 * 4, 0x01002000 >>> 0 & 0xffffffff); // 0100:2000
    load(mem, CODE, hexBytes('cd 10'));
    cpu.setEflags(0x202);
    cpu.eip = CODE;
    cpu.run(1);
    expect([cpu.segSel[1], cpu.segBase[1], cpu.eip]).toEqual([0x0100, 0x1000, 0x2000]);
    expect([mem.read16(0x8000 - 2), mem.read16(0x8000 - 4), mem.read16(0x8000 - 6)]).toEqual([0x202, 0, CODE + 2]);
    expect(cpu.getEflags() & 0x200).toBe(0);
  });
  test('real -> protected (CR0.PE + far jmp) -> real', () => {
    const { cpu, mem } = makeCpu();
    real16(cpu);
    setupPMTablesOnly(mem);
    // 16-bit: lgdt [0x2000]; mov eax,cr0; or al,1; mov cr0,eax; jmp 0x08:0x1100
    mem.write16(0x2000, 0x3f); mem.write32(0x2002, GDT);
    load(mem, CODE, hexBytes('0f 01 16 00 20 0f 20 c0 0c 01 0f 22 c0 66 ea 00 11 00 00 08 00'));
    // 32-bit at 0x1100: mov ax,0x10; mov ds,ax; ljmp 0x18:0x1180 (16-bit code segment, SDM vol. 3, 9.9.2)
    load(mem, 0x1100, hexBytes('66 b8 10 00 8e d8 ea 80 11 00 00 18 00'));
    // 16-bit protected mode at 0x1180: mov eax,cr0; and al,0xfe; mov cr0,eax; ljmp 0:0x1200
    load(mem, 0x1180, hexBytes('0f 20 c0 24 fe 0f 22 c0 ea 00 12 00 00'));
    load(mem, 0x1200, hexBytes('b8 34 12 f4'));
    cpu.eip = CODE;
    expect(cpu.run(100)).toBe(Exit.HLT);
    expect(cpu.pe).toBe(false);
    expect([cpu.segSel[1], cpu.eip, cpu.regs[0] & 0xffff]).toEqual([0, 0x1204, 0x1234]);
    expect(cpu.segLimit[3]).toBe(0xffffffff); // "unreal" DS cache kept
  });
});

function setupPMTablesOnly(mem: ReturnType<typeof makeCpu>['mem']): void {
  const ents: Array<[number, number]> = [[0, 0], desc(0, 0xfffff, 0x9a), desc(0, 0xfffff, 0x92), desc(0, 0xffff, 0x9a, 0)];
  ents.forEach(([lo, hi], k) => { mem.write32(GDT + k * 8, lo); mem.write32(GDT + k * 8 + 4, hi); });
}

describe('regressions found with the fixture kernels', () => {
  test('a #PF on instruction fetch after a jump reports the target EIP', () => {
    const { cpu, mem } = makeCpu();
    setupPM(cpu, mem);
    mem.write32(PD, PT | 0x7);
    for (let k = 0; k < 1024; k++) mem.write32(PT + k * 4, (k << 12) | 0x7);
    mem.write32(PT + 0x30 * 4, 0);
    cpu.cr3 = PD; cpu.cr0 = 0x80000011;
    load(mem, CODE, hexBytes('e9 fb ff 02 00'));  // jmp 0x31000 - 0x1000... target 0x31000
    cpu.eip = CODE; cpu.interceptExceptions = 1 << 14;
    mem.write32(PT + 0x31 * 4, 0);
    expect(cpu.run(5)).toBe(Exit.EXCEPTION);
    expect([cpu.eip, cpu.cr2, cpu.exitErrorCode]).toEqual([0x31000, 0x31000, 0]);
  });
  test('x87 escape: no-op with EM=TS=0, #NM with TS=1', () => {
    const { cpu, mem } = pm();
    load(mem, CODE, hexBytes('db e3 40'));   // fninit; inc eax
    cpu.eip = CODE; cpu.interceptExceptions = ~0;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect(cpu.regs[0]).toBe(1);
    cpu.cr0 = cpu.cr0 | 8;
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.EXCEPTION);
    expect(cpu.exitVector).toBe(7);
  });
  test('a 4 MiB page frame above RAM is never cached as RAM', () => {
    const { cpu, mem } = pm();
    mem.write32(PD, 0x83);
    mem.write32(PD + 0x200 * 4, 0xc0000083);  // linear 0x80000000 -> physical 0xc0000000 (no RAM)
    cpu.cr4 = 0x10; cpu.cr3 = PD; cpu.cr0 = 0x80000011;
    load(mem, CODE, hexBytes('a1 00 00 00 80 a1 00 00 00 80'));
    cpu.eip = CODE;
    expect(cpu.run(2)).toBe(Exit.BUDGET);
    expect(cpu.regs[0]).toBe(-1); // open bus
  });
});
