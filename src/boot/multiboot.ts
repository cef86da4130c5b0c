// Multiboot v1 loading (Multiboot Specification 0.6.96, sections 3.1-3.3):
// find the header in the first 8 KiB, copy the kernel where it asks, and
// build the boot information block a multiboot loader hands over in EBX.

import type { PhysMem } from '../bus/phys-mem.js';
import { BootError, isElf, parseElf32 } from './elf.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002; // in the kernel image
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002; // in EAX at entry
const MULTIBOOT_SEARCH = 8192; // header must lie within the first 8 KiB
const MB_FLAG_AOUT_KLUDGE = 1 << 16; // header carries load addresses

// Where our "boot loader" leaves its data in low memory (below the 0x7000
// page xv6 uses for its AP trampoline and above the BIOS data area).
export const MB_INFO_ADDR = 0x9000;
const MB_MMAP_ADDR = 0x9100;
const MB_CMDLINE_ADDR = 0x9400;
const MB_LOADER_NAME_ADDR = 0x9600;

// Info flags (spec 3.3).
const MBI_MEMORY = 1 << 0;
const MBI_CMDLINE = 1 << 2;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;

export interface MultibootHeader {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export function findMultibootHeader(img: Uint8Array): MultibootHeader | null {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const end = Math.min(img.length, MULTIBOOT_SEARCH) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true);
    const sum = (MULTIBOOT_HEADER_MAGIC + flags + dv.getUint32(off + 8, true)) >>> 0;
    if (sum !== 0) continue;
    const h: MultibootHeader = { offset: off, flags, headerAddr: 0, loadAddr: 0, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0 };
    if (flags & MB_FLAG_AOUT_KLUDGE && off + 32 <= img.length) {
      h.headerAddr = dv.getUint32(off + 12, true);
      h.loadAddr = dv.getUint32(off + 16, true);
      h.loadEndAddr = dv.getUint32(off + 20, true);
      h.bssEndAddr = dv.getUint32(off + 24, true);
      h.entryAddr = dv.getUint32(off + 28, true);
    }
    return h;
  }
  return null;
}

export interface LoadedKernel {
  entry: number;
  infoAddr: number;
  /** Highest physical address the image occupies (exclusive). */
  end: number;
}

function checkFits(mem: PhysMem, addr: number, len: number, what: string): void {
  if (addr < 0x100000 && addr + len > 0xa0000 && len > 0) {
    throw new BootError(`${what} at 0x${addr.toString(16)} overlaps the VGA/BIOS hole`);
  }
  if (addr + len > mem.ramSize) {
    const need = Math.ceil((addr + len) / (1 << 20));
    throw new BootError(`kernel needs at least ${need} MiB of memory (have ${mem.ramSize >> 20} MiB); raise --memory`);
  }
}

/** Load a multiboot kernel image into `mem`; returns its entry point and info block address. */
export function loadMultiboot(mem: PhysMem, img: Uint8Array, cmdline: string): LoadedKernel {
  const hdr = findMultibootHeader(img);
  if (!hdr) {
    throw new BootError(isElf(img) ? 'no multiboot header in the first 8 KiB of the kernel' : 'not an ELF file and no multiboot header');
  }
  let entry: number;
  let end = 0;
  if (hdr.flags & MB_FLAG_AOUT_KLUDGE) {
    // Spec 3.1.3: load [loadAddr, loadEndAddr) from file offset header_offset - (headerAddr - loadAddr).
    const fileStart = hdr.offset - (hdr.headerAddr - hdr.loadAddr);
    const loadEnd = hdr.loadEndAddr === 0 ? hdr.loadAddr + (img.length - fileStart) : hdr.loadEndAddr;
    const bssEnd = hdr.bssEndAddr === 0 ? loadEnd : hdr.bssEndAddr;
    if (fileStart < 0 || fileStart + (loadEnd - hdr.loadAddr) > img.length) throw new BootError('multiboot load addresses lie outside the file');
    checkFits(mem, hdr.loadAddr, bssEnd - hdr.loadAddr, 'kernel');
    mem.poke(hdr.loadAddr, img.subarray(fileStart, fileStart + (loadEnd - hdr.loadAddr)));
    mem.poke(loadEnd, new Uint8Array(bssEnd - loadEnd));
    entry = hdr.entryAddr;
    end = bssEnd;
  } else {
    const elf = parseElf32(img);
    for (const s of elf.segments) {
      if (s.memSize === 0) continue;
      checkFits(mem, s.paddr, s.memSize, 'ELF segment');
      mem.poke(s.paddr, img.subarray(s.fileOffset, s.fileOffset + s.fileSize));
      if (s.memSize > s.fileSize) mem.poke(s.paddr + s.fileSize, new Uint8Array(s.memSize - s.fileSize));
      end = Math.max(end, s.paddr + s.memSize);
    }
    // The entry is a virtual address; a multiboot loader jumps to it with
    // paging off, so it must be physical. Kernels like xv6 link high and
    // set e_entry to the physical alias themselves.
    entry = elf.entry;
  }
  writeInfo(mem, cmdline);
  return { entry, infoAddr: MB_INFO_ADDR, end };
}

function writeInfo(mem: PhysMem, cmdline: string): void {
  const info = new Uint8Array(88);
  const dv = new DataView(info.buffer);
  const ramKiB = mem.ramSize / 1024;
  dv.setUint32(0, MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME, true);
  dv.setUint32(4, 640, true); // mem_lower: KiB below 640 KiB
  dv.setUint32(8, ramKiB - 1024, true); // mem_upper: KiB from 1 MiB
  dv.setUint32(12, 0xffffffff, true); // boot_device: none
  dv.setUint32(16, MB_CMDLINE_ADDR, true);
  // Memory map: usable low memory, reserved hole, usable high memory.
  const map: Array<[number, number, number]> = [
    [0, 0x9fc00, 1],
    [0x9fc00, 0x400, 2],
    [0xf0000, 0x10000, 2],
    [0x100000, mem.ramSize - 0x100000, 1],
  ];
  const mm = new Uint8Array(map.length * 24);
  const mdv = new DataView(mm.buffer);
  map.forEach(([base, len, type], i) => {
    mdv.setUint32(i * 24, 20, true);
    mdv.setUint32(i * 24 + 4, base, true);
    mdv.setUint32(i * 24 + 12, len, true);
    mdv.setUint32(i * 24 + 20, type, true);
  });
  dv.setUint32(44, mm.length, true);
  dv.setUint32(48, MB_MMAP_ADDR, true);
  dv.setUint32(64, MB_LOADER_NAME_ADDR, true);
  mem.poke(MB_INFO_ADDR, info);
  mem.poke(MB_MMAP_ADDR, mm);
  mem.poke(MB_CMDLINE_ADDR, cString(cmdline.slice(0, 500)));
  mem.poke(MB_LOADER_NAME_ADDR, cString('trapvisor'));
}

function cString(s: string): Uint8Array {
  const b = Buffer.from(s + '\0', 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
