/**
 * `dmarsift analyze CAPTURE…` / `--recursive` through the built CLI (issue 16 item 4): every sample
 * in one run, every format from that one run and each validated (the fleet JSON against
 * schema/analyze-fleet.schema.json, SARIF against the official 2.1.0 schema, JUnit parsed back; the
 * HTML page in Chromium is test/report/html-browser.test.ts); baselines, suppressions and the
 * configuration's errors end to end; the exit codes 0/1/2 and the summary line that states both
 * counts; an unreadable capture as a row; part options refused with several captures.
 *
 * What each sample must show comes from its scenario (samples/scenarios/NAME.json `expect`), not
 * from the program's own output; a capture's part of the fleet report must be the report a run on
 * that capture alone writes.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { severityRank } from '../../src/checks/types.js';
import { FINGERPRINT_KEY } from '../../src/triage/fingerprint.js';
import { cli, REPO } from '../helpers/cli.js';
import { parseJunit, sarifValidator, schemaValidator } from '../helpers/validators.js';

const SAMPLES = path.join(REPO, 'samples');
const NAMES = readdirSync(SAMPLES).filter((n) => n !== 'scenarios' && statSync(path.join(SAMPLES, n)).isDirectory()).sort();
/** The one sample that cannot be analysed as it is: its tables are found only with --rtaddr auto. */
const NEEDS_RTADDR = 'scan-no-registers';

const work = mkdtempSync(path.join(tmpdir(), 'dmarsift-fleet-'));
const validFleet = schemaValidator('analyze-fleet.schema.json');
const validSarif = sarifValidator();

type J = any;

/** The analyze command in the work directory (no configuration there unless a test writes one). */
function analyze(args: string[], cwd = work) {
  return cli(['analyze', ...args], { cwd });
}

function expectedOf(name: string): [string, string | null][] {
  return (JSON.parse(readFileSync(path.join(SAMPLES, 'scenarios', `${name}.json`), 'utf8')) as { expect: [string, string | null][] }).expect;
}

/** A directory of links to the samples (all but `leave`), as a fleet's captures directory. */
function fleetOfSamples(dir: string, leave: string[] = []): string {
  mkdirSync(dir);
  for (const n of NAMES) if (!leave.includes(n)) symlinkSync(path.join(SAMPLES, n), path.join(dir, n));
  return dir;
}

