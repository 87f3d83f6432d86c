/**
 * Issue 13 item 2: "could not run" is a status, not a finding. Every report shows the checks that
 * could not examine (all of) the capture apart from the findings: JUnit `<skipped>`, SARIF tool
 * notifications naming the check, a short "Not checked" line in the table and Markdown, `checks`
 * in JSON (and in diff's JSON, for the pair checks).
 */
import { describe, expect, it } from 'vitest';
import type { CheckStatusReport } from '../../src/checks/run.js';
import { diffSnapshots } from '../../src/model/diff.js';
import { diffToJson, renderDiffMarkdown, renderDiffTable } from '../../src/report/diff.js';
import { findingsToJson } from '../../src/report/findings-json.js';
import { findingsToJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { findingsToSarif } from '../../src/report/sarif.js';
import { renderFindingsTable } from '../../src/report/table.js';
import { parseJunit, sarifValidator } from '../helpers/validators.js';
import { checks, findings, snapshot, TOOL } from './fixture.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

const statuses: CheckStatusReport[] = [
  { id: 'iommu-disabled', status: 'not-applicable', missing: ['registers'], reasons: ['add the remapping-unit registers (iommu_regset)'] },
  { id: 'ppt-passthrough', status: 'ran', missing: [], reasons: [] },
  { id: 'stale-context', status: 'partial', missing: ['inventory'], reasons: ['add the PCI inventory (pciconf -lv)', 'whether 0000:03:00.0 has a context entry is unknown'] },
  { id: 'hpa-leak-iommu-structures', status: 'not-applicable', missing: ['mappings'], reasons: ['add the page tables'] },
];
const input = () => ({ snapshot: snapshot(), findings: findings(), checks: checks(), statuses, tool: TOOL });

describe('check statuses in every report', () => {
  it('table: one short line per status after the summary, naming the checks and what the capture lacks', () => {
    const lines = renderFindingsTable(input(), { color: false, width: 200 }).trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual([
      'Not checked: iommu-disabled, hpa-leak-iommu-structures — the capture lacks the remapping-unit registers and the page tables (mappings).',
      'Checked in part: stale-context — the capture lacks the PCI inventory; parts of it could not be read.',
    ]);
  });

  it('Markdown: the same lines under the summary, ids as code', () => {
    const md = renderMarkdown(input());
    expect(md).toContain('Not checked: `iommu-disabled`, `hpa-leak-iommu-structures` — the capture lacks the remapping-unit registers and the page tables (mappings).\n');
    expect(md).toContain('Checked in part: `stale-context` — the capture lacks the PCI inventory; parts of it could not be read.\n');
    expect(md.indexOf('Not checked:')).toBeLessThan(md.indexOf('### Findings'));
  });

  it('SARIF: a tool notification per check not fully run, naming it (descriptor and rule), with its reasons; no result', () => {
    const log = JSON.parse(JSON.stringify(findingsToSarif(input()))) as J;
    expect(sarifValidator()(log)).toEqual([]);
    const run = log.runs[0];
    const notes = run.invocations[0].toolExecutionNotifications.filter((n: J) => n.descriptor !== undefined);
    expect(notes.map((n: J) => [n.descriptor.id, n.level, n.associatedRule.id, run.tool.driver.rules[n.associatedRule.index].id])).toEqual([
      ['iommu-disabled', 'warning', 'iommu-disabled', 'iommu-disabled'],
      ['stale-context', 'note', 'stale-context', 'stale-context'],
      ['hpa-leak-iommu-structures', 'warning', 'hpa-leak-iommu-structures', 'hpa-leak-iommu-structures'],
    ]);
    expect(notes[0].message.text).toBe('iommu-disabled could not run: add the remapping-unit registers (iommu_regset)');
    expect(notes[1].properties).toEqual({ status: 'partial', missing: ['inventory'], reasons: statuses[2].reasons });
    // Statuses add no result: one per finding, as without them.
    expect(run.results).toHaveLength(findings().length);
  });

  it('JUnit: not-applicable is <skipped> with its reasons; partial passes with a note', () => {
    const cases = parseJunit(findingsToJunit(input())).testsuites.testsuite.testcase as J[];
    expect(cases.find((c) => c['@name'] === 'iommu-disabled').skipped['@message']).toBe('could not run: add the remapping-unit registers (iommu_regset)');
    expect(cases.find((c) => c['@name'] === 'stale-context').skipped).toBeUndefined();
  });

  it('JSON: checks[] with every status', () => {
    expect(findingsToJson(input()).checks).toEqual(statuses);
  });

  it('diff: the pair checks\' statuses in JSON (checks[]), the table and Markdown', () => {
    const s = snapshot();
    const pair: CheckStatusReport[] = [{ id: 'stale-after-unplug', status: 'not-applicable', missing: ['inventory'], reasons: ['add the PCI inventory (BEFORE and AFTER)'] }];
    const i = { before: s, after: s, diff: diffSnapshots(s, s), findings: [], statuses: pair, introduced: [], resolved: [], tool: TOOL };
    expect(diffToJson(i).checks).toEqual(pair);
    expect(renderDiffTable(i, { color: false }).trimEnd().split('\n').at(-1)).toBe('Not checked: stale-after-unplug — the capture lacks the PCI inventory.');
    expect(renderDiffMarkdown(i)).toContain('Not checked: `stale-after-unplug` — the capture lacks the PCI inventory.');
  });
});
