// System and privileged instructions (SDM vol. 2 per mnemonic; vol. 3 ch. 2
// for the registers). Privileged ones raise #GP(0) at CPL > 0; the "store"
// forms (SGDT, SIDT, SLDT, STR, SMSW) work at any CPL, as on silicon.

import {
  ATTR_CODE, ATTR_DC, ATTR_P, ATTR_RW, ATTR_S, BP, CR0_EM, CR0_ET, CR0_MP, CR0_PE, CR0_PG, CR0_TS, CR4_TSD,
  CS, GP, NM, NP, OFV, UD, ZF, APIC_BASE_BSP, MSR_APIC_BASE, MSR_TSC, CPUID_TSC, CPUID_MSR, CPUID_PSE, CPUID_CX8, CPUID_DE,
  SYS_LDT, SYS_TSS32_AVAIL, SYS_TSS16_AVAIL, IOPL_SHIFT,
} from '../arch.js';
import { BRK_FLOW, BRK_HALT, type Cpu } from '../cpu.js';
import { fault, faultNoCode } from '../fault.js';
import { getOF, materialize } from '../flags.js';
import type { Insn } from '../insn.js';
import { deliverInterrupt } from '../interrupts.js';
import { ea, getReg, readEw, setReg, writeEw } from '../operand.js';
import { D, isCode, readDescriptor } from '../segment.js';
import { farCall, farJump, farReturn, iret as iretOp } from '../transfer.js';

function needCpl0(c: Cpu): void {
  if (c.pe && c.cpl !== 0) fault(GP, 0);
}
function needPM(c: Cpu): void {
  if (!c.pe) faultNoCode(UD);
}

// ---------------- halt, interrupts ----------------
export function hlt(c: Cpu): void {
  needCpl0(c);
  c.halted = true;
  c.brk |= BRK_HALT;
}
/** CD ib: INT n (gate DPL checked against CPL in delivery). */
export function intN(c: Cpu, i: Insn): void { deliverInterrupt(c, i.imm & 0xff, 2, 0, false); }
/** CC: INT3. An intercepted #BP exits with EIP at the int3 (the VMM's patch point). */
export function int3(c: Cpu): void {
  if (c.interceptExceptions & (1 << BP)) faultNoCode(BP);
  deliverInterrupt(c, BP, 2, 0, false);
}
/** F1: INT1/ICEBP: a #DB trap that ignores the gate DPL. */
export function int1(c: Cpu): void { deliverInterrupt(c, 1, 1, 0, false); }
/** CE: INTO. */
export function into(c: Cpu): void {
  if (!getOF(c)) return;
  if (c.interceptExceptions & (1 << OFV)) faultNoCode(OFV);
  deliverInterrupt(c, OFV, 2, 0, false);
}
export function iret(c: Cpu, i: Insn): void { iretOp(c, i.os); }

// ---------------- far transfers ----------------
/** 9A / EA: call/jmp ptr16:16/32 (imm = offset, imm2 = selector). */
export function callFarPtr(c: Cpu, i: Insn): void { farCall(c, i.imm2, i.imm, i.os); }
export function jmpFarPtr(c: Cpu, i: Insn): void { farJump(c, i.imm2, i.imm, i.os); }
/** FF /3, FF /5: call/jmp m16:16/32. */
export function callFarMem(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const off = c.rd(i.os, i.seg, a);
  const sel = c.rd16(i.seg, i.as === 4 ? (a + i.os) >>> 0 : (a + i.os) & 0xffff);
  farCall(c, sel, off, i.os);
}
export function jmpFarMem(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const off = c.rd(i.os, i.seg, a);
  const sel = c.rd16(i.seg, i.as === 4 ? (a + i.os) >>> 0 : (a + i.os) & 0xffff);
  farJump(c, sel, off, i.os);
}
/** CA/CB: retf [imm16]. */
export function retFar(c: Cpu, i: Insn): void { farReturn(c, i.os, i.op === 0xca ? i.imm & 0xffff : 0); }

