// The baseline engine: the interpreter runs the guest directly at the
// privilege it asks for. The VMM engine is measured against this one.

import type { Cpu } from '../cpu/cpu.js';
import type { Exit } from '../cpu/exit.js';
import type { Engine } from './engine.js';
import type { BootState } from '../boot/boot-state.js';

export class EmulateEngine implements Engine {
  readonly name = 'emulate' as const;
  constructor(private readonly cpus: Cpu[]) {}

  runVcpu(i: number, budget: number): Exit {
    return this.cpus[i].run(budget);
  }

  instructions(i: number): number {
    return this.cpus[i].instructionCount;
  }

  stats(): Record<string, unknown> {
    return {};
  }

  loadBootState(i: number, s: BootState): void {
    this.cpus[i].reset();
    applyBootState(this.cpus[i], s);
  }

  initVcpu(i: number): void {
    this.cpus[i].reset();
  }

  startupVcpu(i: number, vector: number): void {
    this.cpus[i].startAt((vector & 0xff) << 8, 0);
  }
}

/** Write a BootState into a CPU's architectural registers. */
export function applyBootState(cpu: Cpu, s: BootState): void {
  cpu.cr0 = s.cr0;
  cpu.gdtrBase = s.gdtrBase; cpu.gdtrLimit = s.gdtrLimit;
  cpu.idtrBase = s.idtrBase; cpu.idtrLimit = s.idtrLimit;
  for (let i = 0; i < 8; i++) cpu.regs[i] = s.regs[i];
  s.segs.forEach((g, i) => cpu.setSegmentRaw(i, g.sel, g.base, g.limit, g.attr));
  cpu.setEflags(s.eflags);
  cpu.eip = s.eip;
}
