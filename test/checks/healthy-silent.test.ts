/**
 * Every check of the registry is silent at `error` and above on the healthy samples (the
 * scenarios that expect nothing) and on every real capture in test/fixtures/real — captures of
 * working Linux hosts. A new check joins by its registry line. The interrupt-remapping checks are
 * also held to having run where the capture holds an IR table (silence by not running proves
 * nothing).
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { checks } from '../../src/checks/index.js';
import { runChecksWithStatus } from '../../src/checks/run.js';
import { loadScenarios } from '../../src/synth/generate-samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { CAPTURES, capturePath } from '../helpers/captures.js';

const SAMPLES = path.resolve(import.meta.dirname, '../../samples');
/**
 * Healthy: a scenario that expects nothing at warning or above, or only `ir-off-with-assigned` and
 * `ats-on-assigned` — the warnings every bhyve host with a pass-through device has by design (bhyve
 * never enables interrupt remapping, and sets TT = 01b where ECAP.DT), which are no defect of it.
 */
const BY_DESIGN = new Set(['ir-off-with-assigned', 'ats-on-assigned']);
const healthySamples = loadScenarios(SAMPLES)
  .filter((s) => s.expect.every(([id]) => BY_DESIGN.has(id)))
  .map((s) => s.name);
const realCaptures = readdirSync(CAPTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

const loaded = new Map<string, Snapshot>();
function load(where: string): Snapshot {
  let s = loaded.get(where);
  if (s === undefined) {
    s = loadCapture(where);
    loaded.set(where, s);
  }
  return s;
}
const inputs: [string, string][] = [
  ...healthySamples.map((n): [string, string] => [`samples/${n}`, path.join(SAMPLES, n)]),
  ...realCaptures.map((n): [string, string] => [`real/${n}`, capturePath(n)]),
];

describe('every check is silent at error and above on healthy captures', () => {
  it('there are healthy samples and real captures to hold them to', () => {
    expect(healthySamples).toEqual(expect.arrayContaining(['bhyve-host', 'healthy-two-vms', 'kvm-vfio-host']));
    expect(realCaptures.length).toBeGreaterThanOrEqual(7);
  });

  it.each(inputs)('%s', (_name, where) => {
    const r = runChecksWithStatus(load(where));
    const loud = r.findings.filter((f) => f.severity === 'error' || f.severity === 'critical').map((f) => `${f.check} ${f.severity} ${f.bdf ?? '-'}: ${f.message}`);
    expect(loud).toEqual([]);
    expect(r.statuses.map((s) => s.id)).toEqual(checks.map((c) => c.meta.id));
  });

  it('the interrupt-remapping checks ran on the real capture with an assigned device and an IR table (qemu-linux61-vfio)', () => {
    const r = runChecksWithStatus(load(capturePath('qemu-linux61-vfio')), { only: ['ir-off-with-assigned', 'ir-compat-allowed', 'irte-unverified-source', 'irte-stale'] });
    expect(r.statuses.map((s) => [s.id, s.status])).toEqual([
      ['ir-off-with-assigned', 'ran'], ['ir-compat-allowed', 'ran'], ['irte-unverified-source', 'ran'], ['irte-stale', 'ran'],
    ]);
    expect(r.findings).toEqual([]);
  });
});
