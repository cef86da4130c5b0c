// The monitor: the VMM engine. Runs each vCPU of one guest on a real CPU
// at real CPL 3 with every exception intercepted ("the real IDT points at
// the VMM"), and handles the exits: shadow page faults, trapped privileged
// instructions, INT 3 patch traps, guest faults and external interrupts,
// which it reflects through the guest's IDT. House style 4: the exit
// handler is driven only by exits and the CPU's public state.

import { IoBus } from '../bus/io-bus.js';
import type { InterruptSource } from '../bus/irq.js';
import type { PhysMem } from '../bus/phys-mem.js';
import type { BootState } from '../boot/boot-state.js';
import { BP, CS, DB as DBV, GP, IF, TF, NP as NPV, OFV, PFV, RF, SS, VM } from '../cpu/arch.js';
import { Cpu } from '../cpu/cpu.js';
import { decodeInto } from '../cpu/decode.js';
import { Exit } from '../cpu/exit.js';
import { FAULT, isCpuFault } from '../cpu/fault.js';
import { Insn } from '../cpu/insn.js';
import { realAttr, VcpuContext } from './context.js';
import { Emu, emulate, pending, popfMask } from './emulate.js';
import { walkGuest, WalkResult } from './guest-walk.js';
import { GuestVm } from './guest-vm.js';
import { InterpretedPhase } from './interpreted.js';
import { type GuestPlacement, VMM_AREA_PER_VCPU } from './guests.js';
import { classify, scanBlock, Verdict } from './patch/scanner.js';
import { KIND_EXCEPTION, KIND_EXTERNAL, KIND_SOFT, reflect } from './reflect.js';

/** Everything the machine hands the VMM for one guest. */
export interface VmmGuestConfig {
  /** Host physical memory the real CPUs run on (all guests + VMM areas). */
  host: PhysMem;
  /** The guest's view: host.window(place.base, place.size), its MMIO registered there. */
  mem: PhysMem;
  /** Where the guest lives in host memory (from planHost). */
  place: GuestPlacement;
  /** The guest board's port bus. */
  io: IoBus;
  /** Per vCPU: what its INTR pin is connected to. */
  interrupts: InterruptSource[];
  /** vCPU 0's state as the loader left it (or call loadBootState later). */
  boot?: BootState;
}

/** Opcodes that reach the VMM through #GP and are emulated (everything else that #GPs is the guest's own fault). */
function emulatedOnGp(op: number, reg: number): boolean {
  switch (op) {
    case 0xfa: case 0xfb: case 0xf4: case 0xcd: case 0xf1: case 0x17: case 0x1b2:
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef:
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
    case 0x120: case 0x121: case 0x122: case 0x123: case 0x106: case 0x108: case 0x109: case 0x130: case 0x132:
      return true;
    case 0x9a: case 0xea: return true; // far call/jmp: gates are never usable natively (far-transfer.ts)
    case 0xff: return reg === 3 || reg === 5;
    case 0x8e: return reg === SS;
    case 0x100: return reg === 2 || reg === 3;
    case 0x101: return reg === 2 || reg === 3 || reg === 6 || reg === 7;
    default: return false;
  }
}

/**
 * The VMM engine. It has the shape of the machine's `Engine` (runVcpu,
 * instructions, stats, loadBootState, initVcpu, startupVcpu): the machine
 * checks that where it plugs the monitor in, so the VMM need not import
 * from the layer above it.
 */
export class Monitor {
  readonly name = 'vmm' as const;
  readonly guest: GuestVm;
  readonly vcpus: VcpuContext[] = [];
  private readonly insn = new Insn();
  private readonly dw = new WalkResult();
  /** Code pages' bytes before a single guest write to them (stepCodeWrite), a small stack. */
  private readonly pageBefore = Array.from({ length: 6 }, () => new Uint8Array(4096));
  private readonly stepPage = new Int32Array(6);
  private readonly stepLin = new Uint32Array(6);
  private stepDepth = 0;

