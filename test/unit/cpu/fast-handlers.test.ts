// Decode-time specialised handlers (ops/fast.ts, ops/jcc.ts and the other
// `pick` forms of the opcode table) against the generic handler of the
// same table row, which is the oracle: same instruction, same random
// starting state (registers, memory, a prior lazy flag record), and the
// registers, EFLAGS, EIP and memory must come out identical.

import { describe, expect, test } from 'vitest';
import { decodeInto } from '../../../src/cpu/decode.js';
import { Insn } from '../../../src/cpu/insn.js';
import * as A from '../../../src/cpu/ops/alu.js';
import { flat32, hexBytes, makeCpu } from './harness.js';

const MEM = 0x3000; // ebx points here for the memory forms
const STACK = 0x8000; // esp

const FORMS: string[] = [
  // op Ev,Gv reg-reg and eAX,Iz, group 1 reg-imm (add or adc sbb and sub xor cmp)
  '01 c8', '09 d1', '11 da', '19 e3', '21 f0', '29 c7', '31 c0', '39 d6',
  '05 78 56 34 12', '0d 00 00 00 80', '25 f0 0f 00 00', '2d 00 00 00 80', '35 ff ff ff 7f', '3d 01 00 00 80',
  '81 c1 78 56 34 12', '81 ca 00 00 00 80', '81 d3 ff ff ff ff', '81 dc 01 00 00 00', '81 e5 ff 00 ff 00', '81 ee 00 00 00 80', '81 f7 55 55 55 55', '81 f8 ff ff ff 7f',
  '83 c1 80', '83 ca 7f', '83 d3 ff', '83 dc 01', '83 e5 f0', '83 ee 01', '83 f7 ff', '83 f8 80',
  // cmp byte [ebx+1], imm8 (80 and 82)
  '80 7b 01 80', '80 7b 02 00', '82 7b 03 ff',
  // inc/dec r32
  '40', '41', '47', '48', '4a', '4f',
  // mov byte/dword [ebx+disp], imm; mov r32, imm (C7); mov byte [ebx+disp], r8
  'c6 43 05 a5', 'c7 43 08 78 56 34 92', 'c7 c1 ff ff ff ff', '88 63 04', '88 43 07',
  // lea
  '8d 44 8b 10', '8d 84 1e 00 00 00 80', '8d 3c 24',
  // push/pop r32, near call/ret on the 32-bit stack
  '50', '53', '54', '57', '58', '5c', '5f', 'c3', 'c2 08 00', 'e8 10 00 00 00', 'e8 f0 ff ff ff',
  // Jcc rel8 / rel32, every condition
  ...Array.from({ length: 16 }, (_, k) => (0x70 + k).toString(16) + ' 10'),
  ...Array.from({ length: 16 }, (_, k) => '0f ' + (0x80 + k).toString(16) + ' 00 01 00 00'),
];

/** Deterministic pseudo-random words (an LCG: reproducible failures). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
}
const EDGE = [0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

function setup(seed: number): ReturnType<typeof makeCpu> {
  const m = makeCpu(1 << 20);
  flat32(m.cpu);
  const next = rng(seed);
  const pick = (): number => (next() & 3) === 0 ? EDGE[next() % EDGE.length] : next();
  for (let r = 0; r < 8; r++) m.cpu.regs[r] = pick();
  m.cpu.regs[3] = MEM; m.cpu.regs[4] = STACK;
  for (let k = 0; k < 32; k++) m.mem.write8(MEM + k, next() & 0xff);
  for (let k = -32; k < 32; k++) m.mem.write8(STACK + k, next() & 0xff);
  // A prior lazy flag record of a random kind (CF feeds INC/DEC/ADC/SBB).
  const kind = next() % 5, a = pick(), b = pick(), bits = [8, 16, 32][next() % 3];
  if (kind === 0) A.add(m.cpu, bits, a, b);
  else if (kind === 1) A.sub(m.cpu, bits, a, b);
  else if (kind === 2) A.and(m.cpu, bits, a, b);
  else if (kind === 3) A.inc(m.cpu, bits, a);
  else m.cpu.setEflags((a & 0x8d5) | 2);
  m.cpu.eip = 0x1000;
  return m;
}

describe('specialised handlers match the generic row handler', () => {
  for (const form of FORMS) {
    test(form, () => {
      const bytes = hexBytes(form);
      const i = new Insn();
      const len = decodeInto((k) => (k < bytes.length ? bytes[k] : -1), true, i);
      expect(len).toBe(bytes.length);
      const generic = i.row!.exec;
      expect(i.exec, 'a specialised handler was picked').not.toBe(generic);
      for (let t = 0; t < 200; t++) {
        const x = setup(t * 7919 + 1), y = setup(t * 7919 + 1);
        // The run loop has already moved EIP past the instruction when a handler runs.
        x.cpu.eip = y.cpu.eip = 0x1000 + len;
        i.exec(x.cpu, i);
        generic(y.cpu, i);
        const what = `${form} trial ${t}`;
        expect(Array.from(x.cpu.regs), what).toEqual(Array.from(y.cpu.regs));
        expect(x.cpu.getEflags(), what).toBe(y.cpu.getEflags());
        expect(x.cpu.eip, what).toBe(y.cpu.eip);
        expect(Array.from(x.mem.peek(MEM, 32)), what).toEqual(Array.from(y.mem.peek(MEM, 32)));
        expect(Array.from(x.mem.peek(STACK - 32, 64)), what).toEqual(Array.from(y.mem.peek(STACK - 32, 64)));
      }
    });
  }
});
