// Trap and emulate: the instructions that reach the VMM — privileged ones
// that #GP at real CPL 3, and sensitive ones the scanner replaced by INT 3
// — applied to the vCPU's virtual state (lecture notes, "From emulator to
// trap-and-emulate"; SDM vol. 2 for each instruction's semantics).
// Operands are read and written through the real CPU (same segments and
// addresses the guest's instruction would use); a CpuFault thrown from
// here means the instruction itself faulted, and the caller rewinds.

import {
  AF, CF, CR0_ET, CR0_MP, CR0_EM, CR0_NE, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_PSE, CS, DF, ES, GP, IF, MSR_APIC_BASE, MSR_TSC,
  NT, OF, PF, SF, SS, SSV, TF, UD, ZF, AC, ID, RF, VM, NP, DS,
} from '../cpu/arch.js';
import { fault, faultNoCode } from '../cpu/fault.js';
import type { Insn } from '../cpu/insn.js';
import { ea, getReg, readEw, setReg } from '../cpu/operand.js';
import { descAttr, descLimit, type VcpuContext } from './context.js';
import { guestFarTransfer } from './far-transfer.js';
import { guestIret, guestRetFar, KIND_EXCEPTION, KIND_SOFT } from './reflect.js';

/** What the monitor does after an emulation. */
export const enum Emu {
  /** Done; EIP is at the next instruction (or the transfer target). */
  Next = 0,
  /** Reflect `ctx.pending*` into the guest (a soft interrupt, or a #GP hardware would raise). */
  Reflect = 1,
  /** HLT: the vCPU waits for an interrupt. */
  Halt = 2,
  /** Unsupported by this VMM: stop the guest (`ctx.stopReason`). */
  Stop = 3,
  /** A direct transfer was resolved; re-run the original instruction. */
  Rerun = 4,
}

/** The event an emulation asks the monitor to deliver. */
export const pending = { vector: 0, kind: 0, error: 0, hasError: false, reason: '' };

function reflectGp(error: number): Emu {
  pending.vector = GP; pending.kind = KIND_EXCEPTION; pending.error = error; pending.hasError = true;
  return Emu.Reflect;
}
function softInt(vector: number): Emu {
  pending.vector = vector; pending.kind = KIND_SOFT; pending.error = 0; pending.hasError = false;
  return Emu.Reflect;
}
function stop(reason: string): Emu {
  pending.reason = reason;
  return Emu.Stop;
}

const POPF_BASE = CF | PF | AF | ZF | SF | TF | DF | OF | NT;

/**
 * The EFLAGS bits POPF of operand size `os` may change at CPL `cpl` with
 * IOPL `iopl` (SDM vol. 2, POPF: IOPL only at CPL 0, IF only at
 * CPL <= IOPL, VM/RF/VIP/VIF never in protected mode).
 */
export function popfMask(os: number, cpl: number, iopl: number): number {
  let mask = POPF_BASE;
  if (os === 4) mask |= AC | ID;
  if (cpl === 0) mask |= 0x3000;
  if (cpl <= iopl) mask |= IF;
  if (os === 2) mask &= 0xffff;
  return mask;
}

/**
 * Emulate instruction `i` (decoded from the guest's original bytes) at the
 * current EIP. On Next, EIP has been advanced/transferred.
 */
