// The baseline engine: the interpreter runs the guest directly at the
// privilege it asks for. The VMM engine is measured against this one.

import type { Cpu } from '../cpu/cpu.js';
import type { Exit } from '../cpu/exit.js';
import type { Engine } from './engine.js';

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
}
