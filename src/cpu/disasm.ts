// A small Intel-syntax disassembler for one instruction, driven by the
// opcode table (the monitor uses it to show original instructions).

import { decodeInto } from './decode.js';
import { EA_BASE, EA_BASE_INDEX, EA_DISP, Insn } from './insn.js';

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8N = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const SEG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

function hx(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}
function reg(w: number, r: number): string {
  return w === 4 ? R32[r] : w === 2 ? R16[r] : R8N[r];
}

function memText(i: Insn, w: number): string {
  const ptr = w === 1 ? 'byte ptr ' : w === 2 ? 'word ptr ' : w === 4 ? 'dword ptr ' : w === 8 ? 'qword ptr ' : '';
  const names = i.as === 4 ? R32 : R16;
  const parts: string[] = [];
  if (i.eaKind === EA_BASE || i.eaKind === EA_BASE_INDEX) parts.push(names[i.base]);
  if (i.eaKind === EA_BASE_INDEX || i.eaKind === 3) parts.push(names[i.index] + (i.scale ? '*' + (1 << i.scale) : ''));
  if (i.disp !== 0 || i.eaKind === EA_DISP) {
    const d = i.as === 4 ? i.disp | 0 : i.eaKind === EA_DISP ? i.disp & 0xffff : i.disp;
    if (parts.length && d < 0) parts.push('-' + hx(-d)); else parts.push((parts.length ? '+' : '') + hx(d));
  }
  const seg = i.segOvr >= 0 ? SEG[i.segOvr] + ':' : '';
  return ptr + seg + '[' + parts.join('').replace(/\+-/g, '-').replace(/([a-z0-9])([a-z])/g, '$1$2') + ']';
}

function joinEA(s: string): string {
  return s.replace(/\]\[/g, '+');
}

/** Disassemble one instruction at `eip` (used for relative targets). */
export function disassemble(bytes: Uint8Array, eip: number, is32: boolean): { text: string; length: number } {
  const i = new Insn();
  const len = decodeInto((k) => (k < bytes.length ? bytes[k] : -1), is32, i);
  if (len === 0 || !i.row) return { text: '(bad)', length: Math.max(1, Math.min(bytes.length, 1)) };
  const r = i.row;
  if (r.op < 0) return { text: '(bad)', length: len };
  const ops: string[] = [];
  for (const t of r.form === '' ? [] : r.form.split(',')) ops.push(operand(t, i, eip + len));
  let m = r.mnem;
  if ((r.flags & 0x20) && !/b$/.test(m)) m += i.w === 4 ? 'd' : 'w';
  const pre = (i.lock ? 'lock ' : '') + (i.rep === 1 ? ((r.flags & 0x20) && /cmps|scas/.test(m) ? 'repe ' : 'rep ') : i.rep === 2 ? 'repne ' : '');
  return { text: pre + m + (ops.length ? ' ' + ops.join(', ') : ''), length: len };
}

function operand(t: string, i: Insn, next: number): string {
  const k = t[0], sz = t.slice(1);
  const wOf = (s: string): number => (s === 'b' ? 1 : s === 'w' ? 2 : s === 'd' ? 4 : s === 'q' ? 8 : i.os);
  switch (t) {
    case 'AL': return 'al';
    case 'eAX': return i.os === 4 ? 'eax' : 'ax';
    case 'DX': return 'dx';
    case 'CL': return 'cl';
    case '1': return '1';
    case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS': return t.toLowerCase();
  }
  switch (k) {
    case 'E': case 'M': case 'R':
      if (i.mod === 3) return reg(sz === '' || sz === 'p' || sz === 'a' ? i.os : wOf(sz), i.rm);
      return joinEA(memText(i, sz === '' || sz === 'p' || sz === 'a' ? 0 : wOf(sz)));
    case 'G': return reg(wOf(sz), i.reg);
    case 'S': return SEG[i.reg] ?? '?';
    case 'C': return 'cr' + i.reg;
    case 'D': return 'dr' + i.reg;
    case 'Z': return reg(sz === 'b' ? 1 : sz === 'd' ? 4 : i.os, i.op & 7);
    case 'I': return hx(sz === 'b' ? (i.imm2 !== 0 && t === 'Ib' && i.op === 0xc8 ? i.imm2 : i.imm) & (i.row!.flags & 0x80 ? 0xffffffff : 0xff) : i.imm);
    case 'J': return hx(i.os === 4 ? (next + i.imm) >>> 0 : (next + i.imm) & 0xffff);
    case 'O': return (i.segOvr >= 0 ? SEG[i.segOvr] : 'ds') + ':' + hx(i.disp & (i.as === 4 ? 0xffffffff : 0xffff));
    case 'A': return hx(i.imm2 & 0xffff) + ':' + hx(i.imm);
    case 'X': return (i.segOvr >= 0 ? SEG[i.segOvr] : 'ds') + ':[' + (i.as === 4 ? 'esi' : 'si') + ']';
    case 'Y': return 'es:[' + (i.as === 4 ? 'edi' : 'di') + ']';
  }
  return t;
}
