import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { findingsToJunit, xmlEscape } from '../../src/report/junit.js';
import type { Finding } from '../../src/checks/types.js';
import { checks, findings, RAN, snapshot, TOOL } from './fixture.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed XML in tests

function parse(xml: string): J {
  expect(XMLValidator.validate(xml)).toBe(true);
  const p = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testcase', 'property'].includes(name), parseAttributeValue: false, processEntities: true });
  return p.parse(xml) as J;
}

describe('findingsToJunit', () => {
  const xml = findingsToJunit({ snapshot: snapshot(), findings: findings(), checks: checks(), ran: RAN, tool: TOOL });
  const doc = parse(xml);
  const suite = doc.testsuites.testsuite;
  const cases = new Map<string, J>(suite.testcase.map((c: J) => [c['@name'], c]));

  it('is one suite with one testcase per check', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(suite['@name']).toBe('dmarsift');
    expect([...cases.keys()]).toEqual(checks().map((c) => c.id));
    expect(cases.get('stale-context')!['@classname']).toBe('dmarsift.stale-context');
    // default fail-on error: hpa-leak (critical), ppt-passthrough (critical), stale-context (error) fail
    expect(suite['@tests']).toBe('6');
    expect(suite['@failures']).toBe('3');
    expect(suite['@skipped']).toBe('1');
    expect(doc.testsuites['@failures']).toBe('3');
    expect(suite.properties.property.map((p: J) => [p['@name'], p['@value']])).toEqual([
      ['capture', '/captures/host 1'], ['tool', 'dmarsift 9.8.7'], ['failOn', 'error'],
    ]);
  });

  it('fails checks with findings at or above fail-on, with count and messages', () => {
    const ppt = cases.get('ppt-passthrough')!.failure;
    expect(ppt['@type']).toBe('critical');
    // The message round-trips through XML escaping exactly.
    expect(ppt['@message']).toBe('1 finding at or above error: Assigned device 0000:00:02.0 <has> "pass-through" & raw DMA.');
    expect(ppt['#text']).toBe('[critical] 0000:00:02.0 unit 0xfed90000 DID 2: Assigned device 0000:00:02.0 <has> "pass-through" & raw DMA. (memory.elf@0x1001100)');
    expect(cases.get('stale-context')!.failure['#text']).toContain('(dumps/dmardump.txt:12)');
  });

  it('passes checks below fail-on, showing their findings in system-out; skips checks not run', () => {
    const optIn = cases.get('dmar-opt-in')!;
    expect(optIn.failure).toBeUndefined();
    expect(optIn['system-out']).toBe('[info] The DMAR DMA-control platform opt-in flag is clear.');
    expect(cases.get('iommu-disabled')!.failure).toBeUndefined();
    expect(cases.get('did-conflict')!.skipped['@message']).toBe('check not run');
  });

  it('honours fail-on', () => {
    const d = (failOn: 'none' | 'info' | 'critical') => parse(findingsToJunit({ snapshot: snapshot(), findings: findings(), checks: checks(), tool: TOOL }, { failOn })).testsuites.testsuite;
    expect(d('none')['@failures']).toBe('0');
    expect(d('critical')['@failures']).toBe('2');
    expect(d('info')['@failures']).toBe('4');
    expect(d('info')['@skipped']).toBe('0'); // no `ran`: every check ran
  });

  it('summarises many findings of one check in the message and lists all in the body', () => {
    const many: Finding[] = [1, 2, 3, 4, 5].map((i) => ({ check: 'stale-context', severity: 'error', message: `entry ${i}`, bdf: `0000:0${i}:00.0`, evidence: {} }));
    const c = parse(findingsToJunit({ snapshot: snapshot(), findings: many, checks: checks(), tool: TOOL })).testsuites.testsuite.testcase.find((t: J) => t['@name'] === 'stale-context');
    expect(c.failure['@message']).toBe('5 findings at or above error: entry 1; entry 2; entry 3; …');
    expect(c.failure['#text'].split('\n')).toHaveLength(5);
  });

  it('escapes markup and replaces characters XML 1.0 forbids', () => {
    expect(xmlEscape(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(xmlEscape('x\u0001y\ud800z')).toBe('x\ufffdy\ufffdz');
    expect(xmlEscape('😀')).toBe('😀');
    const nasty: Finding = { check: 'weird-check', severity: 'critical', message: 'bad \u0007 byte ]]> <!-- x -->', evidence: {} };
    const c = parse(findingsToJunit({ snapshot: snapshot(), findings: [nasty], checks: [], tool: TOOL })).testsuites.testsuite.testcase[0];
    expect(c['@name']).toBe('weird-check');
    expect(c.failure['@message']).toBe('1 finding at or above error: bad \ufffd byte ]]> <!-- x -->');
  });
});
