// Test-side gdb: a fake duplex wired to a stub session, and a client that
// frames packets and decodes replies with its own, deliberately plain code
// (so the stub's framer is checked against an independent reading of the
// protocol, not against itself).

import { Duplex } from 'node:stream';
import { RunControl } from '../../../stub/run-control.js';
import { serveStream } from '../../../stub/server.js';
import type { GdbSession } from '../../../stub/session.js';
import type { DebugTarget } from '../../../stub/target.js';

/** Two connected in-memory duplex ends (Node 20 has no stream.duplexPair). */
export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const mk = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  a = mk(() => b);
  b = mk(() => a);
  return [a, b];
}

export function checksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

export function frame(body: string): string {
  return `$${body}#${checksum(body)}`;
}

export class TestClient {
  /** Every byte received, latin1. */
  raw = '';
  acks = '';
  readonly packets: string[] = [];
  ackMode = true;
  closed = false;
  private pending = '';
  private waiters: (() => void)[] = [];

  constructor(readonly stream: Duplex) {
    stream.on('data', (b: Buffer) => this.onData(b.toString('latin1')));
    stream.on('end', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(s: string): void {
    this.raw += s;
    this.pending += s;
    for (;;) {
      while (this.pending.length && this.pending[0] !== '$') {
        this.acks += this.pending[0];
        this.pending = this.pending.slice(1);
      }
      const hash = this.pending.indexOf('#');
      if (hash < 0 || this.pending.length < hash + 3) break;
      const body = this.pending.slice(1, hash);
      const cs = this.pending.slice(hash + 1, hash + 3);
      this.pending = this.pending.slice(hash + 3);
      if (cs !== checksum(body)) throw new Error(`bad checksum from stub: ${body}#${cs}`);
      if (this.ackMode) this.stream.write('+');
      this.packets.push(decodeRle(body));
    }
    this.wake();
  }

  send(raw: string): void {
    this.stream.write(Buffer.from(raw, 'latin1'));
  }

  sendPacket(body: string): void {
    this.send(frame(body));
  }

  /** Next reply packet (RLE expanded), waiting up to `ms`. */
  async next(ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.packets.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for a packet');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.packets.shift()!;
  }

  async request(body: string, ms?: number): Promise<string> {
    this.sendPacket(body);
    return this.next(ms);
  }

  /** True if no packet arrives within `ms`. */
  async silent(ms = 50): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.packets.length === 0;
  }
}

/** gdb's reading of `x*N`: repeat the previous char N-29 more times. */
export function decodeRle(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '*' && i + 1 < s.length && out.length) {
      out += out[out.length - 1].repeat(s.charCodeAt(i + 1) - 29);
      i++;
    } else out += s[i];
  }
  return out;
}

/** A session over a fake duplex with its client. */
export function connect(target: DebugTarget, run = new RunControl(target), hooks = {}): { client: TestClient; session: GdbSession; run: RunControl } {
  const [stubEnd, clientEnd] = duplexPair();
  const session = serveStream(stubEnd, run, hooks);
  return { client: new TestClient(clientEnd), session, run };
}

export function hexLE32(v: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) s += ((v >>> (8 * i)) & 0xff).toString(16).padStart(2, '0');
  return s;
}

export const toHex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
export const fromHex = (h: string): string => Buffer.from(h, 'hex').toString('utf8');
