// The patch registry: the one place that knows which guest bytes the VMM
// replaced with INT 3 (0xCC) and what was there before, and which guest
// code has been scanned. Keyed by guest-physical address, so aliases of the
// same code page share patches (SDM vol. 3, 4.10: code is fetched by
// physical address; our CPU's decode cache is physical too).

import type { PhysMem } from '../../bus/phys-mem.js';

/** INT 3, the one-byte breakpoint the patches plant (SDM vol. 2, INT n/INTO/INT3). */
export const INT3 = 0xcc;

export type PatchKind = 'sensitive' | 'transfer';

export interface Patch {
  /** Guest-physical address of the patched instruction's first byte. */
  readonly gpa: number;
  /** Guest-linear address the scanner saw it at (first alias). */
  readonly linear: number;
  /** The byte the INT 3 replaced (updated by debugger writes). */
  original: number;
  /** Length of the original instruction. */
  readonly length: number;
  /** Mnemonic-ish reason, e.g. 'popf', 'jmp-rel', 'iret'. */
  readonly reason: string;
  readonly kind: PatchKind;
}

const PAGE_SHIFT = 12;

export class PatchRegistry {
  private readonly byGpa = new Map<number, Patch>();
  /** Patches per guest page (page number -> count). */
  private readonly perPage = new Map<number, number>();
  /** Per guest page: a bitmap of scanned instruction starts (512 bytes = 4096 bits). */
  private readonly scannedPages = new Map<number, Uint8Array>();

  made = 0;
  dropped = 0;
  resolved = 0;

  /** The registry itself is writing guest memory (planting/restoring): not a guest write. */
  private selfWrite = false;

  constructor(private readonly mem: PhysMem) {
    // Pages holding patches or scanned code carry the PhysMem code-page
    // bit, so a write through the guest's memory view that the shadow page
    // tables cannot catch (the real-mode interpreter, device DMA) still
    // drops them before the bytes change.
    mem.onCodeWrite((page) => {
      if (!this.selfWrite) this.dropPage(page);
    });
  }

  private watch(page: number): void {
    if (page < this.mem.codePages.length) this.mem.codePages[page] = 1;
  }

  get(gpa: number): Patch | undefined {
    return this.byGpa.get(gpa >>> 0);
  }

  has(gpa: number): boolean {
    return this.byGpa.has(gpa >>> 0);
  }

  /**
   * Plant INT 3 at `gpa` and record the original byte. Returns false (and
   * changes nothing) if the address is already patched or not guest RAM.
   */
  add(gpa: number, linear: number, length: number, reason: string, kind: PatchKind): boolean {
    gpa >>>= 0;
    if (this.byGpa.has(gpa) || !this.mem.isRam(gpa, 1)) return false;
    const original = this.mem.read8(gpa);
    this.byGpa.set(gpa, { gpa, linear: linear >>> 0, original, length, reason, kind });
    const page = gpa >>> PAGE_SHIFT;
    this.perPage.set(page, (this.perPage.get(page) ?? 0) + 1);
    // A write through PhysMem: drops any decoded copy of this code (codePages).
    this.selfWrite = true;
    this.mem.write8(gpa, INT3);
    this.selfWrite = false;
    this.watch(page);
    this.made++;
    return true;
  }

  /** Put the original byte back and forget the patch (a resolved direct transfer). */
  resolve(gpa: number): boolean {
    if (!this.remove(gpa >>> 0)) return false;
    this.resolved++;
    return true;
  }

  private remove(gpa: number): boolean {
    const p = this.byGpa.get(gpa);
    if (!p) return false;
    this.byGpa.delete(gpa);
    const page = gpa >>> PAGE_SHIFT;
    const n = (this.perPage.get(page) ?? 1) - 1;
    if (n > 0) this.perPage.set(page, n);
    else this.perPage.delete(page);
    this.selfWrite = true;
    this.mem.write8(gpa, p.original);
    this.selfWrite = false;
    return true;
  }

  /**
   * The guest is about to write to `page`: restore every original byte on
   * it and forget what was scanned there, so the new contents get scanned
   * afresh when they run. Returns the number of patches dropped.
   */
  dropPage(page: number): number {
    let n = 0;
    if (this.perPage.has(page)) {
      const base = page << PAGE_SHIFT;
      for (let off = 0; off < 4096 && this.perPage.has(page); off++) {
        if (this.remove((base + off) >>> 0)) n++;
      }
    }
    this.scannedPages.delete(page);
    this.dropped += n;
    return n;
  }

  /** The page holds patches or scanned code: writes to it must be caught first. */
  isCodePage(page: number): boolean {
    return this.perPage.has(page) || this.scannedPages.has(page);
  }

  pageHasPatches(page: number): boolean {
    return this.perPage.has(page);
  }

