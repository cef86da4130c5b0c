// Handlers for the ordinary integer instructions: data movement, ALU,
// stack, near control transfer, bit operations, flags. Each is the operand
// plumbing around a pure function from alu.ts (SDM vol. 2 per mnemonic).

import { AF, CF, CS, DF, DS, ES, FS, GS, IF, IOPL_SHIFT, OF, SS, TF, UD, AC, ID, NT, PF, SF, ZF, GP, BR, F_RES1, RF } from '../arch.js';
import { BRK_FLOW, BRK_SHADOW, type Cpu } from '../cpu.js';
import { fault, faultNoCode } from '../fault.js';
import { CC_EFLAGS, CC_LOGIC, getCF, materialize, testCond } from '../flags.js';
import type { Insn } from '../insn.js';
import { ea, getReg, R8, readE, readEw, readG, setReg, writeE, writeEw, writeG } from '../operand.js';
import { add, alu, and, bsfFlags, dec, inc, logicFlags, mask, neg, sext, shift, shld, shrd, sub } from './alu.js';

// ---------------- ALU ----------------

/** 00-3D: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz; the ALU op is opcode bits 5..3. */
export function aluEG(c: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7, bits = i.w * 8;
  if (i.mod === 3) {
    const r = alu(c, op, bits, getReg(c, i.w, i.rm), getReg(c, i.w, i.reg));
    if (op !== 7) setReg(c, i.w, i.rm, r);
    return;
  }
  const a = ea(c, i);
  const r = alu(c, op, bits, c.rd(i.w, i.seg, a), getReg(c, i.w, i.reg));
  if (op !== 7) c.wr(i.w, i.seg, a, r);
}
/** Specialised Ev,Gv register-register 32-bit form (the hot path). */
export function aluEG_rr32(c: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu(c, op, 32, c.regs[i.rm], c.regs[i.reg]);
  if (op !== 7) c.regs[i.rm] = r;
}
export function aluGE(c: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu(c, op, i.w * 8, getReg(c, i.w, i.reg), readE(c, i));
  if (op !== 7) setReg(c, i.w, i.reg, r);
}
export function aluGE_r32(c: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const b = i.mod === 3 ? c.regs[i.rm] : c.rd32(i.seg, ea(c, i));
  const r = alu(c, op, 32, c.regs[i.reg], b);
  if (op !== 7) c.regs[i.reg] = r;
}
export function aluAI(c: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu(c, op, i.w * 8, getReg(c, i.w, 0), i.imm);
  if (op !== 7) setReg(c, i.w, 0, r);
}
/** 80/81/83 group 1: op Eb/Ev, imm (ModRM.reg selects the op). */
export function grp1(c: Cpu, i: Insn): void {
  const op = i.reg, bits = i.w * 8;
  if (i.mod === 3) {
    const r = alu(c, op, bits, getReg(c, i.w, i.rm), i.imm);
    if (op !== 7) setReg(c, i.w, i.rm, r);
    return;
  }
  const a = ea(c, i);
  const r = alu(c, op, bits, c.rd(i.w, i.seg, a), i.imm);
  if (op !== 7) c.wr(i.w, i.seg, a, r);
}
export function grp1_r32(c: Cpu, i: Insn): void {
  const r = alu(c, i.reg, 32, c.regs[i.rm], i.imm);
  if (i.reg !== 7) c.regs[i.rm] = r;
}
export function testEG(c: Cpu, i: Insn): void { logicFlags(c, i.w * 8, readE(c, i) & readG(c, i)); }
export function testAI(c: Cpu, i: Insn): void { logicFlags(c, i.w * 8, getReg(c, i.w, 0) & i.imm); }
export function testEI(c: Cpu, i: Insn): void { logicFlags(c, i.w * 8, readE(c, i) & i.imm); }
export function notE(c: Cpu, i: Insn): void {
  if (i.mod === 3) { setReg(c, i.w, i.rm, ~getReg(c, i.w, i.rm)); return; }
  const a = ea(c, i); c.wr(i.w, i.seg, a, ~c.rd(i.w, i.seg, a));
}
export function negE(c: Cpu, i: Insn): void {
  if (i.mod === 3) { setReg(c, i.w, i.rm, neg(c, i.w * 8, getReg(c, i.w, i.rm))); return; }
  const a = ea(c, i); c.wr(i.w, i.seg, a, neg(c, i.w * 8, c.rd(i.w, i.seg, a)));
}
export function incE(c: Cpu, i: Insn): void {
  if (i.mod === 3) { setReg(c, i.w, i.rm, inc(c, i.w * 8, getReg(c, i.w, i.rm))); return; }
  const a = ea(c, i); c.wr(i.w, i.seg, a, inc(c, i.w * 8, c.rd(i.w, i.seg, a)));
}
export function decE(c: Cpu, i: Insn): void {
  if (i.mod === 3) { setReg(c, i.w, i.rm, dec(c, i.w * 8, getReg(c, i.w, i.rm))); return; }
  const a = ea(c, i); c.wr(i.w, i.seg, a, dec(c, i.w * 8, c.rd(i.w, i.seg, a)));
}
/** 40-47 / 48-4F: inc/dec register (register number in the opcode). */
export function incR(c: Cpu, i: Insn): void { const r = i.op & 7; setReg(c, i.os, r, inc(c, i.os * 8, getReg(c, i.os, r))); }
export function decR(c: Cpu, i: Insn): void { const r = i.op & 7; setReg(c, i.os, r, dec(c, i.os * 8, getReg(c, i.os, r))); }

