// Execution control: `?` stop replies, c/C/s/S, vCont (c, s, r with
// per-thread actions), D (detach) and k (kill).
//
// Signals passed with C/S/vCont;C are accepted and dropped: a machine has
// no signals to deliver, only vCPUs to run.

import type { GdbSession, Reply } from '../session.js';
import type { ResumeAction, StopReason } from '../target.js';
import { Reg } from '../target.js';
import { hexLE, hexNum, hexU8, parseHexU32, parseThreadId } from '../hex.js';
import { GDB_FP_REGNUM, GDB_PC_REGNUM, GDB_SP_REGNUM } from '../arch-i386.js';
import { safeThreads } from '../run-control.js';

const SIGTRAP = 5;

/** The registers gdb needs at every stop, sent along so it need not ask. */
function expedite(s: GdbSession, thread: number): string {
  try {
    const v = s.target.readRegisters(thread);
    let out = '';
    for (const [regnum, reg] of [
      [GDB_PC_REGNUM, Reg.EIP],
      [GDB_SP_REGNUM, Reg.ESP],
      [GDB_FP_REGNUM, Reg.EBP],
    ] as const) {
      const x = v[reg];
      if (typeof x === 'number') out += `${hexU8(regnum)}:${hexLE(x, 4)};`;
    }
    return out;
  } catch {
    return '';
  }
}

/** Stop reply packet (`T`, `W`, `X`) for a stop reason. */
export function stopReply(s: GdbSession, r: StopReason): string {
  switch (r.kind) {
    case 'exited':
      return 'W' + hexU8(r.code);
    case 'terminated':
      return 'X' + hexU8(r.signal);
    case 'signal':
      return `T${hexU8(r.signal)}thread:${hexNum(r.thread + 1)};${expedite(s, r.thread)}`;
    case 'swbreak':
    case 'hwbreak': {
      const told = r.kind === 'swbreak' ? s.gdbSwbreak : s.gdbHwbreak;
      const reason = told ? `${r.kind}:;` : '';
      return `T${hexU8(SIGTRAP)}${reason}thread:${hexNum(r.thread + 1)};${expedite(s, r.thread)}`;
    }
    case 'watch':
    case 'rwatch':
    case 'awatch':
      return `T${hexU8(SIGTRAP)}${r.kind}:${hexNum(r.address)};thread:${hexNum(r.thread + 1)};${expedite(s, r.thread)}`;
    default:
      return 'E01';
  }
}

/** Start the target; the reply is the stop reply, sent when it stops. */
function go(s: GdbSession, actions: ResumeAction[]): Reply {
  if (actions.length === 0) return 'E16';
  s.expectStop(true);
  if (!s.run.resume(actions)) {
    s.expectStop(false);
    return 'E01';
  }
  return null;
}

/** The thread legacy c/s act on. */
function cThread(s: GdbSession): number {
  return s.cThread >= 0 ? s.cThread : s.gThread;
}

/** Optional resume address of c/s/C/S: set eip first. */
function setPc(s: GdbSession, thread: number, addrText: string | undefined): boolean {
  if (addrText === undefined || addrText === '') return true;
  const addr = parseHexU32(addrText);
  if (addr === null) return false;
  return s.target.writeRegister(thread, Reg.EIP, addr);
}

function legacy(s: GdbSession, body: string): Reply {
  const op = body[0];
  let addr: string | undefined = body.slice(1);
  if (op === 'C' || op === 'S') {
    // `C sig[;addr]`
    const semi = addr.indexOf(';');
    const sig = semi < 0 ? addr : addr.slice(0, semi);
    if (parseHexU32(sig) === null) return 'E16';
    addr = semi < 0 ? undefined : addr.slice(semi + 1);
  }
  const t = cThread(s);
  if (!setPc(s, t, addr)) return 'E16';
  if (op === 'c' || op === 'C') {
    return go(s, safeThreads(s.target).map((thread) => ({ thread, kind: 'continue' as const })));
  }
  return go(s, [{ thread: t, kind: 'step' }]);
}

type ParsedAction =
  | { kind: 'continue' | 'step'; tid: number }
  | { kind: 'range'; tid: number; start: number; end: number };

/** One `vCont` action; tid -1 = every thread. */
function parseAction(a: string): ParsedAction | null {
  const colon = a.indexOf(':');
  let tid = -1;
  if (colon >= 0) {
    let t = a.slice(colon + 1);
    // Tolerate multiprocess spelling pPID.TID even though we say multiprocess-.
    if (t.startsWith('p')) {
      const dot = t.indexOf('.');
      t = dot < 0 ? '-1' : t.slice(dot + 1);
    }
    const v = parseThreadId(t);
    if (v === null) return null;
    tid = v === 0 ? -1 : v;
    a = a.slice(0, colon);
  }
  switch (a[0]) {
    case 'c':
    case 's':
      if (a.length !== 1) return null;
      return { kind: a === 'c' ? 'continue' : 'step', tid };
    case 'C':
    case 'S':
      if (a.length < 2 || parseHexU32(a.slice(1)) === null) return null;
      return { kind: a[0] === 'C' ? 'continue' : 'step', tid };
    case 'r': {
      const comma = a.indexOf(',');
      if (comma < 0) return null;
      const start = parseHexU32(a.slice(1, comma));
      const end = parseHexU32(a.slice(comma + 1));
      if (start === null || end === null) return null;
      return { kind: 'range', tid, start, end };
    }
    default:
      return null;
  }
}

function vCont(s: GdbSession, body: string): Reply {
  if (body === 'vCont?') return 'vCont;c;C;s;S;r';
  if (!body.startsWith('vCont;')) return '';
  const parsed: ParsedAction[] = [];
  for (const part of body.slice(6).split(';')) {
    const p = parseAction(part);
    if (p === null) return 'E16';
    parsed.push(p);
  }
  const threads = safeThreads(s.target);
  // Each thread takes the leftmost action that names it (or names all);
  // threads no action names stay stopped.
  const actions: ResumeAction[] = [];
  for (const thread of threads) {
    const p = parsed.find((x) => x.tid === -1 || x.tid === thread + 1);
    if (p === undefined) continue;
    if (p.kind === 'range') actions.push({ thread, kind: 'range', start: p.start, end: p.end });
    else actions.push({ thread, kind: p.kind });
  }
  return go(s, actions);
}

export function handleExec(s: GdbSession, body: string): Reply {
  switch (body[0]) {
    case 'c':
    case 'C':
    case 's':
    case 'S':
      return legacy(s, body);
    case 'v':
      return vCont(s, body);
    case 'D':
      s.send('OK');
      s.detach();
      return null;
    case 'k':
      s.kill();
      return null;
    default:
      return '';
  }
}
