// One vCPU's virtual state: everything the guest believes about the
// processor that differs from what the real (deprivileged) CPU holds.
// The real CPU keeps the general registers, EIP, the arithmetic flags and
// the data segment registers exactly as the guest sees them; this object
// keeps the rest (the state list of the lecture notes: CPL, IF, IOPL,
// control registers, descriptor-table registers, CS/SS selectors).

import { CR0_ET, IF, IOPL } from '../cpu/arch.js';

/** EFLAGS bits kept virtually (the real ones stay IF=1, IOPL=0 while a guest runs). */
export const VIRTUAL_FLAGS = IF | IOPL;

export class VirtualCpu {
  /** Virtual CPL (SDM vol. 3, 5.5); the real CPL is 3 whenever the guest runs. */
  cpl = 0;
  /** The virtual IF and IOPL bits (other EFLAGS bits live in the real CPU). */
  vflags = 0;
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Uint32Array(8);
  gdtrBase = 0;
  gdtrLimit = 0xffff;
  idtrBase = 0;
  idtrLimit = 0x3ff;
  ldtrSel = 0;
  ldtrBase = 0;
  ldtrLimit = 0;
  ldtrAttr = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0;
  trAttr = 0;
  /** Guest-visible CS and SS selectors (the real ones carry RPL 3). */
  csSel = 0;
  ssSel = 0;
  /** HLT executed; waits for an interrupt. */
  halted = false;
  /** An emulated STI / MOV SS: no interrupt before the next instruction completes. */
  interruptShadow = false;
  /** The guest stopped for good (triple fault, unsupported operation): why. */
  stopped: string | null = null;
  /** TSC offset written by WRMSR(IA32_TIME_STAMP_COUNTER). */
  tscOffset = 0;
  apicBase = 0xfee00900;

  constructor() {
    this.dr[6] = 0xffff0ff0;
    this.dr[7] = 0x400;
  }

  get vif(): boolean {
    return (this.vflags & IF) !== 0;
  }

  get iopl(): number {
    return (this.vflags >>> 12) & 3;
  }

  /** The EFLAGS value the guest sees, from the real one. */
  guestEflags(real: number): number {
    return ((real & ~VIRTUAL_FLAGS) | this.vflags) >>> 0;
  }
}
