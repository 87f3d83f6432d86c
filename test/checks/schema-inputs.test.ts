/**
 * The JSON schemas list the check inputs a status may name as missing, and the part kinds
 * `require` takes: the same lists the runner uses (src/checks/run.ts), so a new input or part kind
 * cannot leave the schemas behind.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUT_HINTS, REQUIRABLE_KINDS } from '../../src/checks/run.js';

const SCHEMA = path.resolve(import.meta.dirname, '../../schema');
const read = (name: string): unknown => JSON.parse(readFileSync(path.join(SCHEMA, name), 'utf8'));

/** Every `"missing": { "items": { "enum": [...] } }` in a schema, wherever it is. */
function missingEnums(node: unknown, out: string[][] = []): string[][] {
  if (Array.isArray(node)) for (const x of node) missingEnums(x, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      const items = (v as { items?: { enum?: string[] } } | null)?.items;
      if (k === 'missing' && items?.enum !== undefined) out.push(items.enum);
      missingEnums(v, out);
    }
  }
  return out;
}

describe('schemas list every check input and requirable part kind', () => {
  it.each(['analyze-report.schema.json', 'diff-report.schema.json'])('%s: statuses[].missing', (name) => {
    const enums = missingEnums(read(name));
    expect(enums.length).toBeGreaterThan(0);
    for (const e of enums) expect([...e].sort()).toEqual(Object.keys(INPUT_HINTS).sort());
  });

  it('dmarsift-config.schema.json: require', () => {
    const schema = read('dmarsift-config.schema.json') as { properties: { require: { items: { enum: string[] } } } };
    expect([...schema.properties.require.items.enum].sort()).toEqual([...REQUIRABLE_KINDS].sort());
  });
});
