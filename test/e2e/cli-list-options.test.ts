/**
 * Repeatable options take one value each (`--rtaddr A --rtaddr B`), so an option placed before
 * the capture never swallows it: `decode --rtaddr 0x3f800000 CAPTURE` is the capture with that
 * root table, not "Not enough non-option arguments" (issue 11 item 10).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';

const BHYVE = path.join(REPO, 'samples', 'bhyve-host');
const NO_REGS = path.join(REPO, 'samples', 'scan-no-registers');

/** Every repeatable option of the capture commands, with a value that names a real file of bhyve-host. */
const CAPTURE_LIST_OPTIONS: [string, string][] = [
  ['--registers', path.join(BHYVE, 'registers.json')],
  ['--pci', path.join(BHYVE, 'pciconf-lv.txt')],
  ['--vms', path.join(BHYVE, 'ps-args.txt')],
  ['--memory-map', path.join(BHYVE, 'smap.txt')],
  ['--dmesg', path.join(BHYVE, 'smap.txt')],
  ['--dmardump', path.join(REPO, 'samples', 'dmardump-passthrough', 'dmardump.txt')],
  ['--debugfs', path.join(BHYVE, 'smap.txt')],
  ['--rtaddr', '0x7f000000'],
];

describe('list options before the positional', () => {
  it('decode --rtaddr ADDR CAPTURE decodes CAPTURE with that root table', () => {
    const r = cli(['decode', '--rtaddr', '0x3f800000', NO_REGS]);
    expect(r.stderr).not.toMatch(/non-option/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/root table @ 0x3f800000 \(legacy\) from --rtaddr/);
  });

  for (const [opt, value] of CAPTURE_LIST_OPTIONS) {
    it(`decode ${opt} VALUE CAPTURE takes CAPTURE as the capture`, () => {
      const r = cli(['decode', opt, value, BHYVE, '--format', 'json']);
      expect(r.stderr).not.toMatch(/non-option|Unknown argument/);
      // The capture was read: its path is the model's capture path (whatever the part made of it).
      if (r.status === 0) expect(JSON.parse(r.stdout).capture.path).toMatch(/bhyve-host$/);
      else expect(r.stderr).not.toMatch(/Not enough/);
    });
  }

  it('analyze --check ID CAPTURE and --skip ID CAPTURE', () => {
    const only = cliJson(['analyze', '--check', 'dmar-opt-in', BHYVE, '--format', 'json']);
    expect(only.status, only.stderr).toBe(0);
    expect(only.json.findings.map((f: { check: string }) => f.check)).toEqual(['dmar-opt-in']);
    const skipped = cliJson(['analyze', '--skip', 'dmar-opt-in', BHYVE, '--format', 'json']);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.json.findings.map((f: { check: string }) => f.check)).not.toContain('dmar-opt-in');
  });

  it('translate --pci FILE CAPTURE', () => {
    const r = cliJson(['translate', '--pci', path.join(BHYVE, 'pciconf-lv.txt'), BHYVE, '--bdf', 'ppt0', '--iova', '0x1000', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.bdf).toBe('0000:03:01.0');
  });

  it('a repeated option collects one value per use', () => {
    const r = cliJson(['analyze', '--check', 'dmar-opt-in', '--check', 'iommu-disabled', BHYVE, '--format', 'sarif', '--fail-on', 'none']);
    expect(r.status, r.stderr).toBe(0);
    // Both ran, and only they: SARIF lists every other check as not run.
    const rules: string[] = r.json.runs[0].tool.driver.rules.map((x: { id: string }) => x.id);
    const notRun: string[] = r.json.runs[0].properties.checksNotRun;
    expect(rules.filter((id) => !notRun.includes(id)).sort()).toEqual(['dmar-opt-in', 'iommu-disabled']);
  });

  it('a second value after one option is a positional, not a second value', () => {
    // `--check a b CAPTURE`: b is a positional — for analyze, which takes several captures, a
    // second capture that does not exist: its row says so, and the run exits 2.
    const r = cli(['analyze', '--check', 'dmar-opt-in', 'iommu-disabled', BHYVE]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('iommu-disabled: iommu-disabled: no such file or directory');
    expect(r.stdout).toContain('2 captures: 0 with a finding at or above error, 1 could not be analysed.');
  });

  it('an option that takes one value, given twice, is a usage error (not the two joined)', () => {
    const r = cli(['decode', BHYVE, '--memory', path.join(BHYVE, 'memory.sparse'), '--memory', path.join(BHYVE, 'memory.sparse')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--memory.*(once|twice|one)/);
  });
});
