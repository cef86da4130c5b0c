// How several guests share one host: disjoint host-physical RAM ranges,
// a VMM area at the top of host RAM for each vCPU's shadow structures,
// host-physical pages above RAM for MMIO proxies and open bus, and the
// deterministic round-robin quantum between guests.
//
// Host physical layout:
//   0 ............ guest 0 RAM | guest 1 RAM | ... | VMM area (per vCPU slots) | end of host RAM
//   end of RAM ... open-bus page, MMIO proxy pages (registered on the host PhysMem on demand)
//
// One vCPU slot (VMM_AREA_PER_VCPU bytes), host pages:
//   0        page table mapping the VMM linear window (0xFFC00000, supervisor only)
//   1..16    shadow GDT, kernel variant      } mapped at window pages 0..63
//   17..32   shadow GDT, user variant        }
//   33..48   shadow LDT, kernel variant      }
//   49..64   shadow LDT, user variant        }
//   65       real TSS (no I/O bitmap) and the real IDT (limit 0: every INT n faults)
//   66..     shadow page-table pool (two directories + tables)

export const PAGE = 4096;
/** Host bytes one vCPU's VMM structures need. */
export const VMM_AREA_PER_VCPU = 4 << 20;
/** Host bytes of VMM area for a single-vCPU guest (what the machine adds to host RAM per vCPU). */
export const VMM_AREA_BYTES = VMM_AREA_PER_VCPU;

export const SLOT_WINDOW_PT = 0;
export const SLOT_GDT_KERNEL = 1;
export const SLOT_GDT_USER = 17;
export const SLOT_LDT_KERNEL = 33;
export const SLOT_LDT_USER = 49;
export const SLOT_TSS = 65;
export const SLOT_POOL = 66;
/** Pages of a slot mapped into the VMM linear window (window page i = slot page i+1). */
export const WINDOW_PAGES = 65;
/**
 * Real TR limit: the 104-byte 32-bit TSS and nothing more, so the real TSS
 * has no I/O permission bitmap and IN/OUT at CPL 3 > IOPL 0 always raise
 * #GP (SDM vol. 1, 18.5.2).
 */
export const TSS_LIMIT = 0x67;
/** Offset of the real IDT inside the TSS page. */
export const IDT_OFFSET = 0x800;

/** Where each guest lives in host memory. */
export interface GuestPlacement {
  /** Host-physical base of the guest's RAM. */
  base: number;
  /** Guest RAM bytes. */
  size: number;
  /** Host-physical base of this guest's VMM area (vcpus * VMM_AREA_PER_VCPU). */
  vmmBase: number;
  vcpus: number;
  /** First host-physical address (above host RAM) for this guest's open bus + proxies. */
  proxyBase: number;
}

export interface HostLayout {
  hostRamBytes: number;
  guests: GuestPlacement[];
}

/** Host-physical pages reserved above RAM for each guest's open-bus + MMIO proxy pages. */
export const PROXY_PAGES_PER_GUEST = 1024;

/**
 * Split host memory: guests back to back from 0 (each size page aligned),
 * then one VMM area per guest. Throws if it cannot fit in 4 GiB.
 */
export function planHost(guests: Array<{ size: number; vcpus: number }>): HostLayout {
  let at = 0;
  const placed: GuestPlacement[] = [];
  for (const g of guests) {
    if (g.size <= 0 || g.size % PAGE !== 0) throw new Error(`guest memory size ${g.size} is not a positive multiple of 4 KiB`);
    placed.push({ base: at, size: g.size, vmmBase: 0, vcpus: g.vcpus, proxyBase: 0 });
    at += g.size;
  }
  for (const p of placed) {
    p.vmmBase = at;
    at += p.vcpus * VMM_AREA_PER_VCPU;
  }
  const hostRamBytes = at;
  let proxy = hostRamBytes;
  for (const p of placed) {
    p.proxyBase = proxy;
    proxy += PROXY_PAGES_PER_GUEST * PAGE;
  }
  if (proxy > 0xfe000000) throw new Error('guests do not fit in the 32-bit host physical space');
  return { hostRamBytes, guests: placed };
}

/**
 * Deterministic round-robin between guests: each gets `quantum`
 * instructions in turn, skipping stopped ones. Pure bookkeeping; the
 * machine runs the chosen guest.
 */
export class GuestScheduler {
  private next = 0;
  constructor(readonly count: number, readonly quantum: number) {}

  /** The guest to run next among those `runnable(i)` says can run, or -1. */
  pick(runnable: (i: number) => boolean): number {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next + k) % this.count;
      if (runnable(i)) {
        this.next = (i + 1) % this.count;
        return i;
      }
    }
    return -1;
  }
}