/** Group 2 shifts/rotates: C0/C1 (imm8), D0/D1 (1), D2/D3 (CL). Count masked to 5 bits (SDM: 286+). */
function doShift(c: Cpu, i: Insn, count: number): void {
  count &= 31;
  const bits = i.w * 8;
  if (i.mod === 3) { setReg(c, i.w, i.rm, shift(c, i.reg, bits, getReg(c, i.w, i.rm), count)); return; }
  const a = ea(c, i);
  const v = c.rd(i.w, i.seg, a);
  c.wr(i.w, i.seg, a, shift(c, i.reg, bits, v, count));
}
export function shiftI(c: Cpu, i: Insn): void { doShift(c, i, i.imm); }
export function shift1(c: Cpu, i: Insn): void { doShift(c, i, 1); }
export function shiftCL(c: Cpu, i: Insn): void { doShift(c, i, c.regs8[4]); }
/** 0F A4/A5/AC/AD: SHLD/SHRD Ev,Gv,Ib/CL. */
export function shldrd(c: Cpu, i: Insn): void {
  const count = ((i.op & 1) ? c.regs8[4] : i.imm) & 31;
  const left = (i.op & 0xff) < 0xa8;
  const bits = i.w * 8;
  const src = readG(c, i);
  if (i.mod === 3) {
    const d = getReg(c, i.w, i.rm);
    setReg(c, i.w, i.rm, left ? shld(c, bits, d, src, count) : shrd(c, bits, d, src, count));
    return;
  }
  const a = ea(c, i);
  const d = c.rd(i.w, i.seg, a);
  c.wr(i.w, i.seg, a, left ? shld(c, bits, d, src, count) : shrd(c, bits, d, src, count));
}

// ---------------- data movement ----------------

