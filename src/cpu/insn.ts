// One decoded instruction, as cached in a block. Filled once by the
// decoder; the handler reads its fields on every execution.

import type { Cpu } from './cpu.js';
import type { OpRow } from './table.js';

export type Exec = (c: Cpu, i: Insn) => void;

/** Effective-address shapes chosen at decode time (operand.ts). */
export const EA_DISP = 0;          // [disp]
export const EA_BASE = 1;          // [base + disp]
export const EA_BASE_INDEX = 2;    // [base + index*scale + disp]
export const EA_INDEX = 3;         // [index*scale + disp]

export class Insn {
  exec: Exec = noop;
  /** The handler behind a breakpoint wrapper. */
  inner: Exec = noop;
  row: OpRow | null = null;
  /** Opcode: 0x00-0xff, or 0x100 | second byte for 0F xx. */
  op = 0;
  len = 0;
  /** Operand size in bytes (2/4) after 66h. */
  os = 4;
  /** Address size in bytes (2/4) after 67h. */
  as = 4;
  /** Operand width in bytes for this form (1 for b forms, else os). */
  w = 4;
  /** Segment used by the memory operand (default or override). */
  seg = 3;
  /** Segment override prefix, or -1. */
  segOvr = -1;
  /** 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
  rep = 0;
  lock = false;
  hasModrm = false;
  mod = 0;
  reg = 0;
  rm = 0;
  eaKind = 0;
  base = 0;
  index = 0;
  scale = 0;
  disp = 0;
  imm = 0;
  imm2 = 0;
  /** Linear address of the instruction when decoded (breakpoints, disassembly). */
  lin = 0;
  /**
   * In a decoded block: offset of the next instruction from the block's
   * first byte (its EIP after this one runs is the block's EIP + nextOff;
   * this one's is that minus len).
   */
  nextOff = 0;
}

function noop(): void {}
