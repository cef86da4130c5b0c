// Golden tests: every fixture kernel's serial output and exit status under
// each engine must equal what qemu-system-i386 produced for the same image
// (fixtures/expected/*, recorded by scripts/record-goldens).

import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runFixture } from './run-fixture.js';
import { ENGINES } from './engines.js';

const expectedDir = join(ROOT, 'fixtures', 'expected');
const names = readdirSync(expectedDir)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4))
  .filter((n) => existsSync(join(ROOT, 'fixtures', 'images', `${n}.elf`)))
  .sort();

describe.each(ENGINES)('fixtures under --mode %s', (mode) => {
  it('has fixtures to run', () => {
    expect(names.length).toBeGreaterThan(0);
  });
  it.each(names)('%s matches QEMU', async (name) => {
    const expected = readFileSync(join(expectedDir, `${name}.txt`), 'latin1');
    const statusFile = join(expectedDir, `${name}.status`);
    const r = await runFixture(name, mode);
    expect(r.serial.toString('latin1')).toBe(expected);
    if (existsSync(statusFile)) expect(r.status).toBe(Number(readFileSync(statusFile, 'utf8').trim()));
  });
});
