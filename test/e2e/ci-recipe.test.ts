/** The documented CI recipe (docs/ci/dmarsift-ci.sh) on the repository's samples: what it writes validates. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { BIN, REPO } from '../helpers/cli.js';
import { parseJunit, sarifValidator } from '../helpers/validators.js';

describe('docs/ci/dmarsift-ci.sh', () => {
  it('writes a valid SARIF and JUnit file per sample and exits with the worst code', { timeout: 180_000 }, () => {
    const out = mkdtempSync(path.join(tmpdir(), 'dmarsift-ci-'));
    const r = spawnSync('sh', [path.join(REPO, 'docs/ci/dmarsift-ci.sh'), 'samples', out, 'error'], {
      cwd: REPO, encoding: 'utf8', env: { ...process.env, DMARSIFT: `${process.execPath} ${BIN}`, NO_COLOR: '1' },
    });
    const samples = readdirSync(path.join(REPO, 'samples')).filter((n) => n !== 'scenarios' && statSync(path.join(REPO, 'samples', n)).isDirectory());
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(samples.length);
    const worst = lines.some((l) => l.startsWith('ERROR')) ? 2 : lines.some((l) => l.startsWith('FINDING')) ? 1 : 0;
    expect(r.status).toBe(worst);
    const validate = sarifValidator();
    for (const name of samples) {
      const sarif = JSON.parse(readFileSync(path.join(out, `${name}.sarif`), 'utf8'));
      expect(validate(sarif), name).toEqual([]);
      const junit = parseJunit(readFileSync(path.join(out, `${name}.junit.xml`), 'utf8'));
      const suite = junit.testsuites?.testsuite ?? junit.testsuite;
      expect(suite.testcase).toHaveLength(checks.length);
    }
  });
});
