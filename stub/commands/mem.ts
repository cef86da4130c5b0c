// Memory: m (read, hex), M (write, hex), X (write, binary with } escapes).
// Addresses are guest-virtual through the guest's page tables, or
// guest-physical after `monitor phys on` / Qqemu.PhyMemMode:1; the target
// reads without side effects and shows original bytes under any INT 3.

import type { GdbSession, Reply } from '../session.js';
import { PACKET_SIZE, unescapeBinary } from '../packet.js';
import { bytesToHex, hexToBytes, parseHexU32 } from '../hex.js';

/** EFAULT-style error: nothing mapped at the address. */
const E_FAULT = 'E14';
const E_INVAL = 'E16';
/** Largest m reply that fits our packet (two hex chars per byte). */
const MAX_READ = (PACKET_SIZE >> 1) - 16;

/** "addr,len" -> numbers, or null. */
function addrLen(text: string): [number, number] | null {
  const comma = text.indexOf(',');
  if (comma < 0) return null;
  const addr = parseHexU32(text.slice(0, comma));
  const len = parseHexU32(text.slice(comma + 1));
  if (addr === null || len === null) return null;
  return [addr, len];
}

function read(s: GdbSession, body: string): Reply {
  const al = addrLen(body.slice(1));
  if (al === null || al[1] === 0) return E_INVAL;
  const [addr, len] = al;
  // gdb handles short reads by asking again for the rest.
  const n = Math.min(len, MAX_READ, 0x100000000 - addr);
  const data = s.target.readMemory(s.gThread, addr, n);
  if (data === null || !(data instanceof Uint8Array) || data.length === 0) return E_FAULT;
  return bytesToHex(data.length > n ? data.subarray(0, n) : data);
}

function write(s: GdbSession, body: string): Reply {
  const colon = body.indexOf(':');
  if (colon < 0) return E_INVAL;
  const al = addrLen(body.slice(1, colon));
  if (al === null) return E_INVAL;
  const [addr, len] = al;
  const data = body[0] === 'M' ? hexToBytes(body.slice(colon + 1)) : unescapeBinary(body, colon + 1);
  if (data === null || data.length !== len) return E_INVAL;
  // `X addr,0:` is gdb probing whether X works at all.
  if (len === 0) return 'OK';
  if (addr + len > 0x100000000) return E_FAULT;
  return s.target.writeMemory(s.gThread, addr, data) ? 'OK' : E_FAULT;
}

export function handleMem(s: GdbSession, body: string): Reply {
  return body[0] === 'm' ? read(s, body) : write(s, body);
}
