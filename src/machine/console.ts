// The user's side of the guest console: COM1 output buffered per slice to
// a file descriptor, and stdin fed to the UART (raw mode on a terminal,
// Ctrl-A x quits like QEMU's; a pipe is fed as it arrives).

import { writeSync } from 'node:fs';
import type { Board } from './board.js';

export class ConsoleOutput {
  private buf = new Uint8Array(65536);
  private len = 0;
  private serialSeen = false;
  /**
   * @param cga 'on': CGA text goes to the same output as COM1; 'auto': only
   * while the guest has written nothing to COM1 (kernels that print only to
   * the screen are not silent); 'off': never.
   */
  constructor(private readonly fd: number | null, private readonly discard: boolean, private readonly cga: 'auto' | 'on' | 'off' = 'auto') {}

  cgaText(text: string): void {
    if (this.cga === 'off' || (this.cga === 'auto' && this.serialSeen)) return;
    for (let i = 0; i < text.length; i++) this.put(text.charCodeAt(i) & 0xff);
  }

  serialOut(byte: number): void {
    this.serialSeen = true;
    this.put(byte);
  }

  private put(byte: number): void {
    if (this.discard || this.fd === null) return;
    if (this.len === this.buf.length) this.flush();
    this.buf[this.len++] = byte;
  }

  debugConsoleOut(_byte: number): void {}

  flush(): void {
    if (this.len === 0 || this.fd === null) return;
    let off = 0;
    while (off < this.len) {
      try {
        off += writeSync(this.fd, this.buf, off, this.len - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
    }
    this.len = 0;
  }
}

const CTRL_A = 0x01;

/** Feed stdin to the guest's UART. Returns a function that undoes it. */
export function attachStdin(board: Board, quit: () => void): () => void {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let escape = false;
  let open = true;
  board.externalWakeups = true;
  board.throttleIdle = tty;
  const onData = (chunk: Buffer) => {
    const bytes: number[] = [];
    for (const b of chunk) {
      // Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A (QEMU's mux escapes),
      // from a terminal or a pipe alike.
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */) { quit(); return; }
        if (b === CTRL_A) bytes.push(CTRL_A);
        continue;
      }
      if (b === CTRL_A) { escape = true; continue; }
      bytes.push(b);
    }
    if (bytes.length) board.uart.receive(bytes);
  };
  const onEnd = () => { open = false; board.externalWakeups = false; };
  if (tty) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.on('error', onEnd);
  stdin.resume();
  return () => {
    if (tty && open) stdin.setRawMode(false);
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  };
}
