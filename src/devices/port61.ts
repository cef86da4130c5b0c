// System control port B (port 0x61) of the PC/AT: PIT channel 2 gate and
// speaker enable (writable bits 0-1), refresh toggle (bit 4), channel 2 OUT (bit 5).
// Owns only port 0x61; the timer state lives in the PIT.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { Pit8254 } from './pit8254.js';

export const PORT61 = 0x61;
const GATE2 = 0x01; // PIT channel 2 gate
const SPEAKER = 0x02; // speaker data enable
const REFRESH = 0x10; // DRAM refresh request toggle
const OUT2 = 0x20; // PIT channel 2 output

export class Port61 implements PortDevice {
  private speaker = false;
  /**
   * Real hardware flips bit 4 every 15.085 us. Like QEMU we flip it on
   * every read instead: deterministic, and any loop that waits for a
   * toggle terminates.
   */
  private refresh = 0;

  constructor(private readonly pit: Pit8254) {}

  register(io: IoBus): void {
    io.register(PORT61, 1, 'port61', this);
  }

  portRead(_port: number, _size: AccessSize): number {
    this.refresh ^= REFRESH;
    return (this.pit.getGate(2) ? GATE2 : 0) | (this.speaker ? SPEAKER : 0) | this.refresh | (this.pit.getOut(2) ? OUT2 : 0);
  }

  portWrite(_port: number, _size: AccessSize, value: number): void {
    this.pit.setGate(2, (value & GATE2) !== 0);
    this.speaker = (value & SPEAKER) !== 0;
  }

  reset(): void {
    this.speaker = false;
    this.refresh = 0;
  }

  saveState(): unknown {
    return { speaker: this.speaker, refresh: this.refresh };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    this.speaker = o.speaker === true;
    this.refresh = o.refresh === REFRESH ? REFRESH : 0;
  }
}