describe('analyze --recursive samples: every sample in one run, every format', () => {
  let r: ReturnType<typeof cli>;
  let json: J;
  const out = (f: string) => path.join(work, 'all', f);

  beforeAll(() => {
    mkdirSync(path.join(work, 'all'));
    r = analyze(['-r', SAMPLES, '--output-format', `json=${out('fleet.json')}`, '--output-format', `sarif=${out('fleet.sarif')}`,
      '--output-format', `junit=${out('fleet.xml')}`, '--output-format', `markdown=${out('fleet.md')}`, '--output-format', `html=${out('fleet.html')}`]);
    json = JSON.parse(readFileSync(out('fleet.json'), 'utf8'));
  }, 120_000);

  it('finds every sample (the pairs among them) and skips samples/scenarios, listing it', () => {
    expect(NAMES.length).toBeGreaterThan(30);
    expect(json.captures.map((c: J) => c.label)).toEqual(NAMES);
    expect(json.summary.rows.map((row: J) => row.label)).toEqual(NAMES);
    for (const pair of ['did-reuse-before', 'did-reuse-after', 'vf-destroy-before', 'vf-destroy-after', 'vm-teardown-before', 'vm-teardown-after']) expect(NAMES).toContain(pair);
    expect(json.summary.skipped).toEqual([{ path: path.join(SAMPLES, 'scenarios'), reason: 'no capture part in it' }]);
    expect(r.stdout).toContain(`Not captures (skipped): ${path.join(SAMPLES, 'scenarios')}`);
  });

  it('the fleet JSON validates against schema/analyze-fleet.schema.json', () => {
    expect(validFleet(json)).toEqual([]);
  });

  it('each capture shows the findings its scenario expects, and the rows count them', () => {
    for (const [i, name] of NAMES.entries()) {
      const report = json.captures[i];
      if (name === NEEDS_RTADDR) {
        expect(json.summary.rows[i].status).toBe('not-analysed');
        expect(json.summary.rows[i].error).toMatch(/nothing to check/);
        continue;
      }
      for (const [check, bdf] of expectedOf(name)) {
        expect(report.findings.some((f: J) => f.check === check && (bdf === null || f.bdf === bdf)), `${name}: ${check} ${bdf}`).toBe(true);
      }
      const row = json.summary.rows[i];
      for (const s of ['critical', 'error', 'warning', 'info']) expect(row.findings[s], `${name} ${s}`).toBe(report.findings.filter((f: J) => f.severity === s).length);
      expect(row.units).toBe(report.summary.units);
    }
  });

  it('exit 1, and the summary line states how many captures fail and how many could not be analysed', () => {
    const failing = NAMES.filter((_name, i) => json.captures[i].findings.some((f: J) => severityRank(f.severity) >= severityRank('error')));
    // Independently of the runner: each scenario that expects a check whose default severity is error or above fails.
    const atError = new Set(checks.filter((c) => severityRank(c.meta.defaultSeverity) >= severityRank('error')).map((c) => c.meta.id));
    for (const n of NAMES) if (n !== NEEDS_RTADDR && expectedOf(n).some(([c]) => atError.has(c))) expect(failing, n).toContain(n);
    expect(r.status).toBe(1);
    expect(json.summary.failing).toBe(failing.length);
    expect(json.summary.notAnalysed).toBe(1);
    expect(r.stdout).toContain(`${NAMES.length} captures: ${failing.length} with a finding at or above error, 1 could not be analysed.`);
  });

  it('SARIF: one run per capture, valid against the 2.1.0 schema; the capture that could not be analysed is a failed invocation', () => {
    const sarif = JSON.parse(readFileSync(out('fleet.sarif'), 'utf8'));
    expect(validSarif(sarif)).toEqual([]);
    expect(sarif.runs).toHaveLength(NAMES.length);
    for (const [i, run] of sarif.runs.entries()) {
      expect(run.properties.label).toBe(NAMES[i]);
      expect(run.results.length, NAMES[i]).toBe(json.captures[i].findings?.length ?? 0);
      if (NAMES[i] === NEEDS_RTADDR) expect(run.invocations[0].executionSuccessful).toBe(false);
    }
    for (const [i, run] of sarif.runs.entries()) {
      // Every result carries the fingerprint of the JSON's finding, and no two of one capture share one.
      const prints = run.results.map((x: J) => x.partialFingerprints[FINGERPRINT_KEY]);
      expect(new Set(prints).size, NAMES[i]).toBe(prints.length);
      expect([...prints].sort(), NAMES[i]).toEqual((json.captures[i].findings ?? []).map((f: J) => f.fingerprint).sort());
    }
  });

  it('JUnit: one suite per capture, parsed back; failures are the checks with findings at or above error', () => {
    const junit = parseJunit(readFileSync(out('fleet.xml'), 'utf8'));
    const suites: J[] = junit.testsuites.testsuite;
    expect(suites.map((s) => s['@name'])).toEqual(NAMES);
    for (const [i, s] of suites.entries()) {
      const failed = s.testcase.filter((t: J) => t.failure !== undefined).map((t: J) => t['@name']).sort();
      const expected = NAMES[i] === NEEDS_RTADDR ? [] : [...new Set(json.captures[i].findings.filter((f: J) => severityRank(f.severity) >= severityRank('error')).map((f: J) => f.check))].sort();
      expect(failed, NAMES[i]).toEqual(expected);
    }
  });

  it('Markdown: the summary table with a row per capture, then a section per capture', () => {
    const md = readFileSync(out('fleet.md'), 'utf8');
    for (const n of NAMES) {
      expect(md).toContain(`| \`${n}\` |`);
      expect(md).toContain(`## Capture \`${n}\``);
    }
  });

  it('HTML: one self-contained page with a row per capture (its behaviour in Chromium: html-browser.test.ts)', () => {
    const html = readFileSync(out('fleet.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>') || html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<table class="fleet">[\s\S]*?<\/table>/)![0].match(/<tr[ >]/g)!.length).toBe(NAMES.length + 1);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/);
  });

  it("a capture's part of the fleet report is the report a run on it alone writes", () => {
    for (const name of ['hpa-leak-shared', 'kvm-vfio-host']) {
      const alone = JSON.parse(analyze([path.join(SAMPLES, name), '-f', 'json', '-q']).stdout);
      const { label, ...inFleet } = json.captures[NAMES.indexOf(name)];
      expect(label).toBe(name);
      expect(inFleet).toEqual(alone);
    }
  });
});

