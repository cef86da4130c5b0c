// Engine-neutral instruction cases: machine code annotated with its
// mnemonic, initial state, expected state. Expected values are worked out
// by hand from the SDM's definitions (and, for flags the SDM leaves
// undefined, from qemu-system-i386's documented behaviour); none was
// produced by running this emulator.

import type { Case } from './harness.js';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

export const ALU_CASES: Case[] = [
  { asm: 'add eax,ebx', code: '01 d8', regs: { eax: 0x7fffffff, ebx: 1 }, expect: { regs: { eax: 0x80000000 }, flagsMask: ARITH, flags: PF | AF | SF | OF } },
  { asm: 'add al,bl', code: '00 d8', regs: { eax: 0x123456ff, ebx: 1 }, expect: { regs: { eax: 0x12345600 }, flagsMask: ARITH, flags: CF | PF | AF | ZF } },
  { asm: 'add ax,bx', code: '66 01 d8', regs: { eax: 0x12347fff, ebx: 1 }, expect: { regs: { eax: 0x12348000 }, flagsMask: ARITH, flags: PF | AF | SF | OF } },
  { asm: 'sub eax,ebx', code: '29 d8', regs: { eax: 0, ebx: 1 }, expect: { regs: { eax: 0xffffffff }, flagsMask: ARITH, flags: CF | PF | AF | SF } },
  { asm: 'cmp ax,bx', code: '66 39 d8', regs: { eax: 0x8000, ebx: 1 }, expect: { regs: { eax: 0x8000 }, flagsMask: ARITH, flags: PF | AF | OF } },
  { asm: 'adc eax,ebx (CF=1)', code: '11 d8', flags: 0x3, regs: { eax: 0xffffffff, ebx: 0 }, expect: { regs: { eax: 0 }, flagsMask: ARITH, flags: CF | PF | AF | ZF } },
  { asm: 'sbb eax,ebx (CF=1)', code: '19 d8', flags: 0x3, regs: { eax: 0, ebx: 0xffffffff }, expect: { regs: { eax: 0 }, flagsMask: ARITH, flags: CF | PF | AF | ZF } },
  { asm: 'and eax,ebx', code: '21 d8', flags: 0x803, regs: { eax: 0xf0f0f0f0, ebx: 0x0ff00ff0 }, expect: { regs: { eax: 0x00f000f0 }, flagsMask: ARITH, flags: PF } },
  { asm: 'xor eax,eax', code: '31 c0', regs: { eax: 1234 }, expect: { regs: { eax: 0 }, flagsMask: ARITH, flags: PF | ZF } },
  { asm: 'or al,bl', code: '08 d8', regs: { eax: 0x80, ebx: 1 }, expect: { regs: { eax: 0x81 }, flagsMask: ARITH, flags: PF | SF } },
  { asm: 'inc eax (CF kept)', code: '40', flags: 0x3, regs: { eax: 0x7fffffff }, expect: { regs: { eax: 0x80000000 }, flagsMask: ARITH, flags: CF | PF | AF | SF | OF } },
  { asm: 'dec ecx', code: '49', regs: { ecx: 0 }, expect: { regs: { ecx: 0xffffffff }, flagsMask: ARITH, flags: PF | AF | SF } },
  { asm: 'neg eax', code: 'f7 d8', regs: { eax: 5 }, expect: { regs: { eax: 0xfffffffb }, flagsMask: ARITH, flags: CF | AF | SF } },
  { asm: 'neg eax (0)', code: 'f7 d8', regs: { eax: 0 }, expect: { regs: { eax: 0 }, flagsMask: ARITH, flags: PF | ZF } },
  { asm: 'test ebx,eax', code: '85 c3', regs: { eax: 0x80000000, ebx: 0x80000000 }, expect: { flagsMask: ARITH, flags: PF | SF } },
  { asm: 'cmp al,0x10', code: '3c 10', regs: { eax: 0x10 }, expect: { flagsMask: ARITH, flags: PF | ZF } },
  { asm: 'add eax,-1 (83 /0 sign-extended)', code: '83 c0 ff', regs: { eax: 1 }, expect: { regs: { eax: 0 }, flagsMask: ARITH, flags: CF | PF | AF | ZF } },
  { asm: 'sub byte [0x2000],1', code: '80 2d 00 20 00 00 01', mem: [[0x2000, [0x80]]], expect: { mem: [[0x2000, [0x7f]]], flagsMask: ARITH, flags: AF | OF } },
  { asm: 'not eax', code: 'f7 d0', flags: 0x8d7, regs: { eax: 0x0f0f0f0f }, expect: { regs: { eax: 0xf0f0f0f0 }, flagsMask: ARITH, flags: 0x8d5 } },
];

