// Decode-time specialisations of the most frequent instruction forms
// (32-bit register/immediate ALU ops, INC/DEC r32, byte and dword stores,
// LEA r32). Each is the generic handler of ops/int.ts with the operand
// width, the ALU operation and the register-or-memory choice fixed when
// the instruction is decoded, so the hot path has no width or opcode
// switches and no calls through alu(). Semantics are the generic ones
// (SDM vol. 2 per mnemonic); the lazy flag records are exactly those
// alu.ts writes (ccA/ccB/ccDst as int32 at 32 bits, ccC untouched by
// ADD/SUB/logic). ADC and SBB (which read CF) stay generic.

import { CS, GP, SS } from '../arch.js';
import type { Cpu } from '../cpu.js';
import { fault } from '../fault.js';
import { CC_ADD, CC_DEC, CC_INC, CC_LOGIC, CC_SUB, getCF, type LazyFlags } from '../flags.js';
import type { Exec, Insn } from '../insn.js';
import { ea, R8 } from '../operand.js';
import * as I from './int.js';

// ---- 32-bit ALU kernels: operands are int32, the result is int32 ----
function add32(c: LazyFlags, a: number, b: number): number {
  const r = (a + b) | 0;
  c.ccOp = CC_ADD; c.ccBits = 32; c.ccA = a; c.ccB = b; c.ccDst = r;
  return r;
}
function sub32(c: LazyFlags, a: number, b: number): number {
  const r = (a - b) | 0;
  c.ccOp = CC_SUB; c.ccBits = 32; c.ccA = a; c.ccB = b; c.ccDst = r;
  return r;
}
function logic32(c: LazyFlags, r: number): number {
  c.ccOp = CC_LOGIC; c.ccBits = 32; c.ccA = 0; c.ccB = 0; c.ccDst = r;
  return r;
}

// ---- op Ev,Gv with mod = 3 (01/09/21/29/31/39) ----
function addEGrr(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = add32(c, r[i.rm], r[i.reg]); }
function orEGrr(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] | r[i.reg]); }
function andEGrr(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] & r[i.reg]); }
function subEGrr(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = sub32(c, r[i.rm], r[i.reg]); }
function xorEGrr(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] ^ r[i.reg]); }
function cmpEGrr(c: Cpu, i: Insn): void { const r = c.regs; sub32(c, r[i.rm], r[i.reg]); }
const ALU_EG_RR: ReadonlyArray<Exec | null> = [addEGrr, orEGrr, null, null, andEGrr, subEGrr, xorEGrr, cmpEGrr];

/** 00-3F op Ev,Gv (the ALU op is opcode bits 5..3). */
export function pickAluEG(i: Insn): Exec {
  if (i.os !== 4 || i.mod !== 3) return I.aluEG;
  return ALU_EG_RR[(i.op >> 3) & 7] ?? I.aluEG_rr32;
}

// ---- op eAX,Iz with 32-bit operand size (05/0D/25/2D/35/3D) ----
function addAI(c: Cpu, i: Insn): void { c.regs[0] = add32(c, c.regs[0], i.imm | 0); }
function orAI(c: Cpu, i: Insn): void { c.regs[0] = logic32(c, c.regs[0] | i.imm); }
function andAI(c: Cpu, i: Insn): void { c.regs[0] = logic32(c, c.regs[0] & i.imm); }
function subAI(c: Cpu, i: Insn): void { c.regs[0] = sub32(c, c.regs[0], i.imm | 0); }
function xorAI(c: Cpu, i: Insn): void { c.regs[0] = logic32(c, c.regs[0] ^ i.imm); }
function cmpAI(c: Cpu, i: Insn): void { sub32(c, c.regs[0], i.imm | 0); }
const ALU_AI: ReadonlyArray<Exec | null> = [addAI, orAI, null, null, andAI, subAI, xorAI, cmpAI];

/** 04-3D op AL,Ib / eAX,Iz. */
export function pickAluAI(i: Insn): Exec {
  if (i.w !== 4) return I.aluAI;
  return ALU_AI[(i.op >> 3) & 7] ?? I.aluAI;
}

// ---- group 1 op Ev,Iz / Ev,Ib (sign-extended) with mod = 3 (81/83) ----
function addRI(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = add32(c, r[i.rm], i.imm | 0); }
function orRI(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] | i.imm); }
function andRI(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] & i.imm); }
function subRI(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = sub32(c, r[i.rm], i.imm | 0); }
function xorRI(c: Cpu, i: Insn): void { const r = c.regs; r[i.rm] = logic32(c, r[i.rm] ^ i.imm); }
function cmpRI(c: Cpu, i: Insn): void { sub32(c, c.regs[i.rm], i.imm | 0); }
const GRP1_RI: ReadonlyArray<Exec | null> = [addRI, orRI, null, null, andRI, subRI, xorRI, cmpRI];

