/**
 * docs/cli-contract.md lists every check with its default severity (two tables: capture checks,
 * then the pair checks `diff` runs); the list must follow the registry, as the other lists do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../src/checks/catalog.js';

const CONTRACT = path.resolve(import.meta.dirname, '../../docs/cli-contract.md');

describe('docs/cli-contract.md check tables', () => {
  it('name every registered check once, with its default severity', () => {
    const rows = [...fs.readFileSync(CONTRACT, 'utf8').matchAll(/^\| `([a-z0-9-]+)` \| (critical|error|warning|info) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows.length).toBe(new Set(rows).size);
    expect([...rows].sort()).toEqual(catalog.map((e) => `${e.meta.id} ${e.meta.defaultSeverity}`).sort());
  });
});