// ---------------- descriptor tables ----------------
/** 0F 01 /0, /1: sgdt/sidt m: limit word then 32-bit base (24 bits with 16-bit operand size). */
export function sgdt(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  const a = ea(c, i);
  const idt = i.reg === 1;
  const base = idt ? c.idtrBase : c.gdtrBase;
  c.wr16(i.seg, a, idt ? c.idtrLimit : c.gdtrLimit);
  c.wr32(i.seg, i.as === 4 ? (a + 2) >>> 0 : (a + 2) & 0xffff, i.os === 4 ? base : base & 0xffffff);
}
export function lgdt(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  needCpl0(c);
  const a = ea(c, i);
  const limit = c.rd16(i.seg, a);
  let base = c.rd32(i.seg, i.as === 4 ? (a + 2) >>> 0 : (a + 2) & 0xffff) >>> 0;
  if (i.os === 2) base &= 0xffffff;
  if (i.reg === 3) { c.idtrBase = base; c.idtrLimit = limit; } else { c.gdtrBase = base; c.gdtrLimit = limit; }
}
/** 0F 00 /0: sldt; /1: str (register destination is zero-extended with 32-bit operand size). */
export function sldt(c: Cpu, i: Insn): void {
  needPM(c);
  const v = i.reg === 0 ? c.ldtrSel : c.trSel;
  if (i.mod === 3) setReg(c, i.os, i.rm, v); else writeEw(c, i, 2, v);
}
/** 0F 00 /2: lldt. */
export function lldt(c: Cpu, i: Insn): void {
  needPM(c); needCpl0(c);
  const sel = readEw(c, i, 2);
  const idx = sel & 0xfffc;
  if (idx === 0) { c.ldtrSel = sel; c.ldtrBase = 0; c.ldtrLimit = 0; c.ldtrAttr = 0; return; }
  if (sel & 4) fault(GP, idx);
  if (!readDescriptor(c, sel)) fault(GP, idx);
  if ((D.attr & (ATTR_S | 0xf)) !== SYS_LDT) fault(GP, idx);
  if (!(D.attr & ATTR_P)) fault(NP, idx);
  c.ldtrSel = sel; c.ldtrBase = D.base; c.ldtrLimit = D.limit; c.ldtrAttr = D.attr;
}
/** 0F 00 /3: ltr (marks the TSS busy). */
export function ltr(c: Cpu, i: Insn): void {
  needPM(c); needCpl0(c);
  const sel = readEw(c, i, 2);
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (sel & 4) fault(GP, idx);
  if (!readDescriptor(c, sel)) fault(GP, idx);
  const t = D.attr & (ATTR_S | 0xf);
  if (t !== SYS_TSS32_AVAIL && t !== SYS_TSS16_AVAIL) fault(GP, idx);
  if (!(D.attr & ATTR_P)) fault(NP, idx);
  c.wrSys8((D.addr + 5) >>> 0, ((D.hi >>> 8) | 2) & 0xff);
  c.trSel = sel; c.trBase = D.base; c.trLimit = D.limit; c.trAttr = D.attr | 2;
}

