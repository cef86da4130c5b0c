// Why Cpu.run() returned. Details are in Cpu.exitVector/exitErrorCode/
// exitHasError/exitAddress (filled without allocation).

export const enum Exit {
  /** The instruction budget is used up. */
  BUDGET = 0,
  /** HLT with nothing to wake the CPU (IF=1 and INTR low, or IF=0). */
  HLT = 1,
  /** An exception whose bit is set in interceptExceptions; EIP is at the faulting instruction. */
  EXCEPTION = 2,
  /** INTR is asserted, IF=1 and interceptInterrupts is set; nothing was acknowledged. */
  INTERRUPT = 3,
  /** About to execute an instruction at a debugger breakpoint. */
  BREAKPOINT = 4,
  /** An instruction touched a watched range; it has completed. */
  WATCHPOINT = 5,
  /** A fault while delivering a double fault: the processor shuts down. */
  TRIPLE_FAULT = 6,
}
