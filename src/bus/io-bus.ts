// The x86 I/O port space (64 Ki ports). Devices register port ranges;
// overlapping registrations are a wiring bug and throw. Unclaimed ports
// read as all ones and swallow writes, as on an ISA bus.

import type { AccessSize } from './phys-mem.js';

export interface PortDevice {
  portRead(port: number, size: AccessSize): number;
  portWrite(port: number, size: AccessSize, value: number): void;
}

interface PortRange {
  base: number;
  count: number;
  name: string;
  dev: PortDevice;
}

export class IoBus {
  /** Per port: index+1 of its range, 0 = unclaimed. */
  private readonly map = new Uint16Array(0x10000);
  private readonly ranges: PortRange[] = [];

  register(base: number, count: number, name: string, dev: PortDevice): void {
    for (let p = base; p < base + count; p++) {
      if (this.map[p] !== 0) {
        throw new Error(`port ${p.toString(16)} of ${name} already claimed by ${this.ranges[this.map[p] - 1].name}`);
      }
    }
    this.ranges.push({ base, count, name, dev });
    const idx = this.ranges.length;
    for (let p = base; p < base + count; p++) this.map[p] = idx;
  }

  isClaimed(port: number): boolean {
    return this.map[port & 0xffff] !== 0;
  }

  in(port: number, size: AccessSize): number {
    port &= 0xffff;
    const r = this.map[port];
    if (r === 0) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return this.ranges[r - 1].dev.portRead(port, size);
  }

  out(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    const r = this.map[port];
    if (r !== 0) this.ranges[r - 1].dev.portWrite(port, size, value);
  }
}
