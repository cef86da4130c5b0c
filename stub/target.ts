// The narrow interface the GDB stub debugs through. The stub knows nothing
// else of the machine: src/machine/debug-target.ts implements this for the
// real emulator/VMM; tests implement it with an in-memory fake.
//
// Everything here is *guest-visible truth*: virtual registers under the VMM
// (cs = 0x8 in the guest kernel, virtual IF/IOPL, virtual CRs), memory seen
// through the guest's own page tables without side effects, and original
// bytes wherever the VMM or the debugger placed an INT 3.

/**
 * Registers the target provides, by index into `readRegisters()`'s result.
 * 0..15 are GDB's i386 core order (gdb regnums 0..15). 16.. are the
 * trapvisor system feature. The x87 block that GDB's core feature also
 * requires (gdb regnums 16..31) belongs to the stub alone: it reads as 0
 * and ignores writes, because no target offers an FPU view yet.
 */
export const Reg = {
  EAX: 0, ECX: 1, EDX: 2, EBX: 3, ESP: 4, EBP: 5, ESI: 6, EDI: 7,
  EIP: 8, EFLAGS: 9,
  CS: 10, SS: 11, DS: 12, ES: 13, FS: 14, GS: 15,
  CS_BASE: 16, SS_BASE: 17, DS_BASE: 18, ES_BASE: 19, FS_BASE: 20, GS_BASE: 21,
  CR0: 22, CR2: 23, CR3: 24, CR4: 25,
  GDTR_BASE: 26, GDTR_LIMIT: 27, IDTR_BASE: 28, IDTR_LIMIT: 29,
  LDTR: 30, TR: 31,
} as const;
export type RegId = (typeof Reg)[keyof typeof Reg];
/** Length of the array `readRegisters()` returns. */
export const TARGET_REG_COUNT = 32;

/** Why the target stopped. `thread` is a vCPU id (gdb thread id = id + 1). */
export type StopReason =
  /** SIGINT (2) after interrupt(), SIGTRAP (5) after a step or range step. */
  | { kind: 'signal'; signal: number; thread: number }
  /** A breakpoint set through addBreakpoint() — never a guest's own int3. */
  | { kind: 'swbreak' | 'hwbreak'; thread: number }
  /** `address` is the watched address the access touched. */
  | { kind: 'watch' | 'rwatch' | 'awatch'; thread: number; address: number }
  | { kind: 'exited'; code: number }
  | { kind: 'terminated'; signal: number };

/**
 * One vCPU's part of a resume. vCPUs not named in the list stay stopped
 * (stepping one thread does not run the others unless asked). `range`
 * steps while start <= eip < end (gdb's vCont;r); a target may stop
 * earlier, e.g. treat it as one step: gdb then simply asks again.
 */
export type ResumeAction =
  | { thread: number; kind: 'continue' }
  | { thread: number; kind: 'step' }
  | { thread: number; kind: 'range'; start: number; end: number };

export type BreakpointKind = 'sw' | 'hw';
export type WatchKind = 'write' | 'read' | 'access';

export interface DebugTarget {
  /** vCPU ids, at least one; gdb thread ids are id + 1. */
  threads(): readonly number[];
  /** Free text shown by `info threads`, e.g. "CPU#0 [protected, paging, CPL0]". */
  threadExtraInfo?(thread: number): string;

  /** TARGET_REG_COUNT values indexed by Reg; undefined = unavailable. */
  readRegisters(thread: number): ArrayLike<number | undefined>;
  writeRegister(thread: number, reg: RegId, value: number): boolean;

  /**
   * Guest-virtual (through the thread's guest page tables) or, in physical
   * mode, guest-physical. Side-effect free. May return fewer bytes than
   * asked (stops at the first unmapped byte); null or empty = nothing
   * readable at addr.
   */
  readMemory(thread: number, addr: number, len: number): Uint8Array | null;
  /** All or nothing; false if any byte is unmapped or read-only to gdb. */
  writeMemory(thread: number, addr: number, data: Uint8Array): boolean;
  /** Switch readMemory/writeMemory to guest-physical addresses. */
  setPhysicalMode?(on: boolean): void;

  /** Unlimited and invisible to the guest. Same address twice is fine. */
  addBreakpoint(kind: BreakpointKind, addr: number): boolean;
  removeBreakpoint(kind: BreakpointKind, addr: number): boolean;
  addWatchpoint?(kind: WatchKind, addr: number, len: number): boolean;
  removeWatchpoint?(kind: WatchKind, addr: number, len: number): boolean;

  /**
   * Start running. The target runs asynchronously (bounded slices on the
   * event loop) and calls onStop exactly once when it stops. It may call
   * onStop synchronously (e.g. a step that completes at once).
   */
  resume(actions: readonly ResumeAction[], onStop: (r: StopReason) => void): void;
  /** Stop a running target soon; it calls the pending onStop with SIGINT. */
  interrupt(): void;

  /** `monitor CMD` for commands the stub does not handle itself; text out. */
  monitor?(cmd: string): string;
  /** One line per command the target's monitor() understands. */
  monitorHelp?(): string;
  /** gdb's `k`: end the run. */
  kill?(): void;
  /** gdb detached; the stub resumes the guest right after. */
  detach?(): void;
}
