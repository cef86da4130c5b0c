// Intel MultiProcessor Specification 1.4 tables, written into guest RAM the
// way a BIOS leaves them: an MP floating pointer ("_MP_") and an MP
// configuration table ("PCMP") listing N processors, one ISA bus, one
// IOAPIC, the ISA interrupt routing and the local interrupts (LINT0 = ExtINT,
// LINT1 = NMI). Owns only the table layout; it is not a device on a bus.
//
// Reference: MP Specification 1.4, chapter 4 (tables 4-1 .. 4-12). The
// routing follows SeaBIOS/QEMU: IRQ0 -> IOAPIC pin 2 (no source IRQ 2),
// every other ISA IRQ to the pin of the same number.

import type { PhysMem } from '../bus/phys-mem.js';
import { IOAPIC_BASE } from './ioapic.js';
import { LAPIC_BASE, LAPIC_VERSION } from './lapic.js';

/** Default place: inside the BIOS area that xv6, Linux and others scan (0xF0000-0xFFFFF). */
export const MP_DEFAULT_ADDR = 0xf5a00;

// Entry types (MP spec table 4-3).
const ENTRY_PROCESSOR = 0;
const ENTRY_BUS = 1;
const ENTRY_IOAPIC = 2;
const ENTRY_IO_INTERRUPT = 3;
const ENTRY_LOCAL_INTERRUPT = 4;

// Interrupt types (table 4-10).
const INT_INT = 0;
const INT_NMI = 1;
const INT_EXTINT = 3;

const CPU_ENABLED = 0x01;
const CPU_BSP = 0x02;
/** CPUID family 6 model 3 stepping 3 with FPU and APIC feature bits, as QEMU's default CPU reports. */
const CPU_SIGNATURE = 0x00000633;
const CPU_FEATURES = (1 << 0) | (1 << 9); // FPU, APIC

const IOAPIC_VERSION_BYTE = 0x11;

export interface MpTableOptions {
  /** Number of processors: APIC ids 0..cpus-1, 0 is the BSP. */
  cpus: number;
  /** Physical address of the 16-byte floating pointer (16-byte aligned); the table follows it. */
  address?: number;
  /** IOAPIC id; defaults to `cpus` (the first id not used by a CPU). */
  ioapicId?: number;
}

export interface MpTableLayout {
  floatAddr: number;
  tableAddr: number;
  /** Base configuration table length in bytes. */
  tableLength: number;
  entryCount: number;
}

