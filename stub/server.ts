// The TCP side: one listening port per guest, one gdb at a time. Each
// connection gets a fresh session; the run state (RunControl) is shared,
// so after `D` or a dropped connection a new gdb can attach again.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import { GdbSession, type SessionHooks } from './session.js';
import { RunControl } from './run-control.js';
import type { DebugTarget } from './target.js';

export interface GdbServerOptions {
  target: DebugTarget;
  /** 0 picks a free port (tests, `--gdb 0`). Default 1234. */
  port?: number;
  /** Default 127.0.0.1: a debugger port is full control of the guest. */
  host?: string;
  /** Let the guest run until gdb attaches (no --wait); default: start halted. */
  startRunning?: boolean;
  /** gdb sent `k`. */
  onKill?: () => void;
}

export interface GdbServer {
  /** The port actually bound. */
  readonly port: number;
  readonly run: RunControl;
  close(): Promise<void>;
}

/** Wire a byte stream (a socket, or a test's fake duplex) to a new session. */
export function serveStream(stream: Duplex, run: RunControl, hooks: SessionHooks = {}): GdbSession {
  const session = new GdbSession(
    run,
    {
      write: (b) => {
        if (!stream.destroyed) stream.write(b);
      },
      close: () => stream.end(),
    },
    hooks,
  );
  stream.on('data', (chunk: Buffer) => session.receive(chunk));
  stream.on('end', () => {
    session.disconnected();
    stream.end();
  });
  stream.on('close', () => session.disconnected());
  stream.on('error', () => session.disconnected());
  return session;
}

export function startGdbServer(opts: GdbServerOptions): Promise<GdbServer> {
  const run = new RunControl(opts.target);
  let current: GdbSession | null = null;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (current !== null && !current.closed) {
      // One debugger at a time, as QEMU: a second one is turned away.
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    current = serveStream(socket, run, { onKill: opts.onKill });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 1234, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', () => {
        /* a failing accept must not crash the process */
      });
      if (opts.startRunning) run.resumeAll();
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      resolve({
        port,
        run,
        close: () =>
          new Promise<void>((done) => {
            current?.disconnected();
            server.close(() => done());
            // Connected sockets go too, else close() waits for them.
            for (const sk of sockets) sk.destroy();
          }),
      });
    });
  });
}