export function emulate(ctx: VcpuContext, i: Insn): Emu {
  const c = ctx.cpu, v = ctx.v;
  const next = (c.eip + i.len) >>> 0;
  const op = i.op;
  const cpl = v.cpl;
  switch (op) {
    // ---- interrupt flag (SDM vol. 2, CLI/STI: #GP(0) if CPL > IOPL) ----
    // Only the virtual IF changes; the real IF stays 1 (context.ts realFlags).
    case 0xfa:
      if (cpl > v.iopl) return reflectGp(0);
      v.vflags &= ~IF;
      break;
    case 0xfb:
      if (cpl > v.iopl) return reflectGp(0);
      if (!(v.vflags & IF)) v.interruptShadow = true;
      v.vflags |= IF;
      break;
    case 0xf4: // hlt
      if (cpl > 0) return reflectGp(0);
      c.eip = next;
      return Emu.Halt;
    // ---- flags ----
    case 0x9c: // pushf: the guest-visible EFLAGS (VM, RF cleared in the image)
      c.push(i.os, ctx.eflags & ~(RF | VM));
      break;
    case 0x9d: { // popf with the virtual CPL/IOPL rules
      const val = c.pop(i.os);
      const cur = ctx.eflags;
      const mask = popfMask(i.os, cpl, v.iopl);
      ctx.eflags = (cur & ~mask) | (val & mask) | 2;
      break;
    }
    // ---- segment registers that show the CPL ----
    case 0x0e: c.push(i.os, v.csSel); break;
    case 0x16: c.push(i.os, v.ssSel); break;
    case 0x8c: {
      const sel = i.reg === CS ? v.csSel : i.reg === SS ? v.ssSel : c.segSel[i.reg];
      if (i.reg > 5) faultNoCode(UD);
      if (i.mod === 3) setReg(c, i.os, i.rm, sel); else c.wr16(i.seg, ea(c, i), sel);
      break;
    }
    case 0x8e: // mov Sw,Ew: only SS (RPL 0 != CPL 3) reaches the VMM
      if (i.reg !== SS) return stop('unexpected #GP on a segment load');
      loadGuestSs(ctx, readEw(c, i, 2));
      v.interruptShadow = true;
      break;
    case 0x17: { // pop ss
      const sp = c.ss32 ? c.regs[4] >>> 0 : c.regs[4] & 0xffff;
      const sel = c.rd(i.os === 4 ? 4 : 2, SS, sp) & 0xffff;
      loadGuestSs(ctx, sel);
      if (c.ss32) c.regs[4] = sp + i.os; else c.regs16[8] = (sp + i.os) & 0xffff;
      v.interruptShadow = true;
      break;
    }
    case 0x1b2: { // lss
      const off = ea(c, i);
      const o = c.rd(i.os, i.seg, off);
      const sel = c.rd(2, i.seg, (off + i.os) >>> 0);
      loadGuestSs(ctx, sel);
      setReg(c, i.os, i.reg, o);
      break;
    }
    // ---- descriptor tables (0F 00 / 0F 01 groups) ----
    case 0x101:
      switch (i.reg) {
        case 0: case 1: { // sgdt / sidt
          const off = ea(c, i);
          const limit = i.reg === 0 ? v.gdtrLimit : v.idtrLimit;
          let base = i.reg === 0 ? v.gdtrBase : v.idtrBase;
          if (i.os === 2) base &= 0xffffff;
          c.wr16(i.seg, off, limit);
          c.wr32(i.seg, (off + 2) >>> 0, base);
          break;
        }
        case 2: case 3: { // lgdt / lidt
          if (cpl > 0) return reflectGp(0);
          const off = ea(c, i);
          const limit = c.rd16(i.seg, off);
          let base = c.rd32(i.seg, (off + 2) >>> 0) >>> 0;
          if (i.os === 2) base &= 0xffffff;
          if (i.reg === 2) { v.gdtrBase = base; v.gdtrLimit = limit; ctx.syncTables(); }
          else { v.idtrBase = base; v.idtrLimit = limit; }
          break;
        }
        case 4: // smsw
          if (i.mod === 3) setReg(c, i.os, i.rm, i.os === 4 ? v.cr0 : v.cr0 & 0xffff);
          else c.wr16(i.seg, ea(c, i), v.cr0 & 0xffff);
          break;
        case 6: { // lmsw: PE can be set, never cleared (SDM vol. 2, LMSW)
          if (cpl > 0) return reflectGp(0);
          const val = readEw(c, i, 2);
          setCr0(ctx, ((v.cr0 & ~0xe) | (val & 0xf) | (v.cr0 & CR0_PE)) >>> 0);
          break;
        }
        case 7: { // invlpg
          if (cpl > 0) return reflectGp(0);
          if (i.mod === 3) faultNoCode(UD);
          const lin = (c.segBase[i.seg] + ea(c, i)) >>> 0;
          ctx.shadow.invalidate(lin, (v.cr4 & CR4_PSE) !== 0);
          break;
        }
        default: return stop(`unexpected trap on 0f 01 /${i.reg}`);
      }
      break;
    case 0x100:
      switch (i.reg) {
        case 0: case 1: { // sldt / str
          const sel = i.reg === 0 ? v.ldtrSel : v.trSel;
          if (i.mod === 3) setReg(c, i.os, i.rm, sel); else c.wr16(i.seg, ea(c, i), sel);
          break;
        }
        case 2: if (cpl > 0) return reflectGp(0); lldt(ctx, readEw(c, i, 2)); break;
        case 3: if (cpl > 0) return reflectGp(0); ltr(ctx, readEw(c, i, 2)); break;
        case 4: case 5: verrw(ctx, readEw(c, i, 2), i.reg === 5); break;
        default: return stop(`unexpected trap on 0f 00 /${i.reg}`);
      }
      break;
    case 0x102: case 0x103: larLsl(ctx, i, op === 0x103); break;
    // ---- control and debug registers ----
    case 0x120: case 0x122: case 0x121: case 0x123:
      if (cpl > 0) return reflectGp(0);
      if (op === 0x120) setReg(c, 4, i.rm, readCr(ctx, i.reg));
      else if (op === 0x121) setReg(c, 4, i.rm, v.dr[i.reg]);
      else if (op === 0x123) v.dr[i.reg] = getReg(c, 4, i.rm);
      else {
        const r = writeCr(ctx, i.reg, getReg(c, 4, i.rm) >>> 0);
        if (r !== Emu.Next) return r;
      }
      break;
    case 0x106: // clts
      if (cpl > 0) return reflectGp(0);
      setCr0(ctx, v.cr0 & ~CR0_TS);
      break;
    case 0x108: case 0x109: // invd, wbinvd: no caches to manage
      if (cpl > 0) return reflectGp(0);
      break;
    case 0x130: case 0x132: { // wrmsr / rdmsr (SDM vol. 4)
      if (cpl > 0) return reflectGp(0);
      const msr = c.regs[1] >>> 0;
      if (op === 0x132) {
        let val = 0, hi = 0;
        if (msr === MSR_TSC) { const t = c.instructionCount + v.tscOffset; val = t % 2 ** 32; hi = Math.floor(t / 2 ** 32); }
        else if (msr === MSR_APIC_BASE) val = v.apicBase;
        else return reflectGp(0);
        c.regs[0] = val; c.regs[2] = hi;
      } else {
        const val = (c.regs[0] >>> 0) + (c.regs[2] >>> 0) * 2 ** 32;
        if (msr === MSR_TSC) v.tscOffset = val - c.instructionCount;
        else if (msr === MSR_APIC_BASE) v.apicBase = c.regs[0] >>> 0;
        else return reflectGp(0);
      }
      break;
    }
    // ---- I/O on the guest's own bus ----
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef:
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
      return portIo(ctx, i, next);
    // ---- software interrupts and far transfers ----
    case 0xcd: c.eip = next; return softInt(i.imm & 0xff);
    case 0xcc: c.eip = next; return softInt(3);
    case 0xce:
      if (!(c.getEflags() & OF)) break;
      c.eip = next; return softInt(4);
    case 0xf1: c.eip = next; pending.vector = 1; pending.kind = KIND_EXCEPTION; pending.hasError = false; return Emu.Reflect;
    case 0xcf: c.eip = next; guestIret(ctx, i.os); return Emu.Next;
    case 0xca: case 0xcb: c.eip = next; guestRetFar(ctx, i.os, op === 0xca ? i.imm & 0xffff : 0); return Emu.Next;
    case 0xc2: case 0xc3: { // near ret: privilege-neutral, emulated so its target gets scanned
      const ip = c.pop(i.os);
      if (op === 0xc2) c.addSp(i.imm & 0xffff);
      c.eip = i.os === 2 ? ip & 0xffff : ip >>> 0;
      return Emu.Next;
    }
    case 0x9a: case 0xea: {
      c.eip = next;
      guestFarTransfer(ctx, i.imm2 & 0xffff, i.imm >>> 0, i.os, op === 0x9a, next);
      return Emu.Next;
    }
    case 0xff: {
      const off = ea(c, i);
      if (i.reg === 2 || i.reg === 4) {
        const t = i.mod === 3 ? getReg(c, i.os, i.rm) : c.rd(i.os, i.seg, off);
        if (i.reg === 2) c.push(i.os, next);
        c.eip = i.os === 2 ? t & 0xffff : t >>> 0;
        return Emu.Next;
      }
      if (i.mod === 3) faultNoCode(UD);
      const o = c.rd(i.os, i.seg, off);
      const sel = c.rd(2, i.seg, (off + i.os) >>> 0);
      c.eip = next;
      guestFarTransfer(ctx, sel, o, i.os, i.reg === 3, next);
      return Emu.Next;
    }
    default:
      return stop(`no emulation for opcode ${op.toString(16)} (${i.row?.mnem ?? '?'})`);
  }
  c.eip = next;
  return Emu.Next;
}

