import { describe, expect, test } from 'vitest';
import { ALU_CASES, BCD_CASES, MULDIV_CASES, QEMU_UNDEFINED_CASES, REAL_CASES, SHIFT_CASES, STACK_CASES, STRING_CASES } from './cases.js';
import { REG, runCase, type Case, type RegName } from './harness.js';

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

function check(c: Case): void {
  const r = runCase(c);
  const e = c.expect;
  if (e.exit !== undefined) expect(r.exit, 'exit').toBe(e.exit);
  else expect(r.exit, 'exit').toBe(0);
  if (e.vector !== undefined) expect(r.cpu.exitVector, 'vector').toBe(e.vector);
  if (e.error !== undefined) expect(r.cpu.exitErrorCode, 'error').toBe(e.error);
  if (e.eip !== undefined) expect(hex(r.eip), 'eip').toBe(hex(e.eip));
  for (const [k, v] of Object.entries(e.regs ?? {})) expect(hex(r.regs[REG[k as RegName]]), k).toBe(hex(v as number));
  if (e.flagsMask !== undefined) expect(hex(r.flags & e.flagsMask), 'flags').toBe(hex(e.flags ?? 0));
  for (const [a, bytes] of e.mem ?? []) expect(Array.from(r.mem.peek(a, bytes.length)), 'mem@' + hex(a)).toEqual(bytes);
}

const tables: Array<[string, Case[]]> = [
  ['alu', ALU_CASES], ['shift/bit', SHIFT_CASES], ['mul/div', MULDIV_CASES], ['bcd', BCD_CASES],
  ['string', STRING_CASES], ['stack/misc', STACK_CASES], ['real mode', REAL_CASES], ['qemu undefined flags', QEMU_UNDEFINED_CASES],
];
for (const [name, cases] of tables) {
  describe(name, () => {
    for (const c of cases) test(`${c.asm}  [${c.code}]`, () => check(c));
  });
}