describe('baselines from the command line', () => {
  it("a baseline of today's samples makes a second run exit 0; one bad capture more exits 1 naming only its finding", { timeout: 120_000 }, () => {
    // Every sample but the one that cannot be analysed (it alone would make the exit code 2).
    const dir = fleetOfSamples(path.join(work, 'baseline-fleet'), [NEEDS_RTADDR]);
    expect(analyze(['-r', dir, '-f', 'json', '-o', 'base.json', '--output-format', 'sarif=base.sarif', '-q']).status).toBe(1);

    for (const base of ['base.json', 'base.sarif']) {
      const again = analyze(['-r', dir, '--baseline', base]);
      expect(again.status, `${base}: ${again.stderr}`).toBe(0);
      expect(again.stdout).toContain(`${NAMES.length - 1} captures: 0 with a finding at or above error, 0 could not be analysed.`);
      expect(again.stdout).toMatch(new RegExp(`Baseline ${base}: 0 new, [1-9]\\d* unchanged, 0 absent\\.`));
    }

    // A new host (a copy, so it is no link to a capture seen already) with a pass-through leak.
    cpSync(path.join(SAMPLES, 'ppt-passthrough-leak'), path.join(dir, 'zz-new-host'), { recursive: true });
    const worse = analyze(['-r', dir, '--baseline', 'base.json']);
    expect(worse.status).toBe(1);
    const listed = worse.stdout.split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(listed).toEqual([expect.stringMatching(/^ {2}zz-new-host: critical ppt-passthrough 0000:03:01\.0 unit 0xfed90000 VM vm1:/)]);
    expect(worse.stdout).toContain(`${NAMES.length} captures: 1 with a finding at or above error, 0 could not be analysed.`);

    const fleet = JSON.parse(analyze(['-r', dir, '--baseline', 'base.json', '-f', 'json', '-q']).stdout);
    expect(validFleet(fleet)).toEqual([]);
    const fresh = fleet.captures.flatMap((c: J) => c.findings.filter((f: J) => f.baselineState === 'new').map((f: J) => `${c.label} ${f.check}`));
    // Its by-design bhyve warning (IR off: vtd.c never enables it) is new too; only error and above are listed.
    expect(fresh.sort()).toEqual(['zz-new-host dmar-opt-in', 'zz-new-host ir-off-with-assigned', 'zz-new-host ppt-passthrough']);
    expect(fleet.baseline).toMatchObject({ file: 'base.json', new: 3, absent: 0, capturesNotInRun: [] });
  });
});

