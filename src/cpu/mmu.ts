// Paging (SDM vol. 3, ch. 4, 32-bit paging with CR4.PSE): the page walk
// that sets A/D bits and raises #PF, the side-effect-free walk for
// debuggers, and the software TLB fill.
//
// Software TLB: one Int32Array entry per linear 4 KiB page:
//   31            12 11        4 3  2  1  0
//  +----------------+-----------+--+--+--+--+
//  | physical frame |     0     |UW|UR|SW|SR|
//  +----------------+-----------+--+--+--+--+
// A bit is set only when that access may go straight to RAM: the page is
// plain RAM, no watchpoint lives on it, the permission allows it, and (for
// writes) the dirty bit is already set. Anything else takes the slow path.

import { CR0_PG, CR0_WP, CR4_PSE, PFEC_P, PFEC_U, PFEC_W, PFV, PTE_A, PTE_D, PTE_P, PTE_PS, PTE_U, PTE_W } from './arch.js';
import type { Cpu } from './cpu.js';
import { fault } from './fault.js';

export const TLB_SR = 1;
export const TLB_SW = 2;
export const TLB_UR = 4;
export const TLB_UW = 8;
const TLB_LIST_MAX = 4096;

export class Tlb {
  readonly entry = new Int32Array(1 << 20);
  /** Pages filled since the last full flush (so a flush touches only them). */
  private readonly list = new Int32Array(TLB_LIST_MAX);
  private n = 0;
  private overflow = false;
  /** A 4 MiB page was cached: INVLPG must drop more than one entry. */
  bigPages = false;
  /**
   * Bumped whenever a linear->physical mapping, the code mode or the code
   * cache may have changed; block-to-block links (interp.ts) are valid only
   * within one epoch.
   */
  epoch = 0;

  fill(page: number, value: number): void {
    if (this.entry[page] === 0) {
      if (this.n < TLB_LIST_MAX) this.list[this.n++] = page;
      else this.overflow = true;
    }
    this.entry[page] = value;
  }

  flush(): void {
    this.epoch++;
    if (this.overflow) this.entry.fill(0);
    else for (let k = 0; k < this.n; k++) this.entry[this.list[k]] = 0;
    this.n = 0;
    this.overflow = false;
    this.bigPages = false;
  }

  invalidate(page: number): void {
    this.epoch++;
    if (this.bigPages) this.flush();
    else this.entry[page] = 0;
  }
}

/**
 * Translate `lin` for an access by the CPU (SDM vol. 3, 4.3, 4.6, 4.8):
 * checks permissions, sets accessed/dirty bits, raises #PF with CR2, and
 * fills the TLB. Returns the physical address.
 */
export function walk(c: Cpu, lin: number, write: boolean, user: boolean): number {
  lin >>>= 0;
  const mem = c.mem;
  const page = lin >>> 12;
  if (!(c.cr0 & CR0_PG)) {
    fillTlb(c, page, lin & ~0xfff, TLB_SR | TLB_SW | TLB_UR | TLB_UW);
    return lin;
  }
  const pdeAddr = ((c.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  const pde = mem.read32(pdeAddr);
  if (!(pde & PTE_P)) return pageFault(c, lin, 0, write, user);
  const wp = (c.cr0 & CR0_WP) !== 0;
  if ((pde & PTE_PS) && (c.cr4 & CR4_PSE)) {
    const perm = pde;
    checkPerm(c, lin, perm, write, user, wp);
    let nd = pde | PTE_A;
    if (write) nd |= PTE_D;
    if (nd !== pde) mem.write32(pdeAddr, nd);
    const phys = ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
    c.tlb.bigPages = true;
    fillTlb(c, page, phys & ~0xfff, permBits(perm, (nd & PTE_D) !== 0, wp));
    return phys;
  }
  const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = mem.read32(pteAddr);
  if (!(pte & PTE_P)) return pageFault(c, lin, 0, write, user);
  const perm = pde & pte;
  checkPerm(c, lin, perm, write, user, wp);
  if (!(pde & PTE_A)) mem.write32(pdeAddr, pde | PTE_A);
  let nt = pte | PTE_A;
  if (write) nt |= PTE_D;
  if (nt !== pte) mem.write32(pteAddr, nt);
  const phys = ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
  fillTlb(c, page, phys & ~0xfff, permBits(perm, (nt & PTE_D) !== 0, wp));
  return phys;
}

function checkPerm(c: Cpu, lin: number, perm: number, write: boolean, user: boolean, wp: boolean): void {
  if (user) {
    if (!(perm & PTE_U) || (write && !(perm & PTE_W))) pageFault(c, lin, PFEC_P, write, user);
  } else if (write && wp && !(perm & PTE_W)) {
    pageFault(c, lin, PFEC_P, write, user);
  }
}

function permBits(perm: number, dirty: boolean, wp: boolean): number {
  let b = TLB_SR;
  if (dirty && (!wp || (perm & PTE_W))) b |= TLB_SW;
  if (perm & PTE_U) {
    b |= TLB_UR;
    if (dirty && (perm & PTE_W)) b |= TLB_UW;
  }
  return b;
}

function fillTlb(c: Cpu, page: number, frame: number, bits: number): void {
  const mem = c.mem;
  frame >>>= 0; // frames above 2 GiB arrive as negative int32
  if (frame + 4096 > mem.ramSize || mem.isMmio(frame)) return; // slow path forever
  if (c.watchPages[page] !== 0) return;
  c.tlb.fill(page, (frame | bits) | 0);
}

function pageFault(c: Cpu, lin: number, p: number, write: boolean, user: boolean): never {
  c.cr2 = lin >>> 0;
  return fault(PFV, p | (write ? PFEC_W : 0) | (user ? PFEC_U : 0));
}

/** Side-effect-free translation (no A/D bits, no fault, no TLB fill): physical address or -1. */
export function translateNoSideEffects(c: Cpu, lin: number, write: boolean, user: boolean): number {
  lin >>>= 0;
  if (!(c.cr0 & CR0_PG)) return lin;
  const mem = c.mem;
  const pdeAddr = ((c.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  if (!mem.isRam(pdeAddr, 4)) return -1;
  const pde = mem.read32(pdeAddr);
  if (!(pde & PTE_P)) return -1;
  const wp = (c.cr0 & CR0_WP) !== 0;
  const ok = (perm: number): boolean =>
    user ? (perm & PTE_U) !== 0 && (!write || (perm & PTE_W) !== 0) : !write || !wp || (perm & PTE_W) !== 0;
  if ((pde & PTE_PS) && (c.cr4 & CR4_PSE)) {
    return ok(pde) ? ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0 : -1;
  }
  const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  if (!mem.isRam(pteAddr, 4)) return -1;
  const pte = mem.read32(pteAddr);
  if (!(pte & PTE_P) || !ok(pde & pte)) return -1;
  return ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
}
