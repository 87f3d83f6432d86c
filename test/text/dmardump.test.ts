import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { looksLikeDmardump, parseDmardump } from '../../src/text/dmardump.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/text');
const fixture = readFileSync(path.join(FIXTURES, 'dmardump-two-segments.txt'), 'utf8');

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseDmardump on output reproducing dmardump.c printf formats', () => {
  const c = parseDmardump(fixture, 'dmardump.txt');

  it('one unit per drhd line with base, segment, version and enable state', () => {
    expect(looksLikeDmardump(fixture)).toBe(true);
    expect(c.units!.map((u) => [u.registerBase, u.segment, u.version, u.translationEnabled])).toEqual([
      [0xfed90000, 0, { major: 1, minor: 0 }, true],
      [0xfed91000, 0, { major: 1, minor: 0 }, false],
      [0xfed92000, 1, { major: 1, minor: 0 }, true],
      [0xfed93000, 1, { major: 2, minor: 0 }, true],
    ]);
    expect(c.units![0].source).toEqual({ part: 'dmardump.txt', line: 2 });
  });

  it('root line with the doubled 0x0x; RTPS from what was printed', () => {
    const [u0, u1, u2, u3] = c.units!;
    expect(u0).toMatchObject({ rootTable: 0x7f4b2000, rootTablePointerSet: true, mode: 'legacy' });
    // Disabled: dmardump prints nothing more, so RTPS is not known.
    expect(u1.rootTablePointerSet).toBeUndefined();
    expect(u1.rootTable).toBeUndefined();
    // Enabled, next drhd follows directly: TES=1 and nothing printed means RTPS=0.
    expect(u2.rootTablePointerSet).toBe(false);
    expect(u3).toMatchObject({ rootTable: 0x7f000000, rootTablePointerSet: true, mode: 'extended', contexts: [] });
  });

  it('context entries: bdf (ARI { 0,8 } is devfn 8 = 03:01.0), TT, FPD, SLPT, DID, driver hint', () => {
    const ctx = c.units![0].contexts!;
    expect(ctx.map((x) => [x.bdf, x.tt, x.fpd, x.slptptr, x.did, x.driverHint])).toEqual([
      ['0000:00:02.0', 0, false, 0x7f4b5000, 1, 'vgapci0'],
      ['0000:00:1f.2', 0, false, 0x7f4b5000, 1, 'ahci0'], // 31*8+2 = 250 = 0xfa
      ['0000:03:00.0', 0, false, 0x7f4b5000, 1, 'igb0'],
      ['0000:03:00.1', 2, false, 0, 3, 'absent'],
      ['0000:03:01.0', 0, true, 0x1234000, 2, 'ppt0'],
      ['0000:04:00.0', 1, false, 0x7f4c6000, 4095, undefined],
      ['0000:04:00.1', 3, false, 0, 0, undefined],
    ]);
    const ppt = ctx[4];
    expect(ppt).toMatchObject({ segment: 0, bus: 3, devfn: 8, present: true, aw: -1, levels: 0, raw: [] });
    expect(ppt.source).toEqual({ part: 'dmardump.txt', line: 10 });
  });

  it('inventory: existing functions with driver and unit, not the absent one', () => {
    expect(c.devices!.map((d) => [d.bdf, d.driver, d.deviceUnit, d.passThrough])).toEqual([
      ['0000:00:02.0', 'vgapci', 'vgapci0', false],
      ['0000:00:1f.2', 'ahci', 'ahci0', false],
      ['0000:03:00.0', 'igb', 'igb0', false],
      ['0000:03:01.0', 'ppt', 'ppt0', true],
      ['0000:04:00.0', undefined, undefined, false],
      ['0000:04:00.1', undefined, undefined, false],
    ]);
  });

  it('the shell prompt lines before and after are warnings with their line numbers', () => {
    expect(c.warnings.map((w) => w.source?.line)).toEqual([1, 18]);
  });

  it('CRLF and spaces instead of tabs give the same result', () => {
    const crlf = fixture.replace(/\n/g, '\r\n').replace(/\t/g, '        ');
    const d = parseDmardump(crlf, 'dmardump.txt');
    expect(d.units).toEqual(c.units);
    expect(d.devices).toEqual(c.devices);
  });

  it('a half-pasted file: context lines without their bus line are warnings, the rest parses', () => {
    const cut = fixture.split('\n').slice(5).join('\n'); // starts at "{ 31,2 } (ahci0)"
    const firstUnit = 'drhd @ 0xfed90000 (version 1.0) PCI segment 0:\n    root table @ 0x0x1000\n';
    const d = parseDmardump(firstUnit + cut, 'cut.txt');
    expect(d.warnings[0]).toMatchObject({ source: { part: 'cut.txt', line: 3 } });
    expect(d.units![0].contexts!.map((x) => x.bdf)).toEqual(['0000:03:00.0', '0000:03:00.1', '0000:03:01.0', '0000:04:00.0', '0000:04:00.1']);
  });
});

describe('parseDmardump on bad input', () => {
  it('random text is an InputError at line 1', () => {
    const e = inputError(() => parseDmardump('hello\nworld\n', 'notes.txt'));
    expect(e.file).toBe('notes.txt');
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/does not look like dmardump/);
    expect(looksLikeDmardump('hello\nworld\n')).toBe(false);
  });

  it('bus 256 is an InputError naming its line', () => {
    const t = 'drhd @ 0xfed90000 (version 1.0) PCI segment 0:\n    root table @ 0x0x1000\n\tPCI bus 256:\n';
    expect(inputError(() => parseDmardump(t, 'x')).line).toBe(3);
  });

  it('slot 32 (or slot 1 function 8) is an InputError naming its line', () => {
    const t = 'drhd @ 0xfed90000 (version 1.0) PCI segment 0:\n    root table @ 0x0x1000\n\tPCI bus 0:\n\t    { 32,0 } UNTR SLPT 0x2000 domain 1\n';
    expect(inputError(() => parseDmardump(t, 'x')).line).toBe(4);
    expect(inputError(() => parseDmardump(t.replace('{ 32,0 }', '{ 1,8 }'), 'x')).line).toBe(4);
  });

  it('random strings never throw anything but InputError', () => {
    const piece = fc.constantFrom('drhd @ 0xfed90000 (version 1.0) PCI segment 0:', '    root table @ 0x0x1000', '\tPCI bus 3:',
      '\t    { 0,8 } (ppt0) UNTR SLPT 0x1000 domain 1', '\t    { 99,9 } UNTR SLPT 0x1 domain 1', 'SLPT 0xffffffffffffffff', '\r', '');
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 12 }), (parts) => {
      try {
        parseDmardump(parts.join('\n'), 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 500 });
  });
});