function readCr(ctx: VcpuContext, n: number): number {
  const v = ctx.v;
  switch (n) {
    case 0: return v.cr0;
    case 2: return v.cr2;
    case 3: return v.cr3;
    case 4: return v.cr4;
    default: return faultNoCode(UD);
  }
}

function writeCr(ctx: VcpuContext, n: number, val: number): Emu {
  const v = ctx.v;
  switch (n) {
    case 0:
      if ((val & CR0_PG) && !(val & CR0_PE)) return reflectGp(0);
      if (!(val & CR0_PE)) {
        // Back to real mode: record it; the monitor moves the vCPU to the interpreter next.
        ctx.v.cr0 = (val | CR0_ET) >>> 0;
        ctx.flushShadow();
        return Emu.Next;
      }
      setCr0(ctx, val);
      return Emu.Next;
    case 2: v.cr2 = val; return Emu.Next;
    case 3: v.cr3 = val; ctx.flushShadow(); return Emu.Next;
    case 4:
      if (val & ~0x9f) return reflectGp(0); // VME PVI TSD DE PSE PGE only (no PAE/MCE here)
      if ((val ^ v.cr4) & (CR4_PSE | 0x80)) ctx.flushShadow();
      v.cr4 = val;
      return Emu.Next;
    default: return faultNoCode(UD);
  }
}

