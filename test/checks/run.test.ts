import { describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { presentInputs, runChecks } from '../../src/checks/run.js';
import type { Check } from '../../src/checks/types.js';
import { UsageError } from '../../src/errors.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { snapshot } from './snapshot-builder.js';

const fake = (id: string, sev: 'critical' | 'error' | 'warning' | 'info', needs: Check['meta']['needs'], bdfs: string[], optional?: Check['meta']['needs']): Check => ({
  meta: { id, defaultSeverity: sev, summary: id, description: id, needs, ...(optional ? { optional } : {}) },
  run: () => bdfs.map((bdf) => ({ check: id, severity: sev, message: 'm', bdf, evidence: {} })),
});

describe('registry', () => {
  it('has every contract check id once, each with description sections', () => {
    const ids = checks.map((c) => c.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([
      'did-conflict', 'dmar-integrity', 'dmar-opt-in', 'fault-from-absent-device', 'hpa-leak-identity', 'hpa-leak-iommu-structures', 'hpa-leak-mmio', 'hpa-leak-outside-vm',
      'hpa-leak-shared', 'iommu-disabled', 'missing-context', 'ppt-empty-domain', 'ppt-passthrough', 'ppt-unmapped', 'rmrr-in-vm-domain',
      'stale-context', 'table-integrity', 'unit-capability-mismatch', 'unit-disabled-with-tables',
    ]);
    for (const c of checks) {
      for (const h of ['## What it means', '## Why it matters', '## How to fix / where to look']) expect(c.meta.description, c.meta.id).toContain(h);
      for (const o of c.meta.optional ?? []) expect(c.meta.needs).toContain(o);
    }
  });
});

describe('presentInputs', () => {
  it('decides presence from the snapshot', () => {
    expect([...presentInputs(snapshot().build())]).toEqual([]);
    expect([...presentInputs(bhyveHost().build())].sort()).toEqual(['dmar', 'inventory', 'mappings', 'memory-map', 'registers', 'tables', 'vms']);
    // Contexts without walked tables: tables yes, mappings no.
    expect([...presentInputs(snapshot().unit(UNIT, (u) => u.context(PPT)).build())]).toEqual(['tables']);
  });
});

describe('runChecks', () => {
  const reg = [fake('b-check', 'error', ['tables'], ['0000:02:00.0', '0000:01:00.0']), fake('a-check', 'error', [], ['0000:05:00.0']), fake('c-crit', 'critical', [], ['0000:09:00.0']), fake('d-vms', 'warning', ['vms', 'inventory'], ['0000:00:01.0'])];

  it('gates on needs: one info per check naming what to add, instead of running it', () => {
    const f = runChecks(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, reg);
    const infos = f.filter((x) => x.severity === 'info');
    expect(infos.map((x) => x.check)).toEqual(['d-vms']);
    expect(infos[0].message).toMatch(/pciconf -lv/);
    expect(infos[0].evidence.missing).toEqual(['vms', 'inventory']);
    expect(f.some((x) => x.check === 'd-vms' && x.severity === 'warning')).toBe(false);
  });
  it('runs a check whose only missing inputs are optional, plus the info', () => {
    const r = [fake('opt', 'error', ['tables', 'inventory'], ['0000:01:00.0'], ['inventory'])];
    const f = runChecks(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, r);
    expect(f.map((x) => `${x.check} ${x.severity}`)).toEqual(['opt error', 'opt info']);
  });
  it('sorts by severity, then check id, then bdf', () => {
    const f = runChecks(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, reg);
    expect(f.map((x) => `${x.severity} ${x.check} ${x.bdf ?? '-'}`)).toEqual([
      'critical c-crit 0000:09:00.0', 'error a-check 0000:05:00.0', 'error b-check 0000:01:00.0', 'error b-check 0000:02:00.0', 'info d-vms -',
    ]);
  });
  it('honours only and skip, and rejects unknown ids with a UsageError', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(PPT)).build();
    expect(new Set(runChecks(s, { only: ['a-check', 'c-crit'] }, reg).map((x) => x.check))).toEqual(new Set(['a-check', 'c-crit']));
    expect(new Set(runChecks(s, { skip: ['a-check', 'd-vms'] }, reg).map((x) => x.check))).toEqual(new Set(['b-check', 'c-crit']));
    expect(() => runChecks(s, { only: ['nope'] }, reg)).toThrow(UsageError);
    expect(() => runChecks(s, { skip: ['a-check', 'typo'] }, reg)).toThrow(/typo/);
  });
  it('runs the real registry over the fixture host without findings above info', () => {
    const f = runChecks(bhyveHost().build());
    expect(f.filter((x) => x.severity !== 'info').map((x) => x.check)).toEqual([]);
    // The fixture's DMAR table does not set the opt-in flag.
    expect(f.map((x) => x.check)).toEqual(['dmar-opt-in']);
  });
  it('real registry: an empty capture yields only infos saying what to add', () => {
    const f = runChecks(snapshot().build());
    expect(f.every((x) => x.severity === 'info')).toBe(true);
    expect(new Set(f.map((x) => x.check)).size).toBe(f.length);
  });
});
