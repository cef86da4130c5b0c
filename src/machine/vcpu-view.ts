// What the debugger may see of one vCPU: guest-visible registers and a
// side-effect-free translation through the guest's own page tables. The
// emulate engine reads the CPU directly; the VMM supplies its virtual state.

import type { Cpu } from '../cpu/cpu.js';
import type { VcpuContext } from '../vmm/context.js';
import { walkGuest, WalkResult } from '../vmm/guest-walk.js';

/** Register order of stub/target.ts `Reg` (gdb's i386 core, then system registers). */
export interface VcpuView {
  /** 32 values: eax..edi, eip, eflags, cs ss ds es fs gs, their bases, cr0 cr2 cr3 cr4, gdtr/idtr base+limit, ldtr, tr. */
  registers(): number[];
  writeRegister(reg: number, value: number): boolean;
  /** Guest-linear -> guest-physical through the guest's page tables, no A/D bits, no faults; -1 if unmapped. */
  translate(linear: number): number;
  /** CPU#n [mode, paging, CPLn] */
  describe(): string;
  /** The linear address of the next instruction (CS base + EIP). */
  pcLinear(): number;
}

// CPU segment register numbers in Reg order (cs ss ds es fs gs).
const SEG_ORDER = [1, 2, 3, 0, 4, 5];

export class CpuView implements VcpuView {
  constructor(private readonly cpu: Cpu, private readonly id: number) {}

  registers(): number[] {
    const c = this.cpu;
    const r: number[] = [];
    for (let i = 0; i < 8; i++) r.push(c.regs[i] >>> 0);
    r.push(c.eip >>> 0, c.getEflags());
    for (const s of SEG_ORDER) r.push(c.segSel[s]);
    for (const s of SEG_ORDER) r.push(c.segBase[s]);
    r.push(c.cr0 >>> 0, c.cr2 >>> 0, c.cr3 >>> 0, c.cr4 >>> 0, c.gdtrBase >>> 0, c.gdtrLimit, c.idtrBase >>> 0, c.idtrLimit, c.ldtrSel, c.trSel);
    return r;
  }

  writeRegister(reg: number, value: number): boolean {
    const c = this.cpu;
    value >>>= 0;
    if (reg < 8) { c.regs[reg] = value; return true; }
    if (reg === 8) { c.eip = value; return true; }
    if (reg === 9) { c.setEflags(value); return true; }
    if (reg >= 10 && reg < 16) {
      // A selector write from the debugger reloads the cache as the CPU would
      // in real mode; in protected mode it keeps the cache (like QEMU's stub
      // it cannot run the descriptor checks without side effects).
      const s = SEG_ORDER[reg - 10];
      if (!(c.cr0 & 1)) c.setSegmentRaw(s, value & 0xffff, (value & 0xffff) << 4, c.segLimit[s], c.segAttr[s]);
      else c.setSegmentRaw(s, value & 0xffff, c.segBase[s], c.segLimit[s], c.segAttr[s]);
      return true;
    }
    switch (reg) {
      case 22: c.cr0 = value; return true;
      case 23: c.cr2 = value; return true;
      case 24: c.cr3 = value; return true;
      case 25: c.cr4 = value; return true;
      default: return false;
    }
  }

  translate(linear: number): number {
    return this.cpu.translate(linear >>> 0, false, false);
  }

  describe(): string {
    const c = this.cpu;
    const mode = !(c.cr0 & 1) ? 'real mode' : c.cs32 ? 'protected' : 'protected 16-bit';
    const paging = c.cr0 & 0x80000000 ? ', paging' : '';
    const state = c.halted ? ', halted' : '';
    return `CPU#${this.id} [${mode}${paging}, CPL${c.cpl}${state}]`;
  }

  pcLinear(): number {
    return (this.cpu.segBase[1] + this.cpu.eip) >>> 0;
  }
}

/**
 * A vCPU under the VMM as the guest believes it is: virtual CPL/IF/IOPL,
 * the guest's CS/SS selectors (not the real RPL-3 ones), virtual control
 * and descriptor-table registers, translation through the guest's own page
 * tables (virtual CR3), never the shadow.
 */
export class VmmVcpuView implements VcpuView {
  private readonly walk = new WalkResult();
  private interpView: CpuView | null = null;
  constructor(private readonly ctx: VcpuContext) {}

  /** While the VMM interprets the vCPU (real mode, 16-bit trampolines), its private CPU holds the guest's state as is. */
  private get interpreted(): CpuView | null {
    if (!this.ctx.interpreting) return null;
    return (this.interpView ??= new CpuView(this.ctx.interpreter.cpu, this.ctx.index));
  }

  registers(): number[] {
    const iv = this.interpreted;
    if (iv) return iv.registers();
    const c = this.ctx.cpu, v = this.ctx.v;
    const r: number[] = [];
    for (let i = 0; i < 8; i++) r.push(c.regs[i] >>> 0);
    r.push(c.eip >>> 0, this.ctx.eflags >>> 0);
    for (const s of SEG_ORDER) r.push(s === 1 ? v.csSel : s === 2 ? v.ssSel : c.segSel[s]);
    for (const s of SEG_ORDER) r.push(c.segBase[s]);
    r.push(v.cr0 >>> 0, v.cr2 >>> 0, v.cr3 >>> 0, v.cr4 >>> 0, v.gdtrBase >>> 0, v.gdtrLimit, v.idtrBase >>> 0, v.idtrLimit, v.ldtrSel, v.trSel);
    return r;
  }

  writeRegister(reg: number, value: number): boolean {
    const iv = this.interpreted;
    if (iv) return iv.writeRegister(reg, value);
    const c = this.ctx.cpu;
    value >>>= 0;
    if (reg < 8) { c.regs[reg] = value; return true; }
    if (reg === 8) { c.eip = value; return true; }
    if (reg === 9) { this.ctx.eflags = value; return true; }
    return false; // segment and control registers: only the guest changes them under the VMM
  }

  translate(linear: number): number {
    const iv = this.interpreted;
    if (iv) return iv.translate(linear);
    if (!walkGuest(this.ctx.g.mem, this.ctx.v, linear >>> 0, false, false, false, this.walk)) return -1;
    return this.walk.gpa;
  }

  describe(): string {
    const iv = this.interpreted;
    if (iv) return iv.describe().replace(']', ', vmm: interpreted]');
    const c = this.ctx.cpu, v = this.ctx.v;
    const mode = !(v.cr0 & 1) ? 'real mode' : c.cs32 ? 'protected' : 'protected 16-bit';
    const paging = v.cr0 & 0x80000000 ? ', paging' : '';
    return `CPU#${this.ctx.index} [${mode}${paging}, CPL${v.cpl}, vmm${v.halted ? ', halted' : ''}]`;
  }

  pcLinear(): number {
    const iv = this.interpreted;
    if (iv) return iv.pcLinear();
    return (this.ctx.cpu.segBase[1] + this.ctx.cpu.eip) >>> 0;
  }
}
