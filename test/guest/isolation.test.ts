// Isolation under the VMM (lecture notes: "it cannot escape"): the hostile
// fixture, which probes absent physical memory, wild segments and
// descriptor-table registers and sweeps all of its RAM, runs as one of
// several guests on one host. Its neighbour guest must still produce
// QEMU's output, and host ranges that belong to nobody it may touch (an
// unused guest's RAM, that guest's VMM area) must keep their canaries.
// Reads outside the guest's range would show up in hostile's own output
// (absent memory must read as open bus, as QEMU recorded it).

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhysMem } from '../../src/bus/phys-mem.js';
import type { MachineConfig } from '../../src/machine/config.js';
import { buildVmmGuest, GuestRoundRobin } from '../../src/machine/host.js';
import { planHost, VMM_AREA_PER_VCPU } from '../../src/vmm/guests.js';
import { ROOT } from './run-fixture.js';

class Capture {
  readonly bytes: number[] = [];
  serialOut(b: number): void { this.bytes.push(b); }
  get text(): string { return Buffer.from(this.bytes).toString('latin1'); }
}

function config(name: string, memoryMiB: number): MachineConfig {
  return {
    kernel: join(ROOT, 'fixtures', 'images', `${name}.elf`), cmdline: '', disks: [], memoryMiB, cpus: 1,
    mode: 'vmm', serial: 'none', maxInstructions: 3e9, quantum: 10000,
  };
}

const expected = (name: string): string => readFileSync(join(ROOT, 'fixtures', 'expected', `${name}.txt`), 'latin1');
const expectedStatus = (name: string): number => Number(readFileSync(join(ROOT, 'fixtures', 'expected', `${name}.status`), 'utf8').trim());
/** The debug-exit port's process status as the CLI reports it ((value << 1) | 1). */
const status = (stop: { kind: string; status?: number } | null): number => (stop?.kind === 'exit' ? stop.status ?? -1 : -1);

const CANARY = 0xa5c3_5a3c;

function fillCanary(host: PhysMem, from: number, to: number): void {
  const v = new Uint32Array(host.ram.buffer, host.ram.byteOffset + from, (to - from) / 4);
  v.fill(CANARY);
}
function canaryBroken(host: PhysMem, from: number, to: number): number {
  const v = new Uint32Array(host.ram.buffer, host.ram.byteOffset + from, (to - from) / 4);
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== CANARY) bad++;
  return bad;
}

describe('isolation under --mode vmm', () => {
  it('hostile beside another guest and canary-filled ranges: both match QEMU, canaries intact, no real CPL 0', () => {
    // guest 0: interrupts (a live neighbour below), guest 1: hostile (not at
    // host 0, so a missing base shows), guest 2: never runs, 256 MiB of
    // canaries covering the host addresses hostile's absent-memory probes
    // (guest-physical 0x10000000...) would reach if its frames were not
    // bounded by its own range.
    const layout = planHost([
      { size: 32 << 20, vcpus: 1 },
      { size: 32 << 20, vcpus: 1 },
      { size: 256 << 20, vcpus: 1 },
    ]);
    const host = new PhysMem(layout.hostRamBytes);
    const idle = layout.guests[2];
    // The unused guest's RAM and its whole VMM area: nobody may write there.
    fillCanary(host, idle.base, idle.base + idle.size);
    fillCanary(host, idle.vmmBase, idle.vmmBase + VMM_AREA_PER_VCPU);
    const outs = [new Capture(), new Capture()];
    const machines = [
      buildVmmGuest(config('interrupts', 32), outs[0], host, layout.guests[0]),
      buildVmmGuest(config('hostile', 32), outs[1], host, layout.guests[1]),
    ];
    const rr = new GuestRoundRobin(machines, 3e9);
    for (let turns = 0; turns < 10_000 && !rr.allDone; turns++) rr.run(1_000_000);
    expect(rr.allDone).toBe(true);

    expect(outs[0].text).toBe(expected('interrupts'));
    expect(status(machines[0].board.stop)).toBe(expectedStatus('interrupts'));
    expect(outs[1].text).toBe(expected('hostile'));
    expect(status(machines[1].board.stop)).toBe(expectedStatus('hostile'));
    expect(canaryBroken(host, idle.base, idle.base + idle.size)).toBe(0);
    expect(canaryBroken(host, idle.vmmBase, idle.vmmBase + VMM_AREA_PER_VCPU)).toBe(0);
    for (const m of machines) {
      const st = m.engine.stats() as { realCpl0Instructions: number };
      expect(st.realCpl0Instructions).toBe(0);
    }
  }, 120_000);

  it("one guest's triple fault stops only that guest", () => {
    const layout = planHost([{ size: 16 << 20, vcpus: 1 }, { size: 32 << 20, vcpus: 1 }]);
    const host = new PhysMem(layout.hostRamBytes);
    const outs = [new Capture(), new Capture()];
    const machines = [
      buildVmmGuest(config('triplefault', 16), outs[0], host, layout.guests[0]),
      buildVmmGuest(config('interrupts', 32), outs[1], host, layout.guests[1]),
    ];
    const rr = new GuestRoundRobin(machines, 3e9);
    for (let turns = 0; turns < 10_000 && !rr.allDone; turns++) rr.run(1_000_000);
    expect(rr.allDone).toBe(true);
    expect(machines[0].runner.stop?.kind).toBe('triple-fault');
    expect(outs[0].text).toBe(expected('triplefault'));
    expect(outs[1].text).toBe(expected('interrupts'));
    expect(status(machines[1].board.stop)).toBe(expectedStatus('interrupts'));
  }, 120_000);
});
