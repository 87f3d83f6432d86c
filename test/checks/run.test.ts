import { describe, expect, it } from 'vitest';
import { ran } from '../../src/checks/finding.js';
import { checks } from '../../src/checks/index.js';
import { pairChecks } from '../../src/checks/pair/index.js';
import { resolveOptions } from '../../src/checks/options.js';
import { inputCoverage, runChecks, runChecksWithStatus } from '../../src/checks/run.js';
import type { Check, CheckInput } from '../../src/checks/types.js';
import { UsageError } from '../../src/errors.js';
import type { Snapshot } from '../../src/model/types.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { snapshot } from './snapshot-builder.js';

const fake = (id: string, sev: 'critical' | 'error' | 'warning' | 'info', needs: Check['meta']['needs'], bdfs: string[], optional?: Check['meta']['needs']): Check => ({
  meta: { id, defaultSeverity: sev, summary: id, description: id, needs, ...(optional ? { optional } : {}), messages: { m: 'm' } },
  run: () => ran(bdfs.map((bdf) => ({ check: id, severity: sev, message: 'm', messageId: 'm', bdf, evidence: {} }))),
});

describe('registry', () => {
  it('has every check id once, each with description sections, messages, options with valid defaults, and an example sample', () => {
    const ids = checks.map((c) => c.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of checks) {
      expect(c.meta.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      for (const h of ['## What it means', '## Why it matters', '## How to fix / where to look']) expect(c.meta.description, c.meta.id).toContain(h);
      for (const o of c.meta.optional ?? []) expect(c.meta.needs).toContain(o);
      expect(Object.keys(c.meta.messages).length, c.meta.id).toBeGreaterThan(0);
      for (const id of Object.keys(c.meta.messages)) expect(id, c.meta.id).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(() => resolveOptions(c.meta), c.meta.id).not.toThrow();
      for (const spec of Object.values(c.meta.options ?? {})) expect(spec.description.length, c.meta.id).toBeGreaterThan(20);
      expect(c.meta.example && 'sample' in c.meta.example, `${c.meta.id} names its example sample`).toBe(true);
    }
    for (const c of pairChecks) {
      expect(Object.keys(c.meta.messages).length, c.meta.id).toBeGreaterThan(0);
      expect(c.meta.example && 'before' in c.meta.example, `${c.meta.id} names its before and after samples`).toBe(true);
      expect(ids, c.meta.id).not.toContain(c.meta.id);
    }
  });
});

describe('resolveOptions', () => {
  const meta = { id: 'x', options: { n: { type: 'integer' as const, default: 4, minimum: 1, description: 'a threshold' }, on: { type: 'boolean' as const, default: false, description: 'a switch' } } };
  it('fills in the defaults and takes the given values', () => {
    expect(resolveOptions(meta)).toEqual({ n: 4, on: false });
    expect(resolveOptions(meta, { n: 9 })).toEqual({ n: 9, on: false });
  });
  it('refuses an unknown option or a value of the wrong kind, naming check.option', () => {
    expect(() => resolveOptions(meta, { m: 1 })).toThrow(/^x\.m: x has no option m \(its options: n, on\)$/);
    expect(() => resolveOptions(meta, { n: 0 })).toThrow(/^x\.n: expected an integer ≥ 1, got 0$/);
    expect(() => resolveOptions(meta, { n: 1.5 })).toThrow(/x\.n: expected an integer/);
    expect(() => resolveOptions(meta, { on: 'yes' })).toThrow(/^x\.on: expected true or false, got "yes"$/);
  });
  it('the runner passes options by check id and refuses bad ones before running anything', () => {
    const seen: unknown[] = [];
    const c: Check = { meta: { ...meta, defaultSeverity: 'info', summary: 's', description: 'd', needs: [], messages: {} }, run: (_s, o) => { seen.push(o); return ran([]); } };
    runChecks(snapshot().build(), { options: { x: { n: 7 } } }, [c]);
    expect(seen).toEqual([{ n: 7, on: false }]);
    expect(() => runChecks(snapshot().build(), { options: { x: { n: -1 } } }, [c])).toThrow(UsageError);
  });
});

describe('inputCoverage', () => {
  // The inputs the snapshot holds, wholly or in part.
  const presentInputs = (s: Snapshot): CheckInput[] => [...inputCoverage(s)].filter(([, c]) => c.state !== 'missing').map(([k]) => k);
  it('decides presence from the snapshot', () => {
    expect([...presentInputs(snapshot().build())]).toEqual([]);
    expect([...presentInputs(bhyveHost().build())].sort()).toEqual(['dmar', 'interrupt-remapping', 'inventory', 'mappings', 'memory-map', 'registers', 'tables', 'vms']);
    // Contexts without walked tables: tables yes, mappings no.
    expect([...presentInputs(snapshot().unit(UNIT, (u) => u.context(PPT)).build())]).toEqual(['tables']);
  });
});

describe('runChecks', () => {
  const reg = [fake('b-check', 'error', ['tables'], ['0000:02:00.0', '0000:01:00.0']), fake('a-check', 'error', [], ['0000:05:00.0']), fake('c-crit', 'critical', [], ['0000:09:00.0']), fake('d-vms', 'warning', ['vms', 'inventory'], ['0000:00:01.0'])];

  it('gates on needs: a check missing a needed input is not run, and its status (not a finding) names what to add', () => {
    const r = runChecksWithStatus(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, reg);
    expect(r.findings.some((x) => x.check === 'd-vms')).toBe(false);
    const st = r.statuses.find((x) => x.id === 'd-vms')!;
    expect(st).toMatchObject({ status: 'not-applicable', missing: ['vms', 'inventory'] });
    expect(st.reasons[0]).toMatch(/pciconf -lv/);
    expect(r.statuses.filter((x) => x.status === 'ran').map((x) => x.id)).toEqual(['b-check', 'a-check', 'c-crit']);
  });
  it('runs a check whose only missing inputs are optional: partial, with its own findings only', () => {
    const r = runChecksWithStatus(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, [fake('opt', 'error', ['tables', 'inventory'], ['0000:01:00.0'], ['inventory'])]);
    expect(r.findings.map((x) => `${x.check} ${x.severity}`)).toEqual(['opt error']);
    expect(r.statuses).toEqual([{ id: 'opt', status: 'partial', missing: ['inventory'], reasons: [expect.stringMatching(/^add the PCI inventory/)] }]);
  });
  it('sorts by severity, then check id, then bdf', () => {
    const f = runChecks(snapshot().unit(UNIT, (u) => u.context(PPT)).build(), {}, reg);
    expect(f.map((x) => `${x.severity} ${x.check} ${x.bdf ?? '-'}`)).toEqual([
      'critical c-crit 0000:09:00.0', 'error a-check 0000:05:00.0', 'error b-check 0000:01:00.0', 'error b-check 0000:02:00.0',
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
  it('real registry: an empty capture yields no finding, and every check that needs an input says it could not run', () => {
    const r = runChecksWithStatus(snapshot().build());
    expect(r.findings).toEqual([]);
    expect(r.statuses.map((x) => x.id)).toEqual(checks.map((c) => c.meta.id));
    // Every check that needs an input says so; one that needed none would have run on nothing.
    const needsNothing = new Set(checks.filter((c) => c.meta.needs.length === 0).map((c) => c.meta.id));
    for (const st of r.statuses) expect(st.status, st.id).toBe(needsNothing.has(st.id) ? 'ran' : 'not-applicable');
  });
});
