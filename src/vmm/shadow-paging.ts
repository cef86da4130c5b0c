// Shadow page tables: what the real CPU's CR3 points at while a guest runs.
// Built lazily from the guest's tables (guest-walk.ts) with the guest's
// host-physical base added to every frame and every frame bounds-checked.
// Two page directories per vCPU, one per virtual CPL, because the real CPL
// is always 3 and the real U/S bit cannot tell guest kernel from guest user
// (SDM vol. 3, 4.6): in the user directory guest-supervisor pages are absent.
//
// Shadow PTE (SDM vol. 3, 4.3), always U=1 because real CPL is 3:
//   31            12 11   3 2 1 0
//  +----------------+------+-+-+-+
//  | host frame     |  0   |U|W|P|
//  +----------------+------+-+-+-+
// W only when the guest allows the write at that virtual CPL, the guest's
// dirty bit is already set (so the first write faults and sets D, SDM 4.8),
// and the page holds no scanned/patched guest kernel code.

import type { PhysMem } from '../bus/phys-mem.js';
import { PTE_P, PTE_U, PTE_W } from '../cpu/arch.js';

export const SHADOW_KERNEL = 0; // directory used while virtual CPL < 3
export const SHADOW_USER = 1;   // directory used while virtual CPL = 3

/** The reserved linear window the VMM's own structures live in (VMware's top 4 MiB). */
export const VMM_WINDOW_BASE = 0xffc00000;
export const VMM_WINDOW_PDE = VMM_WINDOW_BASE >>> 22; // 1023

/** Where a guest-physical page lives on the host. */
export interface GuestRange {
  /** Host-physical base of the guest's RAM. */
  readonly base: number;
  /** Guest RAM size in bytes. */
  readonly size: number;
  /** The guest-physical view (its MMIO windows registered there). */
  readonly mem: PhysMem;
  /** Host-physical address of the MMIO proxy page for guest page `gpa` (created on demand). */
  mmioProxy(gpaPage: number): number;
  /** Host-physical address of the open-bus page (beyond host RAM, unregistered). */
  readonly openBus: number;
}

/**
 * Host-physical frame for guest-physical `gpa` (page aligned result):
 * RAM -> base + gpa (checked to lie inside [base, base+size)), MMIO ->
 * its proxy, anything else -> the open-bus page. Never outside those.
 */
export function hostFrame(g: GuestRange, gpa: number): number {
  const page = (gpa >>> 12) << 12 >>> 0;
  if (g.mem.isMmio(page)) return g.mmioProxy(page >>> 12);
  if (page < g.size) {
    const h = (g.base + page) >>> 0;
    if (h >= g.base && h + 4096 <= g.base + g.size) return h;
  }
  return g.openBus;
}

/** The shadow PTE for a page: P|U, plus W when the write is allowed and safe now. */
export function shadowPte(frame: number, allowWrite: boolean): number {
  return (((frame >>> 12) << 12) | PTE_P | PTE_U | (allowWrite ? PTE_W : 0)) | 0;
}

export interface ShadowStats {
  tablesBuilt: number;
  flushes: number;
  entriesInstalled: number;
}

/**
 * One vCPU's pair of shadow directories plus a pool of page tables, all in
 * host RAM at [poolBase, poolBase + poolPages*4096). Page 0 and 1 of the
 * pool are the two directories. `windowPt` is the host page table mapping
 * the VMM window (supervisor-only, so guest accesses to it fault).
 */
export class ShadowPageTables {
  private readonly words: Int32Array;
  private nextFree = 2;
  readonly stats: ShadowStats = { tablesBuilt: 0, flushes: 0, entriesInstalled: 0 };

