/**
 * The CLI as users and CI scripts meet it: usage, exit codes (0 ran clean, 1 findings/fault,
 * 2 could not run), one-line errors naming the file and offset, atomic --output.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';
import { catalog } from '../../src/checks/catalog.js';
import { checkListJson } from '../../src/report/check-docs.js';

const SAMPLE = path.join(REPO, 'samples', 'bhyve-host');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'dmarsift-cli-'));

/** A bad-input run: exit 2, exactly one stderr line starting "dmarsift: ", no stack trace, no stdout. */
function expectOneLineError(r: { status: number; stdout: string; stderr: string }, ...parts: (string | RegExp)[]): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^dmarsift: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(lines[0]).toMatch(p);
  expect(r.stdout).toBe('');
}

describe('usage', () => {
  it('bare `dmarsift` prints a short usage on stderr and exits 2', () => {
    const r = cli([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Usage: dmarsift <command>/);
    expect(r.stderr).toMatch(/analyze/);
    expect(r.stderr.split('\n').length).toBeLessThan(20);
  });

  it('an unknown command or option exits 2 (not yargs’ 1)', () => {
    expect(cli(['frobnicate']).status).toBe(2);
    expect(cli(['decode', SAMPLE, '--no-such-option']).status).toBe(2);
    expect(cli(['analyze', SAMPLE, '--fail-on', 'sometimes']).status).toBe(2);
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = cli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  for (const cmd of ['decode', 'analyze', 'translate', 'diff', 'checks']) {
    it(`${cmd} --help shows an example`, () => {
      const r = cli([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
    });
  }
});

describe('exit codes on a sample', () => {
  it('decode exits 0 and prints the unit table', () => {
    const r = cli(['decode', SAMPLE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/drhd @ 0xfed90000/);
    expect(r.stdout).toMatch(/0000:03:01\.0/);
  });

  it('analyze on the healthy host exits 0; --check with an unknown id exits 2 naming it', () => {
    expect(cli(['analyze', SAMPLE]).status).toBe(0);
    expectOneLineError(cli(['analyze', SAMPLE, '--check', 'no-such-check']), /no-such-check/);
  });

  it('--fail-on info makes the info finding fail the run', () => {
    const r = cliJson(['analyze', SAMPLE, '--format', 'json', '--fail-on', 'info']);
    expect(r.json.findings.some((f: { severity: string }) => f.severity === 'info')).toBe(true);
    expect(r.status).toBe(1);
    expect(cliJson(['analyze', SAMPLE, '--format', 'json', '--fail-on', 'none']).status).toBe(0);
  });

  it('--fail-on never counts a status: checks that ran in part or not at all fail nothing, even at info', () => {
    // scalable-kvm-host has no memory map: hpa-leak-mmio runs in part; its only finding is dmar-opt-in's.
    const r = cliJson(['analyze', path.join(REPO, 'samples', 'scalable-kvm-host'), '--skip', 'dmar-opt-in', '--format', 'json', '--fail-on', 'info']);
    expect(r.json.findings).toEqual([]);
    expect(r.json.checks.find((c: { id: string }) => c.id === 'hpa-leak-mmio')).toMatchObject({ status: 'partial', missing: ['memory-map'] });
    expect(r.status).toBe(0);
    // A capture without page tables: the mapping checks are not-applicable, and do not fail the run either.
    const text = cliJson(['analyze', path.join(REPO, 'samples', 'dmardump-absent'), '--check', 'hpa-leak-identity,missing-context', '--format', 'json', '--fail-on', 'info']);
    expect(text.json.checks.map((c: { id: string; status: string }) => `${c.id} ${c.status}`)).toEqual(['missing-context ran', 'hpa-leak-identity not-applicable']);
    expect(text.status).toBe(0);
  });

  it('--check restricts the run; --skip removes a check', () => {
    const only = cliJson(['analyze', SAMPLE, '--format', 'json', '--check', 'dmar-opt-in']);
    expect(only.json.findings.map((f: { check: string }) => f.check)).toEqual(['dmar-opt-in']);
    const skipped = cliJson(['analyze', SAMPLE, '--format', 'json', '--skip', 'dmar-opt-in']);
    expect(skipped.json.findings.map((f: { check: string }) => f.check)).not.toContain('dmar-opt-in');
  });

  it('translate: a mapped IOVA exits 0, an unmapped one exits 1; a device name resolves through the inventory', () => {
    const ok = cliJson(['translate', SAMPLE, '--bdf', 'ppt0', '--iova', '0x1000', '--format', 'json']);
    expect(ok.status).toBe(0);
    expect(ok.json.bdf).toBe('0000:03:01.0');
    const bhyve = cliJson(['translate', SAMPLE, '--bdf', '3/0/8', '--iova', '0x1000', '--format', 'json']);
    expect(bhyve.json.hpa).toBe(ok.json.hpa);
    const fault = cliJson(['translate', SAMPLE, '--bdf', 'pci0:3:0:8', '--iova', '0x7fff00000000', '--format', 'json']);
    expect(fault.status).toBe(1);
    expect(fault.json.fault).toBeDefined();
  });

  it('checks --format json lists every check of the registry, in its order, with its scope and options', () => {
    const { json } = cliJson(['checks', '--format', 'json']);
    expect(json.checks.map((c: { id: string; scope: string }) => `${c.id} ${c.scope}`)).toEqual(catalog.map((e) => `${e.meta.id} ${e.scope}`));
    expect(json).toEqual(checkListJson(catalog));
  });
});

describe('bad input: one line, exit 2', () => {
  it('a capture path that does not exist', () => {
    expectOneLineError(cli(['decode', '/nonexistent/capture']), /nonexistent/);
  });

  it('a directory with nothing recognisable', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'notes.txt'), 'just some notes\nnothing to see\n');
    expectOneLineError(cli(['decode', d]), /no capture part/);
  });

  it('a DMAR table cut in its header names the file and what was expected', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'DMAR'), readFileSync(path.join(SAMPLE, 'DMAR')).subarray(0, 20));
    const r = cli(['decode', '--dmar', path.join(d, 'DMAR'), d]);
    expectOneLineError(r, /DMAR/, /byte 0x14/, /truncated/);
  });

  it('a memory image that is random bytes is refused with the file named', () => {
    const d = tmp();
    const bytes = Buffer.alloc(8192);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(path.join(d, 'junk.bin'), bytes);
    const r = cli(['decode', '--memory', path.join(d, 'junk.bin'), '--rtaddr', '0x1000', d]);
    // A headerless file is a raw image by definition; what matters is no crash and an honest result.
    expect([0, 2]).toContain(r.status);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a truncated sparse dump gives the file and a byte offset', () => {
    const d = tmp();
    for (const f of readdirSync(SAMPLE)) copyFileSync(path.join(SAMPLE, f), path.join(d, f));
    const full = readFileSync(path.join(SAMPLE, 'memory.sparse'));
    writeFileSync(path.join(d, 'memory.sparse'), full.subarray(0, 100));
    expectOneLineError(cli(['decode', d]), /memory\.sparse/, /offset|0x/);
  });

  it('--iova that is not a number, and --pasid out of range', () => {
    expectOneLineError(cli(['translate', SAMPLE, '--bdf', 'ppt0', '--iova', 'zzz']), /--iova/);
    expectOneLineError(cli(['translate', SAMPLE, '--bdf', 'ppt0', '--iova', '0x0', '--pasid', '99999999']), /--pasid/);
  });

  it('a BDF the capture does not know', () => {
    expectOneLineError(cli(['translate', SAMPLE, '--bdf', 'ppt7', '--iova', '0x0']), /ppt7/);
    expectOneLineError(cli(['translate', SAMPLE, '--bdf', '00:20.0', '--iova', '0x0']));
  });
});

