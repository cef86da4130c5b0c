import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src/bus/io-bus.js';
import { DebugExit } from '../../../src/devices/debug-exit.js';
import { PortE9 } from '../../../src/devices/port-e9.js';
import { PostPort } from '../../../src/devices/post-port.js';

describe('debug ports', () => {
  it('isa-debug-exit maps a write of V to status (V << 1) | 1 on any of its 4 ports', () => {
    const codes: number[] = [];
    const io = new IoBus();
    new DebugExit((c) => codes.push(c)).register(io);
    io.out(0xf4, 1, 0x00);
    io.out(0xf4, 1, 0x10);
    io.out(0xf5, 1, 0x31);
    io.out(0xf4, 4, 0x12345);
    expect(codes).toEqual([1, 0x21, 0x63, 0x2468b]);
    expect(io.isClaimed(0xf7)).toBe(true);
    expect(io.isClaimed(0xf8)).toBe(false);
  });

  it('port 0xe9 prints bytes and identifies itself', () => {
    const out: number[] = [];
    const io = new IoBus();
    new PortE9((b) => out.push(b)).register(io);
    for (const c of 'hi\n') io.out(0xe9, 1, c.charCodeAt(0));
    io.out(0xe9, 2, 0x1241);
    expect(String.fromCharCode(...out)).toBe('hi\nA');
    expect(io.in(0xe9, 1)).toBe(0xe9);
  });

  it('port 0x80 swallows POST codes', () => {
    const io = new IoBus();
    const post = new PostPort();
    post.register(io);
    io.out(0x80, 1, 0x5a);
    expect(post.lastCode).toBe(0x5a);
    expect(io.in(0x80, 1)).toBe(0x5a);
  });
});
