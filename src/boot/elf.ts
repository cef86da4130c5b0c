// ELF32 (i386) executable parsing: just enough to load PT_LOAD segments
// and find the entry point (System V ABI, "ELF Header" and "Program Header").

export class BootError extends Error {}

export const PT_LOAD = 1;

export interface ElfSegment {
  /** Physical load address (p_paddr): where a boot loader copies it. */
  paddr: number;
  vaddr: number;
  fileOffset: number;
  fileSize: number;
  memSize: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
}

/** True if the buffer starts with the ELF magic. */
export function isElf(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** Parse an ELF32 little-endian i386 executable; throws BootError with a one-line reason. */
export function parseElf32(buf: Uint8Array): ElfImage {
  if (!isElf(buf)) throw new BootError('not an ELF file');
  if (buf.length < 52) throw new BootError('truncated ELF header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[4] !== 1) throw new BootError('not a 32-bit ELF (EI_CLASS is not ELFCLASS32)');
  if (buf[5] !== 1) throw new BootError('not a little-endian ELF');
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== 3) throw new BootError(`ELF machine ${machine} is not i386 (3)`);
  if (type !== 2) throw new BootError('ELF is not an executable (ET_EXEC)');
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > buf.length) throw new BootError('truncated ELF program headers');
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== PT_LOAD) continue;
    const seg: ElfSegment = {
      fileOffset: dv.getUint32(o + 4, true),
      vaddr: dv.getUint32(o + 8, true),
      paddr: dv.getUint32(o + 12, true),
      fileSize: dv.getUint32(o + 16, true),
      memSize: dv.getUint32(o + 20, true),
    };
    if (seg.fileOffset + seg.fileSize > buf.length) throw new BootError('ELF segment extends past the end of the file');
    if (seg.fileSize > seg.memSize) throw new BootError('ELF segment file size exceeds its memory size');
    segments.push(seg);
  }
  if (segments.length === 0) throw new BootError('ELF has no loadable segments');
  return { entry, segments };
}
