// The net server over real loopback TCP on port 0: binding, one gdb at a
// time, attaching again after a disconnect, and a guest started running.

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeTarget } from './fake-target.js';
import { TestClient } from './client.js';
import { startGdbServer } from '../../../stub/server.js';

function dial(port: number): Promise<{ sock: net.Socket; client: TestClient }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => resolve({ sock, client: new TestClient(sock) }));
    sock.once('error', reject);
  });
}

describe('gdb server over loopback', () => {
  it('binds port 0, serves one gdb at a time, accepts the next after close', async () => {
    const target = new FakeTarget(1);
    const server = await startGdbServer({ target, port: 0 });
    try {
      expect(server.port).toBeGreaterThan(0);
      const a = await dial(server.port);
      expect(await a.client.request('?')).toMatch(/^T05thread:1;/);
      const b = await dial(server.port);
      const closed = await new Promise<boolean>((res) => {
        b.sock.once('close', () => res(true));
        setTimeout(() => res(false), 1000);
      });
      expect(closed).toBe(true);
      expect(await a.client.request('m1000,2')).toBe('40a3');
      a.sock.end();
      await new Promise((r) => setTimeout(r, 50));
      const c = await dial(server.port);
      expect(await c.client.request('m1000,1')).toBe('40');
      c.sock.destroy();
    } finally {
      await server.close();
    }
  });

  it('startRunning: the guest runs until gdb attaches, which stops it quietly', async () => {
    const target = new FakeTarget(1);
    const server = await startGdbServer({ target, port: 0, startRunning: true });
    try {
      await new Promise((r) => setTimeout(r, 30));
      expect(target.running).toBe(true);
      expect(target.executed).toBeGreaterThan(0);
      const a = await dial(server.port);
      expect(await a.client.silent(50)).toBe(true);
      expect(target.running).toBe(false);
      expect(await a.client.request('?')).toMatch(/^T02thread:1;/);
      a.sock.destroy();
    } finally {
      await server.close();
    }
  });

  it('reports a port already in use as a rejected promise', async () => {
    const target = new FakeTarget(1);
    const s1 = await startGdbServer({ target, port: 0 });
    try {
      await expect(startGdbServer({ target, port: s1.port })).rejects.toThrow();
    } finally {
      await s1.close();
    }
  });
});
