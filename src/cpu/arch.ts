// Architectural constants of the i386 (Intel SDM vol. 3). One fact per line,
// named as in the SDM. Everything in src/cpu reads these; nothing here runs.

// Segment register numbers (x86 encoding order, SDM vol. 2, 3.1.1.3 "Sreg").
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;

// General register numbers.
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;

// EFLAGS (SDM vol. 1, 3.4.3).
export const CF = 1 << 0;   // carry
export const F_RES1 = 1 << 1; // reserved, always 1
export const PF = 1 << 2;   // parity of low byte
export const AF = 1 << 4;   // auxiliary carry (BCD)
export const ZF = 1 << 6;   // zero
export const SF = 1 << 7;   // sign
export const TF = 1 << 8;   // trap (single step)
export const IF = 1 << 9;   // interrupt enable
export const DF = 1 << 10;  // direction
export const OF = 1 << 11;  // overflow
export const IOPL = 3 << 12; // I/O privilege level
export const IOPL_SHIFT = 12;
export const NT = 1 << 14;  // nested task
export const RF = 1 << 16;  // resume
export const VM = 1 << 17;  // virtual-8086 mode (not implemented: never set)
export const AC = 1 << 18;  // alignment check
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;  // CPUID available (toggleable => cpuid exists)
/** Arithmetic status flags, the ones held lazily. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bits software can change at all (486+: AC, Pentium: ID). VM/VIF/VIP are never set here. */
export const EFLAGS_WRITABLE = ARITH_FLAGS | TF | IF | DF | IOPL | NT | RF | AC | ID;

// CR0 (SDM vol. 3, 2.5).
export const CR0_PE = 1 << 0;  // protection enable
export const CR0_MP = 1 << 1;  // monitor coprocessor
export const CR0_EM = 1 << 2;  // x87 emulation: ESC opcodes raise #NM
export const CR0_TS = 1 << 3;  // task switched
export const CR0_ET = 1 << 4;  // extension type (hardwired 1 on 486+)
export const CR0_NE = 1 << 5;  // numeric error
export const CR0_WP = 1 << 16; // supervisor write protect
export const CR0_AM = 1 << 18; // alignment mask
export const CR0_NW = 1 << 29; // not write-through
export const CR0_CD = 1 << 30; // cache disable
export const CR0_PG = 1 << 31; // paging

// CR4 (SDM vol. 3, 2.5).
export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;  // RDTSC privileged
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;  // 4 MiB pages
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;

// Page directory / table entries (SDM vol. 3, 4.3):
//  31            12 11  9 8 7 6 5 4 3 2 1 0
// +----------------+-----+-+-+-+-+-+-+-+-+-+
// | frame address  | AVL |G|S|D|A|C|W|U|W|P|
// +----------------+-----+-+-+-+-+-+-+-+-+-+   (S = PS in a PDE: 4 MiB page)
export const PTE_P = 1 << 0;  // present
export const PTE_W = 1 << 1;  // writable
export const PTE_U = 1 << 2;  // user
export const PTE_A = 1 << 5;  // accessed
export const PTE_D = 1 << 6;  // dirty
export const PTE_PS = 1 << 7; // page size (PDE only)

// #PF error code bits (SDM vol. 3, 6.15, interrupt 14).
export const PFEC_P = 1 << 0; // 0 = not present, 1 = protection violation
export const PFEC_W = 1 << 1; // access was a write
export const PFEC_U = 1 << 2; // access came from CPL 3

// Exception vectors (SDM vol. 3, table 6-1).
export const DE = 0;   // divide error (fault)
export const DB = 1;   // debug (trap or fault)
export const NMI = 2;
export const BP = 3;   // int3 (trap)
export const OFV = 4;  // into overflow (trap)
export const BR = 5;   // bound range (fault)
export const UD = 6;   // invalid opcode (fault)
export const NM = 7;   // device not available (fault)
export const DFV = 8;  // double fault (abort, error code 0)
export const TS = 10;  // invalid TSS (fault, selector error code)
export const NP = 11;  // segment not present (fault, selector error code)
export const SSV = 12; // stack-segment fault (fault, error code)
export const GP = 13;  // general protection (fault, error code)
export const PFV = 14; // page fault (fault, error code, CR2)
export const MF = 16;
export const AC_V = 17;
/** Vectors that push an error code (SDM vol. 3, 6.13). */
export const HAS_ERROR_CODE = (1 << DFV) | (1 << TS) | (1 << NP) | (1 << SSV) | (1 << GP) | (1 << PFV) | (1 << AC_V);
/** Contributory exceptions for the double-fault rule (SDM vol. 3, table 6-4). */
export const CONTRIBUTORY = (1 << DE) | (1 << TS) | (1 << NP) | (1 << SSV) | (1 << GP);

// Segment descriptor, high dword (SDM vol. 3, 3.4.5):
//  31      24 23 22 21 20 19   16 15 14 13 12 11   8 7      0
// +----------+--+--+--+--+-------+--+-----+--+------+--------+
// |base 31:24|G |DB|L |AV|lim19:16|P | DPL |S | type |base23:16|
// +----------+--+--+--+--+-------+--+-----+--+------+--------+
// segAttr keeps bits 8..23 of that dword (descriptor bytes 5..6) with the
// limit nibble cleared: type 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13, DB 14, G 15.
export const ATTR_TYPE = 0xf;
export const ATTR_ACCESSED = 1 << 0;  // type bit 0 for code/data
export const ATTR_RW = 1 << 1;        // data: writable; code: readable
export const ATTR_DC = 1 << 2;        // data: expand-down; code: conforming
export const ATTR_CODE = 1 << 3;      // executable
export const ATTR_S = 1 << 4;         // code/data (1) vs system (0)
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_DB = 1 << 14;       // default size (code) / big (stack)
export const ATTR_G = 1 << 15;        // 4 KiB limit granularity

// System descriptor types (S = 0).
export const SYS_TSS16_AVAIL = 0x1;
export const SYS_LDT = 0x2;
export const SYS_TSS16_BUSY = 0x3;
export const SYS_CALLGATE16 = 0x4;
export const SYS_TASKGATE = 0x5;
export const SYS_INTGATE16 = 0x6;
export const SYS_TRAPGATE16 = 0x7;
export const SYS_TSS32_AVAIL = 0x9;
export const SYS_TSS32_BUSY = 0xb;
export const SYS_CALLGATE32 = 0xc;
export const SYS_INTGATE32 = 0xe;
export const SYS_TRAPGATE32 = 0xf;

// MSRs (SDM vol. 4).
export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
/** IA32_APIC_BASE for the BSP: base 0xFEE00000, enable (bit 11), BSP (bit 8). */
export const APIC_BASE_BSP = 0xfee00900;

// CPUID leaf 1 EDX feature bits we implement.
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_PSE = 1 << 3;
export const CPUID_CX8 = 1 << 8;
export const CPUID_DE = 1 << 2;
export const CPUID_VME = 1 << 1;
