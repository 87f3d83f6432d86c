/**
 * Messages that said something false or unhelpful (issue 11 item 12): each one now names what is
 * wrong and what to do instead.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, REPO } from '../helpers/cli.js';

const BHYVE = path.join(REPO, 'samples', 'bhyve-host');
const NO_REGS = path.join(REPO, 'samples', 'scan-no-registers');
const COMMANDS = ['decode', 'analyze', 'translate', 'diff', 'scan', 'capture', 'checks'];

describe('messages that name the real problem', () => {
  it('--check with a pair check says it runs under diff', () => {
    const r = cli(['analyze', BHYVE, '--check', 'did-reused']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/unknown check/);
    expect(r.stderr).toMatch(/did-reused/);
    expect(r.stderr).toMatch(/dmarsift diff/);
  });

  it('an unknown option is named once, as typed (not also in its camelCase form)', () => {
    const r = cli(['analyze', BHYVE, '--bogus-opt', '--fail-onn', 'error']);
    expect(r.status).toBe(2);
    const first = r.stderr.split('\n')[0];
    expect(first).toMatch(/--bogus-opt/);
    expect(first).toMatch(/--fail-onn/);
    expect(first).not.toMatch(/bogusOpt|failOnn/);
  });

  it('--check with an id nobody knows still says unknown', () => {
    const r = cli(['analyze', BHYVE, '--check', 'no-such-check']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown check id no-such-check/);
  });

  it('a huge --limit is a number (it shows every candidate), not "not a number"', () => {
    const r = cli(['scan', NO_REGS, '--limit', '99999999999999999999', '--format', 'json']);
    expect(r.stderr).not.toMatch(/not a number/);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.candidates.length).toBe(j.candidateCount);
  });

  it('--limit 0, a negative or a fraction says what it takes', () => {
    for (const v of ['0', '-1', '1.5']) {
      const r = cli(['scan', NO_REGS, '--limit', v]);
      expect(r.status, v).toBe(2);
      expect(r.stderr, v).toMatch(/--limit/);
      expect(r.stderr, v).not.toMatch(/not a number/);
    }
  });

  it('values too big for the option say they are out of range, not "not a number"', () => {
    for (const [opt, v] of [['--jobs', '99999999999999999999'], ['--chunk', '99999999999999999999'], ['--haw', '99999999999999999999'], ['--base', '0x10000000000000000000']]) {
      const r = cli(['scan', NO_REGS, opt, v]);
      expect(r.status, opt).toBe(2);
      expect(r.stderr, opt).toMatch(new RegExp(opt));
      expect(r.stderr, opt).not.toMatch(/not a number|not an address/);
    }
  });

  it('an unknown command lists the commands', () => {
    const r = cli(['foo']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/Unknown argument/);
    expect(r.stderr).toMatch(/unknown command "foo"/);
    for (const c of COMMANDS) expect(r.stderr).toContain(c);
  });

  it('a misspelt command is named and the likely one suggested', () => {
    const r = cli(['decod', BHYVE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "decod"/);
    expect(r.stderr).toMatch(/did you mean decode/i);
  });

  it('decode --help points at the project’s own docs, not a contract file outside it', () => {
    const r = cli(['decode', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/cli-contract/);
    expect(r.stdout).toMatch(/schema\/decode-model\.schema\.json/);
  });

  it('a unit whose register base no part gives is not "drhd @ 0x0"', () => {
    const r = cli(['decode', '--debugfs', path.join(REPO, 'test/fixtures/debugfs/translation-scalable.txt'), '']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/drhd @ 0x0\b/);
    expect(r.stdout).toMatch(/drhd @ \(base unknown\) PCI segment 0 \[dmar1\]/);
  });

  it('a fault names its level once', () => {
    const r = cli(['translate', BHYVE, '--bdf', 'pci0:3:0:8', '--iova', '0x3fff00000']);
    expect(r.status).toBe(1);
    const fault = r.stdout.split('\n').find((l) => l.includes('fault'))!;
    expect(fault).toMatch(/level 3/);
    expect(fault.match(/level 3/g)).toHaveLength(1);
  });
});

/** Spawn the CLI with its stdout a pipe whose reader has already gone. */
function runIntoClosedPipe(args: string[]): Promise<{ status: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr });
    });
  });
}

describe('a reader that goes away (EPIPE)', () => {
  for (const args of [
    ['decode', BHYVE, '--format', 'json', '--mappings'],
    ['analyze', BHYVE],
    ['checks'],
    ['decode', '--help'],
  ]) {
    it(`${args.join(' ').replace(REPO + '/', '')}: no error, no internal error, no signal`, async () => {
      const r = await runIntoClosedPipe(args);
      expect(r.signal).toBeNull();
      expect(r.stderr).toBe('');
      expect([0, 1]).toContain(r.status);
    });
  }
});
