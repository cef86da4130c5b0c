// The opcode table: the single source of truth for decoding, execution,
// disassembly and the VMM's patch scanner. One row per opcode (or per
// ModRM.reg extension of a group opcode) with its operand form in SDM
// notation (vol. 2, appendix A), its handler and its properties.
// Anything not in the table is #UD.
//
// Operand notation: E = ModRM r/m, G = ModRM reg, M = memory-only r/m,
// R = ModRM r/m that must be a register (mod ignored), S = segment reg,
// C/D = control/debug reg, I = immediate, J = relative offset, O = moffs,
// A = direct far pointer, Z = register in the low opcode bits.
// Sizes: b byte, w word, d dword, v operand size, z word/dword immediate,
// p far pointer, a bound pair. Fixed registers (AL, eAX, DX, CL, 1) are
// spelled out.

import type { Exec, Insn } from './insn.js';
import * as I from './ops/int.js';
import * as M from './ops/muldiv.js';
import * as B from './ops/bcd.js';
import * as S from './ops/string.js';
import * as IO from './ops/io.js';
import * as Y from './ops/system.js';
import { pickJcc } from './ops/jcc.js';
import * as F from './ops/fast.js';

/** Executing it at CPL > 0 raises #GP(0) (in protected mode). */
export const F_PRIV = 1 << 0;
/** Reveals or silently ignores privileged state at CPL 3 without trapping (the VMM must patch it). */
export const F_SENSITIVE = 1 << 1;
/** Transfers control (ends a decoded block; the VMM scanner stops here). */
export const F_BRANCH = 1 << 2;
/** Leaves some arithmetic flags undefined per the SDM (we follow QEMU). */
export const F_UNDEF_FLAGS = 1 << 3;
/** Faults at CPL > IOPL (CLI/STI) or checks the I/O bitmap (IN/OUT/INS/OUTS). */
export const F_IOPL = 1 << 4;
/** String instruction: REP/REPE/REPNE apply. */
export const F_STRING = 1 << 5;
/** Conditional branch (Jcc, LOOPcc, JCXZ): falls through as well. */
export const F_COND = 1 << 6;
/** Sign-extend the 8-bit immediate to the operand size. */
export const F_SXIMM = 1 << 7;
/** #UD in real mode (protected-mode-only instruction). */
export const F_PM_ONLY = 1 << 8;

export interface OpRow {
  /** 0x00-0xff for one-byte opcodes, 0x100 | byte for 0F xx. */
  op: number;
  /** ModRM.reg for a group member, -1 otherwise. */
  ext: number;
  mnem: string;
  /** Operands in SDM notation, e.g. "Ev,Gv" ("" for none). */
  form: string;
  exec: Exec;
  flags: number;
  /** Optional decode-time specialisation (e.g. register-register 32-bit fast paths). */
  pick?: (i: Insn) => Exec;
}

export const ROWS: OpRow[] = [];

function row(op: number, mnem: string, form: string, exec: Exec, flags = 0, pick?: (i: Insn) => Exec): void {
  ROWS.push({ op, ext: -1, mnem, form, exec, flags, pick });
}
function grp(op: number, ext: number, mnem: string, form: string, exec: Exec, flags = 0, pick?: (i: Insn) => Exec): void {
  ROWS.push({ op, ext, mnem, form, exec, flags, pick });
}

