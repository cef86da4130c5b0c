// An engine runs one vCPU of a board for a bounded number of instructions
// and reports only machine-level events. The plain interpreter and the VMM
// monitor are interchangeable behind it (house style 4: run loops return
// exits, engines are interchangeable).

import type { Exit } from '../cpu/exit.js';
import type { BootState } from '../boot/boot-state.js';

export interface Engine {
  readonly name: 'emulate' | 'vmm';
  /**
   * Run vCPU `i` for at most `budget` guest instructions. Returns an Exit:
   * BUDGET, HLT (waiting for an interrupt), BREAKPOINT, WATCHPOINT (debugger
   * events, details in the vCPU's exit fields) or TRIPLE_FAULT.
   */
  runVcpu(i: number, budget: number): Exit;
  /** Guest instructions vCPU `i` has retired (drives virtual time). */
  instructions(i: number): number;
  /** Why the engine stopped the guest for good (it then returns TRIPLE_FAULT), if it says. */
  readonly stopReason?: string | null;
  /** Engine-specific counters for --stats (exits by cause etc.). */
  stats(): Record<string, unknown>;
  /** Put vCPU `i` in the state a boot path hands over (BSP at power-on). */
  loadBootState(i: number, s: BootState): void;
  /** INIT IPI: vCPU `i` resets and waits for a STARTUP IPI (SDM vol. 3, 8.4.4). */
  initVcpu(i: number): void;
  /** STARTUP IPI: vCPU `i` starts in real mode at CS:IP = (vector << 8):0. */
  startupVcpu(i: number, vector: number): void;
}
