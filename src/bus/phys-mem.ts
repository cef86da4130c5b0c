// Physical memory as the CPU and devices see it: RAM in one typed array,
// MMIO windows registered by page, open bus (all ones) everywhere else.
// Owns the "code page" bitmap so every writer (CPU, device, loader,
// debugger) invalidates decoded-code caches the same way.

export type AccessSize = 1 | 2 | 4;

/** A memory-mapped device window. Offsets are relative to the window base. */
export interface MmioHandler {
  mmioRead(offset: number, size: AccessSize): number;
  mmioWrite(offset: number, size: AccessSize, value: number): void;
}

interface MmioRegion {
  base: number;
  size: number;
  name: string;
  handler: MmioHandler;
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const NUM_PAGES = 1 << 20; // 4 GiB of 4 KiB pages

export class PhysMem {
  readonly ram: Uint8Array;
  readonly ramSize: number;
  private readonly view: DataView;
  /** Per 4 KiB page: index+1 of the MMIO region covering it, 0 = none. */
  private readonly mmioPage = new Uint16Array(NUM_PAGES);
  private readonly regions: MmioRegion[] = [];
  /**
   * Per RAM page: non-zero while some decoded-code cache holds instructions
   * from it. A write to such a page calls every code-write listener first.
   */
  readonly codePages: Uint8Array;
  private readonly codeWriteListeners: Array<(page: number) => void> = [];

  /** Set on a window: the host memory it is part of and its first host page. */
  private readonly parent: PhysMem | null = null;
  private readonly parentPageOffset: number = 0;

  constructor(ramSize: number, window?: { parent: PhysMem; base: number }) {
    if (ramSize % PAGE_SIZE !== 0) throw new Error('RAM size must be a multiple of 4 KiB');
    this.ramSize = ramSize;
    if (window) {
      // A guest's view of its slice of host RAM (VMM mode): same bytes and
      // same code-page bits, so a write through either side invalidates
      // decoded code held by the host CPU.
      const { parent, base } = window;
      if (base % PAGE_SIZE !== 0 || base + ramSize > parent.ramSize) throw new Error('memory window outside host RAM');
      this.ram = parent.ram.subarray(base, base + ramSize);
      this.codePages = parent.codePages.subarray(base >>> PAGE_SHIFT, (base + ramSize) >>> PAGE_SHIFT);
      this.parent = parent;
      this.parentPageOffset = base >>> PAGE_SHIFT;
    } else {
      this.ram = new Uint8Array(ramSize);
      this.codePages = new Uint8Array(ramSize >>> PAGE_SHIFT);
    }
    this.view = new DataView(this.ram.buffer, this.ram.byteOffset, this.ram.byteLength);
  }

  /** A PhysMem over [base, base+size) of this memory's RAM (a guest's RAM under the VMM). */
  window(base: number, size: number): PhysMem {
    return new PhysMem(size, { parent: this, base });
  }

  /** Map `handler` at [base, base+size). Page aligned; overlaps are a wiring bug. */
  addMmio(base: number, size: number, name: string, handler: MmioHandler): void {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size === 0) {
      throw new Error(`MMIO region ${name} must be page aligned`);
    }
    const first = base >>> PAGE_SHIFT;
    const last = (base + size - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      if (this.mmioPage[p] !== 0) {
        throw new Error(`MMIO region ${name} overlaps ${this.regions[this.mmioPage[p] - 1].name}`);
      }
    }
    this.regions.push({ base, size, name, handler });
    const idx = this.regions.length;
    for (let p = first; p <= last; p++) this.mmioPage[p] = idx;
  }

  /** True if the page holding `addr` is an MMIO window (never cached as RAM). */
  isMmio(addr: number): boolean {
    return this.mmioPage[addr >>> PAGE_SHIFT] !== 0;
  }

  /** True if [addr, addr+len) is plain RAM (not MMIO, not beyond the end). */
  isRam(addr: number, len = 1): boolean {
    return addr >= 0 && addr + len <= this.ramSize && !this.isMmio(addr) && !this.isMmio(addr + len - 1);
  }

  onCodeWrite(listener: (page: number) => void): void {
    this.codeWriteListeners.push(listener);
  }

