/**
 * A capture.json part of a kind --ignore/--only leaves out is not read, so it is not checked
 * either: a manifest naming a file that is missing (a copy that lost /proc/iomem) can still be
 * analysed with `--ignore memory-map`, as the error about it invites.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { InputError } from '../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-manifest-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.cpSync(path.join(import.meta.dirname, '../../samples/kvm-vfio-host'), dir, { recursive: true });
fs.rmSync(path.join(dir, 'iomem.txt'));

describe('capture.json naming a file that is gone', () => {
  it('is an error naming the line when the part would be read', () => {
    expect(() => loadCapture(dir)).toThrow(InputError);
    expect(() => loadCapture(dir)).toThrow(/iomem\.txt does not exist/);
  });

  it('--ignore memory-map leaves the part out, and the rest is read', () => {
    const s = loadCapture(dir, { ignore: ['memory-map'] });
    expect(s.units).toHaveLength(1);
    expect(s.memoryMapKnown).toBe(false);
    expect(s.capture.parts.some((p) => p.kind === 'memory-map')).toBe(false);
  });

  it('--only without memory-map does the same', () => {
    const s = loadCapture(dir, { only: ['dmar', 'registers', 'memory', 'pci', 'vm-cmdlines'] });
    expect(s.units[0].contexts.length).toBeGreaterThan(0);
  });
});
