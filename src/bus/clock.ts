// Deterministic virtual time. Time is derived from retired instructions,
// never from the host clock, so every run of the same input is identical.
// One guest instruction = 1 ns of virtual time (a 1 GHz, 1 IPC machine).

export const NS_PER_INSTRUCTION = 1;
export const NS_PER_SECOND = 1_000_000_000;

/** A device whose behaviour depends on time. */
export interface Clocked {
  /** Bring the device up to virtual time `now` (ns), firing whatever is due. */
  advanceTo(now: number): void;
  /** The next virtual time (ns) at which the device wants advanceTo, or Infinity. */
  nextDeadline(): number;
}

export class Clock {
  /** Virtual nanoseconds since power-on. */
  now = 0;
  private readonly devices: Clocked[] = [];

  add(dev: Clocked): void {
    this.devices.push(dev);
  }

  /** Earliest deadline of all devices (Infinity if none is armed). */
  nextDeadline(): number {
    let d = Infinity;
    for (const dev of this.devices) {
      const x = dev.nextDeadline();
      if (x < d) d = x;
    }
    return d;
  }

  /** Move time forward to `t` (never backwards) and let devices catch up. */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
    for (const dev of this.devices) dev.advanceTo(this.now);
  }
}
