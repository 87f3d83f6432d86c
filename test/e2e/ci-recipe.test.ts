/**
 * The documented CI recipe (docs/ci/dmarsift-ci.sh): what it writes validates, and its summary line
 * and exit code follow the worst capture. It runs on a captures directory holding one capture of
 * each outcome — healthy, a finding at the threshold, unreadable — and a `scenarios` folder it must
 * skip: the script's logic needs no more, and every sample's SARIF and JUnit output is validated
 * in-process by sample-reports.test.ts (running the CLI twice per sample here took ~25 s).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { BIN, cliEnv, REPO } from '../helpers/cli.js';
import { parseJunit, sarifValidator } from '../helpers/validators.js';

const work = mkdtempSync(path.join(tmpdir(), 'dmarsift-ci-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('docs/ci/dmarsift-ci.sh', () => {
  it('writes a valid SARIF and JUnit file per capture, one line each, and exits with the worst code', { timeout: 180_000 }, () => {
    const captures = path.join(work, 'captures');
    const out = path.join(work, 'out');
    mkdirSync(captures);
    // Healthy (exit 0) and a critical finding (exit 1), from the repository's samples.
    symlinkSync(path.join(REPO, 'samples', 'bhyve-host'), path.join(captures, 'a-healthy'));
    symlinkSync(path.join(REPO, 'samples', 'ppt-passthrough-leak'), path.join(captures, 'b-finding'));
    // A capture that cannot be read (exit 2): its manifest is not JSON.
    mkdirSync(path.join(captures, 'c-unreadable'));
    writeFileSync(path.join(captures, 'c-unreadable', 'capture.json'), '{ "parts": [\n');
    // The samples' scenario descriptions are no capture: skipped.
    mkdirSync(path.join(captures, 'scenarios'));

    const r = spawnSync('sh', [path.join(REPO, 'docs/ci/dmarsift-ci.sh'), captures, out, 'error'], {
      cwd: REPO, encoding: 'utf8', env: cliEnv({ DMARSIFT: `${process.execPath} ${BIN}` }),
    });
    expect(r.stdout.trim().split('\n')).toEqual([
      'ok      a-healthy',
      `FINDING b-finding (at or above error: see ${out}/b-finding.sarif)`,
      'ERROR   c-unreadable (could not be read)',
    ]);
    expect(r.status).toBe(2);

    const validate = sarifValidator();
    const failed = (suite: { testcase: { failure?: unknown }[] }) => suite.testcase.filter((t) => t.failure !== undefined).length;
    for (const [name, failures] of [['a-healthy', 0], ['b-finding', 1]] as const) {
      const sarif = JSON.parse(readFileSync(path.join(out, `${name}.sarif`), 'utf8'));
      expect(validate(sarif), name).toEqual([]);
      const junit = parseJunit(readFileSync(path.join(out, `${name}.junit.xml`), 'utf8'));
      const suite = junit.testsuites?.testsuite ?? junit.testsuite;
      expect(suite.testcase, name).toHaveLength(checks.length);
      expect(failed(suite), name).toBe(failures);
    }
    const finding = JSON.parse(readFileSync(path.join(out, 'b-finding.sarif'), 'utf8'));
    expect(finding.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toContain('ppt-passthrough');
    // A capture that could not be read leaves no report that could pass for one.
    expect(existsSync(path.join(out, 'c-unreadable.sarif'))).toBe(false);
    expect(existsSync(path.join(out, 'c-unreadable.junit.xml'))).toBe(false);
  });
});
