// CPU microbenchmark, run by hand (not a timed test):
//   npx tsc -p . --outDir /tmp/tv-dist && node test/unit/cpu/bench-cpu.mjs /tmp/tv-dist
// Runs a register/memory integer loop in flat 32-bit protected mode (paging
// on, identity mapped with 4 MiB pages) and prints guest MIPS.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { PhysMem } = await imp('src/bus/phys-mem.js');
const { IoBus } = await imp('src/bus/io-bus.js');
const { Cpu } = await imp('src/cpu/cpu.js');

const mem = new PhysMem(16 << 20);
const cpu = new Cpu(mem, new IoBus());
// Page directory at 0x10000: 4 MiB identity pages.
for (let k = 0; k < 4; k++) mem.write32(0x10000 + k * 4, (k << 22) | 0x87);
const code = [
  0xb9, 0x00, 0xe1, 0xf5, 0x05,       // mov ecx, 100000000
  0xbe, 0x00, 0x20, 0x00, 0x00,       // mov esi, 0x2000
  // L:
  0x01, 0xc8,                         // add eax, ecx
  0x31, 0xc3,                         // xor ebx, eax
  0x89, 0x06,                         // mov [esi], eax
  0x8b, 0x16,                         // mov edx, [esi]
  0x8d, 0x7c, 0x8a, 0x04,             // lea edi, [edx+ecx*4+4]
  0xc1, 0xe7, 0x03,                   // shl edi, 3
  0x39, 0xd7,                         // cmp edi, edx
  0x49,                               // dec ecx
  0x75, 0xec,                         // jnz L  (-20)
  0xf4,                               // hlt
];
mem.poke(0x1000, Uint8Array.from(code));
cpu.cr4 = 0x10;
cpu.cr3 = 0x10000;
cpu.cr0 = 0x80000011;
cpu.setSegmentRaw(1, 0x08, 0, 0xffffffff, 0xc09b);
for (const s of [0, 2, 3, 4, 5]) cpu.setSegmentRaw(s, 0x10, 0, 0xffffffff, 0xc093);
cpu.regs[4] = 0x80000;
cpu.eip = 0x1000;
const t0 = performance.now();
let exit;
const budget = Number(process.argv[3] ?? 300_000_000);
while ((exit = cpu.run(Math.min(10_000_000, budget - cpu.instructionCount))) === 0 && cpu.instructionCount < budget) { /* slices */ }
const ms = performance.now() - t0;
console.log(`exit=${exit} instructions=${cpu.instructionCount} time=${ms.toFixed(0)}ms MIPS=${(cpu.instructionCount / ms / 1000).toFixed(1)}`);