function setCr0(ctx: VcpuContext, val: number): void {
  const v = ctx.v;
  val = (val | CR0_ET) >>> 0;
  const changed = val ^ v.cr0;
  v.cr0 = val;
  if (changed & (CR0_PG | CR0_WP | CR0_PE)) ctx.flushShadow();
  if (changed & (CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_PG | CR0_PE)) ctx.applyReal();
}

/** Load SS for the guest (MOV/POP SS, LSS): SDM vol. 2, MOV "IF SS is loaded". */
function loadGuestSs(ctx: VcpuContext, sel: number): void {
  const v = ctx.v;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (!ctx.readDescriptor(sel)) fault(GP, idx);
  const attr = descAttr(ctx.descHi), dpl = (ctx.descHi >>> 13) & 3;
  if ((sel & 3) !== v.cpl || dpl !== v.cpl || (attr & 0x1a) !== 0x12) fault(GP, idx);
  if (!(attr & 0x80)) fault(SSV, idx);
  ctx.markAccessed(sel);
  ctx.loadSs(sel);
}

function lldt(ctx: VcpuContext, sel: number): void {
  const v = ctx.v;
  if ((sel & 0xfffc) === 0) {
    v.ldtrSel = 0; v.ldtrBase = 0; v.ldtrLimit = 0; v.ldtrAttr = 0;
    ctx.syncTables();
    return;
  }
  const idx = sel & 0xfffc;
  if (sel & 4) fault(GP, idx);
  if (!ctx.readDescriptor(sel)) fault(GP, idx);
  const attr = descAttr(ctx.descHi);
  if ((attr & 0x1f) !== 0x02) fault(GP, idx);
  if (!(attr & 0x80)) fault(NP, idx);
  v.ldtrSel = sel; v.ldtrBase = baseOf(ctx); v.ldtrLimit = descLimit(ctx.descLo, ctx.descHi); v.ldtrAttr = attr;
  ctx.syncTables();
}

