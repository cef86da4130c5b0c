// The instruction decoder (SDM vol. 2, ch. 2): prefixes, opcode, ModRM,
// SIB, displacement and immediates, driven by the opcode table. Decoding
// reads bytes through a fetch callback so the same code serves the block
// compiler, decodeAt (VMM scanner) and the disassembler.

import { CS, DS, SS } from './arch.js';
import { EA_BASE, EA_BASE_INDEX, EA_DISP, EA_INDEX, Insn } from './insn.js';
import { F_PM_ONLY, F_SXIMM, formInfo, OPCODES, type OpRow } from './table.js';
import { ud } from './ops/int.js';
import type { Cpu } from './cpu.js';

/** Byte source for the decoder; returns -1 if the byte cannot be fetched. */
export type Fetch = (k: number) => number;

export const MAX_INSN_LEN = 15;

/** Placeholder row for undefined opcodes (decodes, raises #UD when executed). */
export const UD_ROW: OpRow = { op: -1, ext: -1, mnem: '(bad)', form: '', exec: ud, flags: 0 };

/**
 * Decode one instruction into `i`. Returns its length, or 0 if the bytes
 * ran out (fetch returned -1) before the instruction was complete.
 * Invalid encodings produce a #UD instruction of the length consumed.
 */
export function decodeInto(fetch: Fetch, code32: boolean, i: Insn): number {
  let p = 0;
  let os = code32 ? 4 : 2, as = code32 ? 4 : 2;
  i.segOvr = -1; i.rep = 0; i.lock = false;
  let b: number;
  for (;;) {
    if (p >= MAX_INSN_LEN) return finishUD(i, p, os, as);
    b = fetch(p++);
    if (b < 0) return 0;
    switch (b) {
      case 0x66: os = code32 ? 2 : 4; continue;
      case 0x67: as = code32 ? 2 : 4; continue;
      case 0x26: i.segOvr = 0; continue;
      case 0x2e: i.segOvr = 1; continue;
      case 0x36: i.segOvr = 2; continue;
      case 0x3e: i.segOvr = 3; continue;
      case 0x64: i.segOvr = 4; continue;
      case 0x65: i.segOvr = 5; continue;
      case 0xf0: i.lock = true; continue;
      case 0xf2: i.rep = 2; continue;
      case 0xf3: i.rep = 1; continue;
    }
    break;
  }
  let op = b;
  if (op === 0x0f) {
    const b2 = fetch(p++);
    if (b2 < 0) return 0;
    op = 0x100 | b2;
  }
  i.op = op; i.os = os; i.as = as;
  i.seg = i.segOvr >= 0 ? i.segOvr : DS;
  const ent = OPCODES[op];
  let r: OpRow | undefined;
  let modrm = -1;
  if (Array.isArray(ent)) {
    modrm = fetch(p++);
    if (modrm < 0) return 0;
    r = ent[(modrm >> 3) & 7];
  } else {
    r = ent;
  }
  if (!r) {
    // Still consume a ModRM for 0F xx undefined encodings is not knowable; report the bytes seen.
    return finishUD(i, p, os, as);
  }
  const f = formInfo(r);
  i.row = r;
  i.w = f.width === 0 ? os : f.width;
  i.hasModrm = f.modrm;
  i.mod = 3; i.reg = 0; i.rm = 0; i.eaKind = EA_DISP; i.base = 0; i.index = 0; i.scale = 0; i.disp = 0;
  i.imm = 0; i.imm2 = 0;
  if (f.modrm) {
    if (modrm < 0) {
      modrm = fetch(p++);
      if (modrm < 0) return 0;
    }
    i.mod = modrm >> 6; i.reg = (modrm >> 3) & 7; i.rm = modrm & 7;
    if (f.regOnly) i.mod = 3;
    else if (i.mod !== 3) {
      p = decodeEA(fetch, p, i, as);
      if (p < 0) return 0;
    }
  }
  let nimm = 0;
  for (const k of f.imms) {
    let v: number;
    switch (k) {
      case 'b': v = fetch(p++); if (v < 0) return 0;
        if (r.flags & F_SXIMM) v = (v << 24) >> 24;
        break;
      case 'w': v = read(fetch, p, 2); p += 2; break;
      case 'z': v = read(fetch, p, os); p += os; break;
      case 'J8': v = fetch(p++); if (v < 0) return 0; v = (v << 24) >> 24; break;
      case 'Jz': v = read(fetch, p, os); p += os; if (v !== v) return 0; /* bytes ran out: the shifts below would hide the NaN */ if (os === 2) v = (v << 16) >> 16; else v |= 0; break;
      case 'O': v = read(fetch, p, as); p += as; if (v !== v) return 0; i.disp = v; continue;
      default: // 'A': offset then selector
        v = read(fetch, p, os); p += os;
        i.imm2 = read(fetch, p, 2); p += 2;
        if (i.imm2 !== i.imm2) return 0;
        break;
    }
    if (v !== v) return 0; // NaN: bytes ran out
    if (nimm++ === 0) i.imm = v; else i.imm2 = v; // ENTER Iw,Ib: the second goes to imm2
  }
  if (p > MAX_INSN_LEN) return finishUD(i, p, os, as);
  i.len = p;
  i.exec = r.pick ? r.pick(i) : r.exec;
  // LOCK is only allowed on read-modify-write memory forms (SDM vol. 2, LOCK): enforce the common rule.
  if (i.lock && (i.mod === 3 || !f.modrm || !LOCKABLE.has(r.mnem))) i.exec = ud;
  if (op === 0x8e && i.reg === CS) i.exec = ud;

  return p;
}