/** 81/83 group 1 (ModRM.reg selects the op). */
export function pickGrp1v(i: Insn): Exec {
  if (i.os !== 4 || i.mod !== 3) return I.grp1;
  return GRP1_RI[i.reg] ?? I.grp1_r32;
}

/** 80/82 /7 cmp Eb,Ib with a memory operand: a byte compare, nothing written. */
function cmpMI8(c: Cpu, i: Insn): void {
  const a = c.rd8(i.seg, ea(c, i)), b = i.imm & 0xff;
  c.ccOp = CC_SUB; c.ccBits = 8; c.ccA = a; c.ccB = b; c.ccDst = (a - b) & 0xff;
}
/** 80/82 group 1 byte forms. */
export function pickGrp1b(i: Insn): Exec {
  return i.reg === 7 && i.mod !== 3 ? cmpMI8 : I.grp1;
}

// ---- 40-4F inc/dec r32: CF is preserved in ccC (flags.ts CC_INC/CC_DEC) ----
function incR32(c: Cpu, i: Insn): void {
  const r = c.regs, n = i.op & 7, a = r[n], d = (a + 1) | 0;
  c.ccC = getCF(c);
  c.ccOp = CC_INC; c.ccBits = 32; c.ccA = a; c.ccB = 1; c.ccDst = d;
  r[n] = d;
}
function decR32(c: Cpu, i: Insn): void {
  const r = c.regs, n = i.op & 7, a = r[n], d = (a - 1) | 0;
  c.ccC = getCF(c);
  c.ccOp = CC_DEC; c.ccBits = 32; c.ccA = a; c.ccB = 1; c.ccDst = d;
  r[n] = d;
}
export function pickIncR(i: Insn): Exec { return i.os === 4 ? incR32 : I.incR; }
export function pickDecR(i: Insn): Exec { return i.os === 4 ? decR32 : I.decR; }

// ---- stores ----
/** C6 /0 mov Eb,Ib to memory. */
function movMI8(c: Cpu, i: Insn): void { c.wr8(i.seg, ea(c, i), i.imm); }
/** C7 /0 mov Ed,Id to memory / to a register. */
function movMI32(c: Cpu, i: Insn): void { c.wr32(i.seg, ea(c, i), i.imm); }
function movEI_r32(c: Cpu, i: Insn): void { c.regs[i.rm] = i.imm; }
export function pickMovEI(i: Insn): Exec {
  if (i.w === 1) return i.mod !== 3 ? movMI8 : I.movEI;
  if (i.w !== 4) return I.movEI;
  return i.mod !== 3 ? movMI32 : movEI_r32;
}
/** 88 mov Eb,Gb to memory. */
function movMG8(c: Cpu, i: Insn): void { c.wr8(i.seg, ea(c, i), c.regs8[R8[i.reg]]); }
export function pickMovEGb(i: Insn): Exec { return i.mod !== 3 ? movMG8 : I.movEG; }

/** 8D lea r32, m (mod = 3 is #UD: the generic handler raises it). */
function lea32(c: Cpu, i: Insn): void { c.regs[i.reg] = ea(c, i); }
export function pickLea(i: Insn): Exec { return i.os === 4 && i.mod !== 3 ? lea32 : I.lea; }

// ---- near call/ret with 32-bit operand size on a 32-bit stack ----
// Return addresses of a kernel above 2 GiB (xv6) would be heap numbers as
// unsigned values crossing calls; here they stay int32 until compared.
/** E8 call rel32 (SDM vol. 2, CALL: target checked against the CS limit before the push). */
function call32(c: Cpu, i: Insn): void {
  if (!c.ss32) { I.callRel(c, i); return; }
  const ret = c.eip, t = (ret + i.imm) >>> 0;
  if (t > c.segHi[CS]) fault(GP, 0);
  const sp = (c.regs[4] - 4) | 0;
  c.wr32(SS, sp, ret | 0);
  c.regs[4] = sp;
  c.eip = t;
}
/** C3 / C2 iw: ret (imm bytes released after the pop). */
function ret32(c: Cpu, i: Insn): void {
  if (!c.ss32) { I.retNear(c, i); return; }
  const sp = c.regs[4];
  const t = c.rd32(SS, sp) >>> 0;
  if (t > c.segHi[CS]) fault(GP, 0);
  c.regs[4] = sp + 4 + i.imm;
  c.eip = t;
}
export function pickCall(i: Insn): Exec { return i.os === 4 ? call32 : I.callRel; }
export function pickRet(i: Insn): Exec { return i.os === 4 ? ret32 : I.retNear; }
