// Regression: an instruction that straddles a page boundary (here a
// `call rel32` whose 5 bytes span 0x1ffd..0x2001) must execute like any
// other. Found when a fixture's new layout put `call gdt_init` across a
// page: the call was skipped.

import { expect, test } from 'vitest';
import { Exit } from '../../src/cpu/exit.js';
import { makeCpu, flat32, load, STACK_TOP } from '../unit/cpu/harness.js';

test('call rel32 straddling a page boundary jumps to its target', () => {
  const { cpu, mem } = makeCpu();
  flat32(cpu);
  // 0x1ff0: nops up to 0x1ffd, then call 0x3000 (rel = 0x3000 - 0x2002).
  load(mem, 0x1ff0, new Array(13).fill(0x90));
  const rel = 0x3000 - 0x2002;
  load(mem, 0x1ffd, [0xe8, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff]);
  load(mem, 0x3000, [0xf4]); // hlt
  cpu.eip = 0x1ff0;
  cpu.regs[4] = STACK_TOP;
  const exit = cpu.run(100);
  expect(exit).toBe(Exit.HLT);
  expect(cpu.eip).toBe(0x3001);
  expect(cpu.readLinear32(STACK_TOP - 4)).toBe(0x2002); // the return address
});

test('mov imm32 straddling a page boundary loads the whole immediate', () => {
  const { cpu, mem } = makeCpu();
  flat32(cpu);
  load(mem, 0x1ffc, [0xb8, 0x78, 0x56, 0x34, 0x12, 0xf4]); // mov $0x12345678,%eax; hlt
  cpu.eip = 0x1ffc;
  cpu.regs[4] = STACK_TOP;
  expect(cpu.run(100)).toBe(Exit.HLT);
  expect(cpu.regs[0] >>> 0).toBe(0x12345678);
});
