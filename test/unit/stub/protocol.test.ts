// The stub's protocol over a fake duplex: framing, every packet family,
// execution control and Ctrl-C, detach/re-attach and kill, against the
// in-memory FakeTarget. Expected values come from the fake's own state
// and the protocol spec, encoded by the test's helpers, not by the stub.

import { describe, expect, it } from 'vitest';
import { FakeTarget, KERNBASE } from './fake-target.js';
import { connect, frame, fromHex, hexLE32, toHex } from './client.js';
import { Reg } from '../../../stub/target.js';
import { RunControl } from '../../../stub/run-control.js';
import { encodeRunLength, expandRunLength } from '../../../stub/packet.js';
import { decodeRle } from './client.js';
import type { ResumeAction, StopReason } from '../../../stub/target.js';

/** gdb register numbers and byte offsets of the g packet, from GDB's i386 core + our feature. */
const OFF_EIP = 8 * 4;
const OFF_ST0 = 16 * 4;
const OFF_SYS = 16 * 4 + 8 * 10 + 8 * 4; // cs_base, first register of org.trapvisor.i386.system
const REGNUM_CR3 = 32 + 8;
const G_BYTES = OFF_SYS + 16 * 4;

function setup(n = 2) {
  const target = new FakeTarget(n);
  return { target, ...connect(target) };
}

async function handshake(client: ReturnType<typeof setup>['client']) {
  return client.request('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+');
}

