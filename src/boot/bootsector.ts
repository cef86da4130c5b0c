// Boot from a disk the way a PC BIOS hands over (BIOS Boot Specification
// 1.01, 6.5.1): sector 0 loaded at 0000:7C00, real mode, DL = drive 0x80.

import type { PhysMem } from '../bus/phys-mem.js';
import { BootError } from './elf.js';

export const BOOT_SECTOR_ADDR = 0x7c00;
export const BOOT_DRIVE = 0x80;

/** Copy the first sector of `disk` to 0x7C00; checks the 0x55AA signature. */
export function loadBootSector(mem: PhysMem, disk: Uint8Array): void {
  if (disk.length < 512) throw new BootError('boot disk is smaller than one sector');
  if (disk[510] !== 0x55 || disk[511] !== 0xaa) throw new BootError('boot disk has no boot signature (0x55AA at offset 510)');
  mem.poke(BOOT_SECTOR_ADDR, disk.subarray(0, 512));
}