/** Build the floating pointer and configuration table bytes (pure; no memory access). */
export function buildMpTable(opts: MpTableOptions): { bytes: Uint8Array; layout: MpTableLayout } {
  const cpus = opts.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 254) throw new RangeError(`MP table: bad CPU count ${cpus}`);
  const floatAddr = opts.address ?? MP_DEFAULT_ADDR;
  if (floatAddr % 16 !== 0) throw new RangeError('MP floating pointer must be 16-byte aligned');
  const ioapicId = opts.ioapicId ?? cpus;
  const tableAddr = floatAddr + 16;

  const isaIrqs = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]; // source IRQ 2 is unused: pin 2 is IRQ0
  const entryCount = cpus + 1 + 1 + isaIrqs.length + 2;
  const tableLength = 44 + 20 * cpus + 8 * (entryCount - cpus);
  const bytes = new Uint8Array(16 + tableLength);
  const v = new DataView(bytes.buffer);
  const ascii = (off: number, s: string, len: number) => {
    for (let i = 0; i < len; i++) bytes[off + i] = i < s.length ? s.charCodeAt(i) : 0x20;
  };

  // MP floating pointer structure (table 4-1 / figure 4-2).
  ascii(0, '_MP_', 4);
  v.setUint32(4, tableAddr, true); // PHYSICAL ADDRESS POINTER
  bytes[8] = 1; // LENGTH in 16-byte paragraphs
  bytes[9] = 4; // SPEC_REV 1.4
  bytes[11] = 0; // FEATURE1: 0 = a configuration table is present
  bytes[12] = 0; // FEATURE2 bit 7 (IMCRP) clear: virtual wire mode, no IMCR to program
  bytes[10] = checksum(bytes, 0, 16);

  // Configuration table header (table 4-2).
  const t = 16;
  ascii(t, 'PCMP', 4);
  v.setUint16(t + 4, tableLength, true); // BASE TABLE LENGTH
  bytes[t + 6] = 4; // SPEC_REV
  ascii(t + 8, 'TRAPVISR', 8); // OEM ID
  ascii(t + 16, 'PC', 12); // PRODUCT ID
  v.setUint32(t + 28, 0, true); // OEM TABLE POINTER
  v.setUint16(t + 32, 0, true); // OEM TABLE SIZE
  v.setUint16(t + 34, entryCount, true);
  v.setUint32(t + 36, LAPIC_BASE, true); // ADDRESS OF LOCAL APIC
  v.setUint16(t + 40, 0, true); // EXTENDED TABLE LENGTH
  bytes[t + 42] = 0; // EXTENDED TABLE CHECKSUM

  let p = t + 44;
  for (let id = 0; id < cpus; id++) { // processor entries (table 4-4), BSP first
    bytes[p] = ENTRY_PROCESSOR;
    bytes[p + 1] = id;
    bytes[p + 2] = LAPIC_VERSION & 0xff;
    bytes[p + 3] = CPU_ENABLED | (id === 0 ? CPU_BSP : 0);
    v.setUint32(p + 4, CPU_SIGNATURE, true);
    v.setUint32(p + 8, CPU_FEATURES, true);
    p += 20;
  }
  bytes[p] = ENTRY_BUS; // bus entry (table 4-7)
  bytes[p + 1] = 0;
  ascii(p + 2, 'ISA', 6);
  p += 8;
  bytes[p] = ENTRY_IOAPIC; // I/O APIC entry (table 4-8)
  bytes[p + 1] = ioapicId;
  bytes[p + 2] = IOAPIC_VERSION_BYTE;
  bytes[p + 3] = 0x01; // enabled
  v.setUint32(p + 4, IOAPIC_BASE, true);
  p += 8;
  for (const irq of isaIrqs) { // I/O interrupt assignments (table 4-9)
    bytes[p] = ENTRY_IO_INTERRUPT;
    bytes[p + 1] = INT_INT;
    v.setUint16(p + 2, 0, true); // polarity/trigger conform to the ISA bus: active high, edge
    bytes[p + 4] = 0; // source bus
    bytes[p + 5] = irq;
    bytes[p + 6] = ioapicId;
    bytes[p + 7] = irq === 0 ? 2 : irq;
    p += 8;
  }
  // Local interrupt assignments (table 4-11): ExtINT on the BSP's LINT0, NMI on every LINT1.
  bytes[p] = ENTRY_LOCAL_INTERRUPT;
  bytes[p + 1] = INT_EXTINT;
  bytes[p + 6] = 0x00; // BSP
  bytes[p + 7] = 0; // LINTIN0
  p += 8;
  bytes[p] = ENTRY_LOCAL_INTERRUPT;
  bytes[p + 1] = INT_NMI;
  bytes[p + 6] = 0xff; // all local APICs
  bytes[p + 7] = 1; // LINTIN1
  p += 8;
  if (p !== bytes.length) throw new Error('MP table layout mismatch'); // a bug in this file, not guest input
  bytes[t + 7] = checksum(bytes, t, tableLength);

  return { bytes, layout: { floatAddr, tableAddr, tableLength, entryCount } };
}

/** The byte that makes bytes[off..off+len) sum to 0 mod 256 (assuming that byte is currently 0). */
function checksum(bytes: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = off; i < off + len; i++) sum += bytes[i];
  return (256 - (sum & 0xff)) & 0xff;
}

/** Write the tables into guest RAM. Throws if the range is not plain RAM (a wiring error). */
export function writeMpTable(mem: PhysMem, opts: MpTableOptions): MpTableLayout {
  const { bytes, layout } = buildMpTable(opts);
  if (!mem.poke(layout.floatAddr, bytes)) {
    throw new Error(`MP table at 0x${layout.floatAddr.toString(16)} is not in RAM`);
  }
  return layout;
}