  constructor(cfg: VmmGuestConfig) {
    const { host, mem, place, io } = cfg;
    this.guest = new GuestVm(host, mem, io, place);
    for (let i = 0; i < place.vcpus; i++) {
      // The real CPU gets a port bus of its own with nothing on it: the
      // guest's ports are reachable only through the VMM's emulation of
      // IN/OUT (which always trap: real IOPL 0, no I/O bitmap, context.ts).
      const cpu = new Cpu(host, new IoBus(), { apicId: i });
      const ctx = new VcpuContext(this.guest, i, cpu, cfg.interrupts[i], place.vmmBase + i * VMM_AREA_PER_VCPU);
      this.vcpus.push(ctx);
      this.guest.vcpus.push(ctx);
    }
    if (cfg.boot) this.boot(this.vcpus[0], cfg.boot);
    for (let i = 1; i < this.vcpus.length; i++) this.vcpus[i].v.halted = true; // APs wait for INIT/SIPI (not supported yet)
  }

  private boot(ctx: VcpuContext, s: BootState): void {
    const c = ctx.cpu, v = ctx.v;
    if (!s.protectedMode) {
      // A boot sector: real mode, interpreted until it enters 32-bit protected mode.
      const ic = ctx.interpreter.cpu;
      ic.cr0 = s.cr0;
      ic.gdtrBase = s.gdtrBase; ic.gdtrLimit = s.gdtrLimit;
      ic.idtrBase = s.idtrBase; ic.idtrLimit = s.idtrLimit;
      for (let k = 0; k < 8; k++) ic.regs[k] = s.regs[k];
      s.segs.forEach((g, k) => ic.setSegmentRaw(k, g.sel, g.base, g.limit, g.attr));
      ic.setEflags(s.eflags);
      ic.eip = s.eip;
      ic.halted = false;
      ctx.interpreter.enterAsIs();
      return;
    }
    // Protected-mode hand-over: native (deprivileged) execution from here,
    // even if an INIT had parked the vCPU in the interpreter.
    if (ctx.interpreting) ctx.interpreter.active = false;
    for (let k = 0; k < 8; k++) c.regs[k] = s.regs[k];
    v.cr0 = s.cr0 >>> 0;
    v.gdtrBase = s.gdtrBase; v.gdtrLimit = s.gdtrLimit;
    v.idtrBase = s.idtrBase; v.idtrLimit = s.idtrLimit;
    v.cpl = 0;
    ctx.applyReal();
    ctx.syncTables();
    s.segs.forEach((g, k) => {
      const rpl3 = k === CS || k === SS ? (g.sel & ~3) | 3 : g.sel;
      c.setSegmentRaw(k, rpl3, g.base, g.limit, realAttr(g.attr));
    });
    v.csSel = s.segs[CS].sel;
    v.ssSel = s.segs[SS].sel;
    c.eip = s.eip >>> 0;
    ctx.eflags = s.eflags;
    ctx.applyReal();
  }

  loadBootState(i: number, s: BootState): void {
    this.vcpus[i].v.halted = false;
    this.boot(this.vcpus[i], s);
  }

  /** INIT: the vCPU resets (SDM vol. 3, 8.4.4: INIT leaves the APIC waiting for a STARTUP IPI). */
  initVcpu(i: number): void {
    const ctx = this.vcpus[i];
    ctx.interpreter.cpu.reset();
    ctx.interpreter.enterAsIs();
    ctx.v.halted = true;
  }

  /** STARTUP IPI: the AP starts in real mode at vector:0, interpreted until 32-bit protected mode. */
  startupVcpu(i: number, vector: number): void {
    const ctx = this.vcpus[i];
    const ic = ctx.interpreter.cpu;
    ic.reset();
    ic.startAt((vector & 0xff) << 8, 0);
    ctx.v.halted = false;
    ctx.interpreter.enterAsIs();
  }

  private stopGuest(why: string): void {
    if (this.guest.stopped === null) this.guest.stopped = why;
  }

  /** Why the guest stopped (triple fault, unsupported operation), or null. */
  get stopReason(): string | null {
    return this.guest.stopped;
  }

  instructions(i: number): number {
    return this.vcpus[i].instructions;
  }