describe('--output', () => {
  it('writes the report to the file and nothing to stdout', () => {
    const d = tmp();
    const out = path.join(d, 'report.json');
    const r = cli(['analyze', SAMPLE, '--format', 'json', '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).schemaVersion).toBe(1);
  });

  it('a failed run leaves no file (and no temporary file) behind', () => {
    const d = tmp();
    mkdirSync(path.join(d, 'out'));
    const out = path.join(d, 'out', 'model.json');
    const r = cli(['decode', '/nonexistent/capture', '--format', 'json', '-o', out]);
    expect(r.status).toBe(2);
    expect(readdirSync(path.join(d, 'out'))).toEqual([]);
  });

  it('an output directory that does not exist is one error line', () => {
    expectOneLineError(cli(['analyze', SAMPLE, '-o', '/nonexistent/dir/report.txt']), /report\.txt|nonexistent/);
  });
});

describe('colour', () => {
  it('no ANSI escapes when stdout is not a TTY, even with findings; --color forces them', () => {
    const plain = cli(['analyze', SAMPLE]);
    expect(plain.stdout).not.toContain('\x1b[');
    const forced = cli(['analyze', SAMPLE, '--color'], { env: { NO_COLOR: '' } });
    expect(forced.stdout).toContain('\x1b[');
  });
});
