/**
 * Every output format for every bundled sample, validated: analyze JSON and decode JSON against
 * our JSON Schemas, SARIF against the official 2.1.0 schema, JUnit parsed back (one testcase per
 * check, failures exactly the checks with findings at or above --fail-on), Markdown with one
 * section per finding. In-process for all samples; through the CLI for one.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { checks } from '../../src/checks/index.js';
import { runChecks } from '../../src/checks/run.js';
import { severityRank } from '../../src/checks/types.js';
import { findingsToJson } from '../../src/report/findings-json.js';
import type { AnalyzeReportInput } from '../../src/report/format.js';
import { findingsToJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { snapshotToJson } from '../../src/report/model-json.js';
import { renderSarif } from '../../src/report/sarif.js';
import { cli, REPO } from '../helpers/cli.js';
import { parseJunit, sarifValidator, schemaValidator } from '../helpers/validators.js';

const SAMPLES = path.join(REPO, 'samples');
const names = readdirSync(SAMPLES).filter((n) => n !== 'scenarios' && statSync(path.join(SAMPLES, n)).isDirectory()).sort();

const validAnalyze = schemaValidator('analyze-report.schema.json');
const validModel = schemaValidator('decode-model.schema.json');
const validSarif = sarifValidator();

describe.each(names)('sample %s', (name) => {
  const snapshot = loadCapture(path.join(SAMPLES, name));
  const findings = runChecks(snapshot);
  const input: AnalyzeReportInput = { snapshot, findings, checks: checks.map((c) => c.meta) };

  it('decode JSON validates against schema/decode-model.schema.json', () => {
    expect(validModel(JSON.parse(JSON.stringify(snapshotToJson(snapshot))))).toEqual([]);
  });

  it('analyze JSON validates against schema/analyze-report.schema.json', () => {
    expect(validAnalyze(JSON.parse(JSON.stringify(findingsToJson(input))))).toEqual([]);
  });

  it('SARIF validates against the SARIF 2.1.0 schema and has one result per finding', () => {
    const log = JSON.parse(renderSarif(input));
    expect(validSarif(log)).toEqual([]);
    expect(log.runs[0].results).toHaveLength(findings.length);
  });

  it('JUnit parses back: one testcase per check; failures are the checks with findings ≥ error', () => {
    const doc = parseJunit(findingsToJunit(input, { failOn: 'error' }));
    const suite = doc.testsuites?.testsuite ?? doc.testsuite;
    const cases: Record<string, unknown>[] = suite.testcase;
    expect(cases.map((c) => c['@name'])).toEqual(checks.map((c) => c.meta.id));
    const failing = new Set(findings.filter((f) => severityRank(f.severity) >= severityRank('error')).map((f) => f.check));
    expect(cases.filter((c) => c.failure !== undefined).map((c) => c['@name']).sort()).toEqual([...failing].sort());
  });

  it('Markdown has the header, the summary table and one section per finding', () => {
    const md = renderMarkdown(input);
    expect(md).toMatch(/^## dmarsift report\n/);
    expect(md).toContain(`\`${snapshot.capture.path}\``);
    expect(md).toContain('| severity | findings |');
    expect(md.match(/^### \d+\. \[/gm)?.length ?? 0).toBe(findings.length);
  });
});

describe('through the CLI', () => {
  const sample = path.join(SAMPLES, 'bhyve-host');
  it('every analyze format is produced and valid', () => {
    const json = cli(['analyze', sample, '--format', 'json']);
    expect(validAnalyze(JSON.parse(json.stdout))).toEqual([]);
    const sarif = cli(['analyze', sample, '--format', 'sarif']);
    expect(validSarif(JSON.parse(sarif.stdout))).toEqual([]);
    const junit = cli(['analyze', sample, '--format', 'junit']);
    expect(() => parseJunit(junit.stdout)).not.toThrow();
    const md = cli(['analyze', sample, '--format', 'markdown']);
    expect(md.stdout).toMatch(/^## dmarsift report/);
    const model = cli(['decode', sample, '--format', 'json']);
    expect(validModel(JSON.parse(model.stdout))).toEqual([]);
    for (const r of [json, sarif, junit, md, model]) expect(r.status).toBe(0);
  });

  it('diff JSON validates against schema/diff-report.schema.json', () => {
    const validDiff = schemaValidator('diff-report.schema.json');
    const r = cli(['diff', sample, sample, '--format', 'json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(validDiff(j)).toEqual([]);
    expect(j.summary.entries).toEqual({ added: 0, removed: 0, changed: 0 });
    j.summary.entries.added = -1;
    expect(validDiff(j).length).toBeGreaterThan(0);
  });
});