  runVcpu(i: number, budget: number): Exit {
    const ctx = this.vcpus[i];
    const c = ctx.cpu, v = ctx.v, g = this.guest;
    const end = ctx.instructions + budget;
    while (ctx.instructions < end) {
      if (g.stopped !== null) return Exit.TRIPLE_FAULT;
      if (ctx.interpreting) {
        const exit = ctx.interpreter.run(end - ctx.instructions);
        if (exit === Exit.TRIPLE_FAULT) {
          this.stopGuest(`guest triple fault (shutdown) on vCPU ${ctx.index} in an interpreted phase`);
          return exit;
        }
        if (exit !== Exit.BUDGET) return exit;
        continue;
      }
      if (InterpretedPhase.needed(ctx)) {
        g.stats.bump('to-interpreter');
        ctx.interpreter.enter();
        continue;
      }
      if (v.halted) {
        if (v.vif && ctx.source.hasInterrupt()) {
          v.halted = false;
          this.deliverExternal(ctx);
          continue;
        }
        return Exit.HLT;
      }
      let budget = v.interruptShadow ? 1 : end - ctx.instructions;
      if (v.cpl < 3) this.ensureScanned(ctx, (c.segBase[CS] + c.eip) >>> 0);
      else if (v.vflags !== IF) {
        // Guest user code whose virtual IF/IOPL differ from the real IF=1,
        // IOPL=0 (IOPL 3 granted, or IF clear): PUSHF, POPF and IRET would
        // show or ignore the real flags, so they are emulated here one
        // instruction at a time. User code is never patched, and ordinary
        // user code (IF=1, IOPL 0) runs at full speed on the path below.
        if (this.userFlagsStep(ctx)) continue;
        budget = 1;
      }
      const before = c.instructionCount;
      // Work-around (CPU issue, reported): a fault while fetching the first
      // block rewinds EIP to the stale insnEip; make it the current EIP.
      c.insnEip = c.eip;
      c.insnEsp = c.regs[4];
      const exit = c.run(budget);
      if (c.instructionCount > before) v.interruptShadow = false;
      if (c.cpl !== 3) g.stats.realCpl0Instructions += c.instructionCount - before;
      switch (exit) {
        case Exit.BUDGET: break;
        case Exit.EXCEPTION: this.onException(ctx); break;
        case Exit.INTERRUPT: this.deliverExternal(ctx); break;
        case Exit.BREAKPOINT: case Exit.WATCHPOINT: return exit;
        case Exit.HLT: return Exit.HLT;
        case Exit.TRIPLE_FAULT: this.stopGuest('the real CPU shut down while running the guest'); return Exit.TRIPLE_FAULT;
      }
    }
    return g.stopped !== null ? Exit.TRIPLE_FAULT : Exit.BUDGET;
  }

  private deliverExternal(ctx: VcpuContext): void {
    const vector = ctx.source.acknowledge();
    this.guest.stats.bump('interrupt');
    this.reflectOrStop(ctx, vector, KIND_EXTERNAL, 0, false);
  }

  private reflectOrStop(ctx: VcpuContext, vector: number, kind: number, error: number, hasError: boolean, insnEip = -1): void {
    this.guest.stats.bump(`reflect:${vector}`);
    if (reflect(ctx, vector, kind, error, hasError, insnEip) === 'triple-fault') {
      this.stopGuest(`guest triple fault (shutdown) on vCPU ${ctx.index} delivering vector ${vector}`);
    }
  }

  // ---------------- exits ----------------

