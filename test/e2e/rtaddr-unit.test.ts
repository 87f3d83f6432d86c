/**
 * `--rtaddr BASE=ADDR` names a remapping unit by its register base: a base that no DRHD of the
 * capture declares is a usage error naming the bases there are, not a new unit holding the tables
 * while the real one stays empty (issue 11 item 3).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';

const NO_REGS = path.join(REPO, 'samples', 'scan-no-registers');

describe('--rtaddr BASE=ADDR', () => {
  it('a base the DMAR table does not declare is exit 2, naming the DRHD bases', () => {
    const r = cli(['decode', NO_REGS, '--rtaddr', '0xdead=0x3f800000']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--rtaddr 0xdead=0x3f800000/);
    expect(r.stderr).toMatch(/0xfed90000/);
    expect(r.stderr).not.toMatch(/internal error/);
    // analyze and translate read the capture the same way.
    expect(cli(['analyze', NO_REGS, '--rtaddr', '0xdead=0x3f800000']).status).toBe(2);
    expect(cli(['translate', NO_REGS, '--rtaddr', '0xdead=0x3f800000', '--bdf', '03:01.0', '--iova', '0']).status).toBe(2);
  });

  it('the DRHD base itself is taken', () => {
    const j = cliJson(['decode', NO_REGS, '--rtaddr', '0xfed90000=0x3f800000', '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    expect(j.json.units).toHaveLength(1);
    expect(j.json.units[0].registerBase).toBe('0xfed90000');
    expect(j.json.units[0].rtaddr).toBe('0x3f800000');
    expect(j.json.units[0].contexts.filter((c: { present: boolean }) => c.present)).toHaveLength(5);
  });

  it('registers without a DMAR table: their bases are the units', () => {
    const bhyve = path.join(REPO, 'samples', 'bhyve-host');
    const r = cli(['decode', bhyve, '--ignore', 'dmar', '--rtaddr', '0xdead=0x7f000000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/0xfed90000/);
  });

  it('an image with nothing else: the base given is the only unit there is', () => {
    const j = cliJson(['decode', path.join(NO_REGS, 'memory.elf'), '--rtaddr', '0xfed90000=0x3f800000', '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    expect(j.json.units.map((u: { registerBase: string }) => u.registerBase)).toEqual(['0xfed90000']);
  });

  it('an image with nothing else and no base: the unit is shown as of unknown base, not "drhd @ 0x0"', () => {
    const r = cli(['decode', path.join(NO_REGS, 'memory.elf'), '--rtaddr', '0x3f800000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/drhd @ 0x0\b/);
    expect(r.stdout).toMatch(/drhd @ \(base unknown\)/);
  });
});
