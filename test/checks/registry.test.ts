/**
 * Issue 13 item 4: a check is one file and one registry line. Every list of checks — the catalog,
 * `dmarsift checks`, docs/checks, the runner's statuses, the reports' rules, the tests' id and
 * sample lists — derives from the registry: a check only this test has shows up in each.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { catalogOf } from '../../src/checks/catalog.js';
import { finding, ran } from '../../src/checks/finding.js';
import { checks } from '../../src/checks/index.js';
import { pairChecks } from '../../src/checks/pair/index.js';
import { runChecksWithStatus } from '../../src/checks/run.js';
import { checkMeta, defineCheck } from '../../src/checks/types.js';
import { checkListJson } from '../../src/report/check-docs.js';
import { findingsToJunit } from '../../src/report/junit.js';
import { findingsToSarif } from '../../src/report/sarif.js';
import { checkDocs } from '../../src/tools/write-check-docs.js';
import { checkIds, exampleFindings, exampleSamples } from './registry-lists.js';

const meta = checkMeta({
  id: 'fake-extra',
  defaultSeverity: 'warning',
  summary: 'a check only this test has',
  description: '## What it means\nNothing.\n\n## Why it matters\nIt proves a point.\n\n## How to fix / where to look\nNowhere.',
  needs: ['tables'],
  messages: { units: (d: { units: number; floor: number }) => `${d.units} units, at least ${d.floor}.` },
  options: { floor: { type: 'integer', default: 1, minimum: 0, description: 'How many units it takes to say something.' } },
  example: { sample: 'bhyve-host' },
});
const fakeExtra = defineCheck({
  meta,
  run: (s, o) => ran(s.units.length >= o.floor ? [finding(meta, { messageId: 'units', data: { units: s.units.length, floor: o.floor } })] : []),
});
const REPO = path.resolve(import.meta.dirname, '../..');
const registry = [...checks, fakeExtra];
const entries = catalogOf(registry, pairChecks);
const load = (name: string) => loadCapture(path.join(REPO, 'samples', name));

describe('every list of checks derives from the registry', () => {
  it('the catalog and `dmarsift checks --format json` (with its options)', () => {
    expect(checkIds(entries, 'capture')).toEqual([...checks.map((c) => c.meta.id), 'fake-extra']);
    expect(checkIds(entries, 'pair')).toEqual(pairChecks.map((c) => c.meta.id));
    const listed = checkListJson(entries).checks.find((c) => c.id === 'fake-extra');
    expect(listed).toMatchObject({ scope: 'capture', defaultSeverity: 'warning', options: { floor: { type: 'integer', default: 1 } }, docs: 'docs/checks/fake-extra.md' });
  });

  it('docs/checks: its page lists its options and takes its example from the sample it names; the index links it', () => {
    const pages = checkDocs(REPO, entries.filter((e) => e.meta.id === 'fake-extra' || e.scope === 'pair'));
    const page = pages.get('fake-extra.md')!;
    expect(page).toMatch(/\| `floor` \| integer ≥ 0 \| `1` \| How many units it takes to say something\. \|/);
    expect(page).toContain('From `dmarsift analyze samples/bhyve-host --format json`:');
    expect(page).toContain('"messageId": "units"');
    expect(pages.get('README.md')).toContain('[`fake-extra`](fake-extra.md)');
  });

  it('the samples test: its example sample is listed and finds it', () => {
    expect(exampleSamples(entries)).toContainEqual(['bhyve-host', 'fake-extra']);
    expect(exampleFindings(entries.find((e) => e.meta.id === 'fake-extra')!, load).map((f) => f.messageId)).toEqual(['units']);
  });

  it('the runner gives it a status and its options; JUnit and SARIF give it a testcase and a rule', () => {
    const s = load('bhyve-host');
    const r = runChecksWithStatus(s, { options: { 'fake-extra': { floor: 1 } } }, registry);
    expect(r.statuses.map((x) => x.id)).toContain('fake-extra');
    expect(r.findings.filter((f) => f.check === 'fake-extra').map((f) => f.message)).toEqual(['1 units, at least 1.']);
    expect(runChecksWithStatus(s, { options: { 'fake-extra': { floor: 2 } } }, registry).findings.filter((f) => f.check === 'fake-extra')).toEqual([]);
    const input = { snapshot: s, findings: r.findings, checks: registry.map((c) => c.meta), statuses: r.statuses };
    expect(findingsToJunit(input)).toContain('<testcase name="fake-extra"');
    const rules = (findingsToSarif(input).runs as { tool: { driver: { rules: { id: string }[] } } }[])[0].tool.driver.rules;
    expect(rules.map((x) => x.id)).toContain('fake-extra');
  });
});