  /** Handle an EXCEPTION exit of vCPU `ctx` (exposed for unit tests with made-up exits). */
  onException(ctx: VcpuContext): void {
    const c = ctx.cpu, v = ctx.v, g = this.guest;
    const vec = c.exitVector, err = c.exitErrorCode;
    switch (vec) {
      case PFV: {
        const r = ctx.shadowFault(c.exitAddress, err);
        if (r === 'code-write') { this.stepCodeWrite(ctx, c.exitAddress, null); return; }
        if (r === 'reflect') this.reflectOrStop(ctx, PFV, KIND_EXCEPTION, ctx.walk.error, true);
        else if (r === 'window') this.stopGuest(`guest touched the VMM's reserved linear window at ${(c.exitAddress >>> 0).toString(16)} (0xFFC00000-0xFFFFFFFF is not available to guests) at eip ${(c.eip >>> 0).toString(16)}, virtual CPL ${ctx.v.cpl}`);
        return;
      }
      case GP: {
        if (err === 0 && (this.fastCliSti(ctx) || this.fastPortIo(ctx))) return;
        if (this.staleDescriptor(ctx, err)) return;
        const i = this.decodeGuest(ctx, (c.segBase[CS] + c.eip) >>> 0);
        if (i && emulatedOnGp(i.op, i.reg)) {
          g.stats.bump(`emulate:${i.row?.mnem ?? i.op.toString(16)}`);
          this.runEmulation(ctx, i);
          return;
        }
        this.reflectOrStop(ctx, GP, KIND_EXCEPTION, err, true);
        return;
      }
      case BP: {
        const lin = (c.segBase[CS] + c.eip) >>> 0;
        const gpa = this.codeGpa(ctx, lin);
        const patch = gpa >= 0 ? g.registry.get(gpa) : undefined;
        if (!patch) { // the guest's own int3 (a trap: EIP after it)
          c.eip = (c.eip + 1) >>> 0;
          c.instructionCount++;
          this.reflectOrStop(ctx, BP, KIND_SOFT, 0, false);
          return;
        }
        if (c.cs32 && c.ss32 && !(c.flags & TF)) {
          const o = patch.original;
          if (o === 0xc3 ? this.fastRet(ctx) : o === 0x9c ? this.fastPushf(ctx) : o === 0x9d && this.fastPopf(ctx)) return;
        }
        g.stats.bump(`patch:${patch.reason}`);
        const i = this.decodeGuest(ctx, lin);
        if (!i) { this.stopGuest('cannot decode a patched instruction'); return; }
        if (classify(i) === Verdict.Direct) { this.directTransfer(ctx, i, gpa); return; }
        this.runEmulation(ctx, i);
        return;
      }
      case NPV: {
        if (this.staleDescriptor(ctx, err)) return;
        // Far call/jmp through a call gate from guest user code: the shadow
        // marks system descriptors not present, so emulate it.
        const i = this.decodeGuest(ctx, (c.segBase[CS] + c.eip) >>> 0);
        if (i && (i.op === 0x9a || i.op === 0xea || (i.op === 0xff && (i.reg === 3 || i.reg === 5)))) {
          g.stats.bump(`emulate:${i.row?.mnem ?? 'far'}`);
          this.runEmulation(ctx, i);
          return;
        }
        this.reflectOrStop(ctx, vec, KIND_EXCEPTION, err, true);
        return;
      }
      case OFV: // INTO not patched (guest user code): a trap to vector 4
        c.eip = (c.eip + 1) >>> 0;
        c.instructionCount++;
        this.reflectOrStop(ctx, OFV, KIND_SOFT, 0, false);
        return;
      case 12: // #SS(sel) from loading SS natively
        if (this.staleDescriptor(ctx, err)) return;
        this.reflectOrStop(ctx, vec, KIND_EXCEPTION, err, c.exitHasError);
        return;
      case DBV:
        // The real CPU recorded why (single step, ...) in its DR6; the guest reads the virtual one.
        v.dr[6] = (v.dr[6] & ~0x400f) | (c.dr[6] & 0x400f);
        c.dr[6] = 0xffff0ff0;
        this.reflectOrStop(ctx, DBV, KIND_EXCEPTION, 0, false);
        return;
      default:
        this.reflectOrStop(ctx, vec, KIND_EXCEPTION, err, c.exitHasError);
    }
    void v;
  }

