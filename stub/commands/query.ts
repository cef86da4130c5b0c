// General queries and settings (q/Q), plus thread selection (H, T):
// qSupported, qAttached, qC, qfThreadInfo/qsThreadInfo, qThreadExtraInfo,
// qXfer:features:read, qSymbol, qTStatus, QStartNoAckMode,
// Qqemu.PhyMemMode (QEMU's switch to physical addressing), qRcmd.

import type { GdbSession, Reply } from '../session.js';
import { PACKET_SIZE, escapeBinary } from '../packet.js';
import { CR0_PE, TARGET_XML, TARGET_XML_REAL_MODE } from '../arch-i386.js';
import { Reg } from '../target.js';
import { asciiToHex, hexNum, parseHexU32, parseThreadId } from '../hex.js';
import { safeThreads } from '../run-control.js';
import { handleMonitor, setPhysMode } from './monitor.js';

const XML_PROTECTED = new TextEncoder().encode(TARGET_XML);
const XML_REAL = new TextEncoder().encode(TARGET_XML_REAL_MODE);

/** The description for this connection, chosen at the first read (see arch-i386.ts). */
function targetXml(s: GdbSession): Uint8Array {
  if (s.realModeTdesc === undefined) {
    let cr0: number | undefined;
    try {
      cr0 = s.target.readRegisters(s.gThread)[Reg.CR0];
    } catch {
      cr0 = undefined;
    }
    s.realModeTdesc = typeof cr0 === 'number' && (cr0 & CR0_PE) === 0;
  }
  return s.realModeTdesc ? XML_REAL : XML_PROTECTED;
}

/** Only what exists: no watchpoint/FPU claims beyond what the target offers. */
function supported(s: GdbSession, body: string): string {
  const theirs = body.slice('qSupported:'.length).split(';');
  s.gdbSwbreak = theirs.includes('swbreak+');
  s.gdbHwbreak = theirs.includes('hwbreak+');
  return [
    `PacketSize=${hexNum(PACKET_SIZE)}`,
    'qXfer:features:read+',
    'swbreak+',
    'hwbreak+',
    'QStartNoAckMode+',
    'vContSupported+',
    'multiprocess-',
  ].join(';');
}

/** qXfer:features:read:ANNEX:OFFSET,LENGTH */
function features(s: GdbSession, body: string): Reply {
  const rest = body.slice('qXfer:features:read:'.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return 'E16';
  if (rest.slice(0, colon) !== 'target.xml') return 'E00';
  const args = rest.slice(colon + 1);
  const comma = args.indexOf(',');
  if (comma < 0) return 'E16';
  const off = parseHexU32(args.slice(0, comma));
  const len = parseHexU32(args.slice(comma + 1));
  if (off === null || len === null) return 'E16';
  // Escaping can double a byte; keep the reply within our PacketSize.
  const n = Math.min(len, (PACKET_SIZE >> 1) - 8);
  const xml = targetXml(s);
  if (off >= xml.length) return 'l';
  const chunk = xml.subarray(off, Math.min(off + n, xml.length));
  const last = off + chunk.length >= xml.length;
  return { binary: (last ? 'l' : 'm') + escapeBinary(chunk) };
}

function threadList(s: GdbSession): string {
  return 'm' + safeThreads(s.target).map((t) => hexNum(t + 1)).join(',');
}

function extraInfo(s: GdbSession, body: string): Reply {
  const tid = parseThreadId(body.slice('qThreadExtraInfo,'.length));
  if (tid === null || tid <= 0 || !safeThreads(s.target).includes(tid - 1)) return 'E16';
  const text = s.target.threadExtraInfo?.(tid - 1) ?? `CPU#${tid - 1}`;
  return asciiToHex(String(text).slice(0, 1024));
}

/** Hg/Hc: 0 = any (keep), -1 = all, n = thread n (vCPU n-1). */
function selectThread(s: GdbSession, body: string): Reply {
  const op = body[1];
  const tid = parseThreadId(body.slice(2));
  if ((op !== 'g' && op !== 'c') || tid === null) return 'E16';
  if (tid > 0 && !safeThreads(s.target).includes(tid - 1)) return 'E01';
  if (op === 'g') {
    if (tid > 0) s.gThread = tid - 1;
  } else {
    s.cThread = tid > 0 ? tid - 1 : -1;
  }
  return 'OK';
}

function alive(s: GdbSession, body: string): Reply {
  const tid = parseThreadId(body.slice(1));
  return tid !== null && tid > 0 && safeThreads(s.target).includes(tid - 1) ? 'OK' : 'E01';
}

export function handleQuery(s: GdbSession, body: string): Reply {
  if (body[0] === 'H') return selectThread(s, body);
  if (body[0] === 'T') return alive(s, body);
  if (body.startsWith('qSupported')) return supported(s, body);
  if (body === 'qAttached' || body.startsWith('qAttached:')) return '1'; // quit detaches, never kills the guest
  if (body === 'qC') return 'QC' + hexNum(s.gThread + 1);
  if (body === 'qfThreadInfo') return threadList(s);
  if (body === 'qsThreadInfo') return 'l';
  if (body.startsWith('qThreadExtraInfo,')) return extraInfo(s, body);
  if (body.startsWith('qXfer:features:read:')) return features(s, body);
  if (body.startsWith('qSymbol:')) return 'OK';
  if (body.startsWith('qRcmd,')) return handleMonitor(s, body);
  if (body === 'QStartNoAckMode') {
    // The OK still travels with acks; no-ack starts after it.
    s.send('OK');
    s.framer.noAck = true;
    return null;
  }
  if (body.startsWith('Qqemu.PhyMemMode:')) {
    const v = body.slice('Qqemu.PhyMemMode:'.length);
    if (v !== '0' && v !== '1') return 'E16';
    return setPhysMode(s, v === '1') ? 'OK' : 'E01';
  }
  if (body === 'qqemu.PhyMemMode') return s.physMode ? '1' : '0';
  // qTStatus, qOffsets, qHostInfo, ...: unsupported, which gdb handles.
  return '';
}
