// The i386 register file as gdb numbers it, and the target description
// (qXfer:features:read:target.xml) that tells gdb so.
//
// GDB's i386 tdep validates the tdesc: feature org.gnu.gdb.i386.core must
// name all 32 core registers (eax..gs, then st0-st7 and fctrl..fop) in this
// order, or gdb rejects the description. The x87 block reads as 0 and
// ignores writes until a target offers an FPU view. Segment bases, CR0-CR4
// and the descriptor-table registers go in our own feature after it, so
// `info registers cr3` works by name (group "system" keeps them out of a
// plain `info registers`).

import { Reg, type RegId } from './target.js';

export interface GdbReg {
  name: string;
  bits: number;
  type: string;
  group?: string;
  /** Where the value comes from; undefined = stub-owned x87 (reads 0). */
  reg?: RegId;
  feature: 'core' | 'system';
}

const core = (name: string, type: string, reg: RegId): GdbReg => ({ name, bits: 32, type, reg, feature: 'core' });
const sys = (name: string, type: string, reg: RegId): GdbReg => ({ name, bits: 32, type, reg, feature: 'system', group: 'system' });

/** Index = gdb register number (the number in p/P packets and g order). */
export const GDB_REGS: readonly GdbReg[] = [
  core('eax', 'int32', Reg.EAX),
  core('ecx', 'int32', Reg.ECX),
  core('edx', 'int32', Reg.EDX),
  core('ebx', 'int32', Reg.EBX),
  core('esp', 'data_ptr', Reg.ESP),
  core('ebp', 'data_ptr', Reg.EBP),
  core('esi', 'int32', Reg.ESI),
  core('edi', 'int32', Reg.EDI),
  core('eip', 'code_ptr', Reg.EIP),
  core('eflags', 'i386_eflags', Reg.EFLAGS),
  core('cs', 'int32', Reg.CS),
  core('ss', 'int32', Reg.SS),
  core('ds', 'int32', Reg.DS),
  core('es', 'int32', Reg.ES),
  core('fs', 'int32', Reg.FS),
  core('gs', 'int32', Reg.GS),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i): GdbReg => ({ name: `st${i}`, bits: 80, type: 'i387_ext', feature: 'core' })),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map(
    (name): GdbReg => ({ name, bits: 32, type: 'int', group: 'float', feature: 'core' }),
  ),
  sys('cs_base', 'data_ptr', Reg.CS_BASE),
  sys('ss_base', 'data_ptr', Reg.SS_BASE),
  sys('ds_base', 'data_ptr', Reg.DS_BASE),
  sys('es_base', 'data_ptr', Reg.ES_BASE),
  sys('fs_base', 'data_ptr', Reg.FS_BASE),
  sys('gs_base', 'data_ptr', Reg.GS_BASE),
  sys('cr0', 'i386_cr0', Reg.CR0),
  sys('cr2', 'data_ptr', Reg.CR2),
  sys('cr3', 'data_ptr', Reg.CR3),
  sys('cr4', 'i386_cr4', Reg.CR4),
  sys('gdtr_base', 'data_ptr', Reg.GDTR_BASE),
  sys('gdtr_limit', 'int32', Reg.GDTR_LIMIT),
  sys('idtr_base', 'data_ptr', Reg.IDTR_BASE),
  sys('idtr_limit', 'int32', Reg.IDTR_LIMIT),
  sys('ldtr', 'int32', Reg.LDTR),
  sys('tr', 'int32', Reg.TR),
];

export const GDB_PC_REGNUM = 8;
export const GDB_SP_REGNUM = 4;
export const GDB_FP_REGNUM = 5;

/** Bytes of the whole `g` packet payload. */
export const G_PACKET_BYTES = GDB_REGS.reduce((n, r) => n + r.bits / 8, 0);

type Flag = [name: string, bit: number];