// ---- ALU block 00-3F ----
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
for (let k = 0; k < 8; k++) {
  const b = k << 3, m = ALU[k];
  row(b + 0, m, 'Eb,Gb', I.aluEG);
  row(b + 1, m, 'Ev,Gv', I.aluEG, 0, F.pickAluEG);
  row(b + 2, m, 'Gb,Eb', I.aluGE);
  row(b + 3, m, 'Gv,Ev', I.aluGE, 0, (i) => (i.os === 4 ? I.aluGE_r32 : I.aluGE));
  row(b + 4, m, 'AL,Ib', I.aluAI);
  row(b + 5, m, 'eAX,Iz', I.aluAI, 0, F.pickAluAI);
}
row(0x06, 'push', 'ES', I.pushS);
row(0x07, 'pop', 'ES', I.popS);
row(0x0e, 'push', 'CS', I.pushS, F_SENSITIVE);
row(0x16, 'push', 'SS', I.pushS);
row(0x17, 'pop', 'SS', I.popS);
row(0x1e, 'push', 'DS', I.pushS);
row(0x1f, 'pop', 'DS', I.popS);
row(0x27, 'daa', '', B.daa, F_UNDEF_FLAGS);
row(0x2f, 'das', '', B.das, F_UNDEF_FLAGS);
row(0x37, 'aaa', '', B.aaa, F_UNDEF_FLAGS);
row(0x3f, 'aas', '', B.aas, F_UNDEF_FLAGS);
for (let r = 0; r < 8; r++) {
  row(0x40 + r, 'inc', 'Zv', I.incR, 0, F.pickIncR);
  row(0x48 + r, 'dec', 'Zv', I.decR, 0, F.pickDecR);
  row(0x50 + r, 'push', 'Zv', I.pushR, 0, (i) => (i.os === 4 ? I.pushR32 : I.pushR));
  row(0x58 + r, 'pop', 'Zv', I.popR, 0, (i) => (i.os === 4 ? I.popR32 : I.popR));
}
row(0x60, 'pusha', '', I.pusha);
row(0x61, 'popa', '', I.popa);
row(0x62, 'bound', 'Gv,Ma', I.bound);
row(0x63, 'arpl', 'Ew,Gw', Y.arpl, F_PM_ONLY);
row(0x68, 'push', 'Iz', I.pushI);
row(0x69, 'imul', 'Gv,Ev,Iz', M.imul3, F_UNDEF_FLAGS);
row(0x6a, 'push', 'Ib', I.pushI, F_SXIMM);
row(0x6b, 'imul', 'Gv,Ev,Ib', M.imul3, F_UNDEF_FLAGS | F_SXIMM);
row(0x6c, 'insb', 'Yb,DX', S.ins, F_STRING | F_IOPL);
row(0x6d, 'ins', 'Yz,DX', S.ins, F_STRING | F_IOPL);
row(0x6e, 'outsb', 'DX,Xb', S.outs, F_STRING | F_IOPL);
row(0x6f, 'outs', 'DX,Xz', S.outs, F_STRING | F_IOPL);
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
for (let k = 0; k < 16; k++) {
  row(0x70 + k, 'j' + CC[k], 'Jb', I.jcc, F_BRANCH | F_COND, pickJcc);
  row(0x180 + k, 'j' + CC[k], 'Jz', I.jcc, F_BRANCH | F_COND, pickJcc);
  row(0x190 + k, 'set' + CC[k], 'Eb', I.setcc);
  row(0x140 + k, 'cmov' + CC[k], 'Gv,Ev', I.cmov);
}
for (let k = 0; k < 8; k++) {
  grp(0x80, k, ALU[k], 'Eb,Ib', I.grp1, 0, F.pickGrp1b);
  grp(0x81, k, ALU[k], 'Ev,Iz', I.grp1, 0, F.pickGrp1v);
  grp(0x82, k, ALU[k], 'Eb,Ib', I.grp1, 0, F.pickGrp1b);
  grp(0x83, k, ALU[k], 'Ev,Ib', I.grp1, F_SXIMM, F.pickGrp1v);
}
row(0x84, 'test', 'Eb,Gb', I.testEG);
row(0x85, 'test', 'Ev,Gv', I.testEG);
row(0x86, 'xchg', 'Eb,Gb', I.xchgEG);
row(0x87, 'xchg', 'Ev,Gv', I.xchgEG);
row(0x88, 'mov', 'Eb,Gb', I.movEG, 0, F.pickMovEGb);
row(0x89, 'mov', 'Ev,Gv', I.movEG, 0, (i) => (i.os !== 4 ? I.movEG : i.mod === 3 ? I.movEG_r32 : I.movEG_m32));
row(0x8a, 'mov', 'Gb,Eb', I.movGE);
row(0x8b, 'mov', 'Gv,Ev', I.movGE, 0, (i) => (i.os !== 4 ? I.movGE : i.mod === 3 ? movGE_r32 : I.movGE_m32));
row(0x8c, 'mov', 'Ev,Sw', I.movES, F_SENSITIVE);
row(0x8d, 'lea', 'Gv,M', I.lea, 0, F.pickLea);
row(0x8e, 'mov', 'Sw,Ew', I.movSE);
grp(0x8f, 0, 'pop', 'Ev', I.popE);
row(0x90, 'nop', '', I.nop);
for (let r = 1; r < 8; r++) row(0x90 + r, 'xchg', 'Zv,eAX', I.xchgAR);
row(0x98, 'cbw', '', I.cbw);
row(0x99, 'cwd', '', I.cwd);
row(0x9a, 'lcall', 'Ap', Y.callFarPtr, F_BRANCH | F_SENSITIVE);
row(0x9b, 'fwait', '', Y.fwait);
row(0x9c, 'pushf', '', I.pushf, F_SENSITIVE);
row(0x9d, 'popf', '', I.popf, F_SENSITIVE | F_BRANCH);
row(0x9e, 'sahf', '', I.sahf);
row(0x9f, 'lahf', '', I.lahf);
row(0xa0, 'mov', 'AL,Ob', I.movAO);
row(0xa1, 'mov', 'eAX,Ov', I.movAO);
row(0xa2, 'mov', 'Ob,AL', I.movOA);
row(0xa3, 'mov', 'Ov,eAX', I.movOA);
row(0xa4, 'movsb', 'Yb,Xb', S.movs, F_STRING);
row(0xa5, 'movs', 'Yv,Xv', S.movs, F_STRING);
row(0xa6, 'cmpsb', 'Xb,Yb', S.cmps, F_STRING);
row(0xa7, 'cmps', 'Xv,Yv', S.cmps, F_STRING);
row(0xa8, 'test', 'AL,Ib', I.testAI);
row(0xa9, 'test', 'eAX,Iz', I.testAI);
row(0xaa, 'stosb', 'Yb,AL', S.stos, F_STRING);
row(0xab, 'stos', 'Yv,eAX', S.stos, F_STRING);
row(0xac, 'lodsb', 'AL,Xb', S.lods, F_STRING);
row(0xad, 'lods', 'eAX,Xv', S.lods, F_STRING);
row(0xae, 'scasb', 'AL,Yb', S.scas, F_STRING);
row(0xaf, 'scas', 'eAX,Yv', S.scas, F_STRING);
for (let r = 0; r < 8; r++) {
  row(0xb0 + r, 'mov', 'Zb,Ib', I.movRI);
  row(0xb8 + r, 'mov', 'Zv,Iv', I.movRI, 0, (i) => (i.os === 4 ? I.movRI32 : I.movRI));
}
const SH = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
for (let k = 0; k < 8; k++) {
  grp(0xc0, k, SH[k], 'Eb,Ib', I.shiftI, F_UNDEF_FLAGS);
  grp(0xc1, k, SH[k], 'Ev,Ib', I.shiftI, F_UNDEF_FLAGS);
  grp(0xd0, k, SH[k], 'Eb,1', I.shift1);
  grp(0xd1, k, SH[k], 'Ev,1', I.shift1);
  grp(0xd2, k, SH[k], 'Eb,CL', I.shiftCL, F_UNDEF_FLAGS);
  grp(0xd3, k, SH[k], 'Ev,CL', I.shiftCL, F_UNDEF_FLAGS);
}
row(0xc2, 'ret', 'Iw', I.retNear, F_BRANCH, F.pickRet);
row(0xc3, 'ret', '', I.retNear, F_BRANCH, F.pickRet);
row(0xc4, 'les', 'Gv,Mp', I.loadFar);
row(0xc5, 'lds', 'Gv,Mp', I.loadFar);
grp(0xc6, 0, 'mov', 'Eb,Ib', I.movEI, 0, F.pickMovEI);
grp(0xc7, 0, 'mov', 'Ev,Iz', I.movEI, 0, F.pickMovEI);
row(0xc8, 'enter', 'Iw,Ib', I.enter);
row(0xc9, 'leave', '', I.leave);
row(0xca, 'lret', 'Iw', Y.retFar, F_BRANCH | F_SENSITIVE);
row(0xcb, 'lret', '', Y.retFar, F_BRANCH | F_SENSITIVE);
row(0xcc, 'int3', '', Y.int3, F_BRANCH);
row(0xcd, 'int', 'Ib', Y.intN, F_BRANCH);
row(0xce, 'into', '', Y.into, F_BRANCH | F_COND);
row(0xcf, 'iret', '', Y.iret, F_BRANCH | F_SENSITIVE);
row(0xd4, 'aam', 'Ib', B.aam, F_UNDEF_FLAGS);
row(0xd5, 'aad', 'Ib', B.aad, F_UNDEF_FLAGS);
row(0xd6, 'salc', '', I.salc);
row(0xd7, 'xlat', '', I.xlat);
for (let k = 0; k < 8; k++) row(0xd8 + k, 'esc', 'E', Y.fpuEscape);
row(0xe0, 'loopne', 'Jb', I.loop, F_BRANCH | F_COND);
row(0xe1, 'loope', 'Jb', I.loop, F_BRANCH | F_COND);
row(0xe2, 'loop', 'Jb', I.loop, F_BRANCH | F_COND);
row(0xe3, 'jcxz', 'Jb', I.loop, F_BRANCH | F_COND);
row(0xe4, 'in', 'AL,Ib', IO.inAcc, F_IOPL);
row(0xe5, 'in', 'eAX,Ib', IO.inAcc, F_IOPL);
row(0xe6, 'out', 'Ib,AL', IO.outAcc, F_IOPL);
row(0xe7, 'out', 'Ib,eAX', IO.outAcc, F_IOPL);
row(0xe8, 'call', 'Jz', I.callRel, F_BRANCH, F.pickCall);
row(0xe9, 'jmp', 'Jz', I.jmpRel, F_BRANCH);
row(0xea, 'ljmp', 'Ap', Y.jmpFarPtr, F_BRANCH);
row(0xeb, 'jmp', 'Jb', I.jmpRel, F_BRANCH);
row(0xec, 'in', 'AL,DX', IO.inAcc, F_IOPL);
row(0xed, 'in', 'eAX,DX', IO.inAcc, F_IOPL);
row(0xee, 'out', 'DX,AL', IO.outAcc, F_IOPL);
row(0xef, 'out', 'DX,eAX', IO.outAcc, F_IOPL);
row(0xf1, 'int1', '', Y.int1, F_BRANCH);
row(0xf4, 'hlt', '', Y.hlt, F_PRIV | F_BRANCH);
row(0xf5, 'cmc', '', I.cmc);
grp(0xf6, 0, 'test', 'Eb,Ib', I.testEI);
grp(0xf6, 1, 'test', 'Eb,Ib', I.testEI);
grp(0xf6, 2, 'not', 'Eb', I.notE);
grp(0xf6, 3, 'neg', 'Eb', I.negE);
grp(0xf6, 4, 'mul', 'Eb', M.mul, F_UNDEF_FLAGS);
grp(0xf6, 5, 'imul', 'Eb', M.imul1, F_UNDEF_FLAGS);
grp(0xf6, 6, 'div', 'Eb', M.div, F_UNDEF_FLAGS);
grp(0xf6, 7, 'idiv', 'Eb', M.idiv, F_UNDEF_FLAGS);
grp(0xf7, 0, 'test', 'Ev,Iz', I.testEI);
grp(0xf7, 1, 'test', 'Ev,Iz', I.testEI);
grp(0xf7, 2, 'not', 'Ev', I.notE);
grp(0xf7, 3, 'neg', 'Ev', I.negE);
grp(0xf7, 4, 'mul', 'Ev', M.mul, F_UNDEF_FLAGS);
grp(0xf7, 5, 'imul', 'Ev', M.imul1, F_UNDEF_FLAGS);
grp(0xf7, 6, 'div', 'Ev', M.div, F_UNDEF_FLAGS);
grp(0xf7, 7, 'idiv', 'Ev', M.idiv, F_UNDEF_FLAGS);
row(0xf8, 'clc', '', I.clc);
row(0xf9, 'stc', '', I.stc);
row(0xfa, 'cli', '', I.cli, F_IOPL | F_SENSITIVE);
row(0xfb, 'sti', '', I.sti, F_IOPL | F_SENSITIVE);
row(0xfc, 'cld', '', I.cld);
row(0xfd, 'std', '', I.std);
grp(0xfe, 0, 'inc', 'Eb', I.incE);
grp(0xfe, 1, 'dec', 'Eb', I.decE);
grp(0xff, 0, 'inc', 'Ev', I.incE);
grp(0xff, 1, 'dec', 'Ev', I.decE);
grp(0xff, 2, 'call', 'Ev', I.callE, F_BRANCH);
grp(0xff, 3, 'lcall', 'Mp', Y.callFarMem, F_BRANCH | F_SENSITIVE);
grp(0xff, 4, 'jmp', 'Ev', I.jmpE, F_BRANCH);
grp(0xff, 5, 'ljmp', 'Mp', Y.jmpFarMem, F_BRANCH);
grp(0xff, 6, 'push', 'Ev', I.pushE);

