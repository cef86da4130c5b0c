// What a run is made of, validated once: the CLI turns flags into a
// MachineConfig and every later layer trusts it.

import { existsSync, statSync, accessSync, constants } from 'node:fs';

export class ConfigError extends Error {}

export type Mode = 'emulate' | 'vmm';

export interface DiskSpec {
  path: string;
  writable: boolean;
  /** Explicit position on the primary channel, if the user gave one. */
  position?: 'master' | 'slave';
}

export interface MachineConfig {
  kernel?: string;
  cmdline: string;
  disks: DiskSpec[];
  memoryMiB: number;
  cpus: number;
  mode: Mode;
  /** 'stdio', 'none', or a file path that receives COM1 output. */
  serial: string;
  maxInstructions: number;
  /** Instructions per vCPU before the next one runs (SMP interleave). */
  quantum: number;
  /** --mode vmm: this many copies of the guest side by side on one host (default 1). */
  guests?: number;
}

export const MAX_GUESTS = 8;

export const DEFAULT_MEMORY_MIB = 256;
export const MIN_MEMORY_MIB = 2;
export const MAX_MEMORY_MIB = 3072;
export const MAX_CPUS = 8;

/** `path[,writable]` as in `--disk fs.img,writable`. */
export function parseDiskSpec(spec: string): DiskSpec {
  const parts = spec.split(',');
  const path = parts[0];
  let writable = false;
  let position: DiskSpec['position'];
  for (const opt of parts.slice(1)) {
    if (opt === 'writable' || opt === 'rw') writable = true;
    else if (opt === 'snapshot' || opt === 'ro') writable = false;
    else if (opt === 'master' || opt === 'slave') position = opt;
    else throw new ConfigError(`unknown disk option '${opt}' in '${spec}' (use FILE[,writable][,master|,slave])`);
  }
  if (!path) throw new ConfigError('empty disk path');
  if (!existsSync(path)) throw new ConfigError(`disk image not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw new ConfigError(`disk image is not a regular file: ${path}`);
  try {
    accessSync(path, writable ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch {
    throw new ConfigError(`disk image is not ${writable ? 'writable' : 'readable'}: ${path}`);
  }
  if (st.size === 0 || st.size % 512 !== 0) {
    throw new ConfigError(`disk image size ${st.size} is not a non-zero multiple of 512 bytes: ${path}`);
  }
  return { path, writable, position };
}

/**
 * Primary-channel placement: explicit positions win; otherwise the first
 * disk is the master and the second the slave, except that with --kernel a
 * lone disk goes to the slave, where kernels loaded by a boot loader (xv6)
 * keep their file system while the master holds the boot image.
 */
export function placeDisks(disks: DiskSpec[], haveKernel: boolean): { master?: DiskSpec; slave?: DiskSpec } {
  const out: { master?: DiskSpec; slave?: DiskSpec } = {};
  for (const d of disks) {
    if (!d.position) continue;
    if (out[d.position]) throw new ConfigError(`two disks given as the primary ${d.position}`);
    out[d.position] = d;
  }
  const rest = disks.filter((d) => !d.position);
  if (haveKernel && disks.length === 1 && rest.length === 1) return { slave: rest[0] };
  for (const d of rest) {
    if (!out.master) out.master = d;
    else if (!out.slave) out.slave = d;
    else throw new ConfigError('at most two disks (primary master and slave)');
  }
  return out;
}

export function validateConfig(c: MachineConfig): MachineConfig {
  if (!c.kernel && c.disks.length === 0) throw new ConfigError('nothing to boot: give --kernel FILE or --disk FILE');
  if (c.kernel !== undefined) {
    if (!existsSync(c.kernel)) throw new ConfigError(`kernel not found: ${c.kernel}`);
    if (!statSync(c.kernel).isFile()) throw new ConfigError(`kernel is not a regular file: ${c.kernel}`);
  }
  if (!Number.isInteger(c.cpus) || c.cpus < 1 || c.cpus > MAX_CPUS) {
    throw new ConfigError(`--cpus must be an integer from 1 to ${MAX_CPUS} (got ${c.cpus})`);
  }
  if (!Number.isInteger(c.memoryMiB) || c.memoryMiB < MIN_MEMORY_MIB || c.memoryMiB > MAX_MEMORY_MIB) {
    throw new ConfigError(`--memory must be an integer from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB} MiB (got ${c.memoryMiB})`);
  }
  const guests = c.guests ?? 1;
  if (!Number.isInteger(guests) || guests < 1 || guests > MAX_GUESTS) {
    throw new ConfigError(`--guests must be an integer from 1 to ${MAX_GUESTS} (got ${guests})`);
  }
  if (guests > 1 && c.mode !== 'vmm') throw new ConfigError('--guests needs --mode vmm');
  if (guests > 1 && c.disks.some((d) => d.writable)) throw new ConfigError('--guests: several guests cannot share a writable disk');
  if (c.disks.length > 2) throw new ConfigError('at most two disks (primary master and slave)');
  const placed = placeDisks(c.disks, c.kernel !== undefined);
  if (c.kernel === undefined && !placed.master) throw new ConfigError('booting from disk needs a primary master disk');
  if (!(c.maxInstructions > 0)) throw new ConfigError('--max-instructions must be positive');
  return c;
}
