/**
 * Register text through the whole CLI (issue 11 item 1): a commented GSTS line still says
 * "translation disabled" (and unit-disabled-with-tables fires: RTADDR is set), a GSTS line that cannot be read is a capture
 * warning naming the file and line, and the register parsers' own warnings reach the report.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, REPO } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-regset-warn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The iommu_regset layout (values of the legacy real capture's README), GSTS line replaced. */
const regset = (gsts: string) => [
  'IOMMU: dmar0 Register Base Address: fed90000',
  'Name\t\t\tOffset\t\tContents',
  'VER             \t0x00\t\t0x0000000000000010',
  gsts,
  'CAP             \t0x08\t\t0x00d2008c22260206',
  'ECAP            \t0x10\t\t0x0000000000f00f4a',
  'RTADDR          \t0x20\t\t0x0000000002643000',
  '',
].join('\n');

function capture(name: string, files: Record<string, string | Buffer>): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, body] of Object.entries(files)) writeFileSync(path.join(d, f), body);
  return d;
}

const DMAR = readFileSync(path.join(REPO, 'samples', 'iommu-not-enabled', 'DMAR'));

interface Warning { message: string; source: { part: string; line?: number } | null }

describe('iommu_regset', () => {
  it('a trailing comment on GSTS: the register is read, translation is off, unit-disabled-with-tables fires', () => {
    const d = capture('comment', { 'iommu_regset': regset('GSTS            \t0x1c\t\t0x0000000000000000 # TES=0') });
    const dec = cliJson(['decode', '--format', 'json', d]);
    expect(dec.status).toBe(0);
    expect(dec.json.units[0].registers.GSTS.TES).toBe(false);
    expect(dec.json.warnings).toEqual([]);
    const an = cliJson(['analyze', '--format', 'json', d]);
    expect(an.json.findings.map((f: { check: string }) => f.check)).toContain('unit-disabled-with-tables');
  });
  it.each([
    ['junk after the digits', 'GSTS            \t0x1c\t\t0xc7000000xyz'],
    ['no digits', 'GSTS            \t0x1c\t\t0xZZZZZZZZ'],
  ])('GSTS with %s: a warning naming iommu_regset line 4', (_w, gsts) => {
    const d = capture(`bad-${gsts.length}-${_w.length}`, { 'iommu_regset': regset(gsts) });
    const dec = cliJson(['decode', '--format', 'json', d]);
    expect(dec.status).toBe(0);
    const ws = dec.json.warnings as Warning[];
    expect(ws.filter((w) => w.source?.part === 'iommu_regset' && w.source.line === 4 && /GSTS/.test(w.message))).toHaveLength(1);
  });
  it('a register listed twice with different values is a warning', () => {
    const d = capture('twice', { 'iommu_regset': regset('GSTS\t0x1c\t\t0x00000000c7000000\nGSTS\t0x1c\t\t0x0') });
    const ws = cliJson(['decode', '--format', 'json', d]).json.warnings as Warning[];
    expect(ws.filter((w) => w.source?.part === 'iommu_regset' && w.source.line === 5)).toHaveLength(1);
  });
  it('the same through --registers, beside a DMAR table', () => {
    const d = capture('with-dmar', { DMAR });
    const f = path.join(dir, 'regs.txt');
    writeFileSync(f, regset('GSTS\t0x1c\t\thello'));
    const ws = cliJson(['decode', '--format', 'json', d, '--registers', f]).json.warnings as Warning[];
    expect(ws.some((w) => w.source?.part === f && w.source.line === 4 && /GSTS/.test(w.message))).toBe(true);
  });
});

describe('registers JSON', () => {
  it('its warnings (a key that is not part of the format) reach the report with their line', () => {
    const json = JSON.stringify({ format: 'dmarsift-registers', version: 1, units: [{ name: 'dmar0', base: '0xfed90000', colour: 'blue', registers: { GSTS: '0x0' } }] }, null, 2);
    const d = capture('json', { 'registers.json': json + '\n' });
    const ws = cliJson(['decode', '--format', 'json', d]).json.warnings as Warning[];
    const line = json.split('\n').findIndex((l) => l.includes('colour')) + 1;
    expect(ws.filter((w) => w.source?.part === 'registers.json' && w.source.line === line && /colour/.test(w.message))).toHaveLength(1);
  });
});
