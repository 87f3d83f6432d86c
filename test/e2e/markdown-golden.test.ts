/**
 * The Markdown report of samples/ppt-passthrough-leak, checked in as a golden file that was read
 * by hand (test/fixtures/report/ppt-passthrough-leak.md): header, summary, the finding with its
 * evidence and explanation. Regenerate with UPDATE_GOLDEN=1 and read the diff before committing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { checks } from '../../src/checks/index.js';
import { runChecks } from '../../src/checks/run.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { REPO } from '../helpers/cli.js';

const GOLDEN = path.join(REPO, 'test/fixtures/report/ppt-passthrough-leak.md');

describe('Markdown golden', () => {
  it('samples/ppt-passthrough-leak renders exactly as the reviewed file', () => {
    const cwd = process.cwd();
    process.chdir(REPO);
    try {
      const snapshot = loadCapture('samples/ppt-passthrough-leak');
      const md = renderMarkdown({ snapshot, findings: runChecks(snapshot), checks: checks.map((c) => c.meta), tool: { name: 'dmarsift', version: '0.0.0-golden' } });
      if (process.env.UPDATE_GOLDEN) {
        // Rewriting the golden proves nothing: fail, so the new file is read before it is trusted.
        writeFileSync(GOLDEN, md);
        expect.fail(`UPDATE_GOLDEN: ${GOLDEN} rewritten; read its diff, then run again without UPDATE_GOLDEN`);
      }
      expect(md).toBe(readFileSync(GOLDEN, 'utf8'));
      // With a docs base the same report links absolute pages, and only the links change.
      const linked = renderMarkdown({ snapshot, findings: runChecks(snapshot), checks: checks.map((c) => c.meta), tool: { name: 'dmarsift', version: '0.0.0-golden' } }, { docsBaseUri: 'https://git.example.org/dmarsift/blob/main/' });
      expect(linked).toContain('[ppt-passthrough](https://git.example.org/dmarsift/blob/main/docs/checks/ppt-passthrough.md)');
      expect(linked.replaceAll('https://git.example.org/dmarsift/blob/main/', '')).toBe(md);
    } finally {
      process.chdir(cwd);
    }
  });
});
