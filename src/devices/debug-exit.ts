// QEMU's isa-debug-exit device (iobase=0xf4, iosize=4): a guest write of V
// ends the emulator with exit status (V << 1) | 1, so a status of 1 can
// never mean "guest said success by accident". Owns ports 0xf4-0xf7.

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';

export const DEBUG_EXIT_BASE = 0xf4;
export const DEBUG_EXIT_SIZE = 4;

export class DebugExit implements PortDevice {
  constructor(
    private readonly onExit: (status: number) => void,
    readonly base = DEBUG_EXIT_BASE,
  ) {}

  register(io: IoBus): void {
    io.register(this.base, DEBUG_EXIT_SIZE, 'debug-exit', this);
  }

  /** QEMU's device has no readable state; its region reads as zero. */
  portRead(_port: number, _size: AccessSize): number {
    return 0;
  }

  /** Any width, any of the four ports: QEMU passes the written value (as wide as written) through. */
  portWrite(_port: number, size: AccessSize, value: number): void {
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    // Process exit codes are 8 bits wide; the callback gets the full value as QEMU computes it.
    this.onExit(((v << 1) | 1) >>> 0);
  }

  saveState(): unknown {
    return {};
  }

  loadState(_s: unknown): void {}
}
