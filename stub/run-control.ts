// Whether the guest runs, and why it last stopped. Outlives connections:
// after `D` the guest runs on with nobody attached, and the next gdb to
// connect finds it here (and stops it, as a fresh `target remote` expects).

import type { DebugTarget, ResumeAction, StopReason } from './target.js';

export class RunControl {
  running = false;
  /** Answer to `?`. Before any run: the first vCPU, stopped as after a trap. */
  lastStop: StopReason;
  /** The attached session's ear; stops with nobody listening are only recorded. */
  listener: ((r: StopReason) => void) | null = null;
  /** Tags each resume so a late or repeated onStop cannot be mistaken for a newer run's. */
  private generation = 0;

  constructor(readonly target: DebugTarget) {
    const first = safeThreads(target)[0] ?? 0;
    this.lastStop = { kind: 'signal', signal: 5, thread: first };
  }

  /** Start the target; false if it is already running or refused (threw). */
  resume(actions: readonly ResumeAction[]): boolean {
    if (this.running) return false;
    const gen = ++this.generation;
    this.running = true;
    try {
      this.target.resume(actions, (r) => this.stopped(gen, r));
    } catch {
      if (gen === this.generation) this.running = false;
      return false;
    }
    return true;
  }

  /** Every vCPU continues (detach, start without --wait). */
  resumeAll(): boolean {
    return this.resume(safeThreads(this.target).map((thread) => ({ thread, kind: 'continue' as const })));
  }

  /** Ctrl-C, or a new gdb attaching to a running guest. */
  interrupt(): void {
    if (!this.running) return;
    try {
      this.target.interrupt();
    } catch {
      // A target that cannot be interrupted keeps running; gdb can retry ^C.
    }
  }

  private stopped(gen: number, r: StopReason): void {
    if (gen !== this.generation || !this.running) return;
    this.running = false;
    this.lastStop = r;
    this.listener?.(r);
  }
}

export function safeThreads(target: DebugTarget): readonly number[] {
  try {
    const t = target.threads();
    return Array.isArray(t) && t.length > 0 ? t : [0];
  } catch {
    return [0];
  }
}
