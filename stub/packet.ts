// Remote-protocol framing, apart from any packet's meaning: `$body#cs`,
// `+`/`-` acks with retransmit of the last packet on NAK, no-ack mode,
// run-length encoding, `}` escapes for binary data and the out-of-band
// 0x03 interrupt byte. Bytes in via receive(), events out via a sink.
//
// Bodies are "binary strings" (latin1: one char per byte) so the session
// can slice them with string ops and still see raw X data.

/** The payload size we advertise in qSupported and accept. */
export const PACKET_SIZE = 0x10000;

const DOLLAR = 0x24; // '$' starts a packet
const HASH = 0x23; // '#' ends the body; two hex checksum digits follow
const ACK = 0x2b; // '+'
const NAK = 0x2d; // '-'
const INTERRUPT = 0x03; // ^C, only between packets
const RLE = 0x2a; // '*': repeat the previous char (next char - 29) times
const ESCAPE = 0x7d; // '}': next byte is XORed with 0x20
/** Run-length counts are the printable char (count + 29); '#' and '$' are not allowed. */
const RLE_BIAS = 29;
const RLE_MAX = 126 - RLE_BIAS;

export interface FramerSink {
  /** Bytes for the wire. */
  write(bytes: Uint8Array): void;
  /** A complete packet (RLE already expanded), checksum verified unless no-ack. */
  packet(body: string): void;
  /** 0x03 between packets. */
  interrupt(): void;
  /** A packet longer than PACKET_SIZE was dropped (it still gets a reply slot). */
  oversized(): void;
}

const enum State {
  Idle,
  Body,
  Check1,
  Check2,
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

export class PacketFramer {
  /** After QStartNoAckMode's OK is sent: no acks, no checksum verification. */
  noAck = false;
  private state = State.Idle;
  private readonly buf: Uint8Array;
  private len = 0;
  private overflow = false;
  private sum = 0;
  private check = 0;
  private lastSent: Uint8Array | null = null;

  constructor(
    private readonly sink: FramerSink,
    private readonly maxBody = PACKET_SIZE,
  ) {
    this.buf = new Uint8Array(maxBody);
  }

  /** Feed bytes as they come off the socket; any split or merge is fine. */
  receive(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]);
  }

  private byte(c: number): void {
    switch (this.state) {
      case State.Idle:
        if (c === DOLLAR) this.begin();
        else if (c === NAK) {
          if (!this.noAck && this.lastSent !== null) this.sink.write(this.lastSent);
        } else if (c === INTERRUPT) this.sink.interrupt();
        // '+' and line noise between packets are ignored.
        return;
      case State.Body:
        if (c === HASH) {
          this.state = State.Check1;
        } else if (c === DOLLAR) {
          // A '$' cannot occur in a body (binary data escapes it): gdb
          // gave up on the previous packet and started over.
          this.begin();
        } else {
          this.sum = (this.sum + c) & 0xff;
          if (this.len < this.maxBody) this.buf[this.len++] = c;
          else this.overflow = true;
        }
        return;
      case State.Check1: {
        const d = hexVal(c);
        this.check = d < 0 ? -1 : d << 4;
        this.state = State.Check2;
        return;
      }
      case State.Check2: {
        const d = hexVal(c);
        const ok = this.check >= 0 && d >= 0 && (this.check | d) === this.sum;
        this.state = State.Idle;
        this.finish(ok);
        return;
      }
    }
  }

  private begin(): void {
    this.state = State.Body;
    this.len = 0;
    this.sum = 0;
    this.overflow = false;
  }

  private finish(checksumOk: boolean): void {
    if (!this.noAck) {
      if (!checksumOk) {
        this.sink.write(Uint8Array.of(NAK));
        return;
      }
      this.sink.write(Uint8Array.of(ACK));
    }
    // In no-ack mode the transport is trusted (TCP); the protocol says
    // the checksum need not be verified, so a bad one is not dropped.
    if (this.overflow) {
      this.sink.oversized();
      return;
    }
    const body = expandRunLength(this.buf, this.len, this.maxBody);
    if (body === null) this.sink.oversized();
    else this.sink.packet(body);
  }

  /**
   * Frame and send one reply. Text replies are run-length encoded;
   * `binary` replies (already escaped with escapeBinary) are not, because
   * a run inside escaped data would repeat half an escape pair.
   */
  send(body: string, binary = false): void {
    const text = binary ? body : encodeRunLength(body);
    const out = new Uint8Array(text.length + 4);
    out[0] = DOLLAR;
    let sum = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i) & 0xff;
      out[i + 1] = c;
      sum = (sum + c) & 0xff;
    }
    out[text.length + 1] = HASH;
    out[text.length + 2] = HEX_CHARS.charCodeAt(sum >> 4);
    out[text.length + 3] = HEX_CHARS.charCodeAt(sum & 15);
    this.lastSent = this.noAck ? null : out;
    this.sink.write(out);
  }
}

const HEX_CHARS = '0123456789abcdef';

/** Expand `x*N` runs; null if the result would exceed max. */
export function expandRunLength(buf: Uint8Array, len: number, max: number): string | null {
  let out = '';
  let outLen = 0;
  let prev = -1;
  for (let i = 0; i < len; i++) {
    const c = buf[i];
    if (c === RLE && prev >= 0 && i + 1 < len) {
      const n = buf[++i] - RLE_BIAS;
      if (n < 0) continue; // malformed count: drop it, the packet parser judges the rest
      if (outLen + n > max) return null;
      out += String.fromCharCode(prev).repeat(n);
      outLen += n;
      continue;
    }
    if (outLen + 1 > max) return null;
    out += String.fromCharCode(c);
    outLen++;
    prev = c;
  }
  return out;
}

/** Run-length encode text (never binary): runs of 4+ become `x*N`. */
export function encodeRunLength(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    let run = 1;
    while (i + run < s.length && s[i + run] === ch) run++;
    out += ch;
    let rest = run - 1;
    // '$', '#', '}' and '*' themselves are never repeated this way.
    const repeatable = ch !== '$' && ch !== '#' && ch !== '}' && ch !== '*';
    while (rest > 0) {
      if (!repeatable || rest < 3) {
        out += ch.repeat(rest);
        break;
      }
      let n = Math.min(rest, RLE_MAX);
      // Counts 6 and 7 would be spelled '#' and '$'.
      if (n === 6 || n === 7) n = 5;
      out += '*' + String.fromCharCode(n + RLE_BIAS);
      rest -= n;
      if (rest > 0 && rest < 3) {
        out += ch.repeat(rest);
        rest = 0;
      } else if (rest > 0) {
        out += ch;
        rest--;
      }
    }
    i += run;
  }
  return out;
}

/** Escape binary data (latin1 string) for a reply: `#$}*` become `}` + (c ^ 0x20). */
export function escapeBinary(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0x23 || c === 0x24 || c === ESCAPE || c === RLE) {
      out += '}' + String.fromCharCode(c ^ 0x20);
    } else out += String.fromCharCode(c);
  }
  return out;
}

/** Undo `}` escapes of binary data in a packet body; null if it ends mid-escape. */
export function unescapeBinary(s: string, from: number): Uint8Array | null {
  const out = new Uint8Array(s.length - from);
  let n = 0;
  for (let i = from; i < s.length; i++) {
    let c = s.charCodeAt(i) & 0xff;
    if (c === ESCAPE) {
      if (++i >= s.length) return null;
      c = (s.charCodeAt(i) & 0xff) ^ 0x20;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}