  /** Mark a page as holding scanned code without marking an instruction start (straddling instructions). */
  markCodePage(page: number): void {
    if (!this.scannedPages.has(page)) this.scannedPages.set(page, new Uint8Array(1024));
    this.watch(page);
  }

  /**
   * Record a scanned instruction starting at `gpa`, `len` bytes long (the
   * bytes it covers matter when the guest writes near code: covers()).
   */
  markScanned(gpa: number, len = 1): void {
    gpa >>>= 0;
    const page = gpa >>> PAGE_SHIFT;
    let bits = this.scannedPages.get(page);
    if (!bits) {
      bits = new Uint8Array(1024);
      this.scannedPages.set(page, bits);
    }
    this.watch(page);
    const off = gpa & 0xfff;
    bits[off >>> 3] |= 1 << (off & 7);
    for (let k = 0; k < len; k++) {
      const a = gpa + k, o = a & 0xfff;
      let b = bits;
      if (a >>> PAGE_SHIFT !== page) {
        const p2 = a >>> PAGE_SHIFT;
        let b2 = this.scannedPages.get(p2);
        if (!b2) { b2 = new Uint8Array(1024); this.scannedPages.set(p2, b2); this.watch(p2); }
        b = b2;
      }
      b[512 + (o >>> 3)] |= 1 << (o & 7);
    }
  }

  /** Does byte `gpa` belong to a scanned instruction (or a patch)? */
  covers(gpa: number): boolean {
    gpa >>>= 0;
    if (this.byGpa.has(gpa)) return true;
    const bits = this.scannedPages.get(gpa >>> PAGE_SHIFT);
    if (!bits) return false;
    const off = gpa & 0xfff;
    return (bits[512 + (off >>> 3)] & (1 << (off & 7))) !== 0;
  }

  /**
   * The guest just wrote page `page` (its bytes before are in `before`):
   * if any changed byte belongs to scanned code, that code is stale. A
   * patch site the guest overwrote keeps the guest's new byte (the
   * recorded original is obsolete); the others get their originals back;
   * the page's scan is forgotten. Returns true if the page was dropped.
   */
  afterGuestWrite(page: number, before: Uint8Array): boolean {
    const base = page << PAGE_SHIFT;
    const ram = this.mem.ram;
    let hit = false;
    for (let off = 0; off < 4096; off++) {
      if (ram[base + off] !== before[off] && this.covers(base + off)) { hit = true; break; }
    }
    if (!hit) return false;
    for (let off = 0; off < 4096 && this.perPage.has(page); off++) {
      const gpa = base + off;
      const p = this.byGpa.get(gpa);
      if (!p) continue;
      if (ram[gpa] !== INT3) {
        // Overwritten by the guest: forget the patch without restoring.
        this.byGpa.delete(gpa);
        const n = (this.perPage.get(page) ?? 1) - 1;
        if (n > 0) this.perPage.set(page, n); else this.perPage.delete(page);
        this.dropped++;
      }
    }
    this.dropPage(page);
    return true;
  }

  isScanned(gpa: number): boolean {
    gpa >>>= 0;
    const bits = this.scannedPages.get(gpa >>> PAGE_SHIFT);
    if (!bits) return false;
    const off = gpa & 0xfff;
    return (bits[off >>> 3] & (1 << (off & 7))) !== 0;
  }

  /** Guest memory as the guest wrote it: patched bytes show their originals. MMIO/outside reads as 0xff. */
  originalBytes(gpa: number, len: number): Uint8Array {
    const out = this.mem.peek(gpa >>> 0, len);
    for (let i = 0; i < len; i++) {
      const p = this.byGpa.get((gpa + i) >>> 0);
      if (p) out[i] = p.original;
    }
    return out;
  }

  /** Every live patch, in address order. */
  patches(): Patch[] {
    return [...this.byGpa.values()].sort((a, b) => a.gpa - b.gpa);
  }

  /**
   * A debugger write: bytes at patched addresses update the recorded
   * original (the patch stays, so the VMM keeps trapping there); the rest
   * go to guest RAM. Returns false if any byte is not guest RAM.
   */
  debuggerWrite(gpa: number, data: Uint8Array): boolean {
    gpa >>>= 0;
    if (!this.mem.isRam(gpa, data.length)) return false;
    const direct = new Uint8Array(data);
    for (let i = 0; i < data.length; i++) {
      const p = this.byGpa.get((gpa + i) >>> 0);
      if (p) {
        p.original = data[i];
        direct[i] = INT3;
      }
    }
    this.selfWrite = true;
    try {
      return this.mem.poke(gpa, direct);
    } finally {
      this.selfWrite = false;
    }
  }

  get size(): number {
    return this.byGpa.size;
  }

  get scannedPageCount(): number {
    return this.scannedPages.size;
  }
}