// ---- two-byte opcodes 0F xx ----
grp(0x100, 0, 'sldt', 'Ew', Y.sldt, F_SENSITIVE | F_PM_ONLY);
grp(0x100, 1, 'str', 'Ew', Y.sldt, F_SENSITIVE | F_PM_ONLY);
grp(0x100, 2, 'lldt', 'Ew', Y.lldt, F_PRIV | F_PM_ONLY);
grp(0x100, 3, 'ltr', 'Ew', Y.ltr, F_PRIV | F_PM_ONLY);
grp(0x100, 4, 'verr', 'Ew', Y.verrw, F_SENSITIVE | F_PM_ONLY);
grp(0x100, 5, 'verw', 'Ew', Y.verrw, F_SENSITIVE | F_PM_ONLY);
grp(0x101, 0, 'sgdt', 'M', Y.sgdt, F_SENSITIVE);
grp(0x101, 1, 'sidt', 'M', Y.sgdt, F_SENSITIVE);
grp(0x101, 2, 'lgdt', 'M', Y.lgdt, F_PRIV);
grp(0x101, 3, 'lidt', 'M', Y.lgdt, F_PRIV);
grp(0x101, 4, 'smsw', 'Ew', Y.smsw, F_SENSITIVE);
grp(0x101, 6, 'lmsw', 'Ew', Y.lmsw, F_PRIV | F_BRANCH);
grp(0x101, 7, 'invlpg', 'M', Y.invlpg, F_PRIV);
row(0x102, 'lar', 'Gv,Ew', Y.lar, F_SENSITIVE | F_PM_ONLY);
row(0x103, 'lsl', 'Gv,Ew', Y.lsl, F_SENSITIVE | F_PM_ONLY);
row(0x106, 'clts', '', Y.clts, F_PRIV);
row(0x108, 'invd', '', Y.wbinvd, F_PRIV);
row(0x109, 'wbinvd', '', Y.wbinvd, F_PRIV);
row(0x10b, 'ud2', '', I.ud, F_BRANCH);
row(0x11f, 'nop', 'Ev', I.nop);
row(0x120, 'mov', 'Rd,Cd', Y.movRC, F_PRIV);
row(0x121, 'mov', 'Rd,Dd', Y.movRD, F_PRIV);
row(0x122, 'mov', 'Cd,Rd', Y.movCR, F_PRIV | F_BRANCH);
row(0x123, 'mov', 'Dd,Rd', Y.movDR, F_PRIV);
row(0x130, 'wrmsr', '', Y.wrmsr, F_PRIV);
row(0x131, 'rdtsc', '', Y.rdtsc);
row(0x132, 'rdmsr', '', Y.rdmsr, F_PRIV);
row(0x1a0, 'push', 'FS', I.pushS);
row(0x1a1, 'pop', 'FS', I.popS);
row(0x1a2, 'cpuid', '', Y.cpuid);
row(0x1a3, 'bt', 'Ev,Gv', I.btG, F_UNDEF_FLAGS);
row(0x1a4, 'shld', 'Ev,Gv,Ib', I.shldrd, F_UNDEF_FLAGS);
row(0x1a5, 'shld', 'Ev,Gv,CL', I.shldrd, F_UNDEF_FLAGS);
row(0x1a8, 'push', 'GS', I.pushS);
row(0x1a9, 'pop', 'GS', I.popS);
row(0x1ab, 'bts', 'Ev,Gv', I.btG, F_UNDEF_FLAGS);
row(0x1ac, 'shrd', 'Ev,Gv,Ib', I.shldrd, F_UNDEF_FLAGS);
row(0x1ad, 'shrd', 'Ev,Gv,CL', I.shldrd, F_UNDEF_FLAGS);
row(0x1af, 'imul', 'Gv,Ev', M.imul2, F_UNDEF_FLAGS);
row(0x1b0, 'cmpxchg', 'Eb,Gb', I.cmpxchg);
row(0x1b1, 'cmpxchg', 'Ev,Gv', I.cmpxchg);
row(0x1b2, 'lss', 'Gv,Mp', I.loadFar);
row(0x1b3, 'btr', 'Ev,Gv', I.btG, F_UNDEF_FLAGS);
row(0x1b4, 'lfs', 'Gv,Mp', I.loadFar);
row(0x1b5, 'lgs', 'Gv,Mp', I.loadFar);
row(0x1b6, 'movzb', 'Gv,Eb', I.movzx);
row(0x1b7, 'movzw', 'Gv,Ew', I.movzx);
for (let k = 4; k < 8; k++) grp(0x1ba, k, ['bt', 'bts', 'btr', 'btc'][k - 4], 'Ev,Ib', I.btI, F_UNDEF_FLAGS);
row(0x1bb, 'btc', 'Ev,Gv', I.btG, F_UNDEF_FLAGS);
row(0x1bc, 'bsf', 'Gv,Ev', I.bsf, F_UNDEF_FLAGS);
row(0x1bd, 'bsr', 'Gv,Ev', I.bsr, F_UNDEF_FLAGS);
row(0x1be, 'movsb', 'Gv,Eb', I.movsx);
row(0x1bf, 'movsw', 'Gv,Ew', I.movsx);
row(0x1c0, 'xadd', 'Eb,Gb', I.xadd);
row(0x1c1, 'xadd', 'Ev,Gv', I.xadd);
grp(0x1c7, 1, 'cmpxchg8b', 'Mq', I.cmpxchg8b);
for (let r = 0; r < 8; r++) row(0x1c8 + r, 'bswap', 'Zd', I.bswap);

