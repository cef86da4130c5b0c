// The Bochs/QEMU "port 0xE9 hack" debug console: each byte written is
// printed on the host; reading returns 0xE9 so guests can detect it.
// Owns port 0xe9.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';

export const PORT_E9 = 0xe9;

export class PortE9 implements PortDevice {
  constructor(private readonly onByte: (byte: number) => void) {}

  register(io: IoBus): void {
    io.register(PORT_E9, 1, 'port-e9', this);
  }

  portRead(_port: number, _size: AccessSize): number {
    return PORT_E9;
  }

  portWrite(_port: number, _size: AccessSize, value: number): void {
    this.onByte(value & 0xff);
  }

  saveState(): unknown {
    return {};
  }

  loadState(_s: unknown): void {}
}
