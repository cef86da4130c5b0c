// Seeded fuzzing: thousands of random, templated and mutated packets and
// framing faults at a session. Nothing may throw (the stream callbacks
// run synchronously, so a throw fails the test), and afterwards the
// session must still answer `?` and a `g` that matches the target.

import { describe, expect, it } from 'vitest';
import { FakeTarget } from './fake-target.js';
import { connect, frame, hexLE32, TestClient } from './client.js';
import { RunControl } from '../../../stub/run-control.js';
import { TARGET_REG_COUNT } from '../../../stub/target.js';

/** mulberry32: small, seedable, good enough to pick test inputs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEMPLATES = [
  '?', 'g', 'G', 'p', 'P', 'm', 'M', 'X', 'Z0,', 'z0,', 'Z1,', 'Z2,', 'Z3,', 'Z4,', 'z2,', 'c', 's', 'C05', 'S05',
  'vCont?', 'vCont;c', 'vCont;s:1', 'vCont;r', 'vCont;s:2;c', 'Hg', 'Hc', 'T', 'qC', 'qfThreadInfo', 'qsThreadInfo',
  'qThreadExtraInfo,', 'qSupported:swbreak+;hwbreak+', 'qXfer:features:read:target.xml:', 'qAttached', 'qSymbol::',
  'qTStatus', 'qRcmd,', 'QStartNoAckMode', 'Qqemu.PhyMemMode:', 'qqemu.PhyMemMode', 'D', 'k', 'vKill;1', '!', 'R00',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function hexStr(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdefABCDEFxz-,;:'[Math.floor(r() * (r() < 0.8 ? 16 : 28))];
  return s;
}

function randomBody(r: () => number): string {
  const t = pick(r, TEMPLATES);
  let body = t;
  const roll = r();
  if (roll < 0.6) body += hexStr(r, 12) + (r() < 0.5 ? ',' + hexStr(r, 6) : '') + (r() < 0.3 ? ':' + hexStr(r, 40) : '');
  else if (roll < 0.8) {
    // pure random bytes, including framing characters
    let s = '';
    const n = Math.floor(r() * 40);
    for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
    body = r() < 0.5 ? s : t + s;
  }
  // mutations: flip, delete, duplicate
  const muts = Math.floor(r() * 3);
  for (let i = 0; i < muts && body.length > 0; i++) {
    const at = Math.floor(r() * body.length);
    const m = r();
    if (m < 0.4) body = body.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + body.slice(at + 1);
    else if (m < 0.7) body = body.slice(0, at) + body.slice(at + 1);
    else body = body.slice(0, at) + body.slice(at, at + 5).repeat(2) + body.slice(at + 5);
  }
  // Keep D/k/vKill rare so most of the run exercises one connection.
  if (/^(D|k|vKill)/.test(body) && r() < 0.8) body = '?' + body;
  return body;
}

function wire(r: () => number, body: string): string {
  const f = frame(body);
  const roll = r();
  if (roll < 0.08) return f.slice(0, Math.floor(r() * f.length)); // truncated
  if (roll < 0.14) return f.slice(0, -2) + 'zz'; // bad checksum
  if (roll < 0.18) return '-';
  if (roll < 0.22) return '\x03';
  if (roll < 0.25) return '*' + f; // junk before
  return f;
}

const tick = () => new Promise<void>((res) => setImmediate(res));

async function settle(target: FakeTarget, run: RunControl, client: TestClient): Promise<void> {
  for (let i = 0; i < 200 && (run.running || target.running); i++) {
    client.send('\x03');
    await new Promise((res) => setTimeout(res, 2));
  }
}

function expectedG(target: FakeTarget, thread: number): string {
  const r = target.regs[thread];
  let g = '';
  for (let i = 0; i < 16; i++) g += hexLE32(r[i]);
  g += '0'.repeat(8 * 20 + 8 * 8);
  for (let i = 16; i < TARGET_REG_COUNT; i++) g += hexLE32(r[i]);
  return g;
}

describe('fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 2000 random packets, then ? and g still answer`, async () => {
      const r = rng(seed);
      const target = new FakeTarget(2);
      const run = new RunControl(target);
      const errors: unknown[] = [];
      const onErr = (e: unknown) => errors.push(e);
      process.on('unhandledRejection', onErr);
      process.on('uncaughtException', onErr);
      try {
        let conn = connect(target, run);
        let reconnects = 0;
        let replies = 0;
        const kinds = new Set<string>();
        for (let i = 0; i < 2000; i++) {
          if (conn.client.closed || conn.session.closed) {
            conn = connect(target, run);
            reconnects++;
          }
          conn.client.send(wire(r, randomBody(r)));
          if (run.running && r() < 0.3) conn.client.send('\x03');
          await tick();
          replies += conn.client.packets.length;
          for (const p of conn.client.packets) kinds.add(p.slice(0, 1));
          conn.client.packets.length = 0;
        }
        await settle(target, run, conn.client);
        // The fuzzed connection itself, if still open: resync mid-frame, then ask.
        if (!conn.session.closed) {
          conn.client.packets.length = 0;
          conn.client.send('xx' + frame('?'));
          await tick();
          await settle(target, run, conn.client);
          const replies: string[] = [];
          for (let k = 0; k < 70 && !conn.client.closed; k++) {
            try {
              replies.push(await conn.client.next(300));
            } catch {
              break;
            }
            if (replies.some((x) => x.startsWith('T'))) break;
          }
          if (!conn.session.closed) expect(replies.some((x) => /^T[0-9a-f]{2}/.test(x))).toBe(true);
        }
        // A fresh gdb attaching afterwards gets sane answers.
        await settle(target, run, conn.client);
        const fresh = connect(target, run);
        await settle(target, run, fresh.client);
        expect(await fresh.client.request('?')).toMatch(/^T[0-9a-f]{2}thread:[12];/);
        expect(await fresh.client.request('Hg1')).toBe('OK');
        expect(await fresh.client.request('g')).toBe(expectedG(target, 0));
        expect(errors).toEqual([]);
        // The run must actually have exercised the stub, not bounced off it.
        console.log(`seed ${seed}: ${replies} replies, kinds ${[...kinds].sort().join('')}, ${target.resumes.length} resumes, ${reconnects} reconnects`);
        expect(replies).toBeGreaterThan(800);
        expect(target.resumes.length).toBeGreaterThan(20);
        expect(kinds.has('E') && kinds.has('T') && kinds.has('O')).toBe(true);
      } finally {
        process.off('unhandledRejection', onErr);
        process.off('uncaughtException', onErr);
      }
    });
  }
});