  /** Called before a write lands in a RAM page that holds cached code. */
  private codeWrite(page: number): void {
    this.codePages[page] = 0;
    for (const l of this.codeWriteListeners) l(page);
    if (this.parent) this.parent.codeWrite(page + this.parentPageOffset);
  }

  read8(addr: number): number {
    addr >>>= 0;
    const r = this.mmioPage[addr >>> PAGE_SHIFT];
    if (r !== 0) return this.mmioRead(r, addr, 1);
    if (addr < this.ramSize) return this.ram[addr];
    return 0xff;
  }

  read16(addr: number): number {
    addr >>>= 0;
    if ((addr & 0xfff) <= 0xffe && this.mmioPage[addr >>> PAGE_SHIFT] === 0 && addr + 2 <= this.ramSize) {
      return this.view.getUint16(addr, true);
    }
    const r = this.mmioPage[addr >>> PAGE_SHIFT];
    if (r !== 0 && (addr & 0xfff) <= 0xffe) return this.mmioRead(r, addr, 2);
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  read32(addr: number): number {
    addr >>>= 0;
    if ((addr & 0xfff) <= 0xffc && this.mmioPage[addr >>> PAGE_SHIFT] === 0 && addr + 4 <= this.ramSize) {
      return this.view.getUint32(addr, true);
    }
    const r = this.mmioPage[addr >>> PAGE_SHIFT];
    if (r !== 0 && (addr & 0xfff) <= 0xffc) return this.mmioRead(r, addr, 4) >>> 0;
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) >>> 0;
  }

  write8(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const r = this.mmioPage[page];
    if (r !== 0) return this.mmioWrite(r, addr, 1, value & 0xff);
    if (addr < this.ramSize) {
      if (this.codePages[page] !== 0) this.codeWrite(page);
      this.ram[addr] = value;
    }
  }

  write16(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) <= 0xffe && this.mmioPage[page] === 0 && addr + 2 <= this.ramSize) {
      if (this.codePages[page] !== 0) this.codeWrite(page);
      this.view.setUint16(addr, value, true);
      return;
    }
    const r = this.mmioPage[page];
    if (r !== 0 && (addr & 0xfff) <= 0xffe) return this.mmioWrite(r, addr, 2, value & 0xffff);
    this.write8(addr, value);
    this.write8(addr + 1, value >>> 8);
  }

  write32(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) <= 0xffc && this.mmioPage[page] === 0 && addr + 4 <= this.ramSize) {
      if (this.codePages[page] !== 0) this.codeWrite(page);
      this.view.setUint32(addr, value >>> 0, true);
      return;
    }
    const r = this.mmioPage[page];
    if (r !== 0 && (addr & 0xfff) <= 0xffc) return this.mmioWrite(r, addr, 4, value >>> 0);
    this.write16(addr, value);
    this.write16(addr + 2, value >>> 16);
  }

  /**
   * Debugger/loader read: no MMIO side effects (MMIO and open bus read as
   * 0xff), never faults. Returns the bytes copied.
   */
  peek(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len).fill(0xff);
    for (let i = 0; i < len; i++) {
      const a = (addr + i) >>> 0;
      if (a < this.ramSize && this.mmioPage[a >>> PAGE_SHIFT] === 0) out[i] = this.ram[a];
    }
    return out;
  }

  /** Debugger/loader write into RAM only; returns false if any byte is not RAM. */
  poke(addr: number, data: Uint8Array): boolean {
    if (!this.isRam(addr >>> 0, data.length)) return false;
    const first = (addr >>> 0) >>> PAGE_SHIFT;
    const last = ((addr >>> 0) + Math.max(data.length, 1) - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) if (this.codePages[p] !== 0) this.codeWrite(p);
    this.ram.set(data, addr >>> 0);
    return true;
  }

  private mmioRead(r: number, addr: number, size: AccessSize): number {
    const reg = this.regions[r - 1];
    return reg.handler.mmioRead(addr - reg.base, size);
  }

  private mmioWrite(r: number, addr: number, size: AccessSize, value: number): void {
    const reg = this.regions[r - 1];
    reg.handler.mmioWrite(addr - reg.base, size, value);
  }
}
