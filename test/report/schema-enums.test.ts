/**
 * The schemas' enums of check inputs and requirable part kinds are the code's lists: a new input
 * or part kind cannot leave the JSON a report writes invalid against its own schema.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUT_HINTS, REQUIRABLE_KINDS } from '../../src/checks/run.js';

const schema = (name: string) => JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../schema', name), 'utf8'));

describe('schema enums follow the code', () => {
  it('analyze-report: checks[].missing lists every check input', () => {
    const missing = schema('analyze-report.schema.json');
    const found = JSON.stringify(missing).match(/"missing":\{"type":"array","items":\{"enum":(\[[^\]]*\])/);
    expect(found).not.toBeNull();
    expect(JSON.parse(found?.[1] ?? '[]').sort()).toEqual(Object.keys(INPUT_HINTS).sort());
  });
  it('dmarsift-config: require lists every requirable part kind', () => {
    const text = JSON.stringify(schema('dmarsift-config.schema.json'));
    const found = text.match(/"items":\{"enum":(\["dmar","registers","memory"[^\]]*\])/);
    expect(found).not.toBeNull();
    expect(JSON.parse(found?.[1] ?? '[]').sort()).toEqual([...REQUIRABLE_KINDS].sort());
  });
});