export const SHIFT_CASES: Case[] = [
  { asm: 'shl eax,1', code: 'd1 e0', regs: { eax: 0x80000001 }, expect: { regs: { eax: 2 }, flagsMask: ARITH, flags: CF | OF } },
  { asm: 'shl eax,cl (cl=0: flags unchanged)', code: 'd3 e0', flags: 0x8d7, regs: { eax: 5, ecx: 0 }, expect: { regs: { eax: 5 }, flagsMask: ARITH, flags: 0x8d5 } },
  { asm: 'shl eax,cl (cl=32 masked to 0)', code: 'd3 e0', flags: 0x2, regs: { eax: 5, ecx: 32 }, expect: { regs: { eax: 5 }, flagsMask: ARITH, flags: 0 } },
  { asm: 'shr eax,4', code: 'c1 e8 04', regs: { eax: 0xff }, expect: { regs: { eax: 0x0f }, flagsMask: CF | PF | ZF | SF, flags: CF | PF } },
  { asm: 'sar al,1', code: 'd0 f8', regs: { eax: 0x81 }, expect: { regs: { eax: 0xc0 }, flagsMask: CF | PF | ZF | SF | OF, flags: CF | PF | SF } },
  { asm: 'shr eax,1 (OF = old msb)', code: 'd1 e8', regs: { eax: 0x80000000 }, expect: { regs: { eax: 0x40000000 }, flagsMask: CF | ZF | SF | OF, flags: OF } },
  { asm: 'rol al,1', code: 'd0 c0', regs: { eax: 0x80 }, expect: { regs: { eax: 0x01 }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'ror eax,8', code: 'c1 c8 08', regs: { eax: 0x12345678 }, expect: { regs: { eax: 0x78123456 }, flagsMask: CF, flags: 0 } },
  { asm: 'rcl al,1 (CF=1)', code: 'd0 d0', flags: 0x3, regs: { eax: 0x80 }, expect: { regs: { eax: 0x01 }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'rcr al,1 (ZF kept)', code: 'd0 d8', flags: 0x42, regs: { eax: 0x01 }, expect: { regs: { eax: 0x00 }, flagsMask: CF | OF | ZF, flags: CF | ZF } },
  { asm: 'rcl ax,17 (count mod 17 = 0: unchanged)', code: '66 c1 d0 11', flags: 0x2, regs: { eax: 0x1234 }, expect: { regs: { eax: 0x1234 } } },
  { asm: 'shld eax,ebx,4', code: '0f a4 d8 04', regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, expect: { regs: { eax: 0x23456789 }, flagsMask: CF | ZF | SF, flags: CF } },
  { asm: 'shrd eax,ebx,cl (cl=8)', code: '0f ad d8', regs: { eax: 0x12345678, ebx: 0x9abcdef0, ecx: 8 }, expect: { regs: { eax: 0xf0123456 }, flagsMask: CF | ZF | SF, flags: SF } },
  { asm: 'bsf eax,ebx', code: '0f bc c3', regs: { eax: 99, ebx: 0x00010800 }, expect: { regs: { eax: 11 }, flagsMask: ZF, flags: 0 } },
  { asm: 'bsr eax,ebx', code: '0f bd c3', regs: { ebx: 0x00010800 }, expect: { regs: { eax: 16 }, flagsMask: ZF, flags: 0 } },
  { asm: 'bsf eax,ebx (0: ZF=1, dest kept)', code: '0f bc c3', regs: { eax: 99, ebx: 0 }, expect: { regs: { eax: 99 }, flagsMask: ZF, flags: ZF } },
  { asm: 'bts [0x2000],ecx (ecx=33: next dword)', code: '0f ab 0d 00 20 00 00', regs: { ecx: 33 }, mem: [[0x2000, [0, 0, 0, 0, 0, 0, 0, 0]]], expect: { mem: [[0x2004, [2, 0, 0, 0]]], flagsMask: CF, flags: 0 } },
  { asm: 'bt eax,31', code: '0f ba e0 1f', regs: { eax: 0x80000000 }, expect: { flagsMask: CF, flags: CF } },
  { asm: 'btc ebx,eax (eax=4)', code: '0f bb c3', regs: { eax: 4, ebx: 0x10 }, expect: { regs: { ebx: 0 }, flagsMask: CF, flags: CF } },
];

export const MULDIV_CASES: Case[] = [
  { asm: 'mul ebx', code: 'f7 e3', regs: { eax: 0x80000000, ebx: 4 }, expect: { regs: { eax: 0, edx: 2 }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'mul ebx (fits)', code: 'f7 e3', regs: { eax: 0x10000, ebx: 0x1000, edx: 7 }, expect: { regs: { eax: 0x10000000, edx: 0 }, flagsMask: CF | OF, flags: 0 } },
  { asm: 'mul bl', code: 'f6 e3', regs: { eax: 0x10, ebx: 0x10 }, expect: { regs: { eax: 0x100 }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'imul eax,ebx,3', code: '6b c3 03', regs: { ebx: 0x40000000 }, expect: { regs: { eax: 0xc0000000 }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'imul eax,ebx', code: '0f af c3', regs: { eax: 0xfffffffe, ebx: 0xfffffffd }, expect: { regs: { eax: 6 }, flagsMask: CF | OF, flags: 0 } },
  { asm: 'imul ecx', code: 'f7 e9', regs: { eax: 0xfffffffe, ecx: 3 }, expect: { regs: { eax: 0xfffffffa, edx: 0xffffffff }, flagsMask: CF | OF, flags: 0 } },
  { asm: 'imul ecx (overflow)', code: 'f7 e9', regs: { eax: 0x7fffffff, ecx: 0x7fffffff }, expect: { regs: { eax: 1, edx: 0x3fffffff }, flagsMask: CF | OF, flags: CF | OF } },
  { asm: 'div ecx', code: 'f7 f1', regs: { edx: 1, eax: 0, ecx: 2 }, expect: { regs: { eax: 0x80000000, edx: 0 } } },
  { asm: 'div ecx (big)', code: 'f7 f1', regs: { edx: 0x12345678, eax: 0x9abcdef0, ecx: 0x87654321 }, expect: { regs: { eax: 0x226b9022, edx: 0x38bc648e } } },
  { asm: 'div ecx by 0 -> #DE', code: 'f7 f1', regs: { eax: 5, ecx: 0 }, expect: { exit: 2, vector: 0, eip: 0x1000, regs: { eax: 5 } } },
  { asm: 'div ecx overflow -> #DE', code: 'f7 f1', regs: { edx: 2, eax: 0, ecx: 2 }, expect: { exit: 2, vector: 0, eip: 0x1000 } },
  { asm: 'idiv ecx', code: 'f7 f9', regs: { edx: 0xffffffff, eax: 0xfffffff9, ecx: 2 }, expect: { regs: { eax: 0xfffffffd, edx: 0xffffffff } } },
  { asm: 'idiv bl (-128/-1) -> #DE', code: 'f6 fb', regs: { eax: 0xff80, ebx: 0xff }, expect: { exit: 2, vector: 0 } },
  { asm: 'div bl', code: 'f6 f3', regs: { eax: 0x0107, ebx: 0x10 }, expect: { regs: { eax: 0x0710 } } },
];

export const BCD_CASES: Case[] = [
  { asm: 'mov al,0x79; add al,0x35; daa', code: 'b0 79 04 35 27', steps: 3, expect: { regs: { eax: 0x14 }, flagsMask: ARITH, flags: CF | PF | AF } },
  { asm: 'mov al,0x35; sub al,0x47; das', code: 'b0 35 2c 47 2f', steps: 3, expect: { regs: { eax: 0x88 }, flagsMask: ARITH, flags: CF | PF | AF | SF } },
  { asm: 'aaa', code: '37', regs: { eax: 0x000f }, expect: { regs: { eax: 0x0105 }, flagsMask: CF | AF, flags: CF | AF } },
  { asm: 'aas (AX-6 borrows into AH, then AH-1)', code: '3f', regs: { eax: 0x0205 }, flags: 0x12, expect: { regs: { eax: 0x000f }, flagsMask: CF | AF, flags: CF | AF } },
  { asm: 'aam', code: 'd4 0a', regs: { eax: 0x3f }, expect: { regs: { eax: 0x0603 }, flagsMask: ARITH, flags: PF } },
  { asm: 'aad', code: 'd5 0a', regs: { eax: 0x0603 }, expect: { regs: { eax: 0x3f }, flagsMask: ARITH, flags: PF } },
  { asm: 'aam 0 -> #DE', code: 'd4 00', expect: { exit: 2, vector: 0 } },
];

export const STRING_CASES: Case[] = [
  { asm: 'rep movsb', code: 'f3 a4', regs: { esi: 0x2000, edi: 0x3000, ecx: 4 }, mem: [[0x2000, [1, 2, 3, 4]]], expect: { regs: { ecx: 0, esi: 0x2004, edi: 0x3004 }, mem: [[0x3000, [1, 2, 3, 4]]] } },
  { asm: 'std; rep movsd', code: 'fd f3 a5', steps: 2, regs: { esi: 0x2004, edi: 0x3004, ecx: 2 }, mem: [[0x2000, [1, 2, 3, 4, 5, 6, 7, 8]]], expect: { regs: { ecx: 0, esi: 0x1ffc, edi: 0x2ffc }, mem: [[0x3000, [1, 2, 3, 4, 5, 6, 7, 8]]] } },
  { asm: 'repne scasb', code: 'f2 ae', regs: { edi: 0x2000, eax: 3, ecx: 10 }, mem: [[0x2000, [1, 2, 3, 4]]], expect: { regs: { ecx: 7, edi: 0x2003 }, flagsMask: ZF, flags: ZF } },
  { asm: 'repe cmpsb', code: 'f3 a6', regs: { esi: 0x2000, edi: 0x3000, ecx: 4 }, mem: [[0x2000, [1, 2, 3, 4]], [0x3000, [1, 2, 9, 4]]], expect: { regs: { ecx: 1, esi: 0x2003, edi: 0x3003 }, flagsMask: ZF | CF, flags: CF } },
  { asm: 'rep stosw', code: '66 f3 ab', regs: { eax: 0xbeef, edi: 0x3000, ecx: 3 }, expect: { regs: { ecx: 0, edi: 0x3006 }, mem: [[0x3000, [0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe, 0]]] } },
  { asm: 'rep stosb (ecx=0: nothing)', code: 'f3 aa', regs: { eax: 0xff, edi: 0x3000, ecx: 0 }, expect: { regs: { edi: 0x3000 }, mem: [[0x3000, [0]]] } },
  { asm: 'lodsb', code: 'ac', regs: { esi: 0x2000, eax: 0xffffffff }, mem: [[0x2000, [0x42]]], expect: { regs: { eax: 0xffffff42, esi: 0x2001 } } },
];

export const STACK_CASES: Case[] = [
  { asm: 'push eax; pop ebx', code: '50 5b', steps: 2, regs: { eax: 0x11223344 }, expect: { regs: { ebx: 0x11223344, esp: 0x80000 } } },
  { asm: 'pusha', code: '60', regs: { eax: 1, ecx: 2, edx: 3, ebx: 4, ebp: 6, esi: 7, edi: 8 },
    expect: { regs: { esp: 0x80000 - 32 }, mem: [[0x80000 - 32, [8, 0, 0, 0, 7, 0, 0, 0, 6, 0, 0, 0, 0, 0, 8, 0, 4, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]]] } },
  { asm: 'enter 8,0', code: 'c8 08 00 00', regs: { ebp: 0x1234 }, expect: { regs: { ebp: 0x7fffc, esp: 0x7fff4 }, mem: [[0x7fffc, [0x34, 0x12, 0, 0]]] } },
  { asm: 'enter 8,0; leave', code: 'c8 08 00 00 c9', steps: 2, regs: { ebp: 0x1234 }, expect: { regs: { ebp: 0x1234, esp: 0x80000 } } },
  { asm: 'call +5; ...; ret', code: 'e8 05 00 00 00 90 90 90 90 90 c3', steps: 2, expect: { eip: 0x1005, regs: { esp: 0x80000 } } },
  { asm: 'push 0xfffffff0 (6a sign-extended)', code: '6a f0', expect: { mem: [[0x7fffc, [0xf0, 0xff, 0xff, 0xff]]] } },
  { asm: 'pushf (IF|DF|CF)', code: '9c', flags: 0x603, expect: { mem: [[0x7fffc, [0x03, 0x06, 0, 0]]] } },
  { asm: 'popf', code: '9d', mem: [[0x7fffc, [0xd5, 0x08, 0, 0]]], regs: { esp: 0x7fffc }, expect: { flagsMask: 0xfff, flags: 0x8d7 } },
  { asm: 'xchg eax,ebx; cdq', code: '93 99', steps: 2, regs: { eax: 1, ebx: 0x80000000 }, expect: { regs: { eax: 0x80000000, ebx: 1, edx: 0xffffffff } } },
  { asm: 'movsx eax,byte bl; movzx ecx,bx', code: '0f be c3 0f b7 cb', steps: 2, regs: { ebx: 0x1280 }, expect: { regs: { eax: 0xffffff80, ecx: 0x1280 } } },
  { asm: 'lea eax,[ebx+ecx*4+8]', code: '8d 44 8b 08', regs: { ebx: 0x100, ecx: 3 }, expect: { regs: { eax: 0x114 } } },
  { asm: 'cmpxchg [0x2000],ecx (equal)', code: '0f b1 0d 00 20 00 00', regs: { eax: 5, ecx: 9 }, mem: [[0x2000, [5, 0, 0, 0]]], expect: { mem: [[0x2000, [9, 0, 0, 0]]], flagsMask: ZF, flags: ZF } },
  { asm: 'xadd ebx,eax', code: '0f c1 c3', regs: { eax: 2, ebx: 3 }, expect: { regs: { eax: 3, ebx: 5 } } },
  { asm: 'bswap eax', code: '0f c8', regs: { eax: 0x12345678 }, expect: { regs: { eax: 0x78563412 } } },
  { asm: 'setz al / setnz bl after cmp', code: '39 c0 0f 94 c0 0f 95 c3', steps: 3, regs: { eax: 0x1234, ebx: 0x5555 }, expect: { regs: { eax: 0x1201, ebx: 0x5500 } } },
  { asm: 'loop (ecx=3) over inc eax', code: '40 e2 fd', steps: 6, regs: { ecx: 3 }, expect: { regs: { eax: 3, ecx: 0 }, eip: 0x1003 } },
  { asm: 'cpuid 0', code: '0f a2', regs: { eax: 0 }, expect: { regs: { ebx: 0x756e6547, edx: 0x49656e69, ecx: 0x6c65746e } } },
  { asm: 'cmpxchg8b [0x2000] (equal)', code: '0f c7 0d 00 20 00 00', regs: { eax: 1, edx: 2, ebx: 3, ecx: 4 }, mem: [[0x2000, [1, 0, 0, 0, 2, 0, 0, 0]]], expect: { mem: [[0x2000, [3, 0, 0, 0, 4, 0, 0, 0]]], flagsMask: ZF, flags: ZF } },
  { asm: 'ud2 -> #UD', code: '0f 0b', expect: { exit: 2, vector: 6, eip: 0x1000 } },
];

export const REAL_CASES: Case[] = [
  { asm: 'mov ax,0x1234; add ax,1', code: 'b8 34 12 05 01 00', mode: 'real', steps: 2, expect: { regs: { eax: 0x1235 } } },
  { asm: 'mov bx,0x2000; mov al,[bx+si+2]', code: 'bb 00 20 8a 40 02', mode: 'real', steps: 2, regs: { esi: 1 }, mem: [[0x2003, [0x77]]], expect: { regs: { eax: 0x77 } } },
  { asm: 'mov eax,0x12345678 (66 prefix)', code: '66 b8 78 56 34 12', mode: 'real', expect: { regs: { eax: 0x12345678 } } },
  { asm: 'push ax; pop bx', code: '50 5b', mode: 'real', steps: 2, regs: { eax: 0xabcd }, expect: { regs: { ebx: 0xabcd, esp: 0x8000 } } },
];

/** Flags the SDM leaves undefined, as qemu-system-i386 computes them (seen in fixtures/expected/cpu-selftest.txt). */
export const QEMU_UNDEFINED_CASES: Case[] = [
  { asm: 'rcl al,cl (cl=7, CF=1): OF = old msb ^ new msb', code: 'd2 d0', flags: 0x3, regs: { eax: 0xb4, ecx: 7 }, expect: { regs: { eax: 0x6d }, flagsMask: CF | OF, flags: OF } },
  { asm: 'shrd eax,ebx,cl (cl=16): OF ignores src bits', code: '0f ad d8', regs: { eax: 0x8f0e1d2c, ebx: 0x12345678, ecx: 16 }, expect: { regs: { eax: 0x56788f0e }, flagsMask: ARITH & ~(PF), flags: 0 } },
  { asm: 'mov al,0xfa; daa', code: 'b0 fa 27', steps: 2, flags: 0x2, expect: { regs: { eax: 0x60 }, flagsMask: ARITH, flags: CF | PF | AF } },
];