const LOCKABLE = new Set(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'inc', 'dec', 'not', 'neg',
  'xchg', 'xadd', 'cmpxchg', 'cmpxchg8b', 'bts', 'btr', 'btc']);

function finishUD(i: Insn, p: number, os: number, as: number): number {
  i.row = UD_ROW; i.exec = ud; i.len = Math.min(p, MAX_INSN_LEN); i.os = os; i.as = as; i.w = os;
  i.hasModrm = false; i.mod = 3;
  return i.len;
}

/** Little-endian `n`-byte read; NaN if any byte is missing. */
function read(fetch: Fetch, p: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const b = fetch(p + k);
    if (b < 0) return NaN;
    v |= b << (8 * k);
  }
  return n === 4 ? v | 0 : v;
}

/** ModRM memory forms and SIB (SDM vol. 2, tables 2-1, 2-2, 2-3). Returns the new position or -1. */
function decodeEA(fetch: Fetch, p: number, i: Insn, as: number): number {
  const mod = i.mod, rm = i.rm;
  let defSS = false;
  if (as === 2) {
    // 16-bit: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 if mod 0), BX
    const bases = [3, 3, 5, 5, 6, 7, 5, 3];
    const idx = [6, 7, 6, 7, -1, -1, -1, -1];
    if (mod === 0 && rm === 6) {
      i.eaKind = EA_DISP;
    } else {
      i.base = bases[rm];
      if (idx[rm] >= 0) { i.index = idx[rm]; i.scale = 0; i.eaKind = EA_BASE_INDEX; } else i.eaKind = EA_BASE;
      defSS = rm === 2 || rm === 3 || rm === 6;
    }
    if (mod === 1) { const d = fetch(p++); if (d < 0) return -1; i.disp = (d << 24) >> 24; }
    else if (mod === 2 || (mod === 0 && rm === 6)) { const d = read(fetch, p, 2); if (d !== d) return -1; p += 2; i.disp = mod === 2 ? (d << 16) >> 16 : d; }
  } else {
    if (rm === 4) {
      const sib = fetch(p++);
      if (sib < 0) return -1;
      const scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
      const hasIndex = index !== 4;
      if (base === 5 && mod === 0) {
        i.eaKind = hasIndex ? EA_INDEX : EA_DISP;
        const d = read(fetch, p, 4); if (d !== d) return -1; p += 4; i.disp = d;
      } else {
        i.base = base;
        i.eaKind = hasIndex ? EA_BASE_INDEX : EA_BASE;
        defSS = base === 4 || base === 5;
      }
      i.index = index; i.scale = scale;
    } else if (rm === 5 && mod === 0) {
      i.eaKind = EA_DISP;
      const d = read(fetch, p, 4); if (d !== d) return -1; p += 4; i.disp = d;
    } else {
      i.base = rm; i.eaKind = EA_BASE;
      defSS = rm === 5 || rm === 4;
    }
    if (mod === 1) { const d = fetch(p++); if (d < 0) return -1; i.disp = (d << 24) >> 24; }
    else if (mod === 2) { const d = read(fetch, p, 4); if (d !== d) return -1; p += 4; i.disp = d; }
  }
  if (defSS && i.segOvr < 0) i.seg = SS;
  return p;
}

/** What decodeAt reports about one instruction. */
export interface DecodedInsn {
  length: number;
  opcode: number;
  mnemonic: string;
  form: string;
  flags: number;
  prefixes: { opSize: boolean; addrSize: boolean; seg: number; rep: number; lock: boolean };
  modrm: { mod: number; reg: number; rm: number } | null;
  imm: number;
  insn: Insn;
}

/**
 * Decode the instruction at linear address `linear` in the CPU's current
 * code size, without executing it or causing side effects. null if the
 * bytes are not readable.
 */
export function decodeAt(cpu: Cpu, linear: number): DecodedInsn | null {
  const bytes = cpu.readLinearNoSideEffects(linear, MAX_INSN_LEN) ?? cpu.readLinearNoSideEffects(linear, 1);
  if (!bytes) return null;
  const i = new Insn();
  let got = bytes;
  if (bytes.length < MAX_INSN_LEN) {
    // Near the end of mapped memory: take what is readable.
    const tmp: number[] = [];
    for (let k = 0; k < MAX_INSN_LEN; k++) {
      const b = cpu.readLinearNoSideEffects((linear + k) >>> 0, 1);
      if (!b) break;
      tmp.push(b[0]);
    }
    got = Uint8Array.from(tmp);
  }
  const len = decodeInto((k) => (k < got.length ? got[k] : -1), cpu.cs32, i);
  if (len === 0) return null;
  i.lin = linear >>> 0;
  const r = i.row!;
  return {
    length: len, opcode: i.op, mnemonic: r.mnem, form: r.form, flags: r.flags,
    prefixes: { opSize: i.os !== (cpu.cs32 ? 4 : 2), addrSize: i.as !== (cpu.cs32 ? 4 : 2), seg: i.segOvr, rep: i.rep, lock: i.lock },
    modrm: i.hasModrm ? { mod: i.mod, reg: i.reg, rm: i.rm } : null,
    imm: i.imm,
    insn: i,
  };
}
export { EA_BASE };
