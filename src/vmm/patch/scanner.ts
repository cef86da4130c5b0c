// The run-time code scanner of the INT 3 patching scheme (lecture notes,
// "binary patching with INT 3"; Robin & Irvine 2000 for the list of x86
// instructions that are sensitive but do not trap at CPL 3). Guest kernel
// code is scanned, when it is about to run at virtual CPL 0, from the
// address execution reached to the first control transfer: each sensitive
// instruction and that transfer are replaced by INT 3, recorded in the
// registry. Decoding uses the CPU's one opcode table (its F_SENSITIVE /
// F_BRANCH / F_PRIV flags), never a second one.

import { F_BRANCH, F_IOPL, F_PRIV, F_SENSITIVE } from '../../cpu/table.js';
import type { Insn } from '../../cpu/insn.js';
import type { PatchRegistry } from './registry.js';

/** What the scanner needs of a decoded instruction (the CPU's Insn). */
export type ScanInsn = Pick<Insn, 'op' | 'len' | 'reg' | 'mod' | 'row'>;

/** Decode at a guest-linear address (null: cannot decode there: unmapped or #UD). */
export type ScanDecode = (lin: number) => ScanInsn | null;
/** Guest-linear -> guest-physical for code, or -1 if it would fault. */
export type ScanTranslate = (lin: number) => number;

export const enum Verdict {
  /** Runs natively at CPL 3 exactly as at CPL 0. */
  Native = 0,
  /** Sensitive, does not trap: patch and emulate, the block goes on. */
  Sensitive = 1,
  /** Control transfer with a target known from its bytes (jmp/jcc/call rel, loop, jcxz). */
  Direct = 2,
  /** Any other control transfer: patch; the target is known only when it runs. */
  Indirect = 3,
  /** Ends the block but traps by itself at CPL 3 (hlt, mov cr, lmsw, ud2...): no patch. */
  EndTrapping = 4,
}

const isDirect = (op: number): boolean =>
  (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || (op >= 0xe0 && op <= 0xe3) || op === 0xe8 || op === 0xe9 || op === 0xeb;

/**
 * Classify one decoded instruction for a guest running at virtual CPL 0
 * but real CPL 3. Table flags first; the few rows whose sensitivity
 * depends on ModRM (MOV Ev,Sw reads of CS/SS) or that the table does not
 * flag (PUSH SS) are refined here.
 */
export function classify(i: ScanInsn): Verdict {
  const row = i.row;
  if (!row || row.op < 0) return Verdict.EndTrapping; // undefined opcode: #UD when it runs
  const f = row.flags;
  const op = i.op;
  if (f & F_BRANCH) {
    if (f & F_PRIV) return Verdict.EndTrapping; // hlt, lmsw, mov to CRn: #GP at CPL 3
    if (op === 0x10b) return Verdict.EndTrapping; // ud2: #UD anyway
    if (op === 0x9d) return Verdict.Sensitive; // popf: patched; the block may go on after it
    return isDirect(op) ? Verdict.Direct : Verdict.Indirect;
  }
  if (op === 0x8c) return i.reg === 1 || i.reg === 2 ? Verdict.Sensitive : Verdict.Native; // mov Ev,CS/SS: RPL 3 visible
  if (op === 0x16) return Verdict.Sensitive; // push ss: RPL 3 visible
  if (f & F_SENSITIVE) {
    if (f & (F_IOPL | F_PRIV)) return Verdict.Native; // cli/sti/in/out: #GP at CPL 3 > IOPL 0 already
    return Verdict.Sensitive;
  }
  return Verdict.Native;
}

export interface ScanResult {
  instructions: number;
  patched: number;
  /** The block ended joining already-scanned code or at a transfer. */
  end: 'transfer' | 'joined' | 'undecodable' | 'limit';
}

/** Longest block scanned in one go (then it continues on the next trap). */
export const MAX_BLOCK = 512;

/**
 * Scan from guest-linear `lin` to the first control transfer, patching as
 * it goes. `onNewCodePage(page)` is called when a guest page gets its
 * first scanned instruction (the VMM must then write-protect it).
 */
export function scanBlock(
  lin: number, decode: ScanDecode, translate: ScanTranslate, reg: PatchRegistry, onNewCodePage: (page: number) => void,
): ScanResult {
  const res: ScanResult = { instructions: 0, patched: 0, end: 'limit' };
  for (let n = 0; n < MAX_BLOCK; n++) {
    const gpa = translate(lin);
    if (gpa < 0) { res.end = 'undecodable'; return res; }
    if (reg.isScanned(gpa)) { res.end = 'joined'; return res; }
    const i = decode(lin);
    if (!i || i.len <= 0) { res.end = 'undecodable'; return res; }
    const page = gpa >>> 12;
    if (!reg.isCodePage(page)) onNewCodePage(page);
    reg.markScanned(gpa, i.len);
    // An instruction straddling a page: its second page holds code too.
    const lastGpa = translate((lin + i.len - 1) >>> 0);
    if (lastGpa >= 0 && lastGpa >>> 12 !== page && !reg.isCodePage(lastGpa >>> 12)) {
      onNewCodePage(lastGpa >>> 12);
      reg.markCodePage(lastGpa >>> 12);
    }
    res.instructions++;
    const verdict = classify(i);
    const mnem = i.row ? i.row.mnem : '?';
    if (verdict === Verdict.Sensitive) {
      if (reg.add(gpa, lin, i.len, mnem, 'sensitive')) res.patched++;
    } else if (verdict === Verdict.Direct || verdict === Verdict.Indirect) {
      if (reg.add(gpa, lin, i.len, mnem, 'transfer')) res.patched++;
      res.end = 'transfer';
      return res;
    } else if (verdict === Verdict.EndTrapping) {
      res.end = 'transfer';
      return res;
    }
    lin = (lin + i.len) >>> 0;
  }
  return res;
}
