// Decimal adjust instructions (SDM vol. 2: DAA DAS AAA AAS AAM AAD). The
// SDM leaves several flags undefined; these follow qemu-system-i386's
// helpers (int_helper.c) so EFLAGS printed by guests match QEMU.

import { AF, CF, DE, OF, PF, SF, ZF } from '../arch.js';
import type { Cpu } from '../cpu.js';
import { faultNoCode } from '../fault.js';
import { arithFlags, CC_EFLAGS, PARITY } from '../flags.js';
import type { Insn } from '../insn.js';
import { logicFlags } from './alu.js';

function setFlags(c: Cpu, arith: number): void {
  c.flags = (c.flags & ~(CF | PF | AF | ZF | SF | OF)) | arith;
  c.ccOp = CC_EFLAGS;
}

/** 27 daa (SDM: the high adjust tests the original AL > 0x99); OF is cleared as in QEMU. */
export function daa(c: Cpu): void {
  const old = arithFlags(c);
  let al = c.regs8[0], f = 0;
  const al1 = al;
  if ((al & 0xf) > 9 || (old & AF)) { al = (al + 6) & 0xff; f |= AF; }
  if (al1 > 0x99 || (old & CF)) { al = (al + 0x60) & 0xff; f |= CF; }
  c.regs8[0] = al;
  setFlags(c, f | (al === 0 ? ZF : 0) | PARITY[al] | (al & SF));
}

/** 2F das. */
export function das(c: Cpu): void {
  const old = arithFlags(c);
  let al = c.regs8[0], f = 0;
  const al1 = al;
  if ((al & 0xf) > 9 || (old & AF)) {
    f |= AF;
    if (al < 6 || (old & CF)) f |= CF;
    al = (al - 6) & 0xff;
  }
  if (al1 > 0x99 || (old & CF)) { al = (al - 0x60) & 0xff; f |= CF; }
  c.regs8[0] = al;
  setFlags(c, f | (al === 0 ? ZF : 0) | PARITY[al] | (al & SF));
}

/** 37 aaa: only CF and AF change; the others keep their previous values. */
export function aaa(c: Cpu): void {
  let f = arithFlags(c);
  let al = c.regs8[0], ah = c.regs8[1];
  const icarry = al > 0xf9 ? 1 : 0;
  if ((al & 0xf) > 9 || (f & AF)) {
    al = (al + 6) & 0xf; ah = (ah + 1 + icarry) & 0xff; f |= CF | AF;
  } else {
    f &= ~(CF | AF); al &= 0xf;
  }
  c.regs8[0] = al; c.regs8[1] = ah;
  setFlags(c, f);
}

/** 3F aas. */
export function aas(c: Cpu): void {
  let f = arithFlags(c);
  let al = c.regs8[0], ah = c.regs8[1];
  const icarry = al < 6 ? 1 : 0;
  if ((al & 0xf) > 9 || (f & AF)) {
    al = (al - 6) & 0xf; ah = (ah - 1 - icarry) & 0xff; f |= CF | AF;
  } else {
    f &= ~(CF | AF); al &= 0xf;
  }
  c.regs8[0] = al; c.regs8[1] = ah;
  setFlags(c, f);
}

/** D4 ib aam: AH = AL / base, AL = AL % base; flags as a logical op on AL. */
export function aam(c: Cpu, i: Insn): void {
  const base = i.imm & 0xff;
  if (base === 0) faultNoCode(DE);
  const al = c.regs8[0];
  c.regs8[1] = Math.floor(al / base);
  c.regs8[0] = al % base;
  logicFlags(c, 8, c.regs8[0]);
}

/** D5 ib aad: AL = AH * base + AL, AH = 0; flags as a logical op on AL. */
export function aad(c: Cpu, i: Insn): void {
  const al = (c.regs8[1] * (i.imm & 0xff) + c.regs8[0]) & 0xff;
  c.regs16[0] = al;
  logicFlags(c, 8, al);
}
