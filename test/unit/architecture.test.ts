// The dependency direction as a test (house style 12): util <- bus <- cpu
// <- vmm; devices and boot see only the bus; the machine wires everything;
// cli sits on top; the stub knows only itself (its DebugTarget).

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Which top-level layers each layer may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  'src/util': [],
  'src/bus': ['src/util'],
  'src/cpu': ['src/util', 'src/bus'],
  'src/devices': ['src/util', 'src/bus'],
  'src/boot': ['src/util', 'src/bus'],
  'src/vmm': ['src/util', 'src/bus', 'src/cpu', 'src/boot'],
  'src/machine': ['src/util', 'src/bus', 'src/cpu', 'src/devices', 'src/boot', 'src/vmm', 'stub'],
  'src/cli': ['src/util', 'src/bus', 'src/boot', 'src/machine', 'stub'],
  stub: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(path: string): string | null {
  const rel = relative(ROOT, path).split('/');
  const key = rel[0] === 'src' ? `src/${rel[1]}` : rel[0];
  return key in ALLOWED ? key : null;
}

describe('dependency direction', () => {
  for (const layer of Object.keys(ALLOWED)) {
    it(`${layer} imports only from ${ALLOWED[layer].join(', ') || 'itself'}`, () => {
      const bad: string[] = [];
      for (const f of files(join(ROOT, layer))) {
        for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const target = layerOf(resolve(dirname(f), m[1]));
          if (target !== null && target !== layer && !ALLOWED[layer].includes(target)) {
            bad.push(`${relative(ROOT, f)} imports ${m[1]}`);
          }
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
