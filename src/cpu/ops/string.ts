// String instructions with REP/REPE/REPNE (SDM vol. 2, MOVS/CMPS/STOS/
// LODS/SCAS/INS/OUTS, REP). Registers are updated after every iteration,
// so a fault mid-string leaves ECX/ESI/EDI describing the work done and
// restarts the instruction. A long REP is split into chunks: after a chunk
// EIP is rewound to the instruction, so interrupts are taken between
// chunks and each chunk counts as one retired instruction (deterministic).

import { CR0_PG, DF, ES } from '../arch.js';
import { BRK_FLOW, type Cpu } from '../cpu.js';
import type { Insn } from '../insn.js';
import { walk } from '../mmu.js';
import { sub } from './alu.js';
import { checkIoPermission } from './io.js';

const CHUNK = 1024;

function count(c: Cpu, i: Insn): number {
  return i.as === 4 ? c.regs[1] >>> 0 : c.regs16[2];
}
function setCount(c: Cpu, i: Insn, v: number): void {
  if (i.as === 4) c.regs[1] = v; else c.regs16[2] = v;
}
function si(c: Cpu, i: Insn): number { return i.as === 4 ? c.regs[6] >>> 0 : c.regs16[12]; }
function di(c: Cpu, i: Insn): number { return i.as === 4 ? c.regs[7] >>> 0 : c.regs16[14]; }
function advSi(c: Cpu, i: Insn, d: number): void { if (i.as === 4) c.regs[6] += d; else c.regs16[12] += d; }
function advDi(c: Cpu, i: Insn, d: number): void { if (i.as === 4) c.regs[7] += d; else c.regs16[14] += d; }

/** Run `body` once, or under REP for up to CHUNK iterations. `cmp`: REPE/REPNE termination by ZF. */
function repeat(c: Cpu, i: Insn, body: (c: Cpu, i: Insn, d: number) => void, cmp: boolean): void {
  const d = c.flags & DF ? -i.w : i.w;
  if (i.rep === 0) { body(c, i, d); return; }
  let n = count(c, i);
  let k = 0;
  while (n !== 0) {
    body(c, i, d);
    n = i.as === 4 ? (n - 1) >>> 0 : (n - 1) & 0xffff;
    setCount(c, i, n);
    if (cmp) {
      const zf = c.ccDst === 0; // CMPS/SCAS leave a CC_SUB record
      if (i.rep === 1 ? !zf : zf) return;
    }
    if (++k === CHUNK && n !== 0) {
      c.eip = (c.eip - i.len) >>> 0; // come back for the rest (c.eip is the next instruction's)
      c.brk |= BRK_FLOW;
      return;
    }
  }
}

function movsBody(c: Cpu, i: Insn, d: number): void {
  c.wr(i.w, ES, di(c, i), c.rd(i.w, i.seg, si(c, i)));
  advSi(c, i, d); advDi(c, i, d);
}
function cmpsBody(c: Cpu, i: Insn, d: number): void {
  const a = c.rd(i.w, i.seg, si(c, i)), b = c.rd(i.w, ES, di(c, i));
  sub(c, i.w * 8, a, b);
  advSi(c, i, d); advDi(c, i, d);
}
function stosBody(c: Cpu, i: Insn, d: number): void {
  c.wr(i.w, ES, di(c, i), c.regs[0]);
  advDi(c, i, d);
}
function lodsBody(c: Cpu, i: Insn, d: number): void {
  const v = c.rd(i.w, i.seg, si(c, i));
  if (i.w === 4) c.regs[0] = v; else if (i.w === 2) c.regs16[0] = v; else c.regs8[0] = v;
  advSi(c, i, d);
}
function scasBody(c: Cpu, i: Insn, d: number): void {
  const b = c.rd(i.w, ES, di(c, i));
  sub(c, i.w * 8, c.regs[0], b);
  advDi(c, i, d);
}
function insBody(c: Cpu, i: Insn, d: number): void {
  // The destination is checked before the port is read (SDM: INS "ES:(E)DI ... #GP"),
  // paging included: a #PF on the store must not lose the byte already taken
  // from the device, so the instruction restarts cleanly (QEMU does the same
  // with a dummy store first).
  const off = di(c, i);
  const lin = c.segWrite(ES, off, i.w) >>> 0;
  if (c.cr0 & CR0_PG) {
    walk(c, lin, true, c.cpl === 3);
    if ((lin & 0xfff) + i.w > 0x1000) walk(c, (lin + i.w - 1) >>> 0, true, c.cpl === 3);
  }
  const v = c.io.in(c.regs16[4], i.w as 1 | 2 | 4);
  c.wr(i.w, ES, off, v);
  advDi(c, i, d);
}
function outsBody(c: Cpu, i: Insn, d: number): void {
  const v = c.rd(i.w, i.seg, si(c, i));
  c.io.out(c.regs16[4], i.w as 1 | 2 | 4, v);
  advSi(c, i, d);
}