// EFLAGS bits, Intel SDM Vol. 1 §3.4.3 (same set GDB's own feature uses).
const EFLAGS_BITS: Flag[] = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9],
  ['DF', 10], ['OF', 11], ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19],
  ['VIP', 20], ['ID', 21],
];
// CR0, Intel SDM Vol. 3A §2.5.
const CR0_BITS: Flag[] = [
  ['PE', 0], ['MP', 1], ['EM', 2], ['TS', 3], ['ET', 4], ['NE', 5], ['WP', 16],
  ['AM', 18], ['NW', 29], ['CD', 30], ['PG', 31],
];
// CR4, Intel SDM Vol. 3A §2.5 (the bits an i386-era guest can meet).
const CR4_BITS: Flag[] = [
  ['VME', 0], ['PVI', 1], ['TSD', 2], ['DE', 3], ['PSE', 4], ['PAE', 5], ['MCE', 6],
  ['PGE', 7], ['PCE', 8], ['OSFXSR', 9], ['OSXMMEXCPT', 10],
];

function flags(id: string, bits: Flag[]): string {
  const fields = bits.map(([n, b]) => `    <field name="${n}" start="${b}" end="${b}"/>`).join('\n');
  return `  <flags id="${id}" size="4">\n${fields}\n  </flags>\n`;
}

function regXml(r: GdbReg, regnum: number): string {
  const group = r.group ? ` group="${r.group}"` : '';
  return `  <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${regnum}"${group}/>\n`;
}

/**
 * GDB only lets `set architecture` pick something compatible with the
 * tdesc's architecture: i386 rejects i8086, while i8086 accepts i386. So a
 * gdb that attaches while the guest is in real mode (CR0.PE = 0, e.g. at
 * the BIOS/boot block under --wait) is told i8086, and xv6's .gdbinit
 * hook can switch between 16- and 32-bit disassembly as the guest does;
 * one attaching in protected mode is told i386 so plain `x/i $pc` decodes
 * 32-bit code. OS ABI "none": a bare machine, not a Linux process.
 */
function buildTargetXml(realMode: boolean): string {
  let coreRegs = '';
  let sysRegs = '';
  GDB_REGS.forEach((r, i) => {
    if (r.feature === 'core') coreRegs += regXml(r, i);
    else sysRegs += regXml(r, i);
  });
  return (
    '<?xml version="1.0"?>\n' +
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">\n' +
    '<target version="1.0">\n' +
    `<architecture>${realMode ? 'i8086' : 'i386'}</architecture>\n` +
    '<osabi>none</osabi>\n' +
    '<feature name="org.gnu.gdb.i386.core">\n' +
    flags('i386_eflags', EFLAGS_BITS) +
    coreRegs +
    '</feature>\n' +
    '<feature name="org.trapvisor.i386.system">\n' +
    flags('i386_cr0', CR0_BITS) +
    flags('i386_cr4', CR4_BITS) +
    sysRegs +
    '</feature>\n' +
    '</target>\n'
  );
}

export const TARGET_XML = buildTargetXml(false);
export const TARGET_XML_REAL_MODE = buildTargetXml(true);

/** CR0.PE, Intel SDM Vol. 3A §2.5: protected mode enabled. */
export const CR0_PE = 1 << 0;

/** Hex of one gdb register (little-endian, target order). */
export function encodeReg(regnum: number, values: ArrayLike<number | undefined>): string {
  const r = GDB_REGS[regnum];
  const bytes = r.bits / 8;
  if (r.reg === undefined) return '00'.repeat(bytes);
  const v = values[r.reg];
  if (v === undefined) return 'xx'.repeat(bytes);
  let s = '';
  for (let i = 0; i < bytes; i++) {
    const b = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

/** The whole `g` reply. */
export function encodeAllRegs(values: ArrayLike<number | undefined>): string {
  let s = '';
  for (let i = 0; i < GDB_REGS.length; i++) s += encodeReg(i, values);
  return s;
}

/** Byte offset of each register in the g packet. */
export const G_OFFSETS: readonly number[] = (() => {
  const offs: number[] = [];
  let o = 0;
  for (const r of GDB_REGS) {
    offs.push(o);
    o += r.bits / 8;
  }
  return offs;
})();
