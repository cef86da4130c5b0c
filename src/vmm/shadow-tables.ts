// Shadow GDT/LDT: the descriptor tables the real CPU uses while a guest
// runs, derived from the guest's own tables. Two variants per table:
//  - kernel variant (virtual CPL 0..2): code/data DPL 0..2 become 3
//    ("privilege compression"), so the deprivileged guest kernel at real
//    CPL 3 can load its own selectors natively (SDM vol. 3, 5.7: data
//    loads need DPL >= max(CPL, RPL));
//  - user variant (virtual CPL 3): DPL < 3 descriptors get DPL 0, so guest
//    user code loading a kernel selector faults exactly as on hardware.
// System descriptors (LDT, TSS, gates) are made not present in both: the
// VMM emulates lldt/ltr and far transfers through gates itself.
//
// Descriptor high dword (SDM vol. 3, 3.4.5), the bits touched here:
//  15 14 13 12 11   8
// +--+-----+--+------+
// |P | DPL |S | type |
// +--+-----+--+------+

export const DESC_P = 1 << 15;
export const DESC_S = 1 << 12;
export const DESC_DPL_SHIFT = 13;
export const DESC_DPL = 3 << DESC_DPL_SHIFT;

/**
 * The shadow high dword for a guest descriptor's high dword `hi`
 * (the low dword, base 15:0 and limit 15:0, is copied unchanged).
 */
export function shadowDescriptorHigh(hi: number, userVariant: boolean): number {
  if (!(hi & DESC_S)) return (hi & ~DESC_P) | 0; // system: LDT/TSS/gates not usable natively
  const dpl = (hi >>> DESC_DPL_SHIFT) & 3;
  if (dpl === 3) return hi | 0;
  const newDpl = userVariant ? 0 : 3;
  return ((hi & ~DESC_DPL) | (newDpl << DESC_DPL_SHIFT)) | 0;
}

/** Reads 32-bit words of the guest's table by guest-linear address; null if unmapped. */
export type GuestLinearReader = (lin: number) => number | null;

/**
 * One shadow table (GDT or LDT) pair in host RAM: kernel variant at
 * `hostKernel`, user variant at `hostUser`, each up to 64 KiB (the largest
 * table a 16-bit limit describes).
 */
export class ShadowTable {
  /** Limit of the guest table last synced (real GDTR/LDTR limit). */
  limit = 0;
  syncs = 0;
  private readonly kernel: Int32Array;
  private readonly user: Int32Array;

  constructor(ram: Uint8Array, hostKernel: number, hostUser: number) {
    this.kernel = new Int32Array(ram.buffer, ram.byteOffset + hostKernel, 0x10000 / 4);
    this.user = new Int32Array(ram.buffer, ram.byteOffset + hostUser, 0x10000 / 4);
  }

  /**
   * Rebuild both variants from the guest table at guest-linear `base` with
   * `limit`. Entries the guest cannot have readable (unmapped) become not
   * present. Entries past the limit are cleared.
   */
  sync(read: GuestLinearReader, base: number, limit: number): boolean {
    let changed = false;
    const oldWords = Math.ceil((this.limit + 1) / 8) * 2;
    this.limit = limit & 0xffff;
    const words = Math.ceil((this.limit + 1) / 8) * 2;
    for (let i = 0; i < words; i += 2) {
      const lo = read((base + i * 4) >>> 0);
      const hi = read((base + i * 4 + 4) >>> 0);
      if (lo === null || hi === null) {
        if (this.kernel[i] | this.kernel[i + 1]) changed = true;
        this.kernel[i] = this.kernel[i + 1] = this.user[i] = this.user[i + 1] = 0;
        continue;
      }
      const kh = shadowDescriptorHigh(hi, false);
      // The real CPU sets accessed bits in the shadow itself: ignore that difference.
      if (this.kernel[i] !== (lo | 0) || (this.kernel[i + 1] | 0x100) !== (kh | 0x100)) changed = true;
      this.kernel[i] = lo | 0;
      this.user[i] = lo | 0;
      this.kernel[i + 1] = kh;
      this.user[i + 1] = shadowDescriptorHigh(hi, true);
    }
    if (oldWords > words) {
      this.kernel.fill(0, words, oldWords);
      this.user.fill(0, words, oldWords);
    }
    this.syncs++;
    return changed || oldWords !== words;
  }

  clear(): void {
    this.kernel.fill(0);
    this.user.fill(0);
    this.limit = 0;
  }
}
