// REP STOS upwards (memset): the page-at-a-time path in ops/string.ts must
// keep the architectural behaviour (SDM vol. 2, STOS/REP): every byte of
// [EDI, EDI + ECX*size) written, ECX = 0 and EDI advanced at the end,
// progress kept in ECX/EDI when a #PF stops it midway (CR2 = the faulting
// byte), and a long REP retiring one instruction per 1024 iterations
// (string.ts CHUNK). Expectations are computed here from those rules.

import { describe, expect, test } from 'vitest';
import { Exit } from '../../../src/cpu/exit.js';
import { CODE, flat32, load, makeCpu } from './harness.js';

const PD = 0x10000, PT = 0x11000;

/** Flat ring 0 with 4 KiB paging over the first 4 MiB, page `hole` not present. */
function paged(hole: number): ReturnType<typeof makeCpu> {
  const m = makeCpu();
  flat32(m.cpu);
  m.mem.write32(PD, PT | 3);
  for (let p = 0; p < 1024; p++) m.mem.write32(PT + p * 4, p === hole ? 0 : (p << 12) | 3);
  m.cpu.cr3 = PD;
  m.cpu.cr0 = 0x80000011;
  m.cpu.interceptExceptions = 0xffffffff;
  return m;
}

const FORMS: Array<[string, number[], number]> = [['stosb', [0xf3, 0xaa], 1], ['stosw', [0xf3, 0x66, 0xab], 2], ['stosd', [0xf3, 0xab], 4]];

describe('rep stos', () => {
  for (const [name, code, w] of FORMS) {
    test(`${name}: fills, ends with ECX=0, one instruction per 1024 iterations`, () => {
      const { cpu, mem } = paged(-1);
      load(mem, CODE, [...code, 0xf4]);
      const dst = 0x20003, n = 3000; // misaligned, crosses pages
      mem.poke(dst - 8, new Uint8Array(n * w + 16).fill(0xee));
      cpu.regs[0] = 0x81c2a3e4 | 0; cpu.regs[1] = n; cpu.regs[7] = dst;
      cpu.eip = CODE;
      const chunks = Math.ceil(n / 1024);
      expect(cpu.run(chunks)).toBe(Exit.BUDGET);
      expect(cpu.regs[1]).toBe(0);
      expect(cpu.regs[7] >>> 0).toBe(dst + n * w);
      expect(cpu.eip).toBe(CODE + code.length);
      const bytes = mem.peek(dst - 8, n * w + 16);
      const pat = [0xe4, 0xa3, 0xc2, 0x81];
      for (let k = 0; k < bytes.length; k++) {
        const o = k - 8;
        const want = o < 0 || o >= n * w ? 0xee : pat[o % w];
        if (bytes[k] !== want) expect(`byte ${o}: ${bytes[k]}`).toBe(`byte ${o}: ${want}`);
      }
    });
    test(`${name}: a not-present page stops it with ECX/EDI showing the progress`, () => {
      const { cpu, mem } = paged(0x23);
      load(mem, CODE, [...code, 0xf4]);
      const dst = 0x22ff0 - w, n = 100;
      cpu.regs[0] = 0x5a5a5a5a; cpu.regs[1] = n; cpu.regs[7] = dst;
      cpu.eip = CODE;
      expect(cpu.run(10)).toBe(Exit.EXCEPTION);
      expect(cpu.exitVector).toBe(14);
      const done = (0x23000 - dst) / w; // whole elements before the hole (dst is element aligned to it)
      expect(cpu.regs[1]).toBe(n - done);
      expect(cpu.regs[7] >>> 0).toBe(0x23000);
      expect(cpu.cr2 >>> 0).toBe(0x23000);
      expect(cpu.eip).toBe(CODE);
      expect(Array.from(mem.peek(dst, 0x23000 - dst)).every((b) => b === 0x5a)).toBe(true);
    });
  }
  test('rep stosb over the code that follows it: the new bytes run (self-modifying code)', () => {
    const { cpu, mem } = paged(-1);
    // rep stosb over the 5 bytes after it, which were "mov eax, 1" (b8 01 00 00 00): replaced by nops.
    load(mem, CODE, [0xf3, 0xaa, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x90, 0xf4]);
    cpu.regs[0] = 0x90909090 | 0; cpu.regs[1] = 5; cpu.regs[7] = CODE + 2;
    cpu.eip = CODE;
    cpu.run(100);
    expect(cpu.regs[0] >>> 0).toBe(0x90909090); // the mov was overwritten before it ran
  });
});
