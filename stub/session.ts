// One gdb connection: dispatches packets to the command families, holds
// the per-connection state (selected threads, no-ack, physical mode, the
// breakpoints this gdb inserted) and produces stop replies — only when gdb
// asked for one (`?`, `c`, `s`, `vCont`, or ^C while running).
//
// In all-stop mode gdb sends nothing but ^C while the guest runs; packets
// that arrive anyway are queued (bounded) and answered after the stop.

import { PacketFramer } from './packet.js';
import { RunControl, safeThreads } from './run-control.js';
import type { DebugTarget, StopReason } from './target.js';
import { handleQuery } from './commands/query.js';
import { handleRegs } from './commands/regs.js';
import { handleMem } from './commands/mem.js';
import { handleExec, stopReply } from './commands/exec.js';
import { handleBreakpoint, removeAllBreakpoints } from './commands/breakpoints.js';

/** What a command returns: a text reply, a binary (pre-escaped) reply, or nothing now. */
export type Reply = string | { binary: string } | null;

export interface Transport {
  write(bytes: Uint8Array): void;
  /** Flush and close the connection. */
  close(): void;
}

export interface SessionHooks {
  /** gdb sent `k`: the run is over (the server owner decides what that means). */
  onKill?(): void;
}

/** Packets that may wait while the guest runs; more are dropped. */
const MAX_QUEUED = 64;

export class GdbSession {
  readonly framer: PacketFramer;
  readonly target: DebugTarget;
  /** vCPU id for g/G/p/P/m/M and queries (Hg). */
  gThread: number;
  /** vCPU id for legacy c/s, or -1 for all (Hc). */
  cThread = -1;
  physMode = false;
  /** gdb said swbreak+/hwbreak+ in qSupported: it understands those stop reasons. */
  gdbSwbreak = false;
  gdbHwbreak = false;
  /** Which target.xml this connection got (fixed at its first read). */
  realModeTdesc: boolean | undefined = undefined;
  /** Breakpoints/watchpoints this gdb inserted ("type,addr,kind"), removed on detach/disconnect. */
  readonly inserted = new Set<string>();
  closed = false;
  /** gdb resumed and waits for a stop reply. */
  private awaitingStop = false;
  private readonly queue: string[] = [];
  private readonly listener = (r: StopReason): void => this.onStop(r);

  constructor(
    readonly run: RunControl,
    private readonly transport: Transport,
    readonly hooks: SessionHooks = {},
  ) {
    this.target = run.target;
    this.gThread = safeThreads(this.target)[0];
    this.framer = new PacketFramer({
      write: (b) => this.write(b),
      packet: (body) => this.onPacket(body),
      interrupt: () => this.onInterrupt(),
      oversized: () => this.onPacket('\u0000oversized'),
    });
    run.listener = this.listener;
    // A fresh `target remote` expects a stopped target: stop a guest that
    // runs on after an earlier detach (or was started without --wait). The
    // stop is recorded for `?`, not sent: gdb did not ask for it.
    run.interrupt();
  }

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.framer.receive(chunk);
  }

  /** Send one reply packet. */
  send(body: string, binary = false): void {
    if (this.closed) return;
    this.framer.send(body, binary);
  }

  private write(b: Uint8Array): void {
    if (this.closed) return;
    try {
      this.transport.write(b);
    } catch {
      this.disconnected();
    }
  }

  private onPacket(body: string): void {
    if (this.closed) return;
    if (this.run.running || this.queue.length > 0) {
      if (this.queue.length < MAX_QUEUED) this.queue.push(body);
      if (!this.run.running) this.drain();
      return;
    }
    this.dispatch(body);
  }

  private drain(): void {
    while (!this.closed && !this.run.running && this.queue.length > 0) {
      this.dispatch(this.queue.shift()!);
    }
  }

  private onInterrupt(): void {
    // ^C while stopped is a race with a stop reply already on its way: ignore.
    this.run.interrupt();
  }

  private onStop(r: StopReason): void {
    if (this.closed) return;
    if ('thread' in r) {
      this.gThread = r.thread;
      this.cThread = r.thread;
    }
    if (this.awaitingStop) {
      this.awaitingStop = false;
      this.send(stopReply(this, r));
    }
    this.drain();
  }

  /** Set by exec before it resumes (the target may stop synchronously): the next stop is gdb's. */
  expectStop(on: boolean): void {
    this.awaitingStop = on && !this.closed;
  }

  private dispatch(body: string): void {
    let reply: Reply;
    try {
      reply = this.handle(body);
    } catch {
      // A target (or stub) bug must not take the debugger down with it.
      reply = 'E01';
    }
    if (reply === null) return;
    if (typeof reply === 'string') this.send(reply);
    else this.send(reply.binary, true);
  }

  private handle(body: string): Reply {
    if (body === '\u0000oversized') return 'E01';
    if (body.length === 0) return '';
    switch (body[0]) {
      case '?':
        return stopReply(this, this.run.lastStop);
      case 'g':
      case 'G':
      case 'p':
      case 'P':
        return handleRegs(this, body);
      case 'm':
      case 'M':
      case 'X':
        return handleMem(this, body);
      case 'Z':
      case 'z':
        return handleBreakpoint(this, body);
      case 'c':
      case 'C':
      case 's':
      case 'S':
      case 'D':
      case 'k':
        return handleExec(this, body);
      case 'v':
        if (body.startsWith('vCont')) return handleExec(this, body);
        return '';
      case 'q':
      case 'Q':
      case 'H':
      case 'T':
        return handleQuery(this, body);
      default:
        return '';
    }
  }

  /** Undo what this gdb left behind: breakpoints, physical mode. */
  private cleanup(): void {
    removeAllBreakpoints(this);
    if (this.physMode) {
      this.physMode = false;
      try {
        this.target.setPhysicalMode?.(false);
      } catch {
        /* ignore */
      }
    }
  }

  /** `D`: clean up, let the guest run on, close. */
  detach(): void {
    this.cleanup();
    try {
      this.target.detach?.();
    } catch {
      /* ignore */
    }
    this.close();
    this.run.resumeAll();
  }

  /** `k`: end the run through the target, close. */
  kill(): void {
    this.cleanup();
    try {
      this.target.kill?.();
    } catch {
      /* ignore */
    }
    this.close();
    this.hooks.onKill?.();
  }

  /** The socket went away (gdb quit or crashed without D): keep the guest's run state. */
  disconnected(): void {
    if (this.closed) return;
    this.cleanup();
    this.closed = true;
    if (this.run.listener === this.listener) this.run.listener = null;
    this.queue.length = 0;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.run.listener === this.listener) this.run.listener = null;
    this.queue.length = 0;
    try {
      this.transport.close();
    } catch {
      /* ignore */
    }
  }
}

