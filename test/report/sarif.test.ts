/**
 * SARIF output, validated against the official SARIF 2.1.0 JSON schema (rtm.5, as shipped in the
 * npm package @microsoft/jest-sarif 1.0.0-beta.0, lib/schemas/; MIT) vendored in
 * test/fixtures/report/. It is a draft-04 schema: its top-level `id` becomes `$id` so Ajv's
 * default draft-07 dialect accepts it (it uses no other draft-04-only keyword).
 */
import { describe, expect, it } from 'vitest';
import { findingsToSarif, partUri, renderSarif } from '../../src/report/sarif.js';
import { sarifValidator } from '../helpers/validators.js';
import { checks, findings, RAN, snapshot, TOOL } from './fixture.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed JSON in tests

describe('findingsToSarif', () => {
  const log = JSON.parse(renderSarif({ snapshot: snapshot(), findings: findings(), checks: checks(), ran: RAN, tool: TOOL })) as J;
  const run = log.runs[0];

  it('validates against the official SARIF 2.1.0 schema, which can fail', () => {
    const validate = sarifValidator();
    expect(validate(log)).toEqual([]);
    const broken = JSON.parse(JSON.stringify(log)) as J;
    broken.runs[0].results[0].level = 'critical';
    broken.runs[0].results[1].locations[0].physicalLocation.region.startLine = 0;
    expect(validate(broken).length).toBeGreaterThanOrEqual(2);
  });

  it('has the header and a driver with one rule per check', () => {
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    const d = run.tool.driver;
    expect(d.name).toBe('dmarsift');
    expect(d.version).toBe('9.8.7');
    expect(d.semanticVersion).toBe('9.8.7');
    expect(d.informationUri).toMatch(/^https:\/\//);
    expect(d.rules.map((r: J) => r.id)).toEqual(checks().map((c) => c.id));
    const rule = d.rules[2];
    expect(rule).toMatchObject({
      id: 'stale-context',
      shortDescription: { text: 'a present context entry for a function the inventory does not have' },
      defaultConfiguration: { level: 'error' },
    });
    expect(rule.fullDescription.text).toContain('**stale-context**');
    expect(rule.help.markdown).toContain('[docs/checks/stale-context.md](docs/checks/stale-context.md)');
    expect(rule.help.text).toContain('docs/checks/stale-context.md');
    expect(rule.helpUri).toBeUndefined();
    expect(d.rules[4].defaultConfiguration.level).toBe('note'); // dmar-opt-in: info
  });

  it('writes helpUri only from an absolute docs base', () => {
    const l = findingsToSarif({ snapshot: snapshot(), findings: [], checks: checks(), tool: TOOL }, { docsBaseUri: 'https://example.org/dmarsift/blob/main/' }) as J;
    expect(l.runs[0].tool.driver.rules[0].helpUri).toBe('https://example.org/dmarsift/blob/main/docs/checks/iommu-disabled.md');
  });

  it('maps severities to levels and keeps the severity in properties', () => {
    expect(run.results.map((r: J) => [r.ruleId, r.level, r.properties.severity])).toEqual([
      ['hpa-leak-iommu-structures', 'error', 'critical'],
      ['ppt-passthrough', 'error', 'critical'],
      ['stale-context', 'error', 'error'],
      ['dmar-opt-in', 'note', 'info'],
    ]);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
  });

  it('locates results in the capture part: byte offset for binary, line for text', () => {
    const [leak, , stale, optIn] = run.results;
    expect(leak.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'memory.elf', uriBaseId: 'CAPTURE' }, region: { byteOffset: 0x1002000 } });
    expect(stale.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'dumps/dmardump.txt', uriBaseId: 'CAPTURE' }, region: { startLine: 12 } });
    // no source: the capture itself (absolute path → file URL, the blank percent-encoded)
    expect(optIn.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'file:///captures/host%201' } });
    expect(leak.locations[0].logicalLocations.map((l: J) => l.fullyQualifiedName)).toEqual(['unit 0xfed90000', 'unit 0xfed90000/0000:03:00.0']);
    expect(leak.message.text).toContain('A VM domain maps the page at 0x1002000');
    expect(leak.properties).toEqual({
      severity: 'critical', unit: '0xfed90000', bdf: '0000:03:00.0', did: 65535, severityReason: 'the domain belongs to VM guest1',
      evidence: { pages: [{ hpa: '0x1002000', structure: 'context table', bus: 3 }], vm: 'guest1' },
    });
    expect(optIn.properties).toEqual({ severity: 'info', evidence: {} });
  });

  it('lists the parts as artifacts, warnings as notifications, and checks not run', () => {
    expect(run.artifacts.map((a: J) => a.location.uri)).toEqual(['DMAR.bin', 'memory.elf', 'registers.txt', 'dumps/dmardump.txt', 'README']);
    const notes = run.invocations[0].toolExecutionNotifications;
    expect(notes).toHaveLength(3);
    expect(notes[1].locations[0].physicalLocation.region).toEqual({ startLine: 12 });
    expect(run.properties.checksNotRun).toEqual(['did-conflict']);
  });

  it('gives an unknown check a rule so ruleIndex stays valid', () => {
    const l = findingsToSarif({ snapshot: snapshot(), findings: [{ check: 'new-check', severity: 'warning', message: 'm', evidence: {} }], checks: checks(), tool: TOOL }) as J;
    const r = l.runs[0].results[0];
    expect(l.runs[0].tool.driver.rules[r.ruleIndex].id).toBe('new-check');
    expect(r.level).toBe('warning');
    expect(sarifValidator()(JSON.parse(JSON.stringify(l)))).toEqual([]);
  });

  it('with the CLI showPath: every location is the path as given, relative to the working directory (CWD)', () => {
    const snap = { ...snapshot(), capture: { ...snapshot().capture, path: '../host 1' } };
    const extra = { check: 'dmar-opt-in', severity: 'info' as const, message: 'm', evidence: {}, source: { part: '--rtaddr' } };
    const l = findingsToSarif({ snapshot: snap, findings: [...findings(), extra], checks: checks(), tool: TOOL, showPath: (p) => `../host 1/${p}` }) as J;
    const r = l.runs[0];
    expect(sarifValidator()(JSON.parse(JSON.stringify(l)))).toEqual([]);
    expect(Object.keys(r.originalUriBaseIds)).toEqual(['CWD']);
    expect(r.artifacts[1].location).toEqual({ uri: '../host%201/memory.elf', uriBaseId: 'CWD' });
    const byMessage = (m: string) => r.results.find((x: J) => x.message.text.startsWith(m)).locations[0].physicalLocation;
    expect(byMessage('A VM domain maps')).toEqual({ artifactLocation: { uri: '../host%201/memory.elf', uriBaseId: 'CWD' }, region: { byteOffset: 0x1002000 } });
    // An option is no file: the finding is located at the capture.
    expect(r.results.find((x: J) => x.message.text === 'm').locations[0].physicalLocation).toEqual({ artifactLocation: { uri: '../host%201', uriBaseId: 'CWD' } });
  });

  it('encodes part paths as URI references', () => {
    expect(partUri('dir/a b#1.txt')).toBe('dir/a%20b%231.txt');
    expect(partUri('/abs/x y')).toBe('file:///abs/x%20y');
  });
});
