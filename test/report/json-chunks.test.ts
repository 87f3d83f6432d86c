/** A fleet's JSON and SARIF are written in pieces: together they are JSON.stringify(doc, null, 2). */
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../src/report/fleet.js';

describe('jsonChunks', () => {
  const docs: [string, Record<string, unknown>, string][] = [
    ['runs in the middle', { $schema: 'x', runs: [{ a: 1, b: { c: ['line\nbreak', 2] } }, { results: [] }, 3], version: '2.1.0' }, 'runs'],
    ['the last key', { schemaVersion: 1, summary: { rows: [{ l: 'a' }] }, captures: [{ label: 'h1', findings: [] }, { label: 'h2', error: 'e "quoted"' }] }, 'captures'],
    ['one element', { captures: [{}] }, 'captures'],
    ['no elements', { captures: [], other: 1 }, 'captures'],
    ['no such key', { other: [1, 2] }, 'captures'],
  ];
  for (const [what, doc, key] of docs) {
    it(what, () => {
      const chunks = jsonChunks(doc, key);
      expect(chunks.join('')).toBe(JSON.stringify(doc, null, 2) + '\n');
      const n = Array.isArray(doc[key]) ? (doc[key] as unknown[]).length : 0;
      expect(chunks).toHaveLength(n === 0 ? 1 : n + 2);
    });
  }
});