export function movs(c: Cpu, i: Insn): void { repeat(c, i, movsBody, false); }
export function cmps(c: Cpu, i: Insn): void { repeat(c, i, cmpsBody, true); }
export function stos(c: Cpu, i: Insn): void {
  if (i.rep !== 0 && i.as === 4 && (c.flags & DF) === 0) repStosUp(c, i);
  else repeat(c, i, stosBody, false);
}

/**
 * REP STOS upwards with 32-bit addressing (memset: xv6 fills every free
 * page this way). Exactly `repeat` with stosBody, iteration for iteration
 * (same chunking, same registers after each step, same faults), except
 * that a run of iterations that stays inside one page which the TLB
 * already allows plain RAM writes to (no MMIO, no watchpoint, dirty bit
 * set; mmu.ts) and which holds no decoded code, and that passes the ES
 * limit check as a whole, is stored in one go. Anything else (first touch
 * of a page, a fault, a page straddle) takes the generic single step.
 */
function repStosUp(c: Cpu, i: Insn): void {
  const w = i.w, regs = c.regs;
  let n = regs[1] >>> 0;
  let k = 0;
  while (n !== 0) {
    const off = regs[7] >>> 0;
    const lin = (c.segBase[ES] + off) >>> 0;
    const e = c.tlb.entry[lin >>> 12];
    let m = ((0x1000 - (lin & 0xfff)) / w) | 0; // whole elements left in this page
    if (m > n) m = n;
    if (m > CHUNK - k) m = CHUNK - k;
    if (m > 1 && (e & c.accW) !== 0 && c.mem.codePages[e >>> 12] === 0 &&
        c.segW[ES] !== 0 && off >= c.segLo[ES] && off + m * w - 1 <= c.segHi[ES]) {
      const p = (e & ~0xfff) | (lin & 0xfff), v = regs[0], ram = c.mem.ram;
      const b0 = v & 0xff, end = p + m * w;
      if (w === 1 || (w === 2 ? (v & 0xffff) === b0 * 0x101 : v === (b0 * 0x01010101 | 0))) {
        ram.fill(b0, p, end); // all bytes alike (memset): native fill
      } else {
        const b1 = (v >>> 8) & 0xff, b2 = (v >>> 16) & 0xff, b3 = v >>> 24; // little-endian element
        for (let q = p; q < end; q += w) {
          ram[q] = b0; ram[q + 1] = b1;
          if (w === 4) { ram[q + 2] = b2; ram[q + 3] = b3; }
        }
      }
      regs[7] = off + m * w;
      n -= m;
    } else {
      stosBody(c, i, w); // may fault: ECX/EDI still describe the iterations done
      n = (n - 1) >>> 0;
      m = 1;
    }
    regs[1] = n;
    k += m;
    if (k === CHUNK && n !== 0) {
      c.eip = (c.eip - i.len) >>> 0; // come back for the rest (c.eip is the next instruction's)
      c.brk |= BRK_FLOW;
      return;
    }
  }
}
export function lods(c: Cpu, i: Insn): void { repeat(c, i, lodsBody, false); }
export function scas(c: Cpu, i: Insn): void { repeat(c, i, scasBody, true); }
export function ins(c: Cpu, i: Insn): void {
  checkIoPermission(c, c.regs16[4], i.w);
  repeat(c, i, insBody, false);
  c.brk |= BRK_FLOW;
}
export function outs(c: Cpu, i: Insn): void {
  checkIoPermission(c, c.regs16[4], i.w);
  repeat(c, i, outsBody, false);
  c.brk |= BRK_FLOW;
}
