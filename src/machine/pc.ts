// The machine: boards (one per guest), the vCPUs that run them, the engine
// that drives those vCPUs, and the deterministic run loop that interleaves
// vCPUs in instruction quanta and advances virtual time between them.

import { Exit } from '../cpu/exit.js';
import type { Engine } from './engine.js';
import type { Board } from './board.js';

/**
 * Connect an engine to its board: virtual time from the engine's
 * instruction counts, INIT/STARTUP IPIs to the engine's vCPUs, the BSP
 * booted. Returns the run loop that drives them.
 */
export function startGuest(board: Board, engine: Engine, vcpus: number, quantum: number): GuestRunner {
  board.setInstructionCounter((i) => engine.instructions(i));
  const runner = new GuestRunner(board, engine, vcpus, quantum);
  board.cpuControl = {
    init: (id) => { if (id < vcpus) { engine.initVcpu(id); runner.started[id] = false; } },
    startup: (id, vector) => { if (id < vcpus && !runner.started[id]) { engine.startupVcpu(id, vector); runner.started[id] = true; } },
  };
  engine.loadBootState(0, board.boot());
  return runner;
}

export type StopReason =
  | { kind: 'exit'; status: number }            // debug-exit port: process status (V << 1) | 1
  | { kind: 'triple-fault'; vcpu: number; message: string }
  | { kind: 'reset'; vcpu: number }             // guest asked for a reset (8042 0xFE / port 0x92)
  | { kind: 'breakpoint'; vcpu: number }
  | { kind: 'watchpoint'; vcpu: number }
  | { kind: 'step'; vcpu: number }              // a single-step/range budget ran out
  | { kind: 'limit' }                          // --max-instructions reached
  | { kind: 'idle' };                          // every vCPU halted and nothing will ever wake one

/**
 * One guest's vCPUs and its board, run by an engine. Each vCPU is either
 * running (or halted in HLT) or waiting for a STARTUP IPI (APs at boot).
 */
export class GuestRunner {
  readonly started: boolean[];
  /** Total guest instructions retired by all vCPUs. */
  instructions = 0;
  stop: StopReason | null = null;
  /** The last slice ended because every vCPU waits (for time or for input). */
  idled = false;
  private rr = 0;

  constructor(readonly board: Board, readonly engine: Engine, readonly vcpuCount: number, readonly quantum: number) {
    this.started = Array.from({ length: vcpuCount }, (_, i) => i === 0);
  }

  /**
   * Run until `budget` instructions (summed over vCPUs) have retired, a stop
   * reason arises, or every vCPU waits. Returns true if any progress was made
   * or time advanced.
   */
  runSlice(budget: number, only?: number): void {
    const board = this.board;
    const clock = board.clock;
    let left = budget;
    this.idled = false;
    while (left > 0 && this.stop === null && board.stop === null) {
      const deadline = clock.nextDeadline();
      const now = clock.now;
      let q = Math.min(this.quantum, left);
      if (deadline - now < q) q = Math.max(1, Math.ceil(deadline - now));
      let allHalted = true;
      let maxRan = 0;
      for (let k = 0; k < this.vcpuCount; k++) {
        const i = (this.rr + k) % this.vcpuCount;
        if (!this.started[i] || (only !== undefined && i !== only)) continue;
        board.setCurrentCpu(i);
        const before = this.engine.instructions(i);
        board.beginQuantum(now, before);
        const exit = this.engine.runVcpu(i, q);
        const ran = this.engine.instructions(i) - before;
        this.instructions += ran;
        left -= ran;
        if (ran > maxRan) maxRan = ran;
        if (exit !== Exit.HLT) allHalted = false;
        if (exit === Exit.BREAKPOINT) this.stop = { kind: 'breakpoint', vcpu: i };
        else if (exit === Exit.WATCHPOINT) this.stop = { kind: 'watchpoint', vcpu: i };
        else if (exit === Exit.TRIPLE_FAULT) {
          this.stop = { kind: 'triple-fault', vcpu: i, message: this.engine.stopReason ?? board.describeTripleFault(i) };
        }
        if (this.stop !== null || board.stop !== null) break;
      }
      this.rr = (this.rr + 1) % this.vcpuCount;
      if (allHalted && this.stop === null && board.stop === null) {
        // Nothing runs: jump virtual time to the next device deadline.
        if (deadline === Infinity) {
          if (!board.mayWakeFromOutside()) this.stop = { kind: 'idle' };
          this.idled = true;
          return;
        }
        clock.advanceTo(Math.max(deadline, now + 1));
        if (board.throttleIdle) { this.idled = true; return; } // let the event loop (stdin) breathe
        continue;
      }
      // Every running vCPU had a quantum of the same virtual time slot.
      clock.advanceTo(now + (this.vcpuCount === 1 ? maxRan : Math.max(maxRan, q)));
    }
  }
}
