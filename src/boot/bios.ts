// The little a PC BIOS leaves in low memory that boot code and kernels
// read: the real-mode IVT (every vector pointing at an IRET, so a stray
// `int` in real mode returns instead of running garbage) and the BIOS data
// area fields xv6's mp.c uses to find the EBDA and base memory size.

import type { PhysMem } from '../bus/phys-mem.js';

const BDA_EBDA_SEGMENT = 0x40e; // word: segment of the extended BIOS data area
const BDA_BASE_MEMORY_KIB = 0x413; // word: KiB of conventional memory
const EBDA_SEGMENT = 0x9fc0; // EBDA at 0x9FC00 (top 1 KiB of base memory)
const IRET_STUB = 0xfff53; // F000:FF53, where IBM PC BIOSes keep a lone IRET

export function writeBiosData(mem: PhysMem): void {
  const ivt = new Uint8Array(256 * 4);
  for (let v = 0; v < 256; v++) {
    ivt[v * 4] = 0x53; ivt[v * 4 + 1] = 0xff; // offset FF53
    ivt[v * 4 + 2] = 0x00; ivt[v * 4 + 3] = 0xf0; // segment F000
  }
  mem.poke(0, ivt);
  mem.poke(IRET_STUB, new Uint8Array([0xcf]));
  mem.poke(BDA_EBDA_SEGMENT, new Uint8Array([EBDA_SEGMENT & 0xff, EBDA_SEGMENT >> 8]));
  mem.poke(BDA_BASE_MEMORY_KIB, new Uint8Array([639 & 0xff, 639 >> 8]));
}