  constructor(
    host: PhysMem,
    readonly poolBase: number,
    readonly poolPages: number,
    private readonly windowPt: number,
    /** Called with a linear page number to drop from the real TLB, or -1 to flush it all. */
    private readonly tlbInvalidate: (page: number) => void,
  ) {
    if (poolPages < 3) throw new Error('shadow pool too small');
    if (poolBase % 4096 !== 0 || poolBase + poolPages * 4096 > host.ramSize) throw new Error('shadow pool outside host RAM');
    if ((host.ram.byteOffset + poolBase) % 4 !== 0) throw new Error('host RAM not word aligned');
    this.words = new Int32Array(host.ram.buffer, host.ram.byteOffset + poolBase, poolPages * 1024);
    this.reset();
  }

  /** Host-physical address of directory `which` (what real CR3 holds). */
  directory(which: number): number {
    return this.poolBase + which * 4096;
  }

  private reset(): void {
    this.words.fill(0, 0, this.nextFree * 1024);
    this.nextFree = 2;
    const win = (this.windowPt & ~0xfff) | PTE_P | PTE_W; // U=0: supervisor only
    this.words[VMM_WINDOW_PDE] = win;
    this.words[1024 + VMM_WINDOW_PDE] = win;
  }

  /** Drop every shadow entry (guest CR3 write, CR0.PG/WP, CR4.PSE change, pool full). */
  flush(): void {
    this.reset();
    this.stats.flushes++;
    this.tlbInvalidate(-1);
  }

  /** INVLPG: drop `lin`'s entry in both directories (a 4 MiB guest page was splintered, so one 4 KiB entry each). */
  invalidate(lin: number, large: boolean): void {
    const pdi = lin >>> 22;
    if (pdi === VMM_WINDOW_PDE) return;
    if (large) {
      // A 4 MiB guest page: drop the whole directory slot's table contents.
      for (let d = 0; d < 2; d++) {
        const pde = this.words[d * 1024 + pdi];
        if (pde & PTE_P) this.words.fill(0, this.tableIndex(pde), this.tableIndex(pde) + 1024);
      }
      this.tlbInvalidate(-1);
      return;
    }
    const pti = (lin >>> 12) & 0x3ff;
    for (let d = 0; d < 2; d++) {
      const pde = this.words[d * 1024 + pdi];
      if (pde & PTE_P) this.words[this.tableIndex(pde) + pti] = 0;
    }
    this.tlbInvalidate(lin >>> 12);
  }

  private tableIndex(pde: number): number {
    return ((((pde >>> 12) << 12) >>> 0) - this.poolBase) >>> 2;
  }

  /** Install (or replace) the shadow PTE for `lin` in directory `which`. */
  install(which: number, lin: number, pte: number): void {
    const pdi = lin >>> 22;
    if (pdi === VMM_WINDOW_PDE) throw new Error('shadow install inside the VMM window');
    const dirIdx = which * 1024 + pdi;
    let pde = this.words[dirIdx];
    if (!(pde & PTE_P)) {
      if (this.nextFree >= this.poolPages) {
        // Pool exhausted: start over (the guest refaults what it uses).
        this.flush();
        return this.install(which, lin, pte);
      }
      const tableHost = this.poolBase + this.nextFree * 4096;
      this.words.fill(0, this.nextFree * 1024, this.nextFree * 1024 + 1024);
      this.nextFree++;
      pde = (tableHost | PTE_P | PTE_W | PTE_U) | 0;
      this.words[dirIdx] = pde;
      this.stats.tablesBuilt++;
    }
    this.words[this.tableIndex(pde) + ((lin >>> 12) & 0x3ff)] = pte;
    this.stats.entriesInstalled++;
    this.tlbInvalidate(lin >>> 12);
  }

  /** The shadow PTE for `lin` in `which` (0 if none): for tests and the debugger. */
  lookup(which: number, lin: number): number {
    const pde = this.words[which * 1024 + (lin >>> 22)];
    if (!(pde & PTE_P)) return 0;
    return this.words[this.tableIndex(pde) + ((lin >>> 12) & 0x3ff)];
  }

  /** Pool pages in use (directories included). */
  get pagesInUse(): number {
    return this.nextFree;
  }
}
