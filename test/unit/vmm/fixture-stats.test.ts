// VMM-specific checks on whole fixture runs through the CLI: --stats must
// show that no guest instruction ever ran at real CPL 0, that the exits
// the run needed are accounted by cause, that real-mode phases were
// interpreted (and counted apart), and that --guests N gives every guest
// its own console with the fixture's expected output.

import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, fixtureArgs } from '../../guest/run-fixture.js';

interface EngineStats {
  exits: Record<string, number>;
  patches: { made: number; dropped: number; resolved: number; live: number };
  blocksScanned: number;
  shadowTables: { built: number; flushed: number };
  realCpl0Instructions: number;
  interpretedInstructions: number;
  nativeInstructions: number;
}

async function run(name: string, extra: string[] = []): Promise<{ dir: string; status: number; stats: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'trapvisor-vmm-'));
  const r = await execa('node', [
    CLI, 'run', '--kernel', join(ROOT, 'fixtures', 'images', `${name}.elf`), '--mode', 'vmm', '--memory', '128',
    '--serial', join(dir, 'serial.txt'), '--stats', join(dir, 'stats.json'), '--max-instructions', '3000000000',
    ...fixtureArgs(name), ...extra,
  ], { reject: false, cwd: ROOT, stdin: 'ignore', timeout: 120_000 });
  return { dir, status: r.exitCode ?? -1, stats: JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) };
}

const expected = (name: string): string => readFileSync(join(ROOT, 'fixtures', 'expected', `${name}.txt`), 'latin1');

describe('--mode vmm statistics on fixture runs', () => {
  it.each(['sensitive', 'realmode', 'devices'])('%s: no real CPL 0, exits by cause, interpreted phases counted apart', async (name) => {
    const { dir, stats } = await run(name);
    try {
      expect(readFileSync(join(dir, 'serial.txt'), 'latin1')).toBe(expected(name));
      const e = stats.engine as EngineStats;
      expect(e.realCpl0Instructions).toBe(0);
      expect(e.patches.made).toBeGreaterThan(0);
      expect(e.blocksScanned).toBeGreaterThan(0);
      expect(e.shadowTables.built).toBeGreaterThan(0);
      expect(Object.values(e.exits).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(e.nativeInstructions + e.interpretedInstructions).toBe(stats.instructions);
      // realmode drops to real mode; devices starts its AP in real mode (STARTUP IPI).
      if (name === 'sensitive') expect(e.interpretedInstructions).toBe(0);
      else expect(e.interpretedInstructions).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--guests 2: two copies side by side, each console gets the expected output, per-guest stats', async () => {
    const { dir, status, stats } = await run('interrupts', ['--guests', '2']);
    try {
      expect(status).toBe(Number(readFileSync(join(ROOT, 'fixtures', 'expected', 'interrupts.status'), 'utf8')));
      expect(readFileSync(join(dir, 'serial.txt'), 'latin1')).toBe(expected('interrupts'));
      expect(readFileSync(join(dir, 'serial.txt.1'), 'latin1')).toBe(expected('interrupts'));
      const per = stats.perGuest as Array<{ exitCode: number; instructions: number; engine: EngineStats }>;
      expect(per).toHaveLength(2);
      for (const g of per) {
        expect(g.engine.realCpl0Instructions).toBe(0);
        expect(g.instructions).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