  /**
   * A write to a page that holds scanned code (shadowFault's 'code-write'):
   * let exactly this instruction write through a temporary writable
   * mapping — the real CPU runs it (`emulated` null) or the VMM re-runs its
   * emulation — then take the mapping away again and compare the page
   * with its bytes before: only if the write touched scanned code do that
   * page's patches and scan go (self-modifying code). Data that merely
   * shares a page with code keeps its page scanned.
   */
  private stepCodeWrite(ctx: VcpuContext, lin: number, emulated: Insn | null): void {
    const c = ctx.cpu, g = this.guest;
    const first = this.stepDepth;
    if (first + 2 > this.pageBefore.length) { // pathological nesting: fall back to forgetting the page
      g.registry.dropPage(ctx.mapWritableOnce(lin));
      return;
    }
    const open = (l: number): void => {
      const page = ctx.mapWritableOnce(l);
      const k = this.stepDepth++;
      this.stepPage[k] = page;
      this.stepLin[k] = l;
      this.pageBefore[k].set(g.mem.ram.subarray(page << 12, (page << 12) + 4096));
    };
    open(lin);
    g.stats.bump('code-page-write');
    let exit: Exit = Exit.BUDGET;
    if (emulated) {
      this.runEmulation(ctx, emulated); // a second code page nests here
    } else {
      for (let tries = 0; tries < 4; tries++) {
        const before = c.instructionCount;
        exit = c.run(1);
        if (c.cpl !== 3) g.stats.realCpl0Instructions += c.instructionCount - before;
        if (c.instructionCount > before) ctx.v.interruptShadow = false;
        if (exit !== Exit.EXCEPTION || c.exitVector !== PFV || c.instructionCount > before) break;
        // The same instruction also needs another page: a second code page
        // (a write straddling two) stays writable alongside the first.
        const r = ctx.shadowFault(c.exitAddress, c.exitErrorCode);
        if (r === 'code-write' && this.stepDepth < this.pageBefore.length) { open(c.exitAddress); exit = Exit.BUDGET; continue; }
        if (r === 'fill') { exit = Exit.BUDGET; continue; }
        break; // reflect/window: handled below through onException (it re-walks)
      }
    }
    while (this.stepDepth > first) {
      const k = --this.stepDepth;
      ctx.shadow.invalidate(this.stepLin[k], false);
      g.registry.afterGuestWrite(this.stepPage[k], this.pageBefore[k]);
    }
    if (exit === Exit.EXCEPTION) this.onException(ctx);
    else if (exit === Exit.INTERRUPT) this.deliverExternal(ctx);
  }

  /**
   * CLI/STI by the guest kernel (pushcli/popcli around every lock): the
   * second commonest exit. An unprefixed FA/FB at virtual CPL <= IOPL only
   * changes the virtual IF (the real IF stays 1, context.ts); anything
   * else (prefixes, TF, CPL > IOPL) takes the general path.
   */
  private fastCliSti(ctx: VcpuContext): boolean {
    const c = ctx.cpu, v = ctx.v;
    if (c.flags & TF || v.cpl > v.iopl) return false;
    const gpa = this.codeGpa(ctx, (c.segBase[CS] + c.eip) >>> 0);
    if (gpa < 0 || !this.guest.mem.isRam(gpa)) return false;
    const op = this.guest.mem.ram[gpa];
    if (op === 0xfa) {
      v.vflags &= ~IF;
      this.guest.stats.fastCli++;
    } else if (op === 0xfb) {
      if (!(v.vflags & IF)) v.interruptShadow = true; // SDM vol. 2, STI: one instruction before interrupts
      v.vflags |= IF;
      this.guest.stats.fastSti++;
    } else {
      return false;
    }
    c.eip = (c.eip + 1) >>> 0;
    c.instructionCount++;
    return true;
  }

