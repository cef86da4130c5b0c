// The guest's own page walk, done by the VMM in software against the
// guest's tables (virtual CR3) in guest-physical memory: permissions for
// the virtual CPL, guest-visible accessed/dirty bits, and the #PF error
// code to reflect. Same rules as the CPU's walk (src/cpu/mmu.ts) so a guest
// sees identical A/D bits under both engines (SDM vol. 3, 4.3, 4.6, 4.8).

import type { PhysMem } from '../bus/phys-mem.js';
import { CR0_PG, CR0_WP, CR4_PSE, PFEC_P, PFEC_U, PFEC_W, PTE_A, PTE_D, PTE_P, PTE_PS, PTE_U, PTE_W } from '../cpu/arch.js';

/** Result of one walk, reused without allocation. */
export class WalkResult {
  /** Guest-physical address of the accessed byte (valid when ok). */
  gpa = 0;
  /** Combined U/W permission of the path (PDE & PTE, or the 4 MiB PDE). */
  perm = 0;
  /** The final entry's D bit after the walk (shadow may allow writes only then). */
  dirty = false;
  /** Mapped by a 4 MiB page. */
  large = false;
  /** When !ok: the #PF error code hardware would push (P, W/R, U/S). */
  error = 0;
}

export interface GuestPagingRegs {
  cr0: number;
  cr3: number;
  cr4: number;
}

/**
 * Walk the guest's tables for an access to `lin`. Returns true and fills
 * `out.gpa` on success (setting A, and D on a write, in the guest entries
 * when `setAD`), or false with `out.error` set as the #PF error code.
 * Paging off: identity. Entries outside guest RAM read as all ones (open
 * bus), exactly what bare hardware reads there.
 */
export function walkGuest(mem: PhysMem, r: GuestPagingRegs, lin: number, write: boolean, user: boolean, setAD: boolean, out: WalkResult): boolean {
  lin >>>= 0;
  out.large = false;
  if (!(r.cr0 & CR0_PG)) {
    out.gpa = lin;
    out.perm = PTE_U | PTE_W;
    out.dirty = true;
    return true;
  }
  const ucode = user ? PFEC_U : 0;
  const wcode = write ? PFEC_W : 0;
  const pdeAddr = ((r.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  const pde = mem.read32(pdeAddr);
  if (!(pde & PTE_P)) {
    out.error = ucode | wcode;
    return false;
  }
  const wp = (r.cr0 & CR0_WP) !== 0;
  if ((pde & PTE_PS) && (r.cr4 & CR4_PSE)) {
    if (!permits(pde, write, user, wp)) {
      out.error = PFEC_P | ucode | wcode;
      return false;
    }
    let nd = pde | PTE_A;
    if (write) nd |= PTE_D;
    if (setAD && nd !== pde) mem.write32(pdeAddr, nd);
    out.gpa = ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
    out.perm = pde & (PTE_U | PTE_W);
    out.dirty = (nd & PTE_D) !== 0;
    out.large = true;
    return true;
  }
  const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = mem.read32(pteAddr);
  if (!(pte & PTE_P)) {
    out.error = ucode | wcode;
    return false;
  }
  const perm = pde & pte;
  if (!permits(perm, write, user, wp)) {
    out.error = PFEC_P | ucode | wcode;
    return false;
  }
  if (setAD) {
    if (!(pde & PTE_A)) mem.write32(pdeAddr, pde | PTE_A);
    let nt = pte | PTE_A;
    if (write) nt |= PTE_D;
    if (nt !== pte) mem.write32(pteAddr, nt);
    out.dirty = (nt & PTE_D) !== 0;
  } else {
    out.dirty = (pte & PTE_D) !== 0;
  }
  out.gpa = ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
  out.perm = perm & (PTE_U | PTE_W);
  return true;
}

/** SDM vol. 3, 4.6: user needs U (and W to write); supervisor writes need W only when CR0.WP=1. */
export function permits(perm: number, write: boolean, user: boolean, wp: boolean): boolean {
  if (user) return (perm & PTE_U) !== 0 && (!write || (perm & PTE_W) !== 0);
  return !write || !wp || (perm & PTE_W) !== 0;
}
