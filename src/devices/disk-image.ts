// Block storage behind a disk controller. Owns the `BlockBackend`
// interface and `DiskImage`, a raw image file loaded into memory. Writes
// land in the in-memory copy only (like QEMU -snapshot) unless the image
// is opened writable, in which case they also go through to the file.

import * as fs from 'node:fs';

export const SECTOR_SIZE = 512;

/** What a disk controller needs from a disk. Sector numbers are 0-based LBAs. */
export interface BlockBackend {
  /** Capacity in 512-byte sectors. */
  readonly sectorCount: number;
  /** Copy `count` sectors starting at `lba` into dst[off...]. False if out of range. */
  read(lba: number, count: number, dst: Uint8Array, off: number): boolean;
  /** Store `count` sectors from src[off...] at `lba`. False if out of range or the write failed. */
  write(lba: number, count: number, src: Uint8Array, off: number): boolean;
  /** Make written data durable (FLUSH CACHE). */
  flush(): void;
}

export interface DiskImageOptions {
  /** Write through to the file (default false: writes stay in memory). */
  writable?: boolean;
}

export class DiskImage implements BlockBackend {
  readonly data: Uint8Array;
  readonly sectorCount: number;
  private fd: number | null;

  private constructor(data: Uint8Array, fd: number | null) {
    this.data = data;
    // A trailing partial sector is not addressable (QEMU's raw driver rounds down too).
    this.sectorCount = Math.floor(data.length / SECTOR_SIZE);
    this.fd = fd;
  }

  /** Load an image file. With `writable`, the file stays open and receives every write. */
  static fromFile(path: string, opts: DiskImageOptions = {}): DiskImage {
    const fd = opts.writable ? fs.openSync(path, 'r+') : null;
    const data = new Uint8Array(fs.readFileSync(path));
    return new DiskImage(data, fd);
  }

  /** A disk over bytes already in memory (copied), never written anywhere else. */
  static fromBytes(bytes: Uint8Array): DiskImage {
    return new DiskImage(new Uint8Array(bytes), null);
  }

  get writesThrough(): boolean {
    return this.fd !== null;
  }

  private inRange(lba: number, count: number): boolean {
    return Number.isInteger(lba) && Number.isInteger(count) && lba >= 0 && count >= 0 && lba + count <= this.sectorCount;
  }

  read(lba: number, count: number, dst: Uint8Array, off: number): boolean {
    if (!this.inRange(lba, count) || off < 0 || off + count * SECTOR_SIZE > dst.length) return false;
    dst.set(this.data.subarray(lba * SECTOR_SIZE, (lba + count) * SECTOR_SIZE), off);
    return true;
  }

  write(lba: number, count: number, src: Uint8Array, off: number): boolean {
    if (!this.inRange(lba, count) || off < 0 || off + count * SECTOR_SIZE > src.length) return false;
    const bytes = src.subarray(off, off + count * SECTOR_SIZE);
    this.data.set(bytes, lba * SECTOR_SIZE);
    if (this.fd !== null) {
      try {
        fs.writeSync(this.fd, bytes, 0, bytes.length, lba * SECTOR_SIZE);
      } catch {
        return false; // host I/O error: the controller reports it to the guest
      }
    }
    return true;
  }

  flush(): void {
    if (this.fd !== null) {
      try { fs.fsyncSync(this.fd); } catch { /* nothing sensible to tell the guest */ }
    }
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}
