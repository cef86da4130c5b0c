// One vCPU under the monitor: the real CPU it runs on, its virtual state,
// its shadow structures, and the guest-side primitives every handler uses
// (guest-linear access through the guest's own tables, guest descriptors,
// loading the real CPU with the state that realizes the virtual one).

import type { InterruptSource } from '../bus/irq.js';
import {
  CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CS, IF, IOPL, PFV, SS,
} from '../cpu/arch.js';
import type { Cpu } from '../cpu/cpu.js';
import { fault } from '../cpu/fault.js';
import { permits, walkGuest, WalkResult } from './guest-walk.js';
import {
  GUEST_PAGE_SHIFT, type GuestVm,
} from './guest-vm.js';
import { IDT_OFFSET, PAGE, TSS_LIMIT, SLOT_GDT_KERNEL, SLOT_GDT_USER, SLOT_LDT_KERNEL, SLOT_LDT_USER, SLOT_POOL, SLOT_TSS, SLOT_WINDOW_PT, VMM_AREA_PER_VCPU, WINDOW_PAGES } from './guests.js';
import { hostFrame, shadowPte, SHADOW_KERNEL, SHADOW_USER, ShadowPageTables, VMM_WINDOW_BASE, VMM_WINDOW_PDE } from './shadow-paging.js';
import { ShadowTable } from './shadow-tables.js';
import { VirtualCpu } from './vcpu.js';
import { InterpretedPhase } from './interpreted.js';

/** Linear address of window page `i` (window page i = slot page i + 1). */
const winLin = (slotPage: number): number => (VMM_WINDOW_BASE + (slotPage - 1) * PAGE) >>> 0;

/** Descriptor cache fields from a descriptor's two dwords (SDM vol. 3, 3.4.5). */
export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}
export function descLimit(lo: number, hi: number): number {
  const raw = (hi & 0xf0000) | (lo & 0xffff);
  return hi & (1 << 23) ? ((raw << 12) | 0xfff) >>> 0 : raw;
}
export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}
/** The attribute the real CPU caches for a guest segment while the guest runs (DPL compressed to 3). */
export function realAttr(attr: number): number {
  return attr | 0x60;
}

export class VcpuContext {
  readonly v = new VirtualCpu();
  readonly shadow: ShadowPageTables;
  readonly gdt: ShadowTable;
  readonly ldt: ShadowTable;
  readonly walk = new WalkResult();
  /** What the real CPU's INTR pin sees: the guest's line, gated by the virtual IF. */
  readonly gatedInterrupts: InterruptSource;
  /** Filled by readDescriptor. */
  descLo = 0;
  descHi = 0;
  /** The last #PF thrown came from the guest's own tables (virtual CR2 set), not from the shadow. */
  guestPageFault = false;
  /** The interpreter real-mode / 16-bit phases run on (created on first use). */
  private interp: InterpretedPhase | null = null;

  get interpreter(): InterpretedPhase {
    return (this.interp ??= new InterpretedPhase(this));
  }

  /** Is this vCPU currently interpreted? */
  get interpreting(): boolean {
    return this.interp !== null && this.interp.active;
  }

  /** Instructions retired so far: native + interpreted. */
  get instructions(): number {
    return this.cpu.instructionCount + (this.interp ? this.interp.instructions : 0);
  }

