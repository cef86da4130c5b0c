import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IoBus } from '../../../src/bus/io-bus.js';
import { IdeChannel } from '../../../src/devices/ide.js';
import { DiskImage } from '../../../src/devices/disk-image.js';

/** A disk whose every sector starts with its own LBA, so misaddressing is visible. */
function patternDisk(sectors: number): Uint8Array {
  const d = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) {
    for (let i = 0; i < 512; i++) d[s * 512 + i] = (s * 7 + i) & 0xff;
    new DataView(d.buffer).setUint32(s * 512, s, true);
  }
  return d;
}

function setup(opts: { slave?: boolean; sectors?: number } = {}) {
  const irq = { level: false, edges: 0 };
  const master = DiskImage.fromBytes(patternDisk(opts.sectors ?? 2048));
  const slave = opts.slave ? DiskImage.fromBytes(patternDisk(64)) : null;
  const ide = new IdeChannel({
    irq: { set: (l: boolean) => { if (l && !irq.level) irq.edges++; irq.level = l; } },
    master,
    slave,
  });
  const io = new IoBus();
  ide.register(io);
  return { ide, io, irq, master, slave };
}

const BSY = 0x80, DRDY = 0x40, DF = 0x20, DRQ = 0x08, ERR = 0x01;

/** xv6 ide.c idewait(). */
function idewait(io: IoBus, checkerr: boolean): number {
  let r = 0;
  for (let spins = 0; spins < 1000; spins++) {
    r = io.in(0x1f7, 1);
    if ((r & (BSY | DRDY)) === DRDY) break;
  }
  expect(r & (BSY | DRDY)).toBe(DRDY);
  if (checkerr && r & (DF | ERR)) return -1;
  return 0;
}

/** xv6 ideinit() slave probe: returns havedisk1. */
function xv6Probe(io: IoBus): boolean {
  idewait(io, false);
  io.out(0x1f6, 1, 0xe0 | (1 << 4));
  let have = false;
  for (let i = 0; i < 1000; i++) if (io.in(0x1f7, 1) !== 0) { have = true; break; }
  io.out(0x1f6, 1, 0xe0 | (0 << 4));
  return have;
}

/** xv6 idestart() for one 512-byte block (sector_per_block = 1). */
function xv6Start(io: IoBus, dev: number, sector: number, write: Uint8Array | null): void {
  idewait(io, false);
  io.out(0x3f6, 1, 0);
  io.out(0x1f2, 1, 1);
  io.out(0x1f3, 1, sector & 0xff);
  io.out(0x1f4, 1, (sector >> 8) & 0xff);
  io.out(0x1f5, 1, (sector >> 16) & 0xff);
  io.out(0x1f6, 1, 0xe0 | ((dev & 1) << 4) | ((sector >> 24) & 0x0f));
  if (write) {
    io.out(0x1f7, 1, 0x30);
    const v = new DataView(write.buffer, write.byteOffset);
    for (let i = 0; i < 128; i++) io.out(0x1f0, 4, v.getUint32(i * 4, true)); // outsl
  } else {
    io.out(0x1f7, 1, 0x20);
  }
}

function insl(io: IoBus, dwords: number): Uint8Array {
  const out = new Uint8Array(dwords * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < dwords; i++) v.setUint32(i * 4, io.in(0x1f0, 4), true);
  return out;
}

function insw(io: IoBus, words: number): Uint16Array {
  const out = new Uint16Array(words);
  for (let i = 0; i < words; i++) out[i] = io.in(0x1f0, 2);
  return out;
}

/** ATA strings: two characters per word, first in the high byte (ATA-6 8.15.1). */
function ataString(w: Uint16Array, first: number, words: number): string {
  let s = '';
  for (let i = first; i < first + words; i++) s += String.fromCharCode(w[i] >> 8, w[i] & 0xff);
  return s.trimEnd();
}

const tmpFiles: string[] = [];
afterEach(() => { for (const f of tmpFiles.splice(0)) fs.rmSync(f, { force: true }); });

