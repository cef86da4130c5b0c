// Segmentation (SDM vol. 3, ch. 3 and 5): reading descriptors from the
// GDT/LDT, the checks of MOV/POP Sreg and LDS-family loads, and the helpers
// the privilege-changing transfers (transfer.ts, interrupts.ts) share.

import {
  ATTR_CODE, ATTR_DC, ATTR_P, ATTR_RW, ATTR_S, CS, GP, NP, SS, SSV, ATTR_G,
} from './arch.js';
import type { Cpu } from './cpu.js';
import { fault } from './fault.js';

/** The last descriptor read (no allocation): raw dwords, table address, decoded fields. */
export const D = { lo: 0, hi: 0, addr: 0, base: 0, limit: 0, attr: 0, dpl: 0, type: 0 };

/**
 * Read the descriptor for `sel` into D (supervisor accesses). Returns false
 * when the selector lies beyond its table's limit (or the LDT is null).
 */
export function readDescriptor(c: Cpu, sel: number): boolean {
  let base: number, limit: number;
  if (sel & 4) {
    if ((c.ldtrSel & 0xfffc) === 0) return false;
    base = c.ldtrBase; limit = c.ldtrLimit;
  } else {
    base = c.gdtrBase; limit = c.gdtrLimit;
  }
  if ((sel | 7) > limit) return false;
  const addr = (base + (sel & 0xfff8)) >>> 0;
  D.addr = addr;
  D.lo = c.rdSys32(addr);
  D.hi = c.rdSys32((addr + 4) >>> 0);
  decode();
  return true;
}

function decode(): void {
  const lo = D.lo, hi = D.hi;
  D.base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  D.attr = (hi >>> 8) & 0xf0ff;
  if (D.attr & ATTR_G) limit = ((limit << 12) | 0xfff) >>> 0;
  D.limit = limit;
  D.dpl = (hi >>> 13) & 3;
  D.type = (hi >>> 8) & 0x1f; // S bit + 4-bit type
}

/** Set the accessed bit of the descriptor in D, in memory (SDM vol. 3, 3.4.5.1). */
export function markAccessed(c: Cpu): void {
  if (D.hi & 0x100) return;
  D.hi |= 0x100;
  D.attr |= 1;
  c.wrSys8((D.addr + 5) >>> 0, (D.hi >>> 8) & 0xff);
}

export function isCode(attr: number): boolean { return (attr & (ATTR_S | ATTR_CODE)) === (ATTR_S | ATTR_CODE); }
export function isData(attr: number): boolean { return (attr & (ATTR_S | ATTR_CODE)) === ATTR_S; }

/** Commit D into segment register `s` with selector `sel`. */
export function commitSegment(c: Cpu, s: number, sel: number): void {
  c.setSegmentRaw(s, sel, D.base, D.limit, D.attr);
}

/**
 * MOV/POP/LxS to a segment register (SDM vol. 2, MOV "Operation" for
 * segment registers; vol. 3, 5.5-5.7). CS is never loaded here.
 */
export function loadSegmentChecked(c: Cpu, s: number, sel: number): void {
  if (!c.pe) {
    // Real mode: only the base changes; limit and attributes stay (unreal mode works).
    c.segSel[s] = sel;
    c.segBase[s] = sel << 4;
    if (s === CS) c.updateMode();
    c.refreshSeg(s);
    return;
  }
  const rpl = sel & 3, idx = sel & 0xfffc;
  if (s === SS) {
    if (idx === 0) fault(GP, 0);
    if (!readDescriptor(c, sel)) fault(GP, idx);
    if (rpl !== c.cpl || !isData(D.attr) || !(D.attr & ATTR_RW) || D.dpl !== c.cpl) fault(GP, idx);
    if (!(D.attr & ATTR_P)) fault(SSV, idx);
    markAccessed(c);
    commitSegment(c, s, sel);
    return;
  }
  if (idx === 0) {
    // A null selector may be loaded into DS/ES/FS/GS; using it faults later.
    c.setSegmentRaw(s, sel, 0, 0, 0);
    return;
  }
  if (!readDescriptor(c, sel)) fault(GP, idx);
  const attr = D.attr;
  if (!(attr & ATTR_S) || ((attr & ATTR_CODE) && !(attr & ATTR_RW))) fault(GP, idx);
  // Data and non-conforming code: DPL must be >= both CPL and RPL.
  if (!((attr & ATTR_CODE) && (attr & ATTR_DC)) && (D.dpl < c.cpl || D.dpl < rpl)) fault(GP, idx);
  if (!(attr & ATTR_P)) fault(NP, idx);
  markAccessed(c);
  commitSegment(c, s, sel);
}

/**
 * After a return to an outer level (RET far, IRET): a data segment register
 * that the new CPL may not use is loaded with null (SDM vol. 2, RET: "FOR
 * each of segment register (ES, FS, GS, and DS)").
 */
export function clearInvalidDataSegs(c: Cpu): void {
  for (const s of [0, 3, 4, 5]) {
    if ((c.segSel[s] & 0xfffc) === 0) continue;
    const attr = c.segAttr[s];
    const conformingCode = (attr & ATTR_CODE) !== 0 && (attr & ATTR_DC) !== 0;
    if (!conformingCode && ((attr >>> 5) & 3) < c.cpl) c.setSegmentRaw(s, 0, 0, 0, 0);
  }
}

/** Valid offset window of a segment with this attr/limit (expand-down aware): into WIN. */
export const WIN = { lo: 0, hi: 0 };
export function segWindow(attr: number, limit: number): void {
  if (!(attr & ATTR_CODE) && (attr & ATTR_DC)) {
    WIN.lo = (limit + 1) >>> 0; WIN.hi = attr & 0x4000 ? 0xffffffff : 0xffff;
  } else {
    WIN.lo = 0; WIN.hi = limit;
  }
}

/** Offset and selector of the stack for privilege level `dpl` from the current TSS (SDM vol. 3, 7.2.1). */
export const STK = { ss: 0, esp: 0 };
export function tssStack(c: Cpu, dpl: number, ext: number): void {
  const type = c.trAttr & 0xf;
  const is32 = type === 0x9 || type === 0xb;
  const off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  const size = is32 ? 8 : 4;
  const TSV = 10;
  if (off + size - 1 > c.trLimit) fault(TSV, (c.trSel & 0xfffc) | ext);
  if (is32) {
    STK.esp = c.rdSys32((c.trBase + off) >>> 0);
    STK.ss = c.rdSys16((c.trBase + off + 4) >>> 0);
  } else {
    STK.esp = c.rdSys16((c.trBase + off) >>> 0);
    STK.ss = c.rdSys16((c.trBase + off + 2) >>> 0);
  }
}

/** Validate the new SS for an inner-level stack switch; leaves its descriptor in D. Faults are #TS(ss). */
export function checkInnerSS(c: Cpu, ss: number, dpl: number, ext: number): void {
  const TSV = 10;
  const idx = ss & 0xfffc;
  if (idx === 0) fault(TSV, ext);
  if (!readDescriptor(c, ss)) fault(TSV, idx | ext);
  if ((ss & 3) !== dpl || D.dpl !== dpl || !isData(D.attr) || !(D.attr & ATTR_RW)) fault(TSV, idx | ext);
  if (!(D.attr & ATTR_P)) fault(SSV, idx | ext);
}

export { CS, SS };