  constructor(readonly g: GuestVm, readonly index: number, readonly cpu: Cpu, readonly source: InterruptSource, readonly slotBase: number) {
    const host = g.host;
    const pool = slotBase + SLOT_POOL * PAGE;
    const poolPages = VMM_AREA_PER_VCPU / PAGE - SLOT_POOL;
    this.shadow = new ShadowPageTables(host, pool, poolPages, slotBase + SLOT_WINDOW_PT * PAGE, (p) => {
      if (p < 0) cpu.tlb.flush(); else cpu.tlb.invalidate(p);
    });
    // The window page table: window page i -> slot page i + 1, supervisor read/write (U=0).
    host.ram.fill(0, slotBase, slotBase + SLOT_POOL * PAGE);
    for (let i = 0; i < WINDOW_PAGES; i++) host.write32(slotBase + SLOT_WINDOW_PT * PAGE + i * 4, (slotBase + (i + 1) * PAGE) | 3);
    this.gdt = new ShadowTable(host.ram, slotBase + SLOT_GDT_KERNEL * PAGE, slotBase + SLOT_GDT_USER * PAGE);
    this.ldt = new ShadowTable(host.ram, slotBase + SLOT_LDT_KERNEL * PAGE, slotBase + SLOT_LDT_USER * PAGE);
    // Real TSS: limit 0x67 and I/O map base 0x68 (past the limit), so the
    // real TSS has no I/O permission bitmap and, with the real IOPL always
    // 0, every IN/OUT/INS/OUTS at real CPL 3 raises #GP (SDM vol. 1,
    // 18.5.1-18.5.2): the VMM emulates it against the guest's board. The
    // real CPU's own port bus is empty anyway (monitor.ts).
    host.write16(slotBase + SLOT_TSS * PAGE + 0x66, TSS_LIMIT + 1);
    const v = this.v;
    this.gatedInterrupts = {
      // The real IF is always 1 (see realFlags): the virtual IF decides,
      // and an emulated STI/MOV SS holds interrupts off one instruction.
      hasInterrupt: () => (v.vflags & IF) !== 0 && !v.interruptShadow && source.hasInterrupt(),
      acknowledge: () => source.acknowledge(),
    };
  }

  // ---------------- the real CPU as the virtual state requires ----------------

  /** Load every real control register for the current virtual state (entry, CPL change, CR writes). */
  applyReal(): void {
    const c = this.cpu, v = this.v;
    const user = v.cpl === 3;
    c.cr4 = 0;
    c.cr0 = (CR0_PE | CR0_PG | CR0_ET | CR0_WP | (v.cr0 & (CR0_MP | CR0_EM | CR0_TS | CR0_NE))) >>> 0;
    c.cr3 = this.shadow.directory(user ? SHADOW_USER : SHADOW_KERNEL);
    c.gdtrBase = winLin(user ? SLOT_GDT_USER : SLOT_GDT_KERNEL);
    c.gdtrLimit = v.gdtrLimit;
    c.ldtrSel = v.ldtrSel;
    c.ldtrBase = winLin(user ? SLOT_LDT_USER : SLOT_LDT_KERNEL);
    c.ldtrLimit = v.ldtrSel & 0xfffc ? v.ldtrLimit : 0;
    c.ldtrAttr = v.ldtrSel & 0xfffc ? 0x82 : 0;
    c.trSel = 0;
    c.trBase = winLin(SLOT_TSS);
    c.trLimit = TSS_LIMIT;
    c.trAttr = 0x8b;
    c.idtrBase = (winLin(SLOT_TSS) + IDT_OFFSET) >>> 0;
    c.idtrLimit = 0;
    c.interceptExceptions = 0xffffffff;
    c.interceptInterrupts = true;
    c.interrupts = this.gatedInterrupts;
    c.setEflags(this.realFlags(c.getEflags()));
  }

  /**
   * The real EFLAGS that realize guest EFLAGS `val`: everything but IF and
   * IOPL as the guest has them, and always real IF=1, IOPL=0 (lecture
   * notes, CLI/STI example). So CLI/STI/IN/OUT trap at real CPL 3 (SDM
   * vol. 2, CLI: #GP(0) if CPL > IOPL) and are emulated against the
   * virtual IF/IOPL; POPF cannot change the real IF or IOPL (it ignores
   * them at CPL 3 > IOPL) and PUSHF would show IF=1, so both are patched
   * in guest-kernel code. In guest user code (virtual CPL 3) this is what
   * bare hardware shows a user program running with IF=1 and IOPL 0.
   */
  private realFlags(val: number): number {
    return ((val & ~IOPL) | IF) >>> 0;
  }

  /** Change the virtual CPL: switch shadow directory and descriptor-table variant. */
  setCpl(cpl: number): void {
    const v = this.v;
    if (v.cpl === cpl) return;
    v.cpl = cpl;
    const c = this.cpu, user = cpl === 3;
    c.cr3 = this.shadow.directory(user ? SHADOW_USER : SHADOW_KERNEL);
    c.gdtrBase = winLin(user ? SLOT_GDT_USER : SLOT_GDT_KERNEL);
    c.ldtrBase = winLin(user ? SLOT_LDT_USER : SLOT_LDT_KERNEL);
  }

