// The stub's public surface: what src/cli and src/machine import.

export { startGdbServer, serveStream, type GdbServer, type GdbServerOptions } from './server.js';
export { RunControl } from './run-control.js';
export { GdbSession, type SessionHooks, type Transport } from './session.js';
export { PACKET_SIZE } from './packet.js';
export { TARGET_XML, TARGET_XML_REAL_MODE, GDB_REGS } from './arch-i386.js';
export {
  Reg, TARGET_REG_COUNT,
  type RegId, type DebugTarget, type StopReason, type ResumeAction, type BreakpointKind, type WatchKind,
} from './target.js';