function ltr(ctx: VcpuContext, sel: number): void {
  const v = ctx.v;
  const idx = sel & 0xfffc;
  if (idx === 0) fault(GP, 0);
  if (sel & 4) fault(GP, idx);
  if (!ctx.readDescriptor(sel)) fault(GP, idx);
  const attr = descAttr(ctx.descHi);
  if ((attr & 0x1f) !== 0x09 && (attr & 0x1f) !== 0x01) fault(GP, idx);
  if (!(attr & 0x80)) fault(NP, idx);
  // Mark the guest's TSS descriptor busy, as hardware does (SDM vol. 3, 7.2.4).
  ctx.write((v.gdtrBase + (sel & ~7) + 5) >>> 0, 1, ((ctx.descHi >>> 8) | 2) & 0xff, false);
  v.trSel = sel; v.trBase = baseOf(ctx); v.trLimit = descLimit(ctx.descLo, ctx.descHi); v.trAttr = attr | 2;
  ctx.syncTables();
}

function baseOf(ctx: VcpuContext): number {
  const lo = ctx.descLo, hi = ctx.descHi;
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

function setZf(ctx: VcpuContext, on: boolean): void {
  const c = ctx.cpu;
  const f = c.getEflags();
  c.setEflags(on ? f | ZF : f & ~ZF);
}

/** Is `sel` usable at the virtual CPL for LAR/LSL/VERR/VERW (SDM vol. 2, LAR)? Leaves the descriptor in ctx. */
function visible(ctx: VcpuContext, sel: number): boolean {
  if ((sel & 0xfffc) === 0) return false;
  if (!ctx.readDescriptor(sel)) return false;
  const attr = descAttr(ctx.descHi), dpl = (ctx.descHi >>> 13) & 3;
  const conformingCode = (attr & 0x1c) === 0x1c;
  return conformingCode || (dpl >= ctx.v.cpl && dpl >= (sel & 3));
}

function larLsl(ctx: VcpuContext, i: Insn, lsl: boolean): void {
  const c = ctx.cpu;
  const sel = readEw(c, i, 2);
  let ok = visible(ctx, sel);
  if (ok && !(ctx.descHi & 0x1000)) {
    const t = (ctx.descHi >>> 8) & 0xf;
    // System types LAR/LSL accept (SDM vol. 2, tables in LAR and LSL).
    ok = lsl ? [1, 2, 3, 9, 0xb].includes(t) : [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(t);
  }
  setZf(ctx, ok);
  if (!ok) return;
  const val = lsl ? descLimit(ctx.descLo, ctx.descHi) : ctx.descHi & 0x00ffff00;
  setReg(c, i.os, i.reg, i.os === 2 ? val & 0xffff : val);
}

function verrw(ctx: VcpuContext, sel: number, write: boolean): void {
  let ok = visible(ctx, sel);
  if (ok) {
    const attr = descAttr(ctx.descHi);
    if (!(attr & 0x10)) ok = false;
    else if (write) ok = (attr & 0x0a) === 0x02;
    else ok = !(attr & 0x08) || (attr & 0x02) !== 0;
  }
  setZf(ctx, ok);
}

/**
 * IN/OUT/INS/OUTS on the guest's bus, with the IOPL / TSS I/O bitmap check
 * (SDM vol. 1, 18.5). They always trap: the real IOPL is 0 and the real
 * TSS has no I/O bitmap (context.ts), and the real CPU's own port bus is
 * empty; this is the only way to the guest's devices.
 */
function portIo(ctx: VcpuContext, i: Insn, next: number): Emu {
  const c = ctx.cpu, v = ctx.v;
  const op = i.op;
  const size = (op & 1) === 0 ? 1 : i.os;
  const port = op === 0xe4 || op === 0xe5 || op === 0xe6 || op === 0xe7 ? i.imm & 0xff : c.regs[2] & 0xffff;
  if (v.cpl > v.iopl && !ioAllowed(ctx, port, size)) return reflectGp(0);
  const io = ctx.g.io;
  const sz = size as 1 | 2 | 4;
  if (op === 0xe4 || op === 0xe5 || op === 0xec || op === 0xed) {
    setReg(c, size, 0, io.in(port, sz));
  } else if (op === 0xe6 || op === 0xe7 || op === 0xee || op === 0xef) {
    io.out(port, sz, getReg(c, size, 0));
  } else {
    return stringIo(ctx, i, port, sz, next);
  }
  c.eip = next;
  return Emu.Next;
}

/**
 * Elements one INS/OUTS exit moves at most; the rest of a REP runs on the
 * next trap (REP string instructions are interruptible between elements,
 * SDM vol. 2, REP), so a huge ECX never stalls the process.
 */
export const MAX_STRING_IO = 1 << 16;

/**
 * INS/OUTS (with REP): a whole run in one exit. Guest memory is reached
 * through the guest's own page tables (ctx.translate: A/D bits, #PF with
 * the guest's CR2 and error code), once per page; the destination of INS
 * is translated before the port is read, so a fault never loses device
 * data. ESI/EDI and ECX are committed element by element, so a fault in
 * the middle leaves the registers as hardware would (the instruction
 * restarts with the remaining count).
 */
function stringIo(ctx: VcpuContext, i: Insn, port: number, size: 1 | 2 | 4, next: number): Emu {
  const c = ctx.cpu, g = ctx.g, mem = g.mem, io = g.io;
  const ins = i.op === 0x6c || i.op === 0x6d;
  const a32 = i.as === 4;
  const amask = a32 ? 0xffffffff : 0xffff;
  const idx = ins ? 7 : 6;
  const seg = ins ? ES : i.segOvr >= 0 ? i.segOvr : DS;
  const step = c.getEflags() & DF ? -size : size;
  const user = ctx.v.cpl === 3;
  const rep = i.rep !== 0;
  let count = rep ? (a32 ? c.regs[1] >>> 0 : c.regs16[2]) : 1;
  if (count === 0) { c.eip = next; return Emu.Next; }
  // Segment checks (SDM vol. 3, 5.3): INS writes ES, OUTS reads DS or the override.
  if (ins ? !c.segW[seg] : !c.segR[seg]) fault(seg === SS ? SSV : GP, 0);
  const lo = c.segLo[seg], hi = c.segHi[seg], base = c.segBase[seg];
  let n = count < MAX_STRING_IO ? count : MAX_STRING_IO;
  let off = ((c.regs[idx] & amask) >>> 0);
  let linPage = -1, gpaPage = 0;
  while (n > 0) {
    if (off < lo || off + size - 1 > hi) fault(seg === SS ? SSV : GP, 0);
    const lin = (base + off) >>> 0;
    if ((lin & 0xfff) + size > 0x1000) {
      // An element straddling two pages: both translated before the port is touched.
      if (ins) {
        ctx.translate(lin, true, user);
        ctx.translate((lin + size - 1) >>> 0, true, user);
        ctx.write(lin, size, io.in(port, size), user);
      } else {
        io.out(port, size, ctx.read(lin, size, user));
      }
    } else {
      if (lin >>> 12 !== linPage) {
        gpaPage = (ctx.translate(lin, ins, user) & ~0xfff) >>> 0;
        linPage = lin >>> 12;
      }
      const gpa = (gpaPage | (lin & 0xfff)) >>> 0;
      if (ins) {
        const val = io.in(port, size);
        g.beforeGuestWrite(gpa, size);
        if (size === 1) mem.write8(gpa, val); else if (size === 2) mem.write16(gpa, val); else mem.write32(gpa, val);
      } else {
        io.out(port, size, size === 1 ? mem.read8(gpa) : size === 2 ? mem.read16(gpa) : mem.read32(gpa));
      }
    }
    off = ((off + step) & amask) >>> 0;
    if (a32) c.regs[idx] = off; else c.regs16[idx << 1] = off;
    n--;
    if (rep) {
      count--;
      if (a32) c.regs[1] = count; else c.regs16[2] = count;
    }
  }
  if (rep && count !== 0) return Emu.Rerun; // the rest on the next trap (EIP still at the instruction)
  c.eip = next;
  return Emu.Next;
}

/** The guest TSS's I/O permission bitmap (SDM vol. 1, 18.5.2). */
function ioAllowed(ctx: VcpuContext, port: number, size: number): boolean {
  const v = ctx.v;
  if (!(v.trSel & 0xfffc) || (v.trAttr & 0xf) !== 0xb || v.trLimit < 0x67) return false;
  try {
    const mapBase = ctx.read((v.trBase + 0x66) >>> 0, 2, false);
    const byte = mapBase + (port >>> 3);
    if (byte + 1 > v.trLimit) return false;
    const bits = ctx.read((v.trBase + byte) >>> 0, 2, false);
    const mask = ((1 << size) - 1) << (port & 7);
    return (bits & mask) === 0;
  } catch {
    return false;
  }
}
