// Test harness: a Cpu over a PhysMem + IoBus, loaded with bytes, in flat
// 32-bit protected mode or real mode. Engine-neutral case tables import
// only the Case type and run through `runCase`.

import { IoBus } from '../../../src/bus/io-bus.js';
import { PhysMem } from '../../../src/bus/phys-mem.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { Exit } from '../../../src/cpu/exit.js';

export const CODE = 0x1000;
export const STACK_TOP = 0x80000;

export function makeCpu(ram = 4 << 20): { cpu: Cpu; mem: PhysMem; io: IoBus } {
  const mem = new PhysMem(ram);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  return { cpu, mem, io };
}

/** Flat 4 GiB ring-0 segments, 32-bit code, paging off. */
export function flat32(cpu: Cpu, cpl = 0): void {
  cpu.cr0 = 0x11;
  cpu.setSegmentRaw(1, 0x08 | cpl, 0, 0xffffffff, 0xc09b | (cpl << 5));
  for (const s of [0, 2, 3, 4, 5]) cpu.setSegmentRaw(s, 0x10 | cpl, 0, 0xffffffff, 0xc093 | (cpl << 5));
  cpu.regs[4] = STACK_TOP;
  cpu.setEflags(0x2);
}

/** Real mode with all segments 0. */
export function real16(cpu: Cpu): void {
  cpu.cr0 = 0x10;
  for (let s = 0; s < 6; s++) cpu.setSegmentRaw(s, 0, 0, 0xffff, s === 1 ? 0x9b : 0x93);
  cpu.regs[4] = 0x8000;
  cpu.setEflags(0x2);
}

export function load(mem: PhysMem, addr: number, bytes: number[] | Uint8Array): void {
  mem.poke(addr, Uint8Array.from(bytes));
}

/** Hex string "b8 01 00 00 00" -> bytes. */
export function hexBytes(s: string): number[] {
  return s.trim().split(/\s+/).filter((x) => x.length).map((x) => parseInt(x, 16));
}

/** Register names in x86 order, for case tables. */
export const REG = { eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7 } as const;
export type RegName = keyof typeof REG;

/** One engine-neutral instruction test. */
export interface Case {
  /** Mnemonic text for humans (what the bytes are). */
  asm: string;
  /** Machine code. */
  code: string;
  mode?: 'pm32' | 'real';
  regs?: Partial<Record<RegName, number>>;
  flags?: number;
  mem?: Array<[number, number[]]>;
  /** Instructions to run (default 1). */
  steps?: number;
  expect: {
    regs?: Partial<Record<RegName, number>>;
    /** Arithmetic flags to compare (mask) and their expected values. */
    flagsMask?: number;
    flags?: number;
    mem?: Array<[number, number[]]>;
    eip?: number;
    exit?: Exit;
    vector?: number;
    error?: number;
  };
}

export interface CaseResult { regs: number[]; flags: number; eip: number; exit: Exit; cpu: Cpu; mem: PhysMem }

export function runCase(c: Case): CaseResult {
  const { cpu, mem } = makeCpu();
  if (c.mode === 'real') real16(cpu); else flat32(cpu);
  load(mem, CODE, hexBytes(c.code));
  for (const [a, b] of c.mem ?? []) load(mem, a, b);
  for (const [k, v] of Object.entries(c.regs ?? {})) cpu.regs[REG[k as RegName]] = v as number;
  if (c.flags !== undefined) cpu.setEflags(c.flags);
  cpu.eip = CODE;
  cpu.interceptExceptions = 0xffffffff;
  const exit = cpu.run(c.steps ?? 1);
  return { regs: Array.from(cpu.regs, (x) => x >>> 0), flags: cpu.getEflags(), eip: cpu.eip, exit, cpu, mem };
}
