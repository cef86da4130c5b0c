// Primary ATA channel, PIO only: command block 0x1F0-0x1F7, control block
// 0x3F6 (device control / alternate status), master and slave disks on
// BlockBackends, IRQ 14. Owns the task file, the sector buffer and the
// per-drive identity (IDENTIFY DEVICE data, multiple count, geometry).
//
// Devices have no time, so every command completes the moment it is issued:
// BSY is never observed, DRQ is set at once, the interrupt is raised at once.
// Reference: ATA/ATAPI-6 (T13/1410D) sections 6 and 8; QEMU's hw/ide/core.c
// for what guests observe (missing slave reads status 0, default multiple count 16).

import type { AccessSize } from '../bus/phys-mem.js';
import type { IoBus, PortDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { SECTOR_SIZE, type BlockBackend } from './disk-image.js';

export const IDE_PRIMARY_BASE = 0x1f0;
export const IDE_PRIMARY_CTRL = 0x3f6;

// Task file offsets from the command block base.
const REG_DATA = 0;
const REG_ERROR_FEATURE = 1;
const REG_NSECTOR = 2;
const REG_SECTOR = 3; // LBA 7:0
const REG_LCYL = 4; // LBA 15:8
const REG_HCYL = 5; // LBA 23:16
const REG_SELECT = 6; // device/head
const REG_STATUS_CMD = 7;

// Status register bits (ATA-6 7.15.6).
const ST_ERR = 0x01;
const ST_DRQ = 0x08;
const ST_DSC = 0x10; // seek complete (obsolete, still reported by drives and QEMU)
const ST_DF = 0x20;
const ST_DRDY = 0x40;
const ST_BSY = 0x80;

// Error register bits.
const ERR_ABRT = 0x04;
const ERR_IDNF = 0x10;

// Device register bits.
const SEL_DEV = 0x10;
const SEL_LBA = 0x40;

// Device control register bits (ATA-6 7.9).
const CTL_NIEN = 0x02;
const CTL_SRST = 0x04;

// Commands.
const CMD_EXEC_DIAG = 0x90;
const CMD_INIT_PARAMS = 0x91;
const CMD_READ = 0x20;
const CMD_READ_NORETRY = 0x21;
const CMD_WRITE = 0x30;
const CMD_WRITE_NORETRY = 0x31;
const CMD_VERIFY = 0x40;
const CMD_VERIFY_NORETRY = 0x41;
const CMD_READ_MULTIPLE = 0xc4;
const CMD_WRITE_MULTIPLE = 0xc5;
const CMD_SET_MULTIPLE = 0xc6;
const CMD_CHECK_POWER = 0xe5;
const CMD_FLUSH = 0xe7;
const CMD_IDENTIFY = 0xec;
const CMD_SET_FEATURES = 0xef;

const MAX_MULT_SECTORS = 16;
const LBA28_MAX = 0x0fffffff;

type Transfer = 'none' | 'read' | 'write' | 'identify';

class Drive {
  readonly identify = new Uint16Array(256);
  multCount = MAX_MULT_SECTORS;
  heads: number; // current logical geometry, used for CHS addressing
  sectors: number;
  readonly cylinders: number;

  constructor(readonly disk: BlockBackend, readonly serial: string, readonly model: string) {
    // A geometry for drives without a partition table: 16 heads, 63 sectors (QEMU's guess).
    this.heads = 16;
    this.sectors = 63;
    this.cylinders = Math.min(16383, Math.max(2, Math.floor(disk.sectorCount / (16 * 63))));
  }

  /** IDENTIFY DEVICE data (ATA-6 8.15, table 27). Strings are space padded, two chars per word, first char in the high byte. */
  buildIdentify(): Uint16Array {
    const w = this.identify;
    w.fill(0);
    const str = (first: number, words: number, s: string) => {
      const p = s.padEnd(words * 2, ' ');
      for (let i = 0; i < words; i++) w[first + i] = ((p.charCodeAt(2 * i) & 0xff) << 8) | (p.charCodeAt(2 * i + 1) & 0xff);
    };
    const total = Math.min(this.disk.sectorCount, LBA28_MAX);
    const chs = Math.min(this.cylinders * this.heads * this.sectors, total);
    w[0] = 0x0040; // fixed device, not removable
    w[1] = this.cylinders;
    w[3] = 16;
    w[6] = 63;
    str(10, 10, this.serial);
    str(23, 4, '1.0');
    str(27, 20, this.model);
    w[47] = 0x8000 | MAX_MULT_SECTORS; // READ/WRITE MULTIPLE: up to 16 sectors per DRQ block
    w[48] = 1; // 32-bit PIO (vendor word, QEMU sets it)
    w[49] = (1 << 11) | (1 << 9); // IORDY supported, LBA supported; no DMA
    w[51] = 0x200; // PIO timing mode 2
    w[53] = 0x0003; // words 54-58 and 64-70 valid
    w[54] = Math.floor(chs / (this.heads * this.sectors)) || this.cylinders; // current geometry
    w[55] = this.heads;
    w[56] = this.sectors;
    w[57] = chs & 0xffff;
    w[58] = chs >>> 16;
    w[59] = this.multCount ? 0x100 | this.multCount : 0;
    w[60] = total & 0xffff; // user addressable LBA28 sectors
    w[61] = total >>> 16;
    w[64] = 0x03; // PIO modes 3 and 4
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[80] = 0x007e; // ATA-1 .. ATA-6
    w[82] = (1 << 14) | (1 << 5); // NOP, write cache
    w[83] = (1 << 14) | (1 << 12); // word valid, FLUSH CACHE
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (1 << 5);
    w[86] = 1 << 12;
    w[87] = 1 << 14;
    return w;
  }
}

export interface IdeOptions {
  /** IRQ 14 for the primary channel. */
  irq: IrqLine;
  master?: BlockBackend | null;
  slave?: BlockBackend | null;
  base?: number;
  ctrlPort?: number;
}

export class IdeChannel implements PortDevice {
  readonly base: number;
  readonly ctrlPort: number;
  private readonly irq: IrqLine;
  private readonly drives: [Drive | null, Drive | null];

  // The task file is shared by both devices on the cable: writes reach both.
  private feature = 0;
  private nsector = 0;
  private sector = 0;
  private lcyl = 0;
  private hcyl = 0;
  private select = 0xa0;
  private status = ST_DRDY | ST_DSC;
  private error = 0x01;
  private control = 0;
  private irqLevel = false;

  // PIO data transfer state.
  private readonly buf = new Uint8Array(SECTOR_SIZE * MAX_MULT_SECTORS);
  private bufPos = 0;
  private bufEnd = 0;
  private transfer: Transfer = 'none';
  private lba = 0; // next sector to transfer
  private remaining = 0; // sectors left in the command, including the buffered block
  private blockSectors = 0; // sectors in the current DRQ block
  private multiple = false;

  constructor(opts: IdeOptions) {
    this.irq = opts.irq;
    this.base = opts.base ?? IDE_PRIMARY_BASE;
    this.ctrlPort = opts.ctrlPort ?? IDE_PRIMARY_CTRL;
    this.drives = [
      opts.master ? new Drive(opts.master, 'QM00001', 'QEMU HARDDISK') : null,
      opts.slave ? new Drive(opts.slave, 'QM00002', 'QEMU HARDDISK') : null,
    ];
    this.reset();
  }

  register(io: IoBus): void {
    io.register(this.base, 8, 'ide', this);
    io.register(this.ctrlPort, 1, 'ide-ctrl', this);
  }

  private get cur(): Drive | null {
    return this.drives[(this.select & SEL_DEV) >> 4];
  }

  private get anyDrive(): boolean {
    return this.drives[0] !== null || this.drives[1] !== null;
  }

  private setIrqLine(level: boolean): void {
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  /** INTRQ is asserted at command completion / DRQ block ready, unless nIEN (ATA-6 5.2.9). */
  private raiseIrq(): void {
    if (!(this.control & CTL_NIEN)) this.setIrqLine(true);
  }

  /** Power-on / hardware reset of the channel. */
  reset(): void {
    this.control = 0;
    this.resetDevices();
    this.setIrqLine(false);
  }

  /** Device reset as after SRST: diagnostic passed, signature in the task file (ATA-6 9.12). */
  private resetDevices(): void {
    this.feature = 0;
    this.select = 0xa0;
    this.status = ST_DRDY | ST_DSC;
    this.error = 0x01;
    this.setSignature();
    this.endTransfer();
    for (const d of this.drives) if (d) { d.multCount = MAX_MULT_SECTORS; d.heads = 16; d.sectors = 63; }
  }

  private setSignature(): void {
    this.nsector = 1;
    this.sector = 1;
    this.lcyl = 0;
    this.hcyl = 0;
  }

  private endTransfer(): void {
    this.transfer = 'none';
    this.bufPos = 0;
    this.bufEnd = 0;
    this.remaining = 0;
    this.blockSectors = 0;
  }

  private abort(err = ERR_ABRT): void {
    this.endTransfer();
    this.error = err;
    this.status = ST_DRDY | ST_DSC | ST_ERR;
    this.raiseIrq();
  }

  private succeed(): void {
    this.error = 0;
    this.status = ST_DRDY | ST_DSC;
    this.raiseIrq();
  }

  /** The starting sector of the command from the task file: LBA28 or CHS (ATA-6 6.2). */
  private commandLba(d: Drive): number {
    if (this.select & SEL_LBA) {
      return ((this.select & 0x0f) << 24 | this.hcyl << 16 | this.lcyl << 8 | this.sector) >>> 0;
    }
    const cyl = (this.hcyl << 8) | this.lcyl;
    const head = this.select & 0x0f;
    if (this.sector === 0 || this.sector > d.sectors || head >= d.heads) return -1;
    return (cyl * d.heads + head) * d.sectors + this.sector - 1;
  }

  /** Leave the task file pointing at the last sector transferred, as drives (and QEMU) do. */
  private setTaskFileLba(d: Drive, lba: number): void {
    if (this.select & SEL_LBA) {
      this.select = (this.select & 0xf0) | ((lba >>> 24) & 0x0f);
      this.hcyl = (lba >>> 16) & 0xff;
      this.lcyl = (lba >>> 8) & 0xff;
      this.sector = lba & 0xff;
    } else {
      const cyl = Math.floor(lba / (d.heads * d.sectors));
      const r = lba % (d.heads * d.sectors);
      this.hcyl = (cyl >> 8) & 0xff;
      this.lcyl = cyl & 0xff;
      this.select = (this.select & 0xf0) | (Math.floor(r / d.sectors) & 0x0f);
      this.sector = (r % d.sectors) + 1;
    }
  }

  private execute(cmd: number): void {
    const d = this.cur;
    // Commands to an absent device are ignored (QEMU); with no device at all nothing answers.
    if (!d) return;
    this.endTransfer();
    switch (cmd) {
      case CMD_IDENTIFY:
        d.buildIdentify();
        for (let i = 0; i < 256; i++) {
          this.buf[2 * i] = d.identify[i] & 0xff;
          this.buf[2 * i + 1] = d.identify[i] >> 8;
        }
        this.transfer = 'identify';
        this.bufEnd = SECTOR_SIZE;
        this.error = 0;
        this.status = ST_DRDY | ST_DSC | ST_DRQ;
        this.raiseIrq();
        return;
      case CMD_READ: case CMD_READ_NORETRY:
      case CMD_WRITE: case CMD_WRITE_NORETRY:
      case CMD_READ_MULTIPLE: case CMD_WRITE_MULTIPLE: {
        const multiple = cmd === CMD_READ_MULTIPLE || cmd === CMD_WRITE_MULTIPLE;
        if (multiple && d.multCount === 0) return this.abort();
        const lba = this.commandLba(d);
        const count = this.nsector === 0 ? 256 : this.nsector;
        if (lba < 0 || lba + count > d.disk.sectorCount) return this.abort(ERR_IDNF | ERR_ABRT);
        this.lba = lba;
        this.remaining = count;
        this.multiple = multiple;
        this.error = 0;
        if (cmd === CMD_WRITE || cmd === CMD_WRITE_NORETRY || cmd === CMD_WRITE_MULTIPLE) {
          // PIO data-out: the first block is requested without an interrupt (ATA-6 9.8).
          this.transfer = 'write';
          this.startBlock(d);
          this.status = ST_DRDY | ST_DSC | ST_DRQ;
        } else {
          this.transfer = 'read';
          this.loadReadBlock(d);
        }
        return;
      }
      case CMD_VERIFY: case CMD_VERIFY_NORETRY: {
        const lba = this.commandLba(d);
        const count = this.nsector === 0 ? 256 : this.nsector;
        if (lba < 0 || lba + count > d.disk.sectorCount) return this.abort(ERR_IDNF | ERR_ABRT);
        this.setTaskFileLba(d, lba + count - 1);
        return this.succeed();
      }
      case CMD_SET_MULTIPLE: {
        const n = this.nsector;
        // Only powers of two up to the maximum in word 47; 0 disables multiple mode.
        if (n > MAX_MULT_SECTORS || (n & (n - 1)) !== 0) return this.abort();
        d.multCount = n;
        return this.succeed();
      }
      case CMD_INIT_PARAMS:
        // Sets the logical CHS translation: heads = DEV/HEAD+1, sectors per track = count.
        if (this.nsector === 0) return this.abort();
        d.heads = (this.select & 0x0f) + 1;
        d.sectors = this.nsector;
        return this.succeed();
      case CMD_FLUSH:
      case 0xea: // FLUSH CACHE EXT
        d.disk.flush();
        return this.succeed();
      case CMD_SET_FEATURES:
        // Transfer mode, write cache, look-ahead: accepted and ignored, as all transfers are instant.
        switch (this.feature) {
          case 0x02: case 0x82: case 0x03: case 0x55: case 0xaa: case 0x66: case 0xcc:
            return this.succeed();
          default:
            return this.abort();
        }
      case CMD_CHECK_POWER:
        this.nsector = 0xff; // active or idle
        return this.succeed();
      case 0xe0: case 0xe1: case 0xe2: case 0xe3: // standby/idle: nothing to spin down
      case 0x10: // RECALIBRATE
        return this.succeed();
      case CMD_EXEC_DIAG:
        this.setSignature();
        this.error = 0x01; // device 0 passed
        this.status = ST_DRDY | ST_DSC;
        this.raiseIrq();
        return;
      default:
        return this.abort();
    }
  }

  private startBlock(d: Drive): void {
    const per = this.multiple ? d.multCount : 1;
    this.blockSectors = Math.min(per, this.remaining);
    this.bufPos = 0;
    this.bufEnd = this.blockSectors * SECTOR_SIZE;
  }

  /** Fill the buffer with the next DRQ block and interrupt (PIO data-in, ATA-6 9.7). */
  private loadReadBlock(d: Drive): void {
    this.startBlock(d);
    if (!d.disk.read(this.lba, this.blockSectors, this.buf, 0)) return this.abort(ERR_IDNF | ERR_ABRT);
    this.setTaskFileLba(d, this.lba + this.blockSectors - 1);
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raiseIrq();
  }

  /** The host drained (read) or filled (write) the buffer. */
  private blockDone(): void {
    const d = this.cur;
    if (!d) return this.endTransfer();
    if (this.transfer === 'identify') {
      this.endTransfer();
      this.status = ST_DRDY | ST_DSC;
      return;
    }
    if (this.transfer === 'read') {
      this.lba += this.blockSectors;
      this.remaining -= this.blockSectors;
      if (this.remaining > 0) return this.loadReadBlock(d);
      this.endTransfer();
      this.status = ST_DRDY | ST_DSC;
      return;
    }
    // Write: commit the block, then ask for the next or finish; interrupt either way.
    if (!d.disk.write(this.lba, this.blockSectors, this.buf, 0)) {
      this.endTransfer();
      this.error = ERR_ABRT;
      this.status = ST_DRDY | ST_DSC | ST_DF | ST_ERR;
      this.raiseIrq();
      return;
    }
    this.setTaskFileLba(d, this.lba + this.blockSectors - 1);
    this.lba += this.blockSectors;
    this.remaining -= this.blockSectors;
    if (this.remaining > 0) {
      this.startBlock(d);
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
    } else {
      this.endTransfer();
      this.status = ST_DRDY | ST_DSC;
    }
    this.raiseIrq();
  }

  private dataRead(size: AccessSize): number {
    if ((this.transfer !== 'read' && this.transfer !== 'identify') || !(this.status & ST_DRQ)) return 0;
    const n = size === 4 ? 4 : 2; // byte reads still consume a word
    let v = 0;
    for (let i = 0; i < n && this.bufPos < this.bufEnd; i++) v |= this.buf[this.bufPos++] << (8 * i);
    if (this.bufPos >= this.bufEnd) this.blockDone();
    return size === 1 ? v & 0xff : v >>> 0;
  }

  private dataWrite(size: AccessSize, value: number): void {
    if (this.transfer !== 'write' || !(this.status & ST_DRQ)) return;
    const n = size === 4 ? 4 : 2;
    for (let i = 0; i < n && this.bufPos < this.bufEnd; i++) this.buf[this.bufPos++] = (value >>> (8 * i)) & 0xff;
    if (this.bufPos >= this.bufEnd) this.blockDone();
  }

  private readStatus(): number {
    // With no device selected, QEMU floats the status to 0 (xv6's slave probe
    // relies on it) -- except for an absent master beside a present slave,
    // where QEMU answers with the master's reset status, DRDY|DSC (xv6 booted
    // with -kernel and only fs.img as the slave waits for DRDY there).
    if (!this.cur) return (this.select & SEL_DEV) === 0 && this.anyDrive ? 0x50 : 0;
    return this.status;
  }

  portRead(port: number, size: AccessSize): number {
    if (port === this.ctrlPort) return this.readStatus(); // alternate status: no side effects
    const reg = port - this.base;
    if (reg === REG_DATA) return this.cur ? this.dataRead(size) : 0;
    if (!this.anyDrive) return 0;
    switch (reg) {
      case REG_ERROR_FEATURE: return this.cur ? this.error : 0;
      case REG_NSECTOR: return this.nsector;
      case REG_SECTOR: return this.sector;
      case REG_LCYL: return this.lcyl;
      case REG_HCYL: return this.hcyl;
      case REG_SELECT: return this.select;
      case REG_STATUS_CMD:
        // Reading the status register acknowledges the interrupt (ATA-6 5.2.9).
        this.setIrqLine(false);
        return this.readStatus();
      default: return 0xff;
    }
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    if (port === this.ctrlPort) return this.writeControl(value & 0xff);
    const reg = port - this.base;
    if (reg === REG_DATA) return this.dataWrite(size, value);
    const v = value & 0xff;
    switch (reg) {
      case REG_ERROR_FEATURE: this.feature = v; break;
      case REG_NSECTOR: this.nsector = v; break;
      case REG_SECTOR: this.sector = v; break;
      case REG_LCYL: this.lcyl = v; break;
      case REG_HCYL: this.hcyl = v; break;
      case REG_SELECT: this.select = v | 0xa0; break; // bits 7 and 5 are obsolete ones
      case REG_STATUS_CMD:
        if (this.status & ST_BSY) break;
        this.setIrqLine(false); // writing a command clears a pending interrupt
        this.execute(v);
        break;
      default: break;
    }
  }

  private writeControl(v: number): void {
    const old = this.control;
    this.control = v;
    if (v & CTL_NIEN) this.setIrqLine(false); // INTRQ goes high-impedance while disabled
    if (v & CTL_SRST && !(old & CTL_SRST)) {
      // SRST asserted: both devices are busy until it is released.
      this.endTransfer();
      this.status = ST_BSY | ST_DSC;
    } else if (!(v & CTL_SRST) && old & CTL_SRST) {
      this.resetDevices();
    }
  }

  saveState(): unknown {
    return {
      feature: this.feature, nsector: this.nsector, sector: this.sector, lcyl: this.lcyl, hcyl: this.hcyl,
      select: this.select, status: this.status, error: this.error, control: this.control, irqLevel: this.irqLevel,
      buf: Buffer.from(this.buf.subarray(0, this.bufEnd)).toString('base64'), bufPos: this.bufPos,
      transfer: this.transfer, lba: this.lba, remaining: this.remaining, blockSectors: this.blockSectors,
      multiple: this.multiple,
      drives: this.drives.map((d) => (d ? { multCount: d.multCount, heads: d.heads, sectors: d.sectors } : null)),
    };
  }

  loadState(s: unknown): void {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    const n = (k: string, d: number): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : d);
    this.feature = n('feature', 0) & 0xff;
    this.nsector = n('nsector', 1) & 0xff;
    this.sector = n('sector', 1) & 0xff;
    this.lcyl = n('lcyl', 0) & 0xff;
    this.hcyl = n('hcyl', 0) & 0xff;
    this.select = (n('select', 0xa0) & 0xff) | 0xa0;
    this.status = n('status', ST_DRDY | ST_DSC) & 0xff;
    this.error = n('error', 1) & 0xff;
    this.control = n('control', 0) & 0xff;
    this.irqLevel = o.irqLevel === true;
    const t = o.transfer;
    this.transfer = t === 'read' || t === 'write' || t === 'identify' ? t : 'none';
    const bytes = typeof o.buf === 'string' ? Buffer.from(o.buf, 'base64') : Buffer.alloc(0);
    this.bufEnd = Math.min(bytes.length, this.buf.length);
    this.buf.set(bytes.subarray(0, this.bufEnd));
    this.bufPos = Math.min(Math.max(0, n('bufPos', 0)), this.bufEnd);
    this.lba = Math.max(0, n('lba', 0));
    this.remaining = Math.max(0, n('remaining', 0));
    this.blockSectors = Math.min(MAX_MULT_SECTORS, Math.max(0, n('blockSectors', 0)));
    this.multiple = o.multiple === true;
    const ds = Array.isArray(o.drives) ? o.drives : [];
    this.drives.forEach((d, i) => {
      const x = ds[i] as Record<string, unknown> | null | undefined;
      if (!d || typeof x !== 'object' || x === null) return;
      const mc = Number(x.multCount);
      d.multCount = mc >= 0 && mc <= MAX_MULT_SECTORS && (mc & (mc - 1)) === 0 ? mc : MAX_MULT_SECTORS;
      d.heads = Math.min(16, Math.max(1, Number(x.heads) || 16));
      d.sectors = Math.min(255, Math.max(1, Number(x.sectors) || 63));
    });
    if (this.transfer === 'none') this.endTransfer();
  }
}