describe('IDE primary channel', () => {
  it('answers the xv6 slave probe: status 0 for a missing slave, non-zero when present', () => {
    expect(xv6Probe(setup().io)).toBe(false);
    expect(xv6Probe(setup({ slave: true }).io)).toBe(true);
  });

  it('reads a block the xv6 way: READ SECTORS, IRQ, idewait(1), insl', () => {
    const s = setup();
    xv6Start(s.io, 0, 1000, null);
    expect(s.irq.level).toBe(true); // ideintr runs
    expect(idewait(s.io, true)).toBe(0);
    expect(s.irq.level).toBe(false); // status read acknowledged it
    const data = insl(s.io, 128);
    expect(Array.from(data)).toEqual(Array.from(s.master.data.subarray(1000 * 512, 1001 * 512)));
    expect(s.io.in(0x1f7, 1) & DRQ).toBe(0);
    expect(s.irq.edges).toBe(1);
  });

  it('writes a block with outsl, interrupting at completion', () => {
    const s = setup({ slave: true });
    const block = new Uint8Array(512).map((_, i) => (i * 13) ^ 0x5a);
    xv6Start(s.io, 1, 9, block);
    expect(s.irq.level).toBe(true);
    expect(idewait(s.io, true)).toBe(0);
    expect(Array.from(s.slave!.data.subarray(9 * 512, 10 * 512))).toEqual(Array.from(block));
    // Read it back through the controller.
    xv6Start(s.io, 1, 9, null);
    idewait(s.io, true);
    expect(Array.from(insl(s.io, 128))).toEqual(Array.from(block));
  });

  it('IDENTIFY DEVICE reports model, serial, LBA28 capacity and multiple support', () => {
    // Capacity is all IDENTIFY needs from the disk.
    const big = { sectorCount: 100_000, read: () => false, write: () => false, flush: () => {} };
    const io = new IoBus();
    const irq = { level: false };
    new IdeChannel({ irq: { set: (l: boolean) => { irq.level = l; } }, master: big }).register(io);
    const s = { io, irq };
    s.io.out(0x1f6, 1, 0xa0);
    s.io.out(0x1f7, 1, 0xec);
    expect(s.irq.level).toBe(true);
    expect(s.io.in(0x1f7, 1) & (DRQ | DRDY | ERR)).toBe(DRQ | DRDY);
    const w = insw(s.io, 256);
    expect(s.io.in(0x1f7, 1) & DRQ).toBe(0);
    expect(ataString(w, 27, 20)).toBe('QEMU HARDDISK');
    expect(ataString(w, 10, 10)).toBe('QM00001');
    expect(w[60] | (w[61] << 16)).toBe(100_000);
    expect(w[49] & (1 << 9)).not.toBe(0); // LBA
    expect(w[47] & 0xff).toBe(16);
    expect(w[0] & 0x8000).toBe(0); // ATA, not ATAPI
  });

  it('READ MULTIPLE transfers blocks of the multiple count with one IRQ each', () => {
    const s = setup();
    s.io.out(0x1f2, 1, 4);
    s.io.out(0x1f6, 1, 0xe0);
    s.io.out(0x1f7, 1, 0xc6); // SET MULTIPLE MODE 4
    expect(s.io.in(0x1f7, 1) & ERR).toBe(0);
    s.io.out(0x1f2, 1, 8);
    s.io.out(0x1f3, 1, 20);
    s.io.out(0x1f4, 1, 0);
    s.io.out(0x1f5, 1, 0);
    s.io.out(0x1f6, 1, 0xe0);
    s.irq.edges = 0;
    s.io.out(0x1f7, 1, 0xc4);
    const got: number[] = [];
    for (let block = 0; block < 2; block++) {
      expect(s.irq.level).toBe(true);
      expect(s.io.in(0x1f7, 1) & DRQ).toBe(DRQ);
      const data = insl(s.io, 4 * 128);
      for (let k = 0; k < 4; k++) got.push(new DataView(data.buffer).getUint32(k * 512, true));
    }
    expect(got).toEqual([20, 21, 22, 23, 24, 25, 26, 27]);
    expect(s.irq.edges).toBe(2);
    expect(s.io.in(0x1f3, 1)).toBe(27); // task file points at the last sector
    s.io.out(0x1f2, 1, 3);
    s.io.out(0x1f7, 1, 0xc6); // 3 is not a power of two
    expect(s.io.in(0x1f7, 1) & ERR).toBe(ERR);
    expect(s.io.in(0x1f1, 1)).toBe(0x04);
  });

  it('addresses by CHS with the default 16x63 geometry; sector count 0 means 256', () => {
    const s = setup({ sectors: 4096 });
    const c = 2, h = 3, sec = 5;
    s.io.out(0x1f2, 1, 1);
    s.io.out(0x1f3, 1, sec);
    s.io.out(0x1f4, 1, c);
    s.io.out(0x1f5, 1, 0);
    s.io.out(0x1f6, 1, 0xa0 | h);
    s.io.out(0x1f7, 1, 0x20);
    expect(new DataView(insl(s.io, 128).buffer).getUint32(0, true)).toBe((c * 16 + h) * 63 + sec - 1);
    s.io.out(0x1f2, 1, 0);
    s.io.out(0x1f3, 1, 0);
    s.io.out(0x1f4, 1, 0);
    s.io.out(0x1f6, 1, 0xe0);
    s.io.out(0x1f7, 1, 0x20);
    let sectors = 0;
    while (s.io.in(0x1f7, 1) & DRQ) { insw(s.io, 256); sectors++; }
    expect(sectors).toBe(256);
  });

  it('rejects out-of-range and unknown commands with ERR/ABRT, honours nIEN and SRST', () => {
    const s = setup({ sectors: 100 });
    s.io.out(0x1f2, 1, 2);
    s.io.out(0x1f3, 1, 99);
    s.io.out(0x1f4, 1, 0);
    s.io.out(0x1f5, 1, 0);
    s.io.out(0x1f6, 1, 0xe0);
    s.io.out(0x1f7, 1, 0x20);
    expect(s.io.in(0x1f7, 1) & (ERR | DRQ)).toBe(ERR);
    expect(s.io.in(0x1f1, 1) & 0x04).toBe(0x04);
    s.io.out(0x3f6, 1, 0x02); // nIEN
    s.irq.edges = 0;
    s.io.out(0x1f7, 1, 0xe7); // FLUSH CACHE
    expect(s.irq.edges).toBe(0);
    expect(s.io.in(0x3f6, 1) & (ERR | DRDY)).toBe(DRDY);
    s.io.out(0x1f7, 1, 0xff);
    expect(s.io.in(0x1f7, 1) & ERR).toBe(ERR);
    s.io.out(0x3f6, 1, 0x04); // SRST
    expect(s.io.in(0x3f6, 1) & BSY).toBe(BSY);
    s.io.out(0x3f6, 1, 0x00);
    expect(s.io.in(0x1f7, 1)).toBe(0x50);
    expect([s.io.in(0x1f1, 1), s.io.in(0x1f2, 1), s.io.in(0x1f3, 1), s.io.in(0x1f4, 1), s.io.in(0x1f5, 1)]).toEqual([1, 1, 1, 0, 0]);
  });

  it('keeps writes in memory by default and writes through when writable', () => {
    const file = path.join(os.tmpdir(), `trapvisor-ide-${process.pid}-${Date.now()}.img`);
    tmpFiles.push(file);
    fs.writeFileSync(file, patternDisk(32));
    const block = new Uint8Array(512).fill(0xab);
    for (const writable of [false, true]) {
      const disk = DiskImage.fromFile(file, { writable });
      const ide = new IdeChannel({ irq: { set: () => {} }, master: disk });
      const io = new IoBus();
      ide.register(io);
      xv6Start(io, 0, writable ? 7 : 5, block);
      expect(idewait(io, true)).toBe(0);
      disk.close();
    }
    const after = fs.readFileSync(file);
    expect(after.subarray(5 * 512, 6 * 512)).toEqual(Buffer.from(patternDisk(32).subarray(5 * 512, 6 * 512)));
    expect(after.subarray(7 * 512, 8 * 512)).toEqual(Buffer.from(block));
    expect(after.length).toBe(32 * 512);
  });

  it('saves and restores in the middle of a transfer', () => {
    const s = setup();
    xv6Start(s.io, 0, 3, null);
    const first = insl(s.io, 10);
    const copy = new IdeChannel({ irq: { set: () => {} }, master: s.master });
    copy.loadState(JSON.parse(JSON.stringify(s.ide.saveState())));
    const io2 = new IoBus();
    copy.register(io2);
    const rest = insl(io2, 118);
    expect([...first, ...rest]).toEqual(Array.from(s.master.data.subarray(3 * 512, 4 * 512)));
    copy.loadState({ transfer: 'read', buf: 42, bufPos: -5 });
    copy.loadState(undefined);
  });
});