  /**
   * IN/OUT by the guest kernel (UART polling, PIC, IDE status): they always
   * trap (real IOPL 0, no I/O bitmap in the real TSS) and go to the
   * guest's board here. Unprefixed forms at virtual CPL <= IOPL only (no
   * bitmap check needed, SDM vol. 1, 18.5.1) without decoding; anything
   * else takes the general path (emulate.ts portIo).
   */
  private fastPortIo(ctx: VcpuContext): boolean {
    const c = ctx.cpu, v = ctx.v, g = this.guest;
    if (c.flags & TF || v.cpl > v.iopl) return false;
    const gpa = this.codeGpa(ctx, (c.segBase[CS] + c.eip) >>> 0);
    if (gpa < 0 || (gpa & 0xfff) === 0xfff || !g.mem.isRam(gpa, 2)) return false;
    const op = g.mem.ram[gpa];
    if ((op & 0xf4) !== 0xe4) return false; // E4-E7, EC-EF
    const imm = op < 0xe8;
    const port = imm ? g.mem.ram[gpa + 1] : c.regs[2] & 0xffff;
    const size = op & 1 ? (c.cs32 ? 4 : 2) : 1;
    if (op & 2) { // out
      const val = c.regs[0];
      g.io.out(port, size, size === 1 ? val & 0xff : size === 2 ? val & 0xffff : val >>> 0);
      g.stats.fastOut++;
    } else {
      const val = g.io.in(port, size);
      if (size === 4) c.regs[0] = val;
      else if (size === 2) c.regs16[0] = val;
      else c.regs8[0] = val;
      g.stats.fastIn++;
    }
    c.eip = (c.eip + (imm ? 2 : 1)) >>> 0;
    c.instructionCount++;
    v.interruptShadow = false;
    return true;
  }

  /**
   * The commonest exit by far: a patched 32-bit near RET (patched only so
   * its target gets scanned; it is privilege-neutral). Pop and go without
   * decoding; any fault on the pop falls back to the general path, which
   * raises it precisely.
   */
  private fastRet(ctx: VcpuContext): boolean {
    const c = ctx.cpu;
    const esp = c.regs[4] >>> 0;
    let target: number;
    try {
      target = c.rd(4, SS, esp);
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      return false;
    }
    c.regs[4] = (esp + 4) | 0;
    c.eip = target >>> 0;
    c.instructionCount++;
    ctx.v.interruptShadow = false;
    this.guest.stats.fastRets++;
    return true;
  }

  /**
   * One step of guest user code with non-default virtual IF/IOPL: emulate
   * the instruction at EIP if it is PUSHF, POPF or IRET (true), otherwise
   * leave it to one native step (false).
   */
  private userFlagsStep(ctx: VcpuContext): boolean {
    const c = ctx.cpu;
    const i = this.decodeGuest(ctx, (c.segBase[CS] + c.eip) >>> 0);
    if (!i || (i.op !== 0x9c && i.op !== 0x9d && i.op !== 0xcf)) return false;
    this.guest.stats.bump(`emulate:${i.row?.mnem ?? i.op.toString(16)}(user)`);
    this.runEmulation(ctx, i);
    return true;
  }

  /**
   * A patched unprefixed 32-bit PUSHF (guest kernel: the real IF is always
   * 1, so it cannot run natively): push the guest-visible EFLAGS (virtual
   * IF/IOPL; VM and RF clear in the image, SDM vol. 2, PUSHF) without
   * decoding. A fault on the push falls back to the general path.
   */
  private fastPushf(ctx: VcpuContext): boolean {
    const c = ctx.cpu, v = ctx.v;
    const esp = (c.regs[4] - 4) >>> 0;
    try {
      c.wr(4, SS, esp, v.guestEflags(c.getEflags()) & ~(RF | VM));
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      return false;
    }
    c.regs[4] = esp | 0;
    c.eip = (c.eip + 1) >>> 0;
    c.instructionCount++;
    v.interruptShadow = false;
    this.guest.stats.fastPushf++;
    return true;
  }

  /**
   * A patched unprefixed 32-bit POPF: the popped IF/IOPL go to the
   * virtual flags under the virtual CPL/IOPL rules (popfMask), the rest to
   * the real CPU. A fault on the pop falls back to the general path.
   */
  private fastPopf(ctx: VcpuContext): boolean {
    const c = ctx.cpu, v = ctx.v;
    const esp = c.regs[4] >>> 0;
    let val: number;
    try {
      val = c.rd(4, SS, esp);
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      return false;
    }
    const mask = popfMask(4, v.cpl, v.iopl);
    ctx.eflags = (ctx.eflags & ~mask) | (val & mask) | 2;
    c.regs[4] = (esp + 4) | 0;
    c.eip = (c.eip + 1) >>> 0;
    c.instructionCount++;
    v.interruptShadow = false;
    this.guest.stats.fastPopf++;
    return true;
  }

