// Jcc specialised per condition code at decode time (the generic handler
// is ops/int.ts `jcc` over flags.ts `testCond`). Conditional branches are
// about one guest instruction in six, and most follow a CMP/SUB, TEST/AND
// or INC/DEC: for those lazy records the condition is read straight from
// the recorded operands (SDM vol. 1, B.1: B = a <u b, L = a <s b after
// a - b) instead of materializing CF/SF/OF one by one. Every other record
// falls back to testCond, so the outcome is the same by construction.

import { CS, GP } from '../arch.js';
import type { Cpu } from '../cpu.js';
import { fault } from '../fault.js';
import { CC_EFLAGS, CC_LOGIC, CC_SUB, testCond } from '../flags.js';
import type { Exec, Insn } from '../insn.js';

/** Take the branch: EIP = next EIP + rel, wrapped to the operand size, #GP(0) beyond the CS limit (SDM vol. 2, Jcc). */
function take(c: Cpu, i: Insn): void {
  const t = i.os === 4 ? (c.eip + i.imm) >>> 0 : (c.eip + i.imm) & 0xffff;
  if (t > c.segHi[CS]) fault(GP, 0);
  c.eip = t;
}

/** Sign-extend a recorded operand of `bits` (8/16/32) to int32. */
function s(bits: number, v: number): number {
  return bits === 32 ? v | 0 : bits === 16 ? (v << 16) >> 16 : (v << 24) >> 24;
}

// ZF: every lazy record keeps the result in ccDst (flags.ts getZF).
function jz(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_EFLAGS ? (c.flags & 0x40) !== 0 : c.ccDst === 0) take(c, i);
}
function jnz(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_EFLAGS ? (c.flags & 0x40) === 0 : c.ccDst !== 0) take(c, i);
}
// CF (B/AE) and CF|ZF (BE/A): after SUB/CMP, unsigned a < b and a <= b.
function jb(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_SUB ? c.ccA >>> 0 < c.ccB >>> 0 : testCond(c, 2)) take(c, i);
}
function jae(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_SUB ? c.ccA >>> 0 >= c.ccB >>> 0 : testCond(c, 3)) take(c, i);
}
function jbe(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_SUB ? c.ccA >>> 0 <= c.ccB >>> 0 : testCond(c, 6)) take(c, i);
}
function ja(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_SUB ? c.ccA >>> 0 > c.ccB >>> 0 : testCond(c, 7)) take(c, i);
}
// SF^OF (L/GE) and (SF^OF)|ZF (LE/G): after SUB/CMP, signed a < b and
// a <= b at the operand width; after a logical op OF = 0, so L is SF.
function jl(c: Cpu, i: Insn): void {
  const op = c.ccOp;
  if (op === CC_SUB ? s(c.ccBits, c.ccA) < s(c.ccBits, c.ccB)
    : op === CC_LOGIC ? s(c.ccBits, c.ccDst) < 0 : testCond(c, 12)) take(c, i);
}
function jge(c: Cpu, i: Insn): void {
  const op = c.ccOp;
  if (op === CC_SUB ? s(c.ccBits, c.ccA) >= s(c.ccBits, c.ccB)
    : op === CC_LOGIC ? s(c.ccBits, c.ccDst) >= 0 : testCond(c, 13)) take(c, i);
}
function jle(c: Cpu, i: Insn): void {
  const op = c.ccOp;
  if (op === CC_SUB ? s(c.ccBits, c.ccA) <= s(c.ccBits, c.ccB)
    : op === CC_LOGIC ? s(c.ccBits, c.ccDst) <= 0 : testCond(c, 14)) take(c, i);
}
function jg(c: Cpu, i: Insn): void {
  const op = c.ccOp;
  if (op === CC_SUB ? s(c.ccBits, c.ccA) > s(c.ccBits, c.ccB)
    : op === CC_LOGIC ? s(c.ccBits, c.ccDst) > 0 : testCond(c, 15)) take(c, i);
}
// SF: the result's top bit for every lazy record (flags.ts getSF).
function js(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_EFLAGS ? (c.flags & 0x80) !== 0 : ((c.ccDst >>> (c.ccBits - 1)) & 1) !== 0) take(c, i);
}
function jns(c: Cpu, i: Insn): void {
  if (c.ccOp === CC_EFLAGS ? (c.flags & 0x80) === 0 : ((c.ccDst >>> (c.ccBits - 1)) & 1) === 0) take(c, i);
}
// O, NO, P, NP: rare; the generic evaluation.
function jo(c: Cpu, i: Insn): void { if (testCond(c, 0)) take(c, i); }
function jno(c: Cpu, i: Insn): void { if (testCond(c, 1)) take(c, i); }
function jp(c: Cpu, i: Insn): void { if (testCond(c, 10)) take(c, i); }
function jnp(c: Cpu, i: Insn): void { if (testCond(c, 11)) take(c, i); }

/** Handlers indexed by the condition nibble (opcode & 15). */
export const JCC: readonly Exec[] = [jo, jno, jb, jae, jz, jnz, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg];

/** Decode-time pick for 70-7F and 0F 80-8F. */
export function pickJcc(i: Insn): Exec {
  return JCC[i.op & 15];
}
