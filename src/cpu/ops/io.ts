// Port I/O (SDM vol. 1, ch. 18): IN/OUT and the protection rule: in
// protected mode with CPL > IOPL, every byte of the access must be allowed
// by the TSS I/O permission bitmap (SDM vol. 1, 18.5.2), else #GP(0).

import { GP, IOPL_SHIFT } from '../arch.js';
import { BRK_FLOW, type Cpu } from '../cpu.js';
import { fault } from '../fault.js';
import type { Insn } from '../insn.js';

export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (!c.pe || c.cpl <= ((c.flags >> IOPL_SHIFT) & 3)) return;
  // Only a 32-bit TSS has a bitmap; its offset is the word at TSS+0x66.
  const type = c.trAttr & 0xf;
  if ((type !== 0x9 && type !== 0xb) || c.trLimit < 0x67) fault(GP, 0);
  const mapBase = c.rdSys16((c.trBase + 0x66) >>> 0);
  const byteOff = mapBase + (port >>> 3);
  if (byteOff + 1 > c.trLimit) fault(GP, 0);
  const bits = c.rdSys16((c.trBase + byteOff) >>> 0);
  const want = ((1 << size) - 1) << (port & 7);
  if (bits & want) fault(GP, 0);
}

/** E4/E5 in AL/eAX,Ib; EC/ED in AL/eAX,DX. */
export function inAcc(c: Cpu, i: Insn): void {
  const port = (i.op & 8) ? c.regs16[4] : i.imm & 0xff;
  checkIoPermission(c, port, i.w);
  const v = c.io.in(port, i.w as 1 | 2 | 4);
  if (i.w === 4) c.regs[0] = v; else if (i.w === 2) c.regs16[0] = v; else c.regs8[0] = v;
  c.brk |= BRK_FLOW;
}

/** E6/E7 out Ib,AL/eAX; EE/EF out DX,AL/eAX. */
export function outAcc(c: Cpu, i: Insn): void {
  const port = (i.op & 8) ? c.regs16[4] : i.imm & 0xff;
  checkIoPermission(c, port, i.w);
  const v = i.w === 4 ? c.regs[0] >>> 0 : i.w === 2 ? c.regs16[0] : c.regs8[0];
  c.io.out(port, i.w as 1 | 2 | 4, v);
  c.brk |= BRK_FLOW;
}
