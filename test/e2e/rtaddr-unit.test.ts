/**
 * `--rtaddr BASE=ADDR` names a remapping unit by its register base: a base that no DRHD of the
 * capture declares is a usage error naming the bases there are, not a new unit holding the tables
 * while the real one stays empty (issue 11 item 3).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, REPO, usageError } from '../helpers/cli.js';

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

/**
 * Two root tables for one unit, or a bare ADDR that names no unit, are contradictory options: exit 2
 * with one line, not a capture warning while the last value silently wins (or the value is dropped
 * and analyze passes on a capture it never walked).
 */
describe('--rtaddr values that contradict each other or name no unit', () => {
  it('two bare values for the only unit', () => {
    const l = usageError(['decode', NO_REGS, '--rtaddr', '0x3f800000', '--rtaddr', '0x1000']);
    expect(l).toMatch(/0x3f800000/);
    expect(l).toMatch(/0x1000\b/);
    expect(l).toMatch(/0xfed90000/);
  });

  it('BASE=ADDR twice for one unit with different tables', () => {
    const l = usageError(['analyze', NO_REGS, '--rtaddr', '0xfed90000=0x3f800000', '--rtaddr', '0xfed90000=0x20101000']);
    expect(l).toMatch(/0x3f800000/);
    expect(l).toMatch(/0x20101000/);
  });

  it('the same value twice is no conflict', () => {
    expect(cli(['decode', NO_REGS, '--rtaddr', '0x3f800000', '--rtaddr', '0xfed90000=0x3f800000']).status).toBe(0);
  });

  it('a bare value when the capture has two units', () => {
    const two = path.join(REPO, 'samples', 'unit-capability-mismatch');
    const l = usageError(['analyze', two, '--rtaddr', '0x1000']);
    expect(l).toMatch(/--rtaddr 0x1000/);
    expect(l).toMatch(/0xfed90000/);
    expect(l).toMatch(/0xfed91000/);
    expect(l).toMatch(/BASE=ADDR/);
  });
});
