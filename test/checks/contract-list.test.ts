/**
 * docs/cli-contract.md lists the checks by hand (id, default severity, what it finds): every check
 * of the registry must be there with its registry severity, and nothing else.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { pairChecks } from '../../src/checks/pair/index.js';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('docs/cli-contract.md check tables', () => {
  it('list every registered check with its default severity, and no other', () => {
    const text = readFileSync(path.join(REPO, 'docs', 'cli-contract.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `([a-z0-9-]+)` \| (critical|error|warning|info) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const want = [...checks, ...pairChecks].map((c) => `${c.meta.id} ${c.meta.defaultSeverity}`).sort();
    expect(rows).toEqual(want);
  });
});