export function movEG(c: Cpu, i: Insn): void { writeE(c, i, readG(c, i)); }
export function movGE(c: Cpu, i: Insn): void { writeG(c, i, readE(c, i)); }
export function movEG_r32(c: Cpu, i: Insn): void { c.regs[i.rm] = c.regs[i.reg]; }
export function movEG_m32(c: Cpu, i: Insn): void { c.wr32(i.seg, ea(c, i), c.regs[i.reg]); }
export function movGE_m32(c: Cpu, i: Insn): void { c.regs[i.reg] = c.rd32(i.seg, ea(c, i)); }
export function movEI(c: Cpu, i: Insn): void { writeE(c, i, i.imm); }
/** B0-B7 / B8-BF: mov register, immediate. */
export function movRI(c: Cpu, i: Insn): void { setReg(c, i.w, i.op & 7, i.imm); }
export function movRI32(c: Cpu, i: Insn): void { c.regs[i.op & 7] = i.imm; }
/** A0-A3: mov AL/eAX <-> moffs. */
export function movAO(c: Cpu, i: Insn): void { setReg(c, i.w, 0, c.rd(i.w, i.seg, i.disp >>> 0)); }
export function movOA(c: Cpu, i: Insn): void { c.wr(i.w, i.seg, i.disp >>> 0, getReg(c, i.w, 0)); }
export function lea(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  setReg(c, i.os, i.reg, ea(c, i));
}
export function xchgEG(c: Cpu, i: Insn): void {
  const g = readG(c, i);
  if (i.mod === 3) { writeG(c, i, getReg(c, i.w, i.rm)); setReg(c, i.w, i.rm, g); return; }
  const a = ea(c, i);
  const m = c.rd(i.w, i.seg, a);
  c.wr(i.w, i.seg, a, g);
  writeG(c, i, m);
}
/** 91-97: xchg eAX, reg. */
export function xchgAR(c: Cpu, i: Insn): void {
  const r = i.op & 7, t = getReg(c, i.os, r);
  setReg(c, i.os, r, getReg(c, i.os, 0)); setReg(c, i.os, 0, t);
}
export function nop(): void {}
/** 0F B6/B7/BE/BF: movzx/movsx Gv, Eb/Ew (source width in i.w). */
export function movzx(c: Cpu, i: Insn): void { setReg(c, i.os, i.reg, readE(c, i)); }
export function movsx(c: Cpu, i: Insn): void { setReg(c, i.os, i.reg, sext(i.w * 8, readE(c, i))); }
/** 98: cbw/cwde. 99: cwd/cdq. */
export function cbw(c: Cpu, i: Insn): void {
  if (i.os === 4) c.regs[0] = (c.regs[0] << 16) >> 16; else c.regs16[0] = (c.regs8[0] << 24) >> 24;
}
export function cwd(c: Cpu, i: Insn): void {
  if (i.os === 4) c.regs[2] = c.regs[0] >> 31; else c.regs16[4] = (c.regs16[0] << 16) >> 31;
}
/** 0F C8-CF: bswap r32 (16-bit operand size is undefined; QEMU zeroes... we byte-swap the low word to 0). */
export function bswap(c: Cpu, i: Insn): void {
  const r = i.op & 7, v = c.regs[r];
  if (i.os === 2) { c.regs16[r << 1] = 0; return; }
  c.regs[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
/** D7: xlat: AL = [seg:eBX + AL]. */
export function xlat(c: Cpu, i: Insn): void {
  const off = i.as === 4 ? (c.regs[3] + c.regs8[0]) >>> 0 : (c.regs16[6] + c.regs8[0]) & 0xffff;
  c.regs8[0] = c.rd8(i.seg, off);
}
/** 0F 40-4F: cmovcc Gv,Ev (the source is read even when the condition is false). */
export function cmov(c: Cpu, i: Insn): void {
  const v = readE(c, i);
  if (testCond(c, i.op & 15)) setReg(c, i.os, i.reg, v);
}
/** 0F 90-9F: setcc Eb. */
export function setcc(c: Cpu, i: Insn): void { writeEw(c, i, 1, testCond(c, i.op & 15) ? 1 : 0); }
/** D6: salc (undocumented): AL = CF ? FF : 00. */
export function salc(c: Cpu): void { c.regs8[0] = getCF(c) ? 0xff : 0; }

// ---------------- xadd / cmpxchg ----------------
export function xadd(c: Cpu, i: Insn): void {
  const bits = i.w * 8, g = readG(c, i);
  if (i.mod === 3) {
    const d = getReg(c, i.w, i.rm);
    const s = add(c, bits, d, g);
    writeG(c, i, d); setReg(c, i.w, i.rm, s);
    return;
  }
  const a = ea(c, i);
  const d = c.rd(i.w, i.seg, a);
  const s = add(c, bits, d, g);
  c.wr(i.w, i.seg, a, s);
  writeG(c, i, d);
}
export function cmpxchg(c: Cpu, i: Insn): void {
  const bits = i.w * 8;
  const acc = getReg(c, i.w, 0);
  if (i.mod === 3) {
    const d = getReg(c, i.w, i.rm);
    sub(c, bits, acc, d);
    if (acc === d) setReg(c, i.w, i.rm, readG(c, i)); else setReg(c, i.w, 0, d);
    return;
  }
  const a = ea(c, i);
  const d = c.rd(i.w, i.seg, a);
  sub(c, bits, acc, d);
  // The destination is always written (SDM: "the processor never produces a locked read without a locked write").
  if (acc === d) c.wr(i.w, i.seg, a, readG(c, i)); else { c.wr(i.w, i.seg, a, d); setReg(c, i.w, 0, d); }
}
/** 0F C7 /1: cmpxchg8b m64. */
export function cmpxchg8b(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const lo = c.rd32(i.seg, a) >>> 0, hi = c.rd32(i.seg, (a + 4) >>> 0) >>> 0;
  materialize(c);
  if (lo === c.regs[0] >>> 0 && hi === c.regs[2] >>> 0) {
    c.wr32(i.seg, a, c.regs[3]); c.wr32(i.seg, (a + 4) >>> 0, c.regs[1]);
    c.flags |= ZF;
  } else {
    c.wr32(i.seg, a, lo); c.wr32(i.seg, (a + 4) >>> 0, hi);
    c.regs[0] = lo; c.regs[2] = hi;
    c.flags &= ~ZF;
  }
}

// ---------------- bit operations ----------------
/**
 * BT/BTS/BTR/BTC. With a register bit offset and a memory operand the
 * offset is signed and selects a different word (SDM vol. 2, BT).
 * kind: 0 bt, 1 bts, 2 btr, 3 btc. Flags: CF = the bit; others as QEMU
 * (it keeps them from the previous op: we materialize and change only CF).
 */
function bitOp(c: Cpu, i: Insn, kind: number, offset: number, fromReg: boolean): void {
  const bits = i.w * 8;
  let v: number, a = 0;
  if (i.mod === 3) {
    offset &= bits - 1;
    v = getReg(c, i.w, i.rm);
  } else {
    if (fromReg) {
      const so = i.w === 4 ? offset | 0 : (offset << 16) >> 16;
      const wordIdx = Math.floor(so / bits);
      a = ea(c, i) + wordIdx * i.w;
      a = i.as === 4 ? a >>> 0 : a & 0xffff;
      offset = so - wordIdx * bits;
    } else {
      a = ea(c, i);
      offset &= bits - 1;
    }
    v = c.rd(i.w, i.seg, a);
  }
  const bit = (v >>> offset) & 1;
  materialize(c);
  c.flags = (c.flags & ~CF) | bit;
  if (kind === 0) return;
  const m = 1 << offset;
  const nv = kind === 1 ? v | m : kind === 2 ? v & ~m : v ^ m;
  if (i.mod === 3) setReg(c, i.w, i.rm, nv); else c.wr(i.w, i.seg, a, nv);
}
/** 0F A3/AB/B3/BB: bt/bts/btr/btc Ev,Gv. */
export function btG(c: Cpu, i: Insn): void {
  const o = i.op & 0xff;
  bitOp(c, i, o === 0xa3 ? 0 : o === 0xab ? 1 : o === 0xb3 ? 2 : 3, readG(c, i), true);
}
/** 0F BA /4-7: bt/bts/btr/btc Ev,Ib. */
export function btI(c: Cpu, i: Insn): void { bitOp(c, i, i.reg - 4, i.imm, false); }
/** 0F BC/BD: bsf/bsr. Source 0: ZF=1, destination unchanged (as QEMU and real CPUs do). */
export function bsf(c: Cpu, i: Insn): void {
  const v = readE(c, i);
  bsfFlags(c, i.w * 8, v);
  if (v !== 0) setReg(c, i.w, i.reg, 31 - Math.clz32(v & -v));
}
export function bsr(c: Cpu, i: Insn): void {
  const v = readE(c, i);
  bsfFlags(c, i.w * 8, v);
  if (v !== 0) setReg(c, i.w, i.reg, 31 - Math.clz32(v));
}

// ---------------- flags ----------------
export function clc(c: Cpu): void { materialize(c); c.flags &= ~CF; }
export function stc(c: Cpu): void { materialize(c); c.flags |= CF; }
export function cmc(c: Cpu): void { materialize(c); c.flags ^= CF; }
export function cld(c: Cpu): void { c.flags &= ~DF; }
export function std(c: Cpu): void { c.flags |= DF; }
/** FA/FB: cli/sti need CPL <= IOPL in protected mode (SDM vol. 2, CLI); else #GP(0). */
export function cli(c: Cpu): void {
  if (c.pe && c.cpl > ((c.flags >> IOPL_SHIFT) & 3)) fault(GP, 0);
  c.flags &= ~IF;
}
export function sti(c: Cpu): void {
  if (c.pe && c.cpl > ((c.flags >> IOPL_SHIFT) & 3)) fault(GP, 0);
  if (!(c.flags & IF)) { c.intShadow = true; c.brk |= BRK_SHADOW; }
  c.flags |= IF;
}
/** 9F lahf: AH = SF:ZF:0:AF:0:PF:1:CF. */
export function lahf(c: Cpu): void {
  materialize(c);
  c.regs8[1] = (c.flags & (SF | ZF | AF | PF | CF)) | F_RES1;
}
export function sahf(c: Cpu): void {
  materialize(c);
  c.flags = (c.flags & ~(SF | ZF | AF | PF | CF)) | (c.regs8[1] & (SF | ZF | AF | PF | CF));
}
/** 9C pushf: VM and RF are pushed clear (SDM vol. 2, PUSHF). The real IF is visible at any CPL. */
export function pushf(c: Cpu, i: Insn): void {
  const f = c.getEflags() & ~(RF | 0x20000);
  c.push(i.os, f);
}
/**
 * 9D popf (SDM vol. 2, POPF): at CPL 0 everything writable changes (IOPL
 * too); at CPL > 0 IOPL is kept; at CPL > IOPL IF is kept. No fault in
 * protected mode: the silent masking the VMM must cope with.
 */
export function popf(c: Cpu, i: Insn): void {
  const v = c.pop(i.os);
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
  if (i.os === 4) mask |= AC | ID;
  if (!c.pe || c.cpl === 0) mask |= 0x3000;
  if (!c.pe || c.cpl <= ((c.flags >> IOPL_SHIFT) & 3)) mask |= IF;
  const oldIF = c.flags & IF;
  c.flags = ((c.flags & ~mask) | (v & mask)) | F_RES1;
  c.ccOp = CC_EFLAGS;
  if (!oldIF && (c.flags & IF)) c.brk |= BRK_FLOW; // let a pending interrupt in promptly
  if (c.flags & TF) c.brk |= BRK_FLOW;
}

// ---------------- stack ----------------
export function pushR(c: Cpu, i: Insn): void { c.push(i.os, getReg(c, i.os, i.op & 7)); }
export function pushR32(c: Cpu, i: Insn): void {
  if (!c.ss32) { c.push32(c.regs[i.op & 7]); return; }
  // 32-bit stack: ESP and the value stay int32 (segWrite takes the offset unsigned itself).
  const sp = (c.regs[4] - 4) | 0;
  c.wr32(SS, sp, c.regs[i.op & 7]);
  c.regs[4] = sp;
}
export function popR(c: Cpu, i: Insn): void { const v = c.pop(i.os); setReg(c, i.os, i.op & 7, v); }
export function popR32(c: Cpu, i: Insn): void {
  if (!c.ss32) { const v = c.pop32(); c.regs[i.op & 7] = v; return; }
  const sp = c.regs[4];
  const v = c.rd32(SS, sp); // int32: no heap number for kernel addresses above 2 GiB
  c.regs[4] = sp + 4;
  c.regs[i.op & 7] = v;
}
export function pushI(c: Cpu, i: Insn): void { c.push(i.os, i.imm); }
export function pushE(c: Cpu, i: Insn): void { c.push(i.os, readEw(c, i, i.os)); }
/** 8F /0 pop Ev: ESP is incremented before the destination address is computed (SDM vol. 2, POP). */
export function popE(c: Cpu, i: Insn): void {
  const v = c.pop(i.os);
  writeEw(c, i, i.os, v); // a fault here is rewound to the instruction start, ESP included
}
/** 60 pusha: all eight writes are checked before ESP changes. */
export function pusha(c: Cpu, i: Insn): void {
  const sz = i.os, m = c.spMask;
  const sp0 = c.regs[4];
  let sp = sp0;
  for (let r = 0; r < 8; r++) {
    sp = (sp - sz) & m;
    c.wr(sz, SS, sp >>> 0, r === 4 ? sp0 : c.regs[r]);
  }
  if (c.ss32) c.regs[4] = sp; else c.regs16[8] = sp;
}
/** 61 popa: the stored ESP is skipped. */
export function popa(c: Cpu, i: Insn): void {
  const sz = i.os, m = c.spMask;
  let sp = c.regs[4] & m;
  const vals = popaTmp;
  for (let r = 7; r >= 0; r--) { vals[r] = c.rd(sz, SS, sp >>> 0); sp = (sp + sz) & m; }
  for (let r = 0; r < 8; r++) if (r !== 4) setReg(c, sz, r, vals[r]);
  if (c.ss32) c.regs[4] = sp; else c.regs16[8] = sp;
}
const popaTmp = new Float64Array(8);
/** C8 enter Iw,Ib (SDM vol. 2, ENTER, nesting level masked to 5 bits). */
export function enter(c: Cpu, i: Insn): void {
  const sz = i.os, m = c.spMask, level = i.imm2 & 31;
  let sp = c.regs[4];
  const bp = c.regs[5];
  sp = (sp - sz) & m; c.wr(sz, SS, sp >>> 0, bp);
  const frame = sp;
  let bpp = bp;
  if (level > 0) {
    for (let k = 1; k < level; k++) {
      bpp = (bpp - sz) & m;
      const v = c.rd(sz, SS, bpp >>> 0);
      sp = (sp - sz) & m; c.wr(sz, SS, sp >>> 0, v);
    }
    sp = (sp - sz) & m; c.wr(sz, SS, sp >>> 0, frame);
  }
  sp = (sp - i.imm) & m;
  if (sz === 4) c.regs[5] = frame; else c.regs16[10] = frame;
  if (c.ss32) c.regs[4] = sp; else c.regs16[8] = sp;
}
/** C9 leave: eSP = eBP; pop eBP. */
export function leave(c: Cpu, i: Insn): void {
  const m = c.spMask;
  const sp = c.regs[5] & m;
  const v = c.rd(i.os, SS, sp >>> 0);
  if (c.ss32) c.regs[4] = sp + i.os; else c.regs16[8] = sp + i.os;
  setReg(c, i.os, 5, v);
}

// ---------------- near control transfer ----------------
/** Jump within CS, checking the limit (SDM vol. 2, JMP: #GP(0) beyond the limit). */
export function jumpNear(c: Cpu, i: Insn, target: number): void {
  target = i.os === 4 ? target >>> 0 : target & 0xffff;
  if (target > c.segHi[CS]) fault(GP, 0);
  c.eip = target;
}
export function jcc(c: Cpu, i: Insn): void {
  if (testCond(c, i.op & 15)) jumpNear(c, i, c.eip + i.imm);
}
export function jmpRel(c: Cpu, i: Insn): void { jumpNear(c, i, c.eip + i.imm); }
export function callRel(c: Cpu, i: Insn): void {
  const ret = c.eip;
  const t = i.os === 4 ? (ret + i.imm) >>> 0 : (ret + i.imm) & 0xffff;
  if (t > c.segHi[CS]) fault(GP, 0);
  c.push(i.os, ret);
  c.eip = t;
}
export function callE(c: Cpu, i: Insn): void {
  const t = readEw(c, i, i.os);
  if (t > c.segHi[CS]) fault(GP, 0);
  c.push(i.os, c.eip);
  c.eip = t;
}
export function jmpE(c: Cpu, i: Insn): void { jumpNear(c, i, readEw(c, i, i.os)); }
export function retNear(c: Cpu, i: Insn): void {
  const t = c.peekStack(i.os, 0);
  if (t > c.segHi[CS]) fault(GP, 0);
  c.addSp(i.os + i.imm);
  c.eip = t;
}
/** E0-E3: loopne/loope/loop/jcxz (count register width = address size). */
export function loop(c: Cpu, i: Insn): void {
  const o = i.op & 3;
  let cnt: number;
  if (o === 3) cnt = i.as === 4 ? c.regs[1] : c.regs16[2];
  else if (i.as === 4) cnt = c.regs[1] = c.regs[1] - 1;
  else cnt = c.regs16[2] = c.regs16[2] - 1;
  let take: boolean;
  switch (o) {
    case 0: take = cnt !== 0 && !(c.ccOp === CC_EFLAGS ? c.flags & ZF : c.ccDst === 0); break;
    case 1: take = cnt !== 0 && !!(c.ccOp === CC_EFLAGS ? c.flags & ZF : c.ccDst === 0); break;
    case 2: take = cnt !== 0; break;
    default: take = cnt === 0; break;
  }
  if (take) jumpNear(c, i, c.eip + i.imm);
}

// ---------------- segment register moves ----------------
/** 8C mov Ev,Sw: a register destination gets the selector zero-extended with 32-bit operand size. */
export function movES(c: Cpu, i: Insn): void {
  if (i.reg > 5) faultNoCode(UD);
  const v = c.segSel[i.reg];
  if (i.mod === 3) setReg(c, i.os, i.rm, v); else c.wr16(i.seg, ea(c, i), v);
}
/** 8E mov Sw,Ew (CS is #UD; SS sets the interrupt shadow). */
export function movSE(c: Cpu, i: Insn): void {
  if (i.reg === CS || i.reg > 5) faultNoCode(UD);
  const v = readEw(c, i, 2);
  c.loadSegment(i.reg, v);
  if (i.reg === SS) { c.intShadow = true; c.brk |= BRK_SHADOW; }
}
/** push Sreg: with 32-bit operand size a 32-bit slot is written (low word = selector). */
export function pushS(c: Cpu, i: Insn): void {
  const s = segOfPushPop(i.op);
  c.push(i.os, c.segSel[s]);
}
export function popS(c: Cpu, i: Insn): void {
  const s = segOfPushPop(i.op);
  const v = c.peekStack(i.os, 0) & 0xffff;
  c.loadSegment(s, v);
  c.addSp(i.os);
  if (s === SS) { c.intShadow = true; c.brk |= BRK_SHADOW; }
}
function segOfPushPop(op: number): number {
  switch (op) {
    case 0x06: case 0x07: return ES;
    case 0x0e: return CS;
    case 0x16: case 0x17: return SS;
    case 0x1e: case 0x1f: return DS;
    case 0x1a0: case 0x1a1: return FS;
    default: return GS;
  }
}
/** C4/C5/0F B2/B4/B5: les/lds/lss/lfs/lgs Gv,Mp. */
export function loadFar(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const off = c.rd(i.os, i.seg, a);
  const sel = c.rd16(i.seg, i.as === 4 ? (a + i.os) >>> 0 : (a + i.os) & 0xffff);
  const s = i.op === 0xc4 ? ES : i.op === 0xc5 ? DS : i.op === 0x1b2 ? SS : i.op === 0x1b4 ? FS : GS;
  c.loadSegment(s, sel);
  setReg(c, i.os, i.reg, off);
  if (s === SS) { c.intShadow = true; c.brk |= BRK_SHADOW; }
}
/** 62 bound Gv,Ma: #BR if the index is outside [lower, upper] (signed). */
export function bound(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const bits = i.os * 8;
  const idx = sext(bits, getReg(c, i.os, i.reg));
  const lo = sext(bits, c.rd(i.os, i.seg, a));
  const hi = sext(bits, c.rd(i.os, i.seg, i.as === 4 ? (a + i.os) >>> 0 : (a + i.os) & 0xffff));
  if (idx < lo || idx > hi) faultNoCode(BR);
}
export function ud(): void { faultNoCode(UD); }
export { R8, mask, and };