describe('framing', () => {
  it('acks a packet then answers ?', async () => {
    const { client } = setup();
    const r = await client.request('?');
    expect(client.acks).toBe('+');
    expect(r).toMatch(/^T05thread:1;/);
    expect(r).toContain(`08:${hexLE32(0x1000)};`);
  });

  it('reassembles a packet split into single bytes', async () => {
    const { client } = setup();
    for (const ch of frame('m1000,2')) client.send(ch);
    expect(await client.next()).toBe('40a3');
  });

  it('answers packets merged into one chunk in order', async () => {
    const { client } = setup();
    client.send(frame('m1000,1') + frame('m1006,1') + '+' + frame('qAttached'));
    expect(await client.next()).toBe('40');
    expect(await client.next()).toBe('90');
    expect(await client.next()).toBe('1');
  });

  it('NAKs a bad checksum without answering, then recovers', async () => {
    const { client } = setup();
    client.send('$m1000,1#00');
    expect(await client.silent()).toBe(true);
    expect(client.acks).toBe('-');
    client.send('$m1000,1#zz');
    expect(client.acks).toBe('--');
    expect(await client.request('m1000,1')).toBe('40');
  });

  it('retransmits the last packet on NAK', async () => {
    const { client } = setup();
    await client.request('m1000,4');
    const before = client.raw;
    client.send('-');
    expect(await client.next()).toBe('40a30040');
    expect(client.raw.slice(before.length)).toBe(frame('40a30040'));
  });

  it('no-ack mode: OK is still acked, then no acks and no retransmits', async () => {
    const { client } = setup();
    expect(await client.request('QStartNoAckMode')).toBe('OK');
    expect(client.acks).toBe('+');
    client.ackMode = false;
    expect(await client.request('m1000,1')).toBe('40');
    client.send('-');
    expect(await client.silent()).toBe(true);
    expect(client.acks).toBe('+');
  });

  it('run-length encodes replies and decodes requests', async () => {
    const { client, target } = setup();
    const before = client.raw.length;
    const g = await client.request('g');
    // x87 block is 80 zero hex digits: on the wire it must be compressed.
    expect(g.slice(OFF_ST0 * 2, OFF_ST0 * 2 + 160)).toBe('0'.repeat(160));
    expect(client.raw.length - before).toBeLessThan(g.length);
    expect(client.raw.slice(before)).toContain('0*');
    // "ab" "c*!" "d": '!' is 33, so c repeats 4 more times: abcccccd
    client.send(frame('M4000,4:abc*!d'));
    expect(await client.next()).toBe('OK');
    expect(Array.from(target.mem.subarray(0x4000, 0x4004))).toEqual([0xab, 0xcc, 0xcc, 0xcd]);
  });

  it('run-length encoding round-trips through an independent decoder', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
    for (let n = 0; n < 500; n++) {
      let s = '';
      const len = Math.floor(rand() * 300);
      // Text replies never hold '#', '$' or '*' (framing and RLE own them).
      while (s.length < len) s += '0a}x;:'[Math.floor(rand() * 6)].repeat(1 + Math.floor(rand() * 120));
      const enc = encodeRunLength(s);
      expect(enc).not.toMatch(/[#$]/);
      expect(decodeRle(enc)).toBe(s);
      const bytes = Uint8Array.from(enc, (c) => c.charCodeAt(0));
      expect(expandRunLength(bytes, bytes.length, 1 << 20)).toBe(s);
    }
  });

  it('unescapes } in X data, and 0x03 inside a packet is data', async () => {
    const { client, target } = setup();
    const data = [0x23, 0x24, 0x7d, 0x2a, 0x03, 0x00, 0x41];
    let esc = '';
    for (const b of data) esc += [0x23, 0x24, 0x7d, 0x2a].includes(b) ? '}' + String.fromCharCode(b ^ 0x20) : String.fromCharCode(b);
    expect(await client.request(`X5000,${data.length.toString(16)}:${esc}`)).toBe('OK');
    expect(Array.from(target.mem.subarray(0x5000, 0x5000 + data.length))).toEqual(data);
    expect(await client.request('X5000,0:')).toBe('OK');
    expect(await client.request('X5000,2:A')).toBe('E16');
  });

  it('drops an oversized packet with an error and keeps serving', async () => {
    const { client } = setup();
    client.send(frame('M0,1:' + '0'.repeat(0x10000 + 10)));
    expect(await client.next()).toMatch(/^E/);
    expect(await client.request('m1000,1')).toBe('40');
  });

  it('a $ inside an unfinished packet starts over (gdb gave up on the old one)', async () => {
    const { client } = setup();
    client.send('$m1000,' + frame('m1006,1'));
    expect(await client.next()).toBe('90');
    expect(await client.silent()).toBe(true);
  });

  it('ignores noise between packets and ^C while halted', async () => {
    const { client } = setup();
    client.send('garbage\r\n+\x03');
    expect(await client.silent()).toBe(true);
    expect(await client.request('m1000,1')).toBe('40');
  });
});

describe('queries and threads', () => {
  it('qSupported advertises exactly what exists', async () => {
    const { client } = setup();
    const feats = (await handshake(client)).split(';');
    expect(feats).toEqual(expect.arrayContaining([
      'qXfer:features:read+', 'swbreak+', 'hwbreak+', 'QStartNoAckMode+', 'vContSupported+', 'multiprocess-',
    ]));
    const ps = feats.find((f) => f.startsWith('PacketSize='))!;
    expect(parseInt(ps.slice(11), 16)).toBeGreaterThanOrEqual(0x4000);
  });

  it('serves target.xml in chunks with the i386 core and the system feature', async () => {
    const { client } = setup();
    let xml = '';
    for (;;) {
      const r = await client.request(`qXfer:features:read:target.xml:${xml.length.toString(16)},80`);
      expect(r[0]).toMatch(/[ml]/);
      xml += r.slice(1);
      if (r[0] === 'l') break;
    }
    expect(xml).toContain('<feature name="org.gnu.gdb.i386.core">');
    expect(xml).toContain('<feature name="org.trapvisor.i386.system">');
    const names = [...xml.matchAll(/<reg name="(\w+)"/g)].map((m) => m[1]);
    expect(names.slice(0, 16)).toEqual(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);
    expect(names.slice(16, 32)).toEqual(['st0', 'st1', 'st2', 'st3', 'st4', 'st5', 'st6', 'st7', 'fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']);
    expect(names[REGNUM_CR3]).toBe('cr3');
    expect(names).toEqual(expect.arrayContaining(['cs_base', 'gs_base', 'cr0', 'cr2', 'cr4', 'gdtr_base', 'gdtr_limit', 'idtr_base', 'idtr_limit', 'ldtr', 'tr']));
    expect(await client.request('qXfer:features:read:other.xml:0,80')).toMatch(/^E/);
  });

  it('describes an i8086 target to a gdb attaching in real mode, i386 otherwise', async () => {
    const real = new FakeTarget(1);
    real.regs[0][Reg.CR0] = 0;
    const a = connect(real);
    expect(await a.client.request('qXfer:features:read:target.xml:0,1000')).toMatch(/<architecture>i8086<\/architecture>/);
    const b = setup();
    expect(await b.client.request('qXfer:features:read:target.xml:0,1000')).toMatch(/<architecture>i386<\/architecture>/);
  });

  it('threads: qfThreadInfo, qC, Hg, T, qThreadExtraInfo', async () => {
    const { client } = setup();
    expect(await client.request('qfThreadInfo')).toBe('m1,2');
    expect(await client.request('qsThreadInfo')).toBe('l');
    expect(await client.request('qC')).toBe('QC1');
    expect(await client.request('T2')).toBe('OK');
    expect(await client.request('T3')).toBe('E01');
    expect(fromHex(await client.request('qThreadExtraInfo,2'))).toBe('CPU#1 [fake, CPL0]');
    expect(await client.request('Hg2')).toBe('OK');
    expect(await client.request('qC')).toBe('QC2');
    expect(await client.request('p8')).toBe(hexLE32(0x1100));
    expect(await client.request('Hg5')).toBe('E01');
    expect(await client.request('Hc-1')).toBe('OK');
    expect(await client.request('Hg0')).toBe('OK');
  });

  it('small queries and unknown packets', async () => {
    const { client } = setup();
    expect(await client.request('qAttached')).toBe('1');
    expect(await client.request('qSymbol::')).toBe('OK');
    expect(await client.request('qTStatus')).toBe('');
    expect(await client.request('vMustReplyEmpty')).toBe('');
    expect(await client.request('!')).toBe('');
    expect(await client.request('qFooBar')).toBe('');
  });
});

describe('registers', () => {
  it('g matches the target state, x87 zero', async () => {
    const { client, target } = setup();
    target.regs[0][Reg.EAX] = 0xdeadbeef;
    target.regs[0][Reg.CR3] = 0x12345000;
    const g = await client.request('g');
    expect(g.length).toBe(G_BYTES * 2);
    expect(g.slice(0, 8)).toBe('efbeadde');
    expect(g.slice(OFF_EIP * 2, OFF_EIP * 2 + 8)).toBe(hexLE32(0x1000));
    expect(g.slice(10 * 8, 10 * 8 + 8)).toBe(hexLE32(0x8)); // cs
    expect(g.slice((OFF_SYS + 8 * 4) * 2, (OFF_SYS + 9 * 4) * 2)).toBe(hexLE32(0x12345000));
  });

  it('G writes only what changed; p/P by gdb number', async () => {
    const { client, target } = setup();
    const g = await client.request('g');
    const g2 = hexLE32(0x11223344) + g.slice(8, OFF_ST0 * 2) + '1'.repeat(160) + g.slice(OFF_ST0 * 2 + 160, OFF_SYS * 2 + 64) + hexLE32(0xabc000) + g.slice(OFF_SYS * 2 + 72);
    expect(await client.request('G' + g2)).toBe('OK');
    expect(target.regs[0][Reg.EAX]).toBe(0x11223344);
    expect(target.regs[0][Reg.CR3]).toBe(0xabc000);
    expect(await client.request(`p${REGNUM_CR3.toString(16)}`)).toBe(hexLE32(0xabc000));
    expect(await client.request('p10')).toBe('0'.repeat(20)); // st0
    expect(await client.request('P8=' + hexLE32(0x1006))).toBe('OK');
    expect(target.regs[0][Reg.EIP]).toBe(0x1006);
    expect(await client.request('P10=' + '1'.repeat(20))).toBe('OK'); // st0 write ignored
    expect(await client.request('P8=123')).toBe('E16');
    expect(await client.request('p999')).toBe('E16');
    expect(await client.request('pzz')).toBe('E16');
    expect(await client.request('G12')).toBe('OK'); // short G: nothing complete to write
    expect(await client.request('Gxx')).toBe('OK'); // 'xx' = no value: leave alone
    expect(await client.request('G' + 'zz'.repeat(8))).toBe('E16');
  });
});

describe('memory', () => {
  it('m reads, partial at the end of mapping, error when unmapped', async () => {
    const { client } = setup();
    expect(await client.request('m1000,6')).toBe('40a300400000');
    expect(await client.request(`m${(KERNBASE + 0x1000).toString(16)},2`)).toBe('40a3');
    expect(await client.request('mfffe,4')).toMatch(/^[0-9a-f]{4}$/);
    expect(await client.request('m20000,4')).toBe('E14');
    expect(await client.request('m1000')).toBe('E16');
    expect(await client.request('mzz,1')).toBe('E16');
    expect(await client.request('m1000,0')).toBe('E16');
  });

  it('M writes, errors on bad length or unmapped', async () => {
    const { client, target } = setup();
    expect(await client.request('M6000,3:010203')).toBe('OK');
    expect(Array.from(target.mem.subarray(0x6000, 0x6003))).toEqual([1, 2, 3]);
    expect(await client.request('M6000,2:010203')).toBe('E16');
    expect(await client.request('M20000,1:01')).toBe('E14');
  });

  it('physical mode via Qqemu.PhyMemMode and monitor phys', async () => {
    const { client, target } = setup();
    const kaddr = `m${(KERNBASE + 0x1000).toString(16)},1`;
    expect(await client.request('qqemu.PhyMemMode')).toBe('0');
    expect(await client.request('Qqemu.PhyMemMode:1')).toBe('OK');
    expect(target.phys).toBe(true);
    expect(await client.request('qqemu.PhyMemMode')).toBe('1');
    expect(await client.request(kaddr)).toBe('E14');
    expect(await client.request('qRcmd,' + toHex('phys off'))).toMatch(/^O/);
    expect(await client.next()).toBe('OK');
    expect(target.phys).toBe(false);
    expect(await client.request(kaddr)).toBe('40');
    expect(await client.request('Qqemu.PhyMemMode:7')).toBe('E16');
  });
});

describe('execution control', () => {
  it('Z0 + c stops with swbreak at the address', async () => {
    const { client, target } = setup();
    await handshake(client);
    expect(await client.request('Z0,1007,1')).toBe('OK');
    expect(target.sw.has(0x1007)).toBe(true);
    const r = await client.request('c');
    expect(r).toMatch(/^T05/);
    expect(r).toContain('swbreak:;');
    expect(r).toContain('thread:1;');
    expect(r).toContain(`08:${hexLE32(0x1007)};`);
    expect(target.regs[0][Reg.EIP]).toBe(0x1007);
    expect(await client.request('z0,1007,1')).toBe('OK');
    expect(target.sw.size).toBe(0);
    expect(await client.request('z0,1007,1')).toBe('E01');
  });

  it('without swbreak+ from gdb the stop reply omits the reason', async () => {
    const { client } = setup();
    await client.request('Z0,1006,1');
    const r = await client.request('c');
    expect(r).toMatch(/^T05thread:1;/);
    expect(r).not.toContain('swbreak');
  });

  it('Z1 stops with hwbreak', async () => {
    const { client } = setup();
    await handshake(client);
    expect(await client.request('Z1,100c,1')).toBe('OK');
    expect(await client.request('vCont;c')).toMatch(/^T05hwbreak:;thread:1;/);
  });

  it('watchpoints report the exact watched address and kind', async () => {
    const { client, target } = setup();
    expect(await client.request('Z2,4002,1')).toBe('OK');
    let r = await client.request('c');
    expect(r).toMatch(/^T05watch:4002;thread:1;/);
    expect(target.regs[0][Reg.EIP]).toBe(0x1006); // trap after the store
    expect(await client.request('z2,4002,1')).toBe('OK');
    expect(await client.request('Z3,4000,4')).toBe('OK');
    r = await client.request('c');
    expect(r).toMatch(/^T05rwatch:4000;/);
    expect(await client.request('z3,4000,4')).toBe('OK');
    expect(await client.request('Z4,4003,1')).toBe('OK');
    r = await client.request('c');
    expect(r).toMatch(/^T05awatch:4003;/);
    expect(await client.request('Z2,4000,0')).toBe('E01');
    expect(await client.request('Z5,4000,1')).toBe('E16');
  });

  it('s steps one instruction of one thread; others stay put', async () => {
    const { client, target } = setup();
    expect(await client.request('s')).toMatch(/^T05thread:1;/);
    expect(target.regs[0][Reg.EIP]).toBe(0x1001);
    expect(target.regs[1][Reg.EIP]).toBe(0x1100);
    expect(await client.request('vCont?')).toBe('vCont;c;C;s;S;r');
    expect(await client.request('vCont;s:2')).toMatch(/^T05thread:2;/);
    expect(target.regs[0][Reg.EIP]).toBe(0x1001);
    expect(target.regs[1][Reg.EIP]).toBe(0x1101);
    expect(target.resumes.at(-1)).toEqual([{ thread: 1, kind: 'step' }]);
    // s at an address, on the thread Hc selects
    expect(await client.request('Hc1')).toBe('OK');
    expect(await client.request('s1007')).toMatch(/^T05/);
    expect(target.regs[0][Reg.EIP]).toBe(0x100c);
  });

  it('vCont per-thread actions: leftmost match wins, default applies to the rest', async () => {
    const { client, target } = setup();
    await client.request('Z0,1100,1');
    expect(await client.request('vCont;s:1;c')).toMatch(/^T05/);
    expect(target.resumes.at(-1)).toEqual([{ thread: 0, kind: 'step' }, { thread: 1, kind: 'continue' }]);
    expect(await client.request('vCont;x')).toBe('E16');
    expect(await client.request('vCont;c:9')).toBe('E16');
  });

  it('vCont;r range-steps until pc leaves [start,end)', async () => {
    const { client, target } = setup();
    const r = await client.request('vCont;r1000,100c:1');
    expect(r).toMatch(/^T05thread:1;/);
    expect(target.regs[0][Reg.EIP]).toBe(0x100c);
    expect(target.resumes.at(-1)).toEqual([{ thread: 0, kind: 'range', start: 0x1000, end: 0x100c }]);
  });

  it('a target that stops synchronously inside resume() still gets its stop reply', async () => {
    class SyncStep extends FakeTarget {
      override resume(actions: readonly ResumeAction[], onStop: (r: StopReason) => void): void {
        this.resumes.push([...actions]);
        onStop({ kind: 'signal', signal: 5, thread: actions[0].thread });
      }
    }
    const target = new SyncStep(1);
    const { client } = connect(target);
    expect(await client.request('s')).toMatch(/^T05thread:1;/);
    expect(await client.request('m1000,1')).toBe('40');
  });

  it('Ctrl-C while running gives T02; no stop reply unasked', async () => {
    const { client, target } = setup();
    client.sendPacket('c');
    expect(await client.silent(30)).toBe(true);
    expect(target.running).toBe(true);
    client.send('\x03');
    expect(await client.next()).toMatch(/^T02thread:1;/);
    expect(target.running).toBe(false);
    client.send('\x03');
    expect(await client.silent()).toBe(true);
    expect(await client.request('?')).toMatch(/^T02/);
  });

  it('packets sent while running are answered after the stop', async () => {
    const { client } = setup();
    client.sendPacket('vCont;c');
    client.sendPacket('m1000,1');
    expect(await client.silent(30)).toBe(true);
    client.send('\x03');
    expect(await client.next()).toMatch(/^T02/);
    expect(await client.next()).toBe('40');
  });

  it('detach removes breakpoints, lets the guest run, and a new gdb can attach', async () => {
    const target = new FakeTarget(2);
    const run = new RunControl(target);
    const a = connect(target, run);
    await a.client.request('Z0,1007,1');
    await a.client.request('Qqemu.PhyMemMode:1');
    expect(await a.client.request('D')).toBe('OK');
    const atDetach = target.executed;
    await new Promise((r) => setTimeout(r, 20));
    expect(target.executed).toBeGreaterThan(atDetach);
    expect(a.client.closed).toBe(true);
    expect(target.sw.size).toBe(0);
    expect(target.phys).toBe(false);
    expect(target.detaches).toBe(1);
    expect(target.running).toBe(true);
    const b = connect(target, run);
    const r = await b.client.request('?');
    expect(r).toMatch(/^T02/);
    expect(target.running).toBe(false);
    expect(await b.client.request('m1000,1')).toBe('40');
  });

  it('a dropped connection leaves no breakpoints and the next gdb attaches', async () => {
    const target = new FakeTarget(1);
    const run = new RunControl(target);
    const a = connect(target, run);
    await a.client.request('Z1,1007,1');
    a.client.stream.end();
    await new Promise((r) => setTimeout(r, 20));
    expect(target.hw.size).toBe(0);
    const b = connect(target, run);
    expect(await b.client.request('?')).toMatch(/^T05/);
  });

  it('k ends the run through the target', async () => {
    const target = new FakeTarget(1);
    let killed = 0;
    const { client } = connect(target, new RunControl(target), { onKill: () => killed++ });
    client.sendPacket('k');
    await new Promise((r) => setTimeout(r, 20));
    expect(target.kills).toBe(1);
    expect(killed).toBe(1);
    expect(client.closed).toBe(true);
  });
});

describe('monitor', () => {
  it('help lists stub and target commands as O packets then OK', async () => {
    const { client } = setup();
    let out = '';
    let r = await client.request('qRcmd,' + toHex('help'));
    while (r.startsWith('O') && r !== 'OK') {
      out += fromHex(r.slice(1));
      r = await client.next();
    }
    expect(r).toBe('OK');
    expect(out).toContain('phys on|off');
    expect(out).toContain('info stats');
  });

  it('passes other commands to the target; bad hex is an error', async () => {
    const { client } = setup();
    expect(fromHex((await client.request('qRcmd,' + toHex('info stats'))).slice(1))).toBe('instructions: 0\n');
    expect(await client.next()).toBe('OK');
    expect(await client.request('qRcmd,zz')).toBe('E16');
  });
});
