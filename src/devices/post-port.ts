// Port 0x80, the POST diagnostic port. Writes are used as a short I/O
// delay (outb %al, $0x80) and to show POST codes; we keep the last code for
// debugging. Reads return the last value written, as on many chipsets.
// Owns port 0x80.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';

export const POST_PORT = 0x80;

export class PostPort implements PortDevice {
  lastCode = 0;

  register(io: IoBus): void {
    io.register(POST_PORT, 1, 'post', this);
  }

  portRead(_port: number, _size: AccessSize): number {
    return this.lastCode;
  }

  portWrite(_port: number, _size: AccessSize, value: number): void {
    this.lastCode = value & 0xff;
  }

  saveState(): unknown {
    return { lastCode: this.lastCode };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    this.lastCode = typeof o.lastCode === 'number' ? o.lastCode & 0xff : 0;
  }
}