function movGE_r32(c: Parameters<Exec>[0], i: Insn): void { c.regs[i.reg] = c.regs[i.rm]; }

// ---- lookup structure for the decoder ----
/** Per opcode (0-0x1ff): a plain row, or the 8 rows of a group indexed by ModRM.reg. */
export const OPCODES: Array<OpRow | Array<OpRow | undefined> | undefined> = new Array(0x200);
for (const r of ROWS) {
  if (r.ext < 0) OPCODES[r.op] = r;
  else {
    let g = OPCODES[r.op] as Array<OpRow | undefined> | undefined;
    if (!g) { g = new Array(8); OPCODES[r.op] = g; }
    g[r.ext] = r;
  }
}

/** Decode-time facts derived from the operand form (computed once per row). */
export interface FormInfo {
  modrm: boolean;
  /** Force register operand (mod ignored): MOV to/from CR/DR. */
  regOnly: boolean;
  /** Width of the operation: 1, 2, 4, or 0 = operand size. */
  width: number;
  /** Immediates in order: 'b' 8-bit, 'w' 16-bit, 'z' operand size, 'J8', 'Jz', 'A' far ptr, 'O' moffs. */
  imms: string[];
}
const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];
const formCache = new Map<string, FormInfo>();
export function formInfo(r: OpRow): FormInfo {
  const key = r.form + '|' + r.mnem;
  let f = formCache.get(key);
  if (f) return f;
  const toks = r.form === '' ? [] : r.form.split(',');
  f = { modrm: r.ext >= 0, regOnly: false, width: 0, imms: [] };
  let wset = false;
  const setW = (s: string): void => {
    if (wset) return;
    wset = true;
    f!.width = s === 'b' ? 1 : s === 'w' ? 2 : s === 'd' ? 4 : 0;
  };
  for (const t of toks) {
    const k = t[0], sz = t.slice(1);
    if (SEG_NAMES.includes(t)) continue;
    if ('EGMSR'.includes(k) && t.length <= 2 || t === 'Cd' || t === 'Dd' || t === 'E') {
      f.modrm = true;
      if (k === 'R') f.regOnly = true;
      if ((k === 'E' || k === 'G' || k === 'R') && sz) setW(sz);
    } else if (k === 'Z' || k === 'X' || k === 'Y') {
      setW(sz === 'z' ? 'v' : sz);
    } else if (t === 'AL') setW('b');
    else if (t === 'eAX') setW('v');
    else if (k === 'O') { setW(sz); f.imms.push('O'); }
    else if (k === 'I') f.imms.push(sz === 'b' ? 'b' : sz === 'w' ? 'w' : 'z');
    else if (k === 'J') f.imms.push(sz === 'b' ? 'J8' : 'Jz');
    else if (t === 'Ap') f.imms.push('A');
  }
  // MOVZX/MOVSX: the operation width is the source's.
  if (/^mov[zs][bw]$/.test(r.mnem)) f.width = r.mnem.endsWith('b') ? 1 : 2;
  formCache.set(key, f);
  return f;
}