  /**
   * A selector fault from the real CPU may only mean the shadow GDT/LDT is
   * older than the guest's table (the guest wrote a descriptor and loads it
   * without LGDT). Re-read the guest's tables; if anything changed, retry
   * the instruction, otherwise the fault is the guest's own.
   */
  private staleDescriptor(ctx: VcpuContext, err: number): boolean {
    if ((err & 0xfffc) === 0 || (err & 3) !== 0) return false; // not a plain selector error code
    if (!ctx.syncTables()) return false;
    this.guest.stats.bump('descriptor-resync');
    return true;
  }

  private runEmulation(ctx: VcpuContext, i: Insn): void {
    const c = ctx.cpu, v = ctx.v;
    const eip = c.eip, esp = c.regs[4];
    v.interruptShadow = false;
    ctx.guestPageFault = false;
    // TF at the start of an emulated instruction: single-step trap after it (SDM vol. 3, 17.3.1.4).
    const stepping = (c.getEflags() & TF) !== 0;
    let r: Emu;
    try {
      r = emulate(ctx, i);
    } catch (e) {
      if (!isCpuFault(e)) throw e;
      c.eip = eip; c.regs[4] = esp;
      if (FAULT.vector === PFV && !ctx.guestPageFault) {
        // The real CPU's access missed the shadow: fill it, then the instruction traps again.
        const r2 = ctx.shadowFault(c.cr2, FAULT.error);
        if (r2 === 'code-write') { this.stepCodeWrite(ctx, c.cr2, i); return; }
        if (r2 === 'reflect') this.reflectOrStop(ctx, PFV, KIND_EXCEPTION, ctx.walk.error, true);
        else if (r2 === 'window') this.stopGuest('guest touched the VMM window');
        return;
      }
      this.reflectOrStop(ctx, FAULT.vector, KIND_EXCEPTION, FAULT.error, FAULT.hasError);
      return;
    }
    switch (r) {
      case Emu.Next:
        c.instructionCount++;
        if (stepping) {
          v.dr[6] |= 0x4000;
          this.reflectOrStop(ctx, DBV, KIND_EXCEPTION, 0, false);
        }
        break;
      case Emu.Halt:
        c.instructionCount++;
        if (!(v.vif && ctx.source.hasInterrupt())) v.halted = true;
        break;
      case Emu.Reflect:
        if (pending.kind === KIND_SOFT) c.instructionCount++;
        this.reflectOrStop(ctx, pending.vector, pending.kind, pending.error, pending.hasError, eip);
        break;
      case Emu.Stop: this.stopGuest(`${pending.reason} (vCPU ${ctx.index}, eip ${(eip >>> 0).toString(16)})`); break;
      case Emu.Rerun: break;
    }
  }

  /**
   * A patched direct transfer trapped: scan its target(s) and fall-through;
   * once both are scanned the patch has done its job and the original
   * instruction goes back (it then runs natively).
   */
  private directTransfer(ctx: VcpuContext, i: Insn, gpa: number): void {
    const c = ctx.cpu, g = this.guest;
    const csBase = c.segBase[CS];
    const mask = i.os === 2 ? 0xffff : 0xffffffff;
    const fall = (c.eip + i.len) >>> 0;
    const target = ((fall + i.imm) & mask) >>> 0;
    const jmp = i.op === 0xeb || i.op === 0xe9;
    this.ensureScanned(ctx, (csBase + target) >>> 0);
    if (!jmp) this.ensureScanned(ctx, (csBase + fall) >>> 0);
    const tg = this.codeGpa(ctx, (csBase + target) >>> 0), fg = this.codeGpa(ctx, (csBase + fall) >>> 0);
    const done = tg >= 0 && g.registry.isScanned(tg) && (jmp || (fg >= 0 && g.registry.isScanned(fg)));
    const p = g.registry.get(gpa)!;
    g.registry.resolve(gpa);
    if (done) return; // resolved: the CPU re-runs the original
    // A target not scannable yet (unmapped): run the original once, keep the patch.
    const exit = c.run(1);
    g.registry.add(p.gpa, p.linear, p.length, p.reason, p.kind);
    g.registry.made--; // re-planting is not a new patch
    g.registry.resolved--;
    if (exit === Exit.EXCEPTION) this.onException(ctx);
  }