  /** Re-read the guest's GDT/LDT into the shadows (lgdt, lldt, ltr, privilege changes). */
  syncTables(): boolean {
    const v = this.v;
    let changed = this.gdt.sync(this.sysReader, v.gdtrBase, v.gdtrLimit);
    if (v.ldtrSel & 0xfffc) changed = this.ldt.sync(this.sysReader, v.ldtrBase, v.ldtrLimit) || changed;
    else this.ldt.clear();
    this.cpu.gdtrLimit = v.gdtrLimit;
    this.cpu.ldtrSel = v.ldtrSel;
    this.cpu.ldtrLimit = v.ldtrSel & 0xfffc ? v.ldtrLimit : 0;
    this.cpu.ldtrAttr = v.ldtrSel & 0xfffc ? 0x82 : 0;
    return changed;
  }

  private readonly sysReader = (lin: number): number | null => {
    if (!walkGuest(this.g.mem, this.v, lin, false, false, false, this.walk)) return null;
    return this.g.mem.read32(this.walk.gpa);
  };

  /** Drop every shadow mapping (guest CR3/CR0/CR4 change). */
  flushShadow(): void {
    this.shadow.flush();
  }

  // ---------------- guest-linear access (the guest's own tables) ----------------

  /** Translate for the guest, setting A/D as hardware would; #PF (reflected by the caller) on failure. */
  translate(lin: number, write: boolean, user: boolean): number {
    if (!walkGuest(this.g.mem, this.v, lin, write, user, true, this.walk)) {
      this.v.cr2 = lin >>> 0;
      this.guestPageFault = true;
      return fault(PFV, this.walk.error);
    }
    return this.walk.gpa;
  }

  read(lin: number, size: number, user: boolean): number {
    lin >>>= 0;
    if ((lin & 0xfff) + size > 0x1000) {
      let v = 0;
      for (let k = 0; k < size; k++) v += this.read((lin + k) >>> 0, 1, user) * 2 ** (8 * k);
      return v;
    }
    const gpa = this.translate(lin, false, user);
    const m = this.g.mem;
    return size === 1 ? m.read8(gpa) : size === 2 ? m.read16(gpa) : m.read32(gpa) >>> 0;
  }

  write(lin: number, size: number, value: number, user: boolean): void {
    lin >>>= 0;
    if ((lin & 0xfff) + size > 0x1000) {
      this.translate(lin, true, user);
      this.translate((lin + size - 1) >>> 0, true, user);
      for (let k = 0; k < size; k++) this.write((lin + k) >>> 0, 1, (value >>> (8 * k)) & 0xff, user);
      return;
    }
    const gpa = this.translate(lin, true, user);
    this.g.beforeGuestWrite(gpa, size);
    const m = this.g.mem;
    if (size === 1) m.write8(gpa, value); else if (size === 2) m.write16(gpa, value); else m.write32(gpa, value);
  }

  /**
   * Read descriptor `sel` from the guest's GDT/LDT into descLo/descHi.
   * Returns false if the selector is outside the table (caller raises #GP/#TS).
   */
  readDescriptor(sel: number): boolean {
    const v = this.v;
    let base: number, limit: number;
    if (sel & 4) {
      if (!(v.ldtrSel & 0xfffc)) return false;
      base = v.ldtrBase; limit = v.ldtrLimit;
    } else {
      base = v.gdtrBase; limit = v.gdtrLimit;
    }
    if ((sel | 7) > limit) return false;
    const at = (base + (sel & ~7)) >>> 0;
    this.descLo = this.read(at, 4, false);
    this.descHi = this.read((at + 4) >>> 0, 4, false);
    return true;
  }

  /** Set the accessed bit of the descriptor just read (hardware does on a segment load). */
  markAccessed(sel: number): void {
    if (this.descHi & 0x100) return;
    const v = this.v;
    const base = sel & 4 ? v.ldtrBase : v.gdtrBase;
    this.descHi |= 0x100;
    this.write((base + (sel & ~7) + 5) >>> 0, 1, (this.descHi >>> 8) & 0xff, false);
  }

