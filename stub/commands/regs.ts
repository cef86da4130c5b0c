// Registers: g/G (all, in target.xml order) and p/P (one, by gdb number).
// Values are the target's virtual state; the x87 block is the stub's own
// (reads 0, writes ignored — see arch-i386.ts).

import type { GdbSession, Reply } from '../session.js';
import { GDB_REGS, G_OFFSETS, G_PACKET_BYTES, encodeAllRegs, encodeReg } from '../arch-i386.js';
import { parseHexLE, parseHexU32 } from '../hex.js';

function readAll(s: GdbSession): ArrayLike<number | undefined> {
  return s.target.readRegisters(s.gThread);
}

/** Write one gdb register from hex at body[off..]; true if ok or ignored. */
function writeOne(s: GdbSession, regnum: number, text: string, off: number, current: ArrayLike<number | undefined>): boolean {
  const r = GDB_REGS[regnum];
  if (r.reg === undefined) return true; // stub-owned x87: writes ignored
  const v = parseHexLE(text, off, r.bits / 8);
  if (v === null) return true; // 'xx' = gdb has no value for it: leave alone
  if (current[r.reg] === v) return true; // G resends everything; only real changes reach the target
  return s.target.writeRegister(s.gThread, r.reg, v);
}

export function handleRegs(s: GdbSession, body: string): Reply {
  switch (body[0]) {
    case 'g':
      if (body.length !== 1) return 'E16';
      return encodeAllRegs(readAll(s));
    case 'G': {
      const hex = body.slice(1);
      if (hex.length > G_PACKET_BYTES * 2 || (hex.length & 1) !== 0) return 'E16';
      // Hex digits, or 'x' for "no value" (gdb echoes back what it could not read).
      if (!/^[0-9a-fA-Fx]*$/.test(hex)) return 'E16';
      const current = readAll(s);
      let ok = true;
      for (let i = 0; i < GDB_REGS.length; i++) {
        const end = (G_OFFSETS[i] + GDB_REGS[i].bits / 8) * 2;
        if (end > hex.length) break; // a short G leaves the rest alone
        ok = writeOne(s, i, hex, G_OFFSETS[i] * 2, current) && ok;
      }
      return ok ? 'OK' : 'E01';
    }
    case 'p': {
      const n = parseHexU32(body.slice(1));
      if (n === null || n >= GDB_REGS.length) return 'E16';
      return encodeReg(n, readAll(s));
    }
    case 'P': {
      const eq = body.indexOf('=');
      if (eq < 0) return 'E16';
      const n = parseHexU32(body.slice(1, eq));
      if (n === null || n >= GDB_REGS.length) return 'E16';
      const text = body.slice(eq + 1);
      if (text.length !== GDB_REGS[n].bits / 4) return 'E16';
      if (GDB_REGS[n].reg !== undefined && parseHexLE(text, 0, GDB_REGS[n].bits / 8) === null) return 'E16';
      return writeOne(s, n, text, 0, readAll(s)) ? 'OK' : 'E01';
    }
    default:
      return '';
  }
}