describe('suppressions and the configuration', () => {
  const cwd = path.join(work, 'config');
  const two = [path.join(SAMPLES, 'ppt-unmapped'), path.join(SAMPLES, 'bhyve-host')];
  const config = (text: string): void => {
    mkdirSync(cwd, { recursive: true });
    writeFileSync(path.join(cwd, 'dmarsift.config.json'), text);
  };

  it('a suppressed finding stays in every report, counts for nothing; unmatched and expired suppressions are reported', () => {
    config(`{
  "suppressions": [
    { "check": "ppt-unmapped", "bdf": "03:01.0", "reason": "the VM is being rebuilt (ticket 7)" },
    { "check": "hpa-leak-mmio", "reason": "matches nothing here" },
    { "check": "stale-context", "reason": "old", "expires": "2020-01-31" }
  ]
}
`);
    const r = analyze([...two, '-f', 'json', '--output-format', 'sarif=s.sarif'], cwd);
    expect(r.status).toBe(0);
    const fleet = JSON.parse(r.stdout);
    expect(validFleet(fleet)).toEqual([]);
    const f = fleet.captures[0].findings.find((x: J) => x.check === 'ppt-unmapped');
    expect(f.suppressed).toEqual({ reason: 'the VM is being rebuilt (ticket 7)' });
    expect(fleet.summary.suppressed).toBe(1);
    expect(fleet.summary.rows[0].findings.error).toBe(0);
    expect(fleet.suppressions.map((s: J) => [s.check, s.state, s.matched, s.origin])).toEqual([
      ['ppt-unmapped', 'active', 1, 'dmarsift.config.json:3'],
      ['hpa-leak-mmio', 'unmatched', 0, 'dmarsift.config.json:4'],
      ['stale-context', 'expired', 0, 'dmarsift.config.json:5'],
    ]);
    expect(r.stderr).toContain('suppression of hpa-leak-mmio (dmarsift.config.json:4) matched no finding');
    expect(r.stderr).toContain('suppression of stale-context (dmarsift.config.json:5) expired on 2020-01-31');
    const sarif = JSON.parse(readFileSync(path.join(cwd, 's.sarif'), 'utf8'));
    expect(validSarif(sarif)).toEqual([]);
    const result = sarif.runs[0].results.find((x: J) => x.ruleId === 'ppt-unmapped');
    expect(result.suppressions).toEqual([expect.objectContaining({ kind: 'external', justification: 'the VM is being rebuilt (ticket 7)' })]);
  });

  it('an unknown key or check id is an error naming the file, the line and the key', () => {
    config('{\n  "failOn": "error",\n  "chekcs": {}\n}\n');
    let r = analyze(two, cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dmarsift: dmarsift\.config\.json:3: chekcs: unknown key/);
    config('{\n  "checks": {\n    "ppt-unmaped": "off"\n  }\n}\n');
    r = analyze(two, cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dmarsift: dmarsift\.config\.json:3: checks\.ppt-unmaped: unknown check id "ppt-unmaped"/);
    expect(r.stdout).toBe('');
  });
});

