// One guest as the VMM sees it: its slice of host memory, its patch
// registry, per-page bookkeeping shared by all its vCPUs, MMIO proxies and
// its statistics. A guest's failure stops only this object's vCPUs.

import type { PhysMem } from '../bus/phys-mem.js';
import type { IoBus } from '../bus/io-bus.js';
import type { VcpuContext } from './context.js';
import { PAGE, PROXY_PAGES_PER_GUEST, type GuestPlacement } from './guests.js';
import { PatchRegistry } from './patch/registry.js';
import type { GuestRange } from './shadow-paging.js';

export const GUEST_PAGE_SHIFT = 12;

export class GuestStats {
  /** Exits by cause: 'emulate:<mnemonic>', 'reflect:<vector>', 'patch:<reason>', 'interrupt', ... */
  readonly exits: Record<string, number> = {};
  shadowFaults = 0;
  /** Patched near RETs handled on the fast path (counted apart: no string key per exit). */
  fastRets = 0;
  /** CLI/STI handled on the fast path. */
  fastCli = 0;
  fastSti = 0;
  /** Patched PUSHF/POPF handled on the fast path. */
  fastPushf = 0;
  fastPopf = 0;
  /** IN/OUT handled on the fast path. */
  fastIn = 0;
  fastOut = 0;
  blocksScanned = 0;
  codePageFlushes = 0;
  /** Instructions the real CPU retired at real CPL 0 while this guest ran (must stay 0). */
  realCpl0Instructions = 0;

  bump(key: string): void {
    this.exits[key] = (this.exits[key] ?? 0) + 1;
  }
}

export class GuestVm {
  readonly registry: PatchRegistry;
  readonly range: GuestRange;
  /** Per guest page: some shadow maps it writable (since the last full flush). */
  readonly writableMapped: Uint8Array;
  readonly vcpus: VcpuContext[] = [];
  readonly stats = new GuestStats();
  private readonly proxies = new Map<number, number>();
  private nextProxy: number;
  /** Why this guest stopped (triple fault, unsupported operation), or null. */
  stopped: string | null = null;

  constructor(readonly host: PhysMem, readonly mem: PhysMem, readonly io: IoBus, readonly place: GuestPlacement) {
    if (mem.ramSize !== place.size) throw new Error('guest window size differs from its placement');
    this.registry = new PatchRegistry(mem);
    this.writableMapped = new Uint8Array(place.size / PAGE);
    this.nextProxy = place.proxyBase + PAGE; // proxyBase itself: the open-bus page (never registered)
    this.range = {
      base: place.base,
      size: place.size,
      mem,
      openBus: place.proxyBase,
      mmioProxy: (gpaPage: number) => this.proxy(gpaPage),
    };
  }

  /** Host page that forwards to guest MMIO page `gpaPage` (SDM-free: our own device plumbing). */
  private proxy(gpaPage: number): number {
    const have = this.proxies.get(gpaPage);
    if (have !== undefined) return have;
    if (this.nextProxy >= this.place.proxyBase + PROXY_PAGES_PER_GUEST * PAGE) return this.range.openBus;
    const hostAddr = this.nextProxy;
    this.nextProxy += PAGE;
    const gpa = gpaPage * PAGE;
    const mem = this.mem;
    this.host.addMmio(hostAddr, PAGE, `guest@${this.place.base.toString(16)} mmio ${gpa.toString(16)}`, {
      mmioRead: (off, size) => (size === 1 ? mem.read8(gpa + off) : size === 2 ? mem.read16(gpa + off) : mem.read32(gpa + off)),
      mmioWrite: (off, size, v) => { if (size === 1) mem.write8(gpa + off, v); else if (size === 2) mem.write16(gpa + off, v); else mem.write32(gpa + off, v); },
    });
    this.proxies.set(gpaPage, hostAddr);
    return hostAddr;
  }

  /**
   * The VMM is about to write [gpa, gpa+size) on the guest's behalf: if
   * that overwrites scanned code or a patch, the page's patches and scan go.
   */
  beforeGuestWrite(gpa: number, size: number): void {
    const page = gpa >>> 12;
    if (!this.registry.isCodePage(page)) return;
    for (let k = 0; k < size; k++) {
      if (this.registry.covers(gpa + k)) { this.registry.dropPage(page); return; }
    }
  }

  /**
   * Guest page `page` just became a code page (first scan on it): any
   * writable shadow mapping of it must go so the next write is caught.
   */
  onNewCodePage(page: number): void {
    if (page >= this.writableMapped.length || !this.writableMapped[page]) return;
    this.writableMapped.fill(0);
    for (const vc of this.vcpus) vc.flushShadow();
    this.stats.codePageFlushes++;
  }
}
