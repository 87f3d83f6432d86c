/**
 * iommu_regset lines that are not exactly what the kernel prints (issue 11 item 1): what real files
 * contain (trailing comments, CRLF, tabs, spaces) is read; everything else is a warning naming the
 * line — never a register silently missing, never a second value silently dropped.
 */
import { describe, expect, it } from 'vitest';
import { parseIommuRegset } from '../../src/decode/regset-text.js';

const HEAD = 'IOMMU: dmar0 Register Base Address: fed90000\nName\t\t\tOffset\t\tContents\n';
/** A unit whose GSTS line is `gsts` (line 4: header, column names, VER, then GSTS). */
const withGsts = (gsts: string, eol = '\n') =>
  (HEAD + `VER\t\t0x00\t\t0x0000000000000010\n${gsts}\nRTADDR\t\t0x20\t\t0x0000000002643000\n`).replace(/\n/g, eol);

describe('tolerated: what real files contain', () => {
  it.each([
    ['a trailing # comment', 'GSTS\t\t0x1c\t\t0x0000000000000000 # TES=0'],
    ['a trailing # comment without a space', 'GSTS\t\t0x1c\t\t0x0000000000000000# TES=0'],
    ['spaces instead of tabs', 'GSTS    0x1c    0x0000000000000000'],
    ['trailing blanks', 'GSTS\t\t0x1c\t\t0x0000000000000000 \t '],
    ['upper-case hex digits and 0X', 'GSTS\t\t0X1C\t\t0X00000000C7000000'.replace('C7000000', '00000000')],
  ])('%s', (_what, gsts) => {
    const r = parseIommuRegset(withGsts(gsts), 'iommu_regset');
    expect(r.warnings).toEqual([]);
    expect(r.units[0].raw.GSTS).toBe(0n);
    expect(r.units[0].raw.RTADDR).toBe(0x2643000n);
  });
  it('CRLF line ends, a comment line and a comment after the unit header', () => {
    const text = withGsts('GSTS\t\t0x1c\t\t0x00000000c7000000', '\r\n')
      .replace('fed90000', 'fed90000   # the only unit')
      .replace('VER', '# taken with devmem\r\nVER');
    const r = parseIommuRegset(text, 'iommu_regset');
    expect(r.warnings).toEqual([]);
    expect(r.units[0].base).toBe(0xfed90000);
    expect(r.units[0].raw.GSTS).toBe(0xc7000000n);
  });
});

describe('warned: a register line whose value cannot be read', () => {
  it.each([
    ['junk after the hex digits', 'GSTS\t\t0x1c\t\t0xc7000000xyz', /GSTS.*0xc7000000xyz.*not a hex/],
    ['no hex digits at all', 'GSTS\t\t0x1c\t\t0xZZZZZZZZ', /GSTS.*0xZZZZZZZZ.*not a hex/],
    ['a word for a value', 'GSTS\t\t0x1c\t\thello', /GSTS.*"hello".*not a hex/],
    ['no value', 'GSTS\t\t0x1c', /GSTS.*no value/],
    ['a bad offset', 'GSTS\t\t0xq1c\t\t0x0000000000000000', /GSTS.*offset.*0xq1c/],
  ])('%s: a warning naming the register and its line, and the register stays unknown', (_what, gsts, msg) => {
    const r = parseIommuRegset(withGsts(gsts), 'iommu_regset');
    expect(r.units[0].raw.GSTS).toBeUndefined();
    expect(r.units[0].raw.RTADDR).toBe(0x2643000n);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0].line).toBe(4);
    expect(r.warnings[0].message).toMatch(msg);
    expect(r.warnings[0].message).toMatch(/not read|unknown/);
  });
  it('CAP 0x08 hello', () => {
    const r = parseIommuRegset(withGsts('CAP 0x08 hello'), 'iommu_regset');
    expect(r.units[0].raw.CAP).toBeUndefined();
    expect(r.warnings.map((w) => [w.line, /CAP/.test(w.message)])).toEqual([[4, true]]);
  });
});

describe('a register listed twice', () => {
  it('with different values: a warning naming both lines and both values', () => {
    const text = withGsts('GSTS\t\t0x1c\t\t0x00000000c7000000\nGSTS\t\t0x1c\t\t0x0000000000000000');
    const r = parseIommuRegset(text, 'iommu_regset');
    expect(r.warnings).toHaveLength(1);
    const w = r.warnings[0];
    expect(w.line).toBe(5);
    expect(w.message).toMatch(/GSTS/);
    expect(w.message).toMatch(/line 4/);
    expect(w.message).toMatch(/0xc7000000/);
    expect(w.message).toMatch(/0x0\b/);
    expect(r.units[0].raw.GSTS).toBe(0xc7000000n);
  });
  it('with the same value: no warning (nothing is lost)', () => {
    const text = withGsts('GSTS\t\t0x1c\t\t0x00000000c7000000\nGSTS\t\t0x1c\t\t0xc7000000');
    const r = parseIommuRegset(text, 'iommu_regset');
    expect(r.warnings).toEqual([]);
    expect(r.units[0].raw.GSTS).toBe(0xc7000000n);
  });
});
