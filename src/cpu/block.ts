// The decoded-code cache: straight-line blocks of decoded instructions
// keyed by the physical address of their first byte (and the code size).
// A block ends at a control transfer, at a page boundary or after
// MAX_BLOCK instructions. PhysMem.codePages marks pages we hold code from;
// a write there calls us back and the page's blocks are dropped, so
// self-modifying code and code loading just work.

import { CS, GP } from './arch.js';
import { BRK_FLOW, type Cpu } from './cpu.js';
import { decodeInto } from './decode.js';
import { fault } from './fault.js';
import { Insn } from './insn.js';
import { walk } from './mmu.js';
import { F_BRANCH } from './table.js';

const MAX_BLOCK = 32;

export class Block {
  readonly insns: Insn[] = [];
  n = 0;
  /** CS.D when decoded. */
  code32 = false;
  /** Linear address when decoded (breakpoints are linear). */
  lin = 0;
  /** Lives in the cache (false for the scratch block): may be linked. */
  cached = false;
  /** Two remembered successors (EIP -> block), valid while linkEpoch === tlb.epoch. */
  nextEip1 = -1; next1: Block | null = null;
  nextEip2 = -1; next2: Block | null = null;
  linkEpoch = -1;
}

/** Thrown-free internal signal: instruction at a breakpoint (interp.ts turns it into Exit.BREAKPOINT). */
export const BP_VECTOR = -1;

export class BlockCache {
  private readonly cpu: Cpu;
  /** Per physical RAM page: blocks by page offset. */
  private pages: Array<Array<Block | undefined> | undefined>;
  private readonly ramPages: number;
  /** A scratch block for code that cannot be cached (MMIO/ROM outside RAM, page-straddling first insn). */
  private readonly scratch = new Block();

  constructor(cpu: Cpu) {
    this.cpu = cpu;
    this.ramPages = cpu.mem.ramSize >>> 12;
    this.pages = new Array(this.ramPages);
    cpu.mem.onCodeWrite((page) => {
      if (this.pages[page] !== undefined) {
        this.pages[page] = undefined;
        cpu.brk |= BRK_FLOW; // the running block may be stale
        cpu.tlb.epoch++;     // and links to dropped blocks must not be followed
      }
    });
  }

  flushAll(): void {
    // codePages stays set: other CPUs sharing the PhysMem may still hold blocks there.
    this.pages = new Array(this.ramPages);
    this.cpu.tlb.epoch++;
  }

  /** The block starting at CS:EIP (may fault: #GP beyond CS limit, #PF on fetch). */
  lookup(): Block {
    const c = this.cpu;
    const eip = c.eip >>> 0;
    if (eip > c.segHi[CS]) fault(GP, 0);
    const lin = (c.segBase[CS] + eip) >>> 0;
    const e = c.tlb.entry[lin >>> 12];
    const phys = (e & c.accR) ? ((e & ~0xfff) | (lin & 0xfff)) >>> 0 : walk(c, lin, false, c.cpl === 3);
    const page = phys >>> 12;
    if (page < this.ramPages && !c.mem.isMmio(phys)) {
      let arr = this.pages[page];
      if (arr !== undefined) {
        const b = arr[phys & 0xfff];
        if (b !== undefined && b.code32 === c.cs32 && (c.breakpoints.size === 0 || b.lin === lin)) return b;
      } else {
        arr = this.pages[page] = new Array(4096);
      }
      const b = new Block();
      if (this.compile(b, lin, phys, true)) {
        b.cached = true;
        arr[phys & 0xfff] = b;
        c.mem.codePages[page] = 1;
        return b;
      }
      return b; // not cacheable (first instruction straddles a page)
    }
    this.compile(this.scratch, lin, phys, false);
    this.scratch.cached = false;
    return this.scratch;
  }

  /** Decode into `b`; returns true if the block lies within one RAM page (cacheable). */
  private compile(b: Block, lin: number, phys: number, ram: boolean): boolean {
    const c = this.cpu;
    b.n = 0; b.code32 = c.cs32; b.lin = lin;
    const mem = c.mem;
    const pageBase = phys & ~0xfff;
    let off = phys & 0xfff;
    let eip = c.eip >>> 0;
    const limit = c.segHi[CS];
    let cacheable = true;
    for (;;) {
      const start = off;
      // Bytes inside this page come straight from memory; beyond it only for a first instruction.
      const fetchIn = (k: number): number => {
        const o = start + k;
        if (eip + k > limit) return -1;
        if (o < 4096) return ram ? mem.ram[pageBase + o] : mem.read8(pageBase + o);
        return -1;
      };
      let i = b.insns[b.n];
      if (i === undefined) { i = new Insn(); b.insns[b.n] = i; }
      let len = decodeInto(fetchIn, c.cs32, i);
      if (len === 0) {
        if (b.n > 0) break; // finish the block before the straddling/limit-crossing instruction
        // First instruction: fetch across the page (may #PF on the next page) or hit the CS limit.
        const linStart = (lin + start - (phys & 0xfff)) >>> 0;
        const fetchX = (k: number): number => {
          if (eip + k > limit) return -1;
          const l = (linStart + k) >>> 0;
          return mem.read8(walk(c, l, false, c.cpl === 3));
        };
        len = decodeInto(fetchX, c.cs32, i);
        if (len === 0) fault(GP, 0); // runs past the CS limit
        cacheable = false;
      }
      i.lin = (lin + (start - (phys & 0xfff))) >>> 0;
      i.nextOff = start - (phys & 0xfff) + len;
      i.inner = i.exec;
      if (c.breakpoints.size !== 0 && c.breakpoints.has(i.lin)) i.exec = breakpointExec;
      b.n++;
      off += len;
      eip += len;
      if (!cacheable || (i.row!.flags & F_BRANCH) || b.n >= MAX_BLOCK || off >= 4096) break;
    }
    return cacheable && ram;
  }
}

/** Wrapper planted on an instruction at a breakpoint: exits before it runs, unless resuming from it. */
function breakpointExec(c: Cpu, i: Insn): void {
  if (c.bpSkipEip === ((c.eip - i.len) >>> 0)) { // c.eip is already the next instruction's
    c.bpSkipEip = -1;
    i.inner(c, i);
    return;
  }
  c.exitAddress = i.lin;
  c.pendingBreakpoint = true;
  fault(BP_VECTOR, 0);
}
