// Breakpoints and watchpoints: Z0/z0 (software), Z1/z1 (hardware),
// Z2-Z4/z2-z4 (write/read/access watchpoints). All unlimited; the target
// keeps them invisible to the guest. The session remembers what this gdb
// inserted so a detach or a dropped connection leaves nothing behind.

import type { GdbSession, Reply } from '../session.js';
import type { BreakpointKind, WatchKind } from '../target.js';
import { parseHexU32 } from '../hex.js';

const WATCH_KINDS: readonly WatchKind[] = ['write', 'read', 'access'];
/** Longest watched range we pass on; gdb splits bigger objects itself. */
const MAX_WATCH_LEN = 0x10000;

interface Parsed {
  type: number;
  addr: number;
  kind: number;
}

function parse(body: string): Parsed | null {
  // Z type,addr,kind[;cond_list...][;cmds:...] — conditions are evaluated by gdb.
  const semi = body.indexOf(';');
  const fields = (semi < 0 ? body.slice(1) : body.slice(1, semi)).split(',');
  if (fields.length !== 3 || fields[0].length !== 1) return null;
  const type = fields[0].charCodeAt(0) - 0x30;
  const addr = parseHexU32(fields[1]);
  const kind = parseHexU32(fields[2]);
  if (type < 0 || type > 4 || addr === null || kind === null) return null;
  return { type, addr, kind };
}

/** Apply one insert (on=true) or remove to the target; null = unsupported. */
function apply(s: GdbSession, p: Parsed, on: boolean): boolean | null {
  if (p.type <= 1) {
    const k: BreakpointKind = p.type === 0 ? 'sw' : 'hw';
    return on ? s.target.addBreakpoint(k, p.addr) : s.target.removeBreakpoint(k, p.addr);
  }
  const w = WATCH_KINDS[p.type - 2];
  const len = p.kind;
  if (len === 0 || len > MAX_WATCH_LEN) return false;
  const fn = on ? s.target.addWatchpoint : s.target.removeWatchpoint;
  if (fn === undefined) return null;
  return fn.call(s.target, w, p.addr, len);
}

const key = (p: Parsed): string => `${p.type},${p.addr},${p.kind}`;

export function handleBreakpoint(s: GdbSession, body: string): Reply {
  const p = parse(body);
  if (p === null) return 'E16';
  const on = body[0] === 'Z';
  const k = key(p);
  // The same insert twice (gdb re-inserting after a failed remove) is one breakpoint.
  if (on && s.inserted.has(k)) return 'OK';
  const r = apply(s, p, on);
  if (r === null) return ''; // no watchpoints in this target: gdb falls back to its own
  if (!r) return 'E01';
  if (on) s.inserted.add(k);
  else s.inserted.delete(k);
  return 'OK';
}

/** Remove everything this gdb inserted (detach, disconnect, kill). */
export function removeAllBreakpoints(s: GdbSession): void {
  for (const k of s.inserted) {
    const [type, addr, kind] = k.split(',').map(Number);
    try {
      apply(s, { type, addr, kind }, false);
    } catch {
      /* keep removing the rest */
    }
  }
  s.inserted.clear();
}
