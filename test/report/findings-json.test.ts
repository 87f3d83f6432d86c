import { describe, expect, it } from 'vitest';
import { findingsToJson, renderFindingsJson } from '../../src/report/findings-json.js';
import { TOOL as PACKAGE_TOOL } from '../../src/report/format.js';
import { readFileSync } from 'node:fs';
import { findings, snapshot, TOOL, validator } from './fixture.js';

describe('findingsToJson', () => {
  const r = findingsToJson({ snapshot: snapshot(), findings: findings(), tool: TOOL });

  it('has the contract header and summary', () => {
    expect(r.schemaVersion).toBe(1);
    expect(r.tool).toEqual({ name: 'dmarsift', version: '9.8.7' });
    expect(r.capture).toEqual({
      path: '/captures/host 1',
      parts: [
        { kind: 'dmar', path: 'DMAR.bin' },
        { kind: 'memory', path: 'memory.elf' },
        { kind: 'registers', path: 'registers.txt' },
        { kind: 'dmardump-text', path: 'dumps/dmardump.txt' },
        { kind: 'ignored', path: 'README' },
      ],
    });
    // 2 units; present contexts 2 + 1; domains 1 + 1; findings: 2 critical, 1 error, 1 info.
    expect(r.summary).toEqual({ units: 2, presentContexts: 3, domains: 2, findings: { critical: 2, error: 1, warning: 0, info: 1 } });
  });

  it('orders findings most severe first, then by check id', () => {
    expect(r.findings.map((f) => `${f.severity}/${f.check}`)).toEqual([
      'critical/hpa-leak-iommu-structures',
      'critical/ppt-passthrough',
      'error/stale-context',
      'info/dmar-opt-in',
    ]);
  });

  it('spells each finding with sources as the contract says and nulls for absent fields', () => {
    expect(r.findings[1]).toEqual({
      check: 'ppt-passthrough', severity: 'critical', message: 'Assigned device 0000:00:02.0 <has> "pass-through" & raw DMA.', messageId: null,
      unit: '0xfed90000', bdf: '0000:00:02.0', did: 2, source: { part: 'memory.elf', offset: '0x1001100' }, severityReason: null,
      evidence: { tt: 2, raw: ['0x9', '0x202'] }, vm: null, fingerprint: null, suppressed: null, baselineState: null,
    });
    expect(r.findings[2].source).toEqual({ part: 'dumps/dmardump.txt', line: 12 });
    expect(r.findings[3]).toEqual({
      check: 'dmar-opt-in', severity: 'info', message: 'The DMAR DMA-control platform opt-in flag is clear.', messageId: null,
      unit: null, bdf: null, did: null, source: null, severityReason: null, evidence: {}, vm: null, fingerprint: null, suppressed: null, baselineState: null,
    });
    expect(r.findings[0].severityReason).toBe('the domain belongs to VM guest1');
    expect(r.warnings[0]).toEqual({ message: 'page 0x5000000 of the PASID directory is not in the image', source: { part: 'memory.elf', offset: '0x2000' } });
    expect(r.warnings[2]).toEqual({ message: 'no HAW in capture', source: null });
  });

  it('validates against schema/analyze-report.schema.json, and the schema rejects drift', () => {
    const validate = validator('analyze-report.schema.json');
    const text = renderFindingsJson({ snapshot: snapshot(), findings: findings(), tool: TOOL });
    expect(text.endsWith('}\n')).toBe(true);
    expect(validate(JSON.parse(text))).toEqual([]);
    const broken = JSON.parse(text);
    broken.findings[0].severity = 'fatal';
    broken.findings[1].bdf = '03:00.0';
    broken.summary.findings.critical = -1;
    delete broken.warnings;
    expect(validate(broken).length).toBeGreaterThanOrEqual(4);
  });

  it('with no findings still gives all counts as zero', () => {
    const empty = findingsToJson({ snapshot: snapshot(), findings: [], tool: TOOL });
    expect(empty.summary.findings).toEqual({ critical: 0, error: 0, warning: 0, info: 0 });
    expect(empty.findings).toEqual([]);
    expect(validator('analyze-report.schema.json')(empty)).toEqual([]);
  });

  it('defaults the tool version to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_TOOL).toEqual({ name: 'dmarsift', version: pkg.version });
    expect(findingsToJson({ snapshot: snapshot(), findings: [] }).tool.version).toBe(pkg.version);
  });
});