describe('exit codes, unreadable captures and options', () => {
  const healthy = path.join(SAMPLES, 'bhyve-host');
  const finding = path.join(SAMPLES, 'ppt-unmapped');
  let unreadable: string;
  beforeAll(() => {
    unreadable = path.join(work, 'broken');
    mkdirSync(unreadable);
    writeFileSync(path.join(unreadable, 'capture.json'), '{ "parts": [\n');
  });

  it('0 when no capture has a finding at the threshold', () => {
    const r = analyze([healthy, path.join(SAMPLES, 'kvm-vfio-host')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('2 captures: 0 with a finding at or above error, 0 could not be analysed.');
  });

  it('2 when a capture could not be read: it is a row with its error, the others are analysed', () => {
    const r = analyze([healthy, unreadable, '-f', 'json']);
    expect(r.status).toBe(2);
    const fleet = JSON.parse(r.stdout);
    expect(validFleet(fleet)).toEqual([]);
    expect(fleet.captures[1]).toEqual({ label: unreadable, capture: { path: unreadable }, error: `${path.join(unreadable, 'capture.json')}:2: not valid JSON: unexpected end of the JSON text` });
    expect(fleet.summary.rows[1]).toMatchObject({ status: 'not-analysed', error: fleet.captures[1].error });
    expect(fleet.captures[0].findings.length).toBeGreaterThan(0);
    expect(r.stderr).toContain('dmarsift: 2 captures: 0 with a finding at or above error, 1 could not be analysed.');
  });

  it('1 when any capture has a finding at the threshold, even with one unreadable; the line states both counts', () => {
    const r = analyze([healthy, finding, unreadable]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\nNot analysed:\n {2}broken|Not analysed:\n {2}\//);
    expect(r.stdout).toContain('3 captures: 1 with a finding at or above error, 1 could not be analysed.');
    expect(analyze([healthy, finding, '--fail-on', 'critical']).status).toBe(0);
  });

  it('options that name the parts of one capture are refused with several', () => {
    for (const opt of [['--memory', 'x.img'], ['--rtaddr', 'auto'], ['--registers', 'regs']]) {
      const r = analyze([healthy, finding, ...opt]);
      expect(r.status, opt[0]).toBe(2);
      expect(r.stderr).toContain(`dmarsift: ${opt[0]} names the parts of one capture`);
    }
    const r = analyze(['-r', SAMPLES, '--memory', 'x.img']);
    expect(r.status).toBe(2);
  });

  it('the same report whatever the number of threads', () => {
    const dir = fleetOfSamples(path.join(work, 'jobs'), NAMES.slice(8));
    const one = analyze(['-r', dir, '-f', 'json', '-j', '1', '-q']);
    const three = analyze(['-r', dir, '-f', 'json', '-j', '3', '-q']);
    expect(one.status).toBe(three.status);
    expect(JSON.parse(three.stdout)).toEqual(JSON.parse(one.stdout));
    expect(analyze(['-r', dir, '-j', '0']).stderr).toContain('--jobs: expected a number of threads from 1 to 256');
  });
});

describe('docs/ci/github-actions.yml', () => {
  it("its dmarsift command works on a captures directory with a committed baseline, and its SARIF is what code scanning takes", { timeout: 60_000 }, () => {
    const yml = readFileSync(path.join(REPO, 'docs/ci/github-actions.yml'), 'utf8');
    // The folded `run: >` block of the dmarsift step, as the shell gets it (one line).
    const block = /- name: dmarsift on every capture\n\s+run: >\n((?:\s{10}.*\n)+)/.exec(yml);
    expect(block).not.toBeNull();
    const words = block![1].trim().split(/\s+/);
    expect(words.slice(0, 3)).toEqual(['npx', 'dmarsift', 'analyze']);
    // A repository with a few hosts' captures and the baseline the comment says how to make.
    const repo = path.join(work, 'gh-repo');
    mkdirSync(path.join(repo, 'captures'), { recursive: true });
    mkdirSync(path.join(repo, 'ci'));
    for (const n of ['bhyve-host', 'healthy-two-vms', 'hpa-leak-mmio', 'kvm-vfio-host', 'ppt-unmapped']) symlinkSync(path.join(SAMPLES, n), path.join(repo, 'captures', n));
    expect(cli(['analyze', '-r', 'captures', '-f', 'json', '-o', 'ci/dmarsift-baseline.json', '-q'], { cwd: repo }).status).toBe(1);
    const r = cli(words.slice(2), { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    const sarif = JSON.parse(readFileSync(path.join(repo, 'dmarsift.sarif'), 'utf8'));
    expect(validSarif(sarif)).toEqual([]);
    // Code scanning: at most 20 runs per upload, and no two runs of one category.
    const categories = sarif.runs.map((run: J) => run.automationDetails.id);
    expect(new Set(categories).size).toBe(sarif.runs.length);
    expect(categories).toContain('dmarsift/hpa-leak-mmio/');
    expect(/upload-sarif@v3\n\s+with:\n\s+sarif_file: dmarsift\.sarif\n(?!\s+category)/.test(yml)).toBe(true);
    for (const f of ['dmarsift.junit.xml', 'dmarsift.html', 'dmarsift.json']) expect(statSync(path.join(repo, f)).size, f).toBeGreaterThan(0);
    expect(validFleet(JSON.parse(readFileSync(path.join(repo, 'dmarsift.json'), 'utf8')))).toEqual([]);
  });
});