/** Shared checks of LAR/LSL/VERR/VERW: is the descriptor visible at CPL/RPL? Leaves it in D. */
function visible(c: Cpu, sel: number, forLsl: boolean): boolean {
  if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return false;
  const attr = D.attr;
  if (attr & ATTR_S) {
    const conforming = (attr & ATTR_CODE) && (attr & ATTR_DC);
    if (!conforming && (D.dpl < c.cpl || D.dpl < (sel & 3))) return false;
    return true;
  }
  const t = attr & 0xf;
  // LAR accepts TSS, LDT and gates; LSL accepts TSS and LDT only (SDM vol. 2, LAR/LSL tables).
  const okLar = [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(t);
  const okLsl = [1, 2, 3, 9, 0xb].includes(t);
  if (!(forLsl ? okLsl : okLar)) return false;
  return D.dpl >= c.cpl && D.dpl >= (sel & 3);
}
function setZF(c: Cpu, on: boolean): void {
  materialize(c);
  if (on) c.flags |= ZF; else c.flags &= ~ZF;
}
/** 0F 02: lar Gv,Ew. */
export function lar(c: Cpu, i: Insn): void {
  needPM(c);
  const sel = readEw(c, i, 2);
  const ok = visible(c, sel, false);
  if (ok) setReg(c, i.os, i.reg, i.os === 4 ? D.hi & 0x00f0ff00 : D.hi & 0xff00);
  setZF(c, ok);
}
/** 0F 03: lsl Gv,Ew (the scaled limit). */
export function lsl(c: Cpu, i: Insn): void {
  needPM(c);
  const sel = readEw(c, i, 2);
  const ok = visible(c, sel, true);
  if (ok) setReg(c, i.os, i.reg, D.limit);
  setZF(c, ok);
}
/** 0F 00 /4, /5: verr/verw. */
export function verrw(c: Cpu, i: Insn): void {
  needPM(c);
  const sel = readEw(c, i, 2);
  let ok = visible(c, sel, false) && (D.attr & ATTR_S) !== 0;
  if (ok) {
    if (i.reg === 4) ok = !isCode(D.attr) || (D.attr & ATTR_RW) !== 0;
    else ok = !isCode(D.attr) && (D.attr & ATTR_RW) !== 0;
  }
  setZF(c, ok);
}
/** 63: arpl Ew,Gw (#UD in real mode). */
export function arpl(c: Cpu, i: Insn): void {
  needPM(c);
  const dst = readEw(c, i, 2), src = getReg(c, 2, i.reg);
  materialize(c);
  if ((dst & 3) < (src & 3)) {
    writeEw(c, i, 2, (dst & ~3) | (src & 3));
    c.flags |= ZF;
  } else {
    c.flags &= ~ZF;
  }
}

// ---------------- control and debug registers ----------------
/** 0F 20: mov r32, CRn. */
export function movRC(c: Cpu, i: Insn): void {
  needCpl0(c);
  let v: number;
  switch (i.reg) {
    case 0: v = c.cr0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    default: faultNoCode(UD);
  }
  c.regs[i.rm] = v;
}
/** 0F 22: mov CRn, r32. */
export function movCR(c: Cpu, i: Insn): void {
  needCpl0(c);
  const v = c.regs[i.rm] >>> 0;
  switch (i.reg) {
    case 0:
      // PG without PE is #GP(0) (SDM vol. 3, 2.5); ET is hardwired to 1 on 486+.
      if ((v & CR0_PG) && !(v & CR0_PE)) fault(GP, 0);
      c.cr0 = (v | CR0_ET) & 0xe005003f;
      break;
    case 2: c.cr2 = v; break;
    case 3: c.cr3 = v & 0xfffff018; break;
    case 4:
      if (v & ~0x5f) fault(GP, 0); // only VME PVI TSD DE PSE MCE (PAE/PGE unsupported)
      c.cr4 = v;
      break;
    default: faultNoCode(UD);
  }
  c.brk |= BRK_FLOW;
}
/** 0F 21/23: mov r32, DRn / mov DRn, r32 (DR4/5 alias DR6/7 as with CR4.DE=0). */
export function movRD(c: Cpu, i: Insn): void {
  needCpl0(c);
  let r = i.reg;
  if (r === 4 || r === 5) r += 2;
  c.regs[i.rm] = c.dr[r];
}
export function movDR(c: Cpu, i: Insn): void {
  needCpl0(c);
  let r = i.reg;
  if (r === 4 || r === 5) r += 2;
  let v = c.regs[i.rm] >>> 0;
  if (r === 6) v = (v & 0xe00f) | 0xffff0ff0;
  if (r === 7) v = (v & 0xffff2bff) | 0x400;
  c.dr[r] = v;
}
/** 0F 06: clts. */
export function clts(c: Cpu): void { needCpl0(c); c.cr0 = c.cr0 & ~CR0_TS; }
/** 0F 01 /4: smsw (register form zero-extends to the operand size with the whole CR0 low word... QEMU stores CR0). */
export function smsw(c: Cpu, i: Insn): void {
  if (i.mod === 3) setReg(c, i.os, i.rm, i.os === 4 ? c.cr0 : c.cr0 & 0xffff);
  else writeEw(c, i, 2, c.cr0 & 0xffff);
}
/** 0F 01 /6: lmsw: changes PE MP EM TS only, and cannot clear PE. */
export function lmsw(c: Cpu, i: Insn): void {
  needCpl0(c);
  const v = readEw(c, i, 2);
  c.cr0 = (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE);
  c.brk |= BRK_FLOW;
}
/** 0F 01 /7: invlpg m. */
export function invlpg(c: Cpu, i: Insn): void {
  if (i.mod === 3) faultNoCode(UD);
  needCpl0(c);
  const lin = (c.segBase[i.seg] + ea(c, i)) >>> 0;
  c.tlb.invalidate(lin >>> 12);
}
/** 0F 08/09: invd/wbinvd (no caches to manage). */
export function wbinvd(c: Cpu): void { needCpl0(c); }

// ---------------- MSRs, TSC, CPUID ----------------
export function rdtsc(c: Cpu): void {
  if ((c.cr4 & CR4_TSD) && c.pe && c.cpl !== 0) fault(GP, 0);
  const t = c.instructionCount + c.tscOffset;
  c.regs[0] = t % 4294967296; c.regs[2] = Math.floor(t / 4294967296);
}
export function rdmsr(c: Cpu): void {
  needCpl0(c);
  switch (c.regs[1] >>> 0) {
    case MSR_TSC: { const t = c.instructionCount + c.tscOffset; c.regs[0] = t % 4294967296; c.regs[2] = Math.floor(t / 4294967296); return; }
    case MSR_APIC_BASE: c.regs[0] = c.apicBase; c.regs[2] = 0; return;
    default: fault(GP, 0);
  }
}
export function wrmsr(c: Cpu): void {
  needCpl0(c);
  const lo = c.regs[0] >>> 0, hi = c.regs[2] >>> 0;
  switch (c.regs[1] >>> 0) {
    case MSR_TSC: c.tscOffset = (hi * 4294967296 + lo) - c.instructionCount; return;
    case MSR_APIC_BASE: c.apicBase = (lo & 0xfffff900) >>> 0; return;
    default: fault(GP, 0);
  }
}

/** 0F A2: cpuid: a Pentium ("GenuineIntel", family 5) without FPU. */
export function cpuid(c: Cpu): void {
  const leaf = c.regs[0] >>> 0;
  if (leaf === 0) {
    c.regs[0] = 1;
    c.regs[3] = 0x756e6547; // "Genu"
    c.regs[2] = 0x49656e69; // "ineI"
    c.regs[1] = 0x6c65746e; // "ntel"
  } else if (leaf === 1) {
    c.regs[0] = 0x00000543; // family 5, model 4, stepping 3
    c.regs[3] = (c.apicId & 0xff) << 24;
    c.regs[1] = 0;
    c.regs[2] = CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8;
  } else {
    c.regs[0] = 0; c.regs[1] = 0; c.regs[2] = 0; c.regs[3] = 0;
  }
}

// ---------------- x87 escapes ----------------
/**
 * D8-DF: there is no x87. With CR0.EM or CR0.TS set the escape raises #NM
 * (SDM vol. 3, 2.5); otherwise it does nothing, like a board whose FPU
 * socket is empty: a probe such as `fninit; fnstsw %ax` leaves AX as it
 * was and so reports "no FPU". (QEMU's output for these fixtures: no fault.)
 */
export function fpuEscape(c: Cpu): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) faultNoCode(NM);
}
/** 9B wait/fwait: #NM if MP and TS (SDM vol. 2, WAIT). */
export function fwait(c: Cpu): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) faultNoCode(NM);
}