  /** Load CS as the guest sees selector `sel` (descriptor in descLo/descHi), at virtual CPL `cpl`. */
  loadCs(sel: number, cpl: number): void {
    const lo = this.descLo, hi = this.descHi;
    this.setCpl(cpl);
    this.v.csSel = ((sel & ~3) | cpl) & 0xffff;
    this.cpu.setSegmentRaw(CS, (sel & ~3) | 3, descBase(lo, hi), descLimit(lo, hi), realAttr(descAttr(hi)));
  }

  /** Load SS with guest selector `sel` (descriptor in descLo/descHi). */
  loadSs(sel: number): void {
    const lo = this.descLo, hi = this.descHi;
    this.v.ssSel = sel & 0xffff;
    this.cpu.setSegmentRaw(SS, (sel & ~3) | 3, descBase(lo, hi), descLimit(lo, hi), realAttr(descAttr(hi)));
  }

  /** Null SS (only legal for CPL < 3 in 64-bit mode; kept for completeness). */
  get eflags(): number {
    return this.v.guestEflags(this.cpu.getEflags());
  }

  /**
   * Set the guest-visible EFLAGS: IF and IOPL go to the virtual state,
   * everything else to the real CPU (with IF=1, IOPL=0).
   */
  set eflags(val: number) {
    this.v.vflags = val & (IF | IOPL);
    this.cpu.setEflags(this.realFlags(val));
  }

  /** Shadow fault handling state for permits(). */
  writeAllowed(perm: number, user: boolean): boolean {
    return permits(perm, true, user, (this.v.cr0 & CR0_WP) !== 0);
  }

  /**
   * A #PF exit from the real CPU at guest-linear `lin`. Returns 'fill' when
   * the shadow now maps it (retry the instruction), 'reflect' when the
   * guest's own tables fault (CR2/error set, caller reflects #PF with
   * `walk.error`), or 'window' for an access to the VMM's reserved window.
   */
  shadowFault(lin: number, errorCode: number): 'fill' | 'reflect' | 'window' | 'code-write' {
    lin >>>= 0;
    if (lin >>> 22 === VMM_WINDOW_PDE) return 'window';
    const v = this.v;
    const write = (errorCode & 2) !== 0;
    const user = v.cpl === 3;
    if (!walkGuest(this.g.mem, v, lin, write, user, true, this.walk)) {
      v.cr2 = lin;
      return 'reflect';
    }
    const w = this.walk;
    const g = this.g;
    const frame = hostFrame(g.range, w.gpa);
    const isRam = frame !== g.range.openBus && !g.mem.isMmio(w.gpa);
    const page = w.gpa >>> GUEST_PAGE_SHIFT;
    // A write to a page holding scanned code: the caller lets that one
    // write through a temporary writable mapping and then checks whether it
    // touched code (stepCodeWrite in the monitor). Dropping the page's scan
    // up front would livelock when code and its data (a boot sector and its
    // stack) share a page.
    if (write && isRam && g.registry.isCodePage(page)) return 'code-write';
    const canWrite = this.writeAllowed(w.perm, user) && w.dirty && !(isRam && g.registry.isCodePage(page));
    if (canWrite && isRam) g.writableMapped[page] = 1;
    this.shadow.install(user ? SHADOW_USER : SHADOW_KERNEL, lin, shadowPte(frame, canWrite));
    g.stats.shadowFaults++;
    return 'fill';
  }

  /** Map `lin` writable in the current shadow for one step (see shadowFault's 'code-write'). Returns the guest page. */
  mapWritableOnce(lin: number): number {
    const frame = hostFrame(this.g.range, this.walk.gpa);
    this.shadow.install(this.v.cpl === 3 ? SHADOW_USER : SHADOW_KERNEL, lin, shadowPte(frame, true));
    return this.walk.gpa >>> GUEST_PAGE_SHIFT;
  }

  /** Make sure the guest page at `lin` is in the current shadow (before decoding there). Returns false if the guest cannot fetch it. */
  ensureMapped(lin: number): boolean {
    const user = this.v.cpl === 3;
    const which = user ? SHADOW_USER : SHADOW_KERNEL;
    if (this.shadow.lookup(which, lin) !== 0) return true;
    if (lin >>> 22 === VMM_WINDOW_PDE) return false;
    const cr2 = this.v.cr2;
    if (this.shadowFault(lin, user ? 4 : 0) === 'fill') return true;
    this.v.cr2 = cr2; // a look-ahead, not a guest access: no guest-visible trace
    return false;
  }
}
