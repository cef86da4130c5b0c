// System control port A (port 0x92, "fast A20" on PS/2 and later PCs).
// Owns port 0x92: bit 1 is the A20 gate, a 0->1 write of bit 0 is a fast
// CPU reset. We remember the value and report changes through callbacks.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';

export const PORT92 = 0x92;
const FAST_RESET = 0x01;
const A20 = 0x02;

export interface Port92Options {
  /** A20 gate changed (the machine may ignore it: A20 stays enabled). */
  onA20?: (enabled: boolean) => void;
  /** Bit 0 written 0 -> 1: the chipset pulses the CPU's reset. */
  onReset?: () => void;
}

export class Port92 implements PortDevice {
  private value = 0;

  constructor(private readonly opts: Port92Options = {}) {}

  register(io: IoBus): void {
    io.register(PORT92, 1, 'port92', this);
  }

  get a20(): boolean {
    return (this.value & A20) !== 0;
  }

  portRead(_port: number, _size: AccessSize): number {
    return this.value;
  }

  portWrite(_port: number, _size: AccessSize, value: number): void {
    const old = this.value;
    this.value = value & 0xff;
    if ((old ^ this.value) & A20) this.opts.onA20?.((this.value & A20) !== 0);
    if (this.value & FAST_RESET && !(old & FAST_RESET)) this.opts.onReset?.();
  }

  /** A reset clears the reset bit but, as on the chipset, keeps the A20 setting. */
  reset(): void {
    this.value &= ~FAST_RESET;
  }

  saveState(): unknown {
    return { value: this.value };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    this.value = typeof o.value === 'number' ? o.value & 0xff : 0;
  }
}
