// The processor state a boot path hands over, independent of the engine:
// the emulate engine writes it into a Cpu, the VMM into a vCPU's virtual
// state. Segment attributes use descriptor bytes 5..6 (type/S/DPL/P in the
// low byte, AVL/D-B/G in bits 12..15), as the CPU's segment caches do.

import type { PhysMem } from '../bus/phys-mem.js';

export interface SegmentState {
  sel: number;
  base: number;
  limit: number;
  attr: number;
}

export interface BootState {
  protectedMode: boolean;
  eip: number;
  /** EAX ECX EDX EBX ESP EBP ESI EDI */
  regs: number[];
  eflags: number;
  /** ES CS SS DS FS GS */
  segs: SegmentState[];
  gdtrBase: number;
  gdtrLimit: number;
  idtrBase: number;
  idtrLimit: number;
  cr0: number;
}

// Flat 4 GiB segments as a multiboot loader leaves them (Multiboot spec 3.2).
const FLAT_CODE_ATTR = 0xc09b; // present, DPL0, code exec/read accessed, D=1, G=1
const FLAT_DATA_ATTR = 0xc093; // present, DPL0, data read/write accessed, B=1, G=1
export const LOADER_GDT_ADDR = 0x500;

/** A GDT in low memory matching the flat selectors we hand over (0x08 code, 0x10 data). */
export function writeLoaderGdt(mem: PhysMem): void {
  const gdt = new Uint8Array([
    0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, // 0x08: code
    0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0, // 0x10: data
  ]);
  mem.poke(LOADER_GDT_ADDR, gdt);
}

export function multibootState(entry: number, infoAddr: number, magic: number): BootState {
  const flat = (sel: number, attr: number): SegmentState => ({ sel, base: 0, limit: 0xffffffff, attr });
  const data = flat(0x10, FLAT_DATA_ATTR);
  return {
    protectedMode: true,
    eip: entry,
    regs: [magic, 0, 0, infoAddr, 0x7000, 0, 0, 0],
    eflags: 0x2,
    segs: [data, flat(0x08, FLAT_CODE_ATTR), { ...data }, { ...data }, { ...data }, { ...data }],
    gdtrBase: LOADER_GDT_ADDR,
    gdtrLimit: 23,
    idtrBase: 0,
    idtrLimit: 0x3ff,
    cr0: 0x11, // PE + ET
  };
}

/** BIOS hand-over to a boot sector: real mode at 0000:7C00, DL = boot drive. */
export function bootSectorState(drive: number): BootState {
  const rm = (sel: number, attr: number): SegmentState => ({ sel, base: sel << 4, limit: 0xffff, attr });
  return {
    protectedMode: false,
    eip: 0x7c00,
    regs: [0, 0, drive, 0, 0x7c00, 0, 0, 0],
    eflags: 0x2,
    segs: [rm(0, 0x93), rm(0, 0x9b), rm(0, 0x93), rm(0, 0x93), rm(0, 0x93), rm(0, 0x93)],
    gdtrBase: 0,
    gdtrLimit: 0xffff,
    idtrBase: 0,
    idtrLimit: 0x3ff,
    cr0: 0x10,
  };
}
