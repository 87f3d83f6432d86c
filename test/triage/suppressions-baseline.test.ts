/**
 * Suppressions and baselines on findings made by hand: which findings a suppression accepts (every
 * field it names must agree), that an expired one accepts none and an unused one is reported, and
 * that a baseline pairs findings by fingerprint one for one, from analyze JSON (one capture or a
 * fleet) or SARIF, refusing a report without fingerprints.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.js';
import type { Suppression } from '../../src/config/config.js';
import { InputError } from '../../src/errors.js';
import { baselineFor, compareWithBaseline, readBaseline } from '../../src/triage/baseline.js';
import { applySuppressions, counts, suppressionProblem, suppressionStatuses } from '../../src/triage/suppressions.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-triage-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const finding = (over: Partial<Finding>): Finding => ({ check: 'hpa-leak-mmio', severity: 'error', message: 'm', evidence: {}, ...over });
const sup = (over: Partial<Suppression>): Suppression => ({ check: 'hpa-leak-mmio', reason: 'accepted', origin: 'c.json:3', ...over });

describe('suppressions', () => {
  it('accept the findings whose every named field agrees, the first live one giving the reason', () => {
    const fs_ = [
      finding({ bdf: '0000:03:01.0', unit: '0xfed90000', vm: 'vm1' }),
      finding({ bdf: '0000:03:01.1', unit: '0xfed90000', vm: 'vm2' }),
      finding({ check: 'stale-context', bdf: '0000:03:01.0' }),
    ];
    const list = [sup({ bdf: '0000:03:01.0', reason: 'first' }), sup({ vm: 'vm1', reason: 'second' }), sup({ unit: '0xfed91000' })];
    const matched = applySuppressions(fs_, list, '2025-01-01');
    expect(fs_.map((f) => f.suppressed?.reason)).toEqual(['first', undefined, undefined]);
    expect(matched).toEqual([1, 1, 0]);
    expect(fs_.map(counts)).toEqual([false, true, true]);
    const st = suppressionStatuses(list, matched, '2025-01-01');
    expect(st.map((s) => s.state)).toEqual(['active', 'active', 'unmatched']);
    expect(suppressionProblem(st[2])).toBe('suppression of hpa-leak-mmio unit 0xfed91000 (c.json:3) matched no finding: remove it, or correct what it names');
    expect(suppressionProblem(st[0])).toBeUndefined();
  });

  it('hold through their expires day, then accept nothing and are reported', () => {
    const list = [sup({ expires: '2025-03-31' })];
    const onTheDay = [finding({})];
    expect(applySuppressions(onTheDay, list, '2025-03-31')).toEqual([1]);
    expect(onTheDay[0].suppressed).toEqual({ reason: 'accepted', expires: '2025-03-31' });
    const after = [finding({})];
    expect(applySuppressions(after, list, '2025-04-01')).toEqual([1]);
    expect(after[0].suppressed).toBeUndefined();
    expect(counts(after[0])).toBe(true);
    const [st] = suppressionStatuses(list, [1], '2025-04-01');
    expect(st.state).toBe('expired');
    expect(suppressionProblem(st)).toBe('suppression of hpa-leak-mmio (c.json:3) expired on 2025-03-31: the finding it matched counts again');
  });
});

describe('baselines', () => {
  const write = (name: string, doc: unknown): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  it('pair findings by fingerprint one for one: unchanged, new, absent', () => {
    const base = [
      { fingerprint: 'a', check: 'x', severity: 'error' as const, message: 'old a' },
      { fingerprint: 'b', check: 'x', severity: 'error' as const, message: 'old b' },
      { fingerprint: 'b', check: 'x', severity: 'error' as const, message: 'old b again' },
    ];
    const now = [finding({ fingerprint: 'b' }), finding({ fingerprint: 'c' }), finding({ fingerprint: 'b' }), finding({ fingerprint: 'b' })];
    const absent = compareWithBaseline(now, base);
    expect(now.map((f) => f.baselineState)).toEqual(['unchanged', 'new', 'unchanged', 'new']);
    expect(absent.map((b) => b.message)).toEqual(['old a']);
    expect(now.map(counts)).toEqual([false, true, false, true]);
  });

  it('read an analyze JSON report, a fleet report and a SARIF log', () => {
    const f = { check: 'ppt-unmapped', severity: 'error', message: 'm', messageId: 'assignedNoEntry', unit: null, bdf: '0000:03:01.0', vm: 'vm1', fingerprint: 'f1' };
    const single = readBaseline(write('one.json', { schemaVersion: 1, capture: { path: 'caps/h1', parts: [] }, findings: [f] }));
    expect(single.captures).toEqual([{ key: 'caps/h1', findings: [{ fingerprint: 'f1', check: 'ppt-unmapped', severity: 'error', message: 'm', messageId: 'assignedNoEntry', bdf: '0000:03:01.0', vm: 'vm1' }] }]);
    // One capture against one: paired whatever the path; otherwise by label.
    expect(baselineFor(single, 'elsewhere/h1', true)).toHaveLength(1);
    expect(baselineFor(single, 'elsewhere/h1', false)).toEqual([]);

    const fleet = readBaseline(write('fleet.json', {
      schemaVersion: 1, kind: 'fleet',
      captures: [{ label: 'h1', capture: { path: 'caps/h1' }, findings: [f] }, { label: 'h2', capture: { path: 'caps/h2' }, error: 'unreadable', findings: [] }],
    }));
    expect(fleet.captures.map((c) => [c.key, c.findings.length])).toEqual([['h1', 1], ['h2', 0]]);
    expect(baselineFor(fleet, 'h1', false)).toHaveLength(1);

    const sarif = readBaseline(write('b.sarif', {
      version: '2.1.0',
      runs: [{ properties: { label: 'h1', capture: 'caps/h1' }, results: [
        { ruleId: 'ppt-unmapped', level: 'error', message: { text: 'm' }, partialFingerprints: { 'dmarsift/v2': 'f1' }, properties: { severity: 'error', bdf: '0000:03:01.0' } },
      ] }],
    }));
    expect(sarif.captures).toEqual([{ key: 'h1', findings: [{ fingerprint: 'f1', check: 'ppt-unmapped', severity: 'error', message: 'm', bdf: '0000:03:01.0' }] }]);
  });

  it('refuse what is no report, or a report without fingerprints, naming the file', () => {
    const cases: [string, unknown, RegExp][] = [
      ['old.json', { schemaVersion: 1, capture: { path: 'x' }, findings: [{ check: 'x', severity: 'error', message: 'm' }] }, /findings\[0\]: a finding without a fingerprint .*make the baseline again/],
      ['old.sarif', { version: '2.1.0', runs: [{ results: [{ ruleId: 'x', message: { text: 'm' }, partialFingerprints: { 'dmarsift/v1': 'x||' } }] }] }, /runs\[0\]\.results\[0\]: a finding without a fingerprint/],
      ['model.json', { schemaVersion: 1, units: [] }, /expected a dmarsift analyze report/],
    ];
    for (const [name, doc, error] of cases) {
      const file = write(name, doc);
      expect(() => readBaseline(file)).toThrow(error);
    }
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{ "findings": [');
    expect(() => readBaseline(bad)).toThrow(InputError);
  });
});
