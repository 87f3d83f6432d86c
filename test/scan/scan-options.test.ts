/**
 * scan's options say what they do (issue 11 item 7): the suggested next command keeps `--base`
 * for a raw image (and runs); `--haw` takes the widths the scan handles exactly and refuses the
 * rest; `--base` is refused for images that carry their own addresses and when not page-aligned.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';
import { elfCore, legacyRootTables } from '../image/fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-scanopt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tables = legacyRootTables;

const BASE = 0x100000;
/** 64 pages of raw memory starting at physical BASE, the tables at BASE + 0x20000… */
const RAW = path.join(dir, 'based.raw');
{
  const img = new Uint8Array(64 * 4096);
  for (const [pfn, p] of tables(BASE + 0x20000, BASE + 0x21000, BASE + 0x22000)) img.set(p, pfn * 4096 - BASE);
  fs.writeFileSync(RAW, img);
}
const ELF = path.join(dir, 'small.elf');
{
  const pages = tables(0x8000, 0x9000, 0xa000);
  fs.writeFileSync(ELF, elfCore([{ offset: 4096, paddr: 0x8000, filesz: 3 * 4096 }], [8, 9, 10].map((pfn, i) => ({ offset: 4096 * (i + 1), bytes: pages.get(pfn)! }))));
}

/** The `dmarsift …` command scan suggests, split into arguments (it quotes what needs it, as sh would). */
function suggested(stdout: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith('Decode the best one: '));
  expect(line, stdout).toBeDefined();
  const cmd = line!.replace(/^Decode the best one: /, '').replace(/\s+\(or --rtaddr auto\)$/, '');
  const args = [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  expect(args[0]).toBe('dmarsift');
  return args.slice(1);
}

describe('scan --base on a raw image', () => {
  it('finds the table at its physical address, and the suggested command keeps --base and runs', () => {
    const r = cli(['scan', RAW, '--base', '0x100000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1\s+0x120000\s+legacy/m);
    const next = suggested(r.stdout);
    expect(next).toContain('--base');
    expect(next[next.indexOf('--base') + 1]).toBe('0x100000');
    const d = cliJson([...next, '--format', 'json']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.json.units[0].rtaddr).toBe('0x120000');
    expect(d.json.units[0].contexts.map((c: { bdf: string }) => c.bdf)).toEqual(['0000:00:01.0']);
  });

  it('a raw image without --base: the suggested command names it as the memory image, and runs', () => {
    const zeroBased = path.join(dir, 'zero-based.raw');
    const img = new Uint8Array(64 * 4096);
    for (const [pfn, p] of tables(0x20000, 0x21000, 0x22000)) img.set(p, pfn * 4096);
    fs.writeFileSync(zeroBased, img);
    const r = cli(['scan', zeroBased]);
    expect(r.status, r.stderr).toBe(0);
    const d = cliJson([...suggested(r.stdout), '--format', 'json']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.json.units[0].rtaddr).toBe('0x20000');
  });

  it('an ELF core: the suggested command runs as it is', () => {
    const r = cli(['scan', ELF]);
    expect(r.status, r.stderr).toBe(0);
    const next = suggested(r.stdout);
    expect(next).not.toContain('--base');
    const d = cliJson([...next, '--format', 'json']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.json.units[0].rtaddr).toBe('0x8000');
  });
});

describe('--base that cannot apply', () => {
  it('is refused for an ELF core (its program headers give the addresses), by scan and decode', () => {
    for (const args of [['scan', ELF, '--base', '0x100000'], ['decode', '--memory', ELF, '--base', '0x100000', '--rtaddr', '0x8000', '']]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--base/);
      expect(r.stderr).toMatch(/raw/);
    }
  });

  it('is refused for a sample’s sparse dump too', () => {
    const r = cli(['scan', path.join(REPO, 'samples', 'bhyve-host', 'memory.sparse'), '--base', '0x1000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--base/);
  });

  it('is refused when not page-aligned, by scan and decode', () => {
    for (const args of [['scan', RAW, '--base', '0x100001'], ['decode', '--memory', RAW, '--base', '0x100800', '--rtaddr', '0x120000', '']]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--base/);
      expect(r.stderr).toMatch(/4096|0x1000|page/);
    }
  });
});

describe('--haw', () => {
  it('below 32 is refused (the scan would act as 32), naming the range', () => {
    for (const v of ['12', '20', '31']) {
      const r = cli(['scan', RAW, '--base', '0x100000', '--haw', v]);
      expect(r.status, v).toBe(2);
      expect(r.stderr).toMatch(/--haw: .*32.*52/);
    }
  });

  it('from 32 to 52 is used as given', () => {
    for (const v of [32, 39, 52]) {
      const r = cliJson(['scan', RAW, '--base', '0x100000', '--haw', String(v), '--format', 'json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.haw).toBe(v);
    }
    expect(cli(['scan', RAW, '--haw', '53']).status).toBe(2);
  });
});
