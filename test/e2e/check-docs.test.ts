/** docs/checks/ is generated from the checks' metadata and the samples: it must be up to date (`npm run docs`). */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { pairChecks } from '../../src/checks/pair/index.js';
import { checkDocs } from '../../src/tools/write-check-docs.js';
import { REPO } from '../helpers/cli.js';

describe('docs/checks', () => {
  const dir = path.join(REPO, 'docs', 'checks');
  const pages = checkDocs(REPO);

  it('has a page for every check, and the index', () => {
    const want = [...checks, ...pairChecks].map((c) => `${c.meta.id}.md`).concat('README.md').sort();
    expect(readdirSync(dir).filter((f) => f.endsWith('.md')).sort()).toEqual(want);
  });

  it('every page is what `npm run docs` writes now', () => {
    for (const [file, text] of pages) expect(readFileSync(path.join(dir, file), 'utf8'), `${file} is stale: run npm run docs`).toBe(text);
  });

  it('every page says what it means, why it matters and how to fix it', () => {
    for (const [file, text] of pages) {
      if (file === 'README.md') continue;
      expect(text, file).toMatch(/## What it means/);
      expect(text, file).toMatch(/## Why it matters/);
      expect(text, file).toMatch(/## How to fix/);
      expect(text, file).toMatch(/## Example finding/);
    }
  });
});