  // ---------------- scanning ----------------

  /** Guest-physical address of code at `lin` for the current virtual CPL, without side effects; -1 if unmapped. */
  private codeGpa(ctx: VcpuContext, lin: number): number {
    return walkGuest(this.guest.mem, ctx.v, lin, false, ctx.v.cpl === 3, false, this.dw) ? this.dw.gpa : -1;
  }

  private ensureScanned(ctx: VcpuContext, lin: number): void {
    const g = this.guest;
    const gpa = this.codeGpa(ctx, lin);
    if (gpa < 0 || !g.mem.isRam(gpa) || g.registry.isScanned(gpa)) return;
    scanBlock(lin, (l) => this.decodeGuest(ctx, l), (l) => {
      const a = this.codeGpa(ctx, l);
      return a >= 0 && g.mem.isRam(a) ? a : -1;
    }, g.registry, (page) => g.onNewCodePage(page));
    g.stats.blocksScanned++;
  }

  /** Decode the guest's *original* instruction at `lin` (patched bytes show their originals). */
  private decodeGuest(ctx: VcpuContext, lin: number): Insn | null {
    const g = this.guest;
    let page = -1, gbase = -1;
    const fetch = (k: number): number => {
      const a = (lin + k) >>> 0;
      if (a >>> 12 !== page) {
        page = a >>> 12;
        gbase = walkGuest(g.mem, ctx.v, a, false, ctx.v.cpl === 3, false, this.dw) ? (this.dw.gpa & ~0xfff) >>> 0 : -1;
      }
      if (gbase < 0) return -1;
      const gpa = gbase + (a & 0xfff);
      if (!g.mem.isRam(gpa)) return -1;
      const p = g.registry.get(gpa);
      return p ? p.original : g.mem.ram[gpa];
    };
    const i = this.insn;
    const len = decodeInto(fetch, ctx.cpu.cs32, i);
    if (len <= 0) return null;
    i.len = len;
    i.lin = lin;
    return i;
  }

  // ---------------- stats ----------------

  stats(): Record<string, unknown> {
    const g = this.guest, r = g.registry;
    let built = 0, flushed = 0;
    for (const vc of this.vcpus) { built += vc.shadow.stats.tablesBuilt; flushed += vc.shadow.stats.flushes; }
    return {
      exits: { ...g.stats.exits, 'patch:ret(fast)': g.stats.fastRets, 'emulate:cli(fast)': g.stats.fastCli, 'emulate:sti(fast)': g.stats.fastSti, 'patch:pushf(fast)': g.stats.fastPushf, 'emulate:in(fast)': g.stats.fastIn, 'emulate:out(fast)': g.stats.fastOut, 'patch:popf(fast)': g.stats.fastPopf, shadowPageFault: g.stats.shadowFaults },
      patches: { made: r.made, dropped: r.dropped, resolved: r.resolved, live: r.size },
      blocksScanned: g.stats.blocksScanned,
      shadowTables: { built, flushed },
      codePageFlushes: g.stats.codePageFlushes,
      realCpl0Instructions: g.stats.realCpl0Instructions,
      interpretedInstructions: this.vcpus.reduce((n, vc) => n + (vc.instructions - vc.cpu.instructionCount), 0),
      nativeInstructions: this.vcpus.reduce((n, vc) => n + vc.cpu.instructionCount, 0),
      stopped: g.stopped,
    };
  }
}

/** The factory the machine calls: one Monitor per guest. */
export function createVmmEngine(cfg: VmmGuestConfig): Monitor {
  return new Monitor(cfg);
}
