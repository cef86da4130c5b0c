// The per-condition Jcc handlers (ops/jcc.ts) read conditions straight
// from the lazy flag record; the generic flags.ts testCond is the oracle.
// Every condition is checked after every kind of record, at 8/16/32 bits,
// on operands around the signed/unsigned boundaries.

import { describe, expect, test } from 'vitest';
import { CC_EFLAGS, testCond } from '../../../src/cpu/flags.js';
import { Insn } from '../../../src/cpu/insn.js';
import { JCC } from '../../../src/cpu/ops/jcc.js';
import * as A from '../../../src/cpu/ops/alu.js';
import { flat32, makeCpu } from './harness.js';

const EDGES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678];

type Rec = (c: Parameters<typeof A.add>[0], bits: number, a: number, b: number) => void;
const RECORDS: Array<[string, Rec]> = [
  ['add', (c, w, a, b) => { A.add(c, w, a, b); }],
  ['adc', (c, w, a, b) => { A.adc(c, w, a, b); }],
  ['sub', (c, w, a, b) => { A.sub(c, w, a, b); }],
  ['sbb', (c, w, a, b) => { A.sbb(c, w, a, b); }],
  ['and', (c, w, a, b) => { A.and(c, w, a, b); }],
  ['xor', (c, w, a, b) => { A.xor(c, w, a, b); }],
  ['inc', (c, w, a) => { A.inc(c, w, a); }],
  ['dec', (c, w, a) => { A.dec(c, w, a); }],
  ['neg', (c, w, a) => { A.neg(c, w, a); }],
  ['shl', (c, w, a, b) => { A.shl(c, w, a, (b & 31) || 1); }],
  ['sar', (c, w, a, b) => { A.sar(c, w, a, (b & 31) || 1); }],
  ['mul', (c, w, a, b) => { A.mulFlags(c, w, a, (b & 1) !== 0); }],
  ['eflags', (c, _w, a, b) => { c.ccOp = CC_EFLAGS; c.flags = ((a ^ b) & 0x8d5) | 2; }],
];

describe('Jcc per condition agrees with testCond', () => {
  for (const [name, rec] of RECORDS) {
    test(`after ${name}`, () => {
      const { cpu } = makeCpu();
      flat32(cpu);
      const i = new Insn();
      i.os = 4; i.imm = 0x40;
      let checked = 0;
      for (const bits of [8, 16, 32]) {
        for (const a of EDGES) {
          for (const b of EDGES) {
            for (let cc = 0; cc < 16; cc++) {
              for (const carryIn of [0, 1]) {
                cpu.ccOp = CC_EFLAGS; cpu.flags = 2 | carryIn;
                rec(cpu, bits, a, b);
                const want = testCond(cpu, cc);
                cpu.eip = 0x1000;
                JCC[cc](cpu, i);
                const got = cpu.eip === 0x1040;
                if (got !== want) expect(`${name}/${bits} a=${a.toString(16)} b=${b.toString(16)} cc=${cc}: ${got}`).toBe(`... ${want}`);
                checked++;
              }
            }
          }
        }
      }
      expect(checked).toBe(3 * EDGES.length * EDGES.length * 16 * 2);
    });
  }
});
