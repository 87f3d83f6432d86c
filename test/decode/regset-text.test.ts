/**
 * debugfs iommu_regset parser, against the real captures (values from their README) and hand-made
 * variants (kernel version drift, CRLF, junk lines).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { looksLikeIommuRegset, parseIommuRegset } from '../../src/decode/regset-text.js';
import { InputError } from '../../src/errors.js';
import { CAPTURES } from '../helpers/captures.js';

const real = (name: string) => readFileSync(`${CAPTURES}/${name}/iommu_regset`, 'utf8');
const T = '\t';
const line = (name: string, off: string, val: string) => `${name.padEnd(16)}${T}${off}${T}${T}${val}`;

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('real captures', () => {
  it('qemu-linux61-legacy (a shorter register list, ending at MTRRCAP)', () => {
    const r = parseIommuRegset(real('qemu-linux61-legacy'), 'iommu_regset');
    expect(r.warnings).toEqual([]);
    expect(r.units).toHaveLength(1);
    const u = r.units[0];
    expect(u.name).toBe('dmar0');
    expect(u.base).toBe(0xfed90000);
    expect(u.line).toBe(1);
    expect(u.raw.VER).toBe(0x10n);
    expect(u.raw.GSTS).toBe(0xc7000000n);
    expect(u.raw.RTADDR).toBe(0x2643000n);
    expect(u.raw.CAP).toBe(0xd2008c22260206n);
    expect(u.raw.ECAP).toBe(0xf00f4an);
    expect(u.raw.IRTA).toBe(0x160000fn);
    expect(u.raw.IQA).toBe(0x15c4000n);
    expect(u.raw.FEDATA).toBe(0x21n);
    expect(u.raw.MTRRCAP).toBe(0n);
    expect(u.raw.PECTL).toBeUndefined(); // not in this file
    // 13 32-bit registers (VER, GCMD, GSTS, FSTS, FECTL, FEDATA, FEADDR, FEUADDR, PMEN, PLMBASE, PLMLIMIT,
    // ICS, PRS) + 15 64-bit (CAP … PQA, MTRRCAP): 30 non-empty lines minus the two header lines
    expect(Object.keys(u.raw)).toHaveLength(28);
  });
  for (const cap of ['qemu-linux61-debugfs', 'qemu-linux61-dmar-fault']) {
    it(`${cap} (full 6.1 list incl. VCCAP/VCMD/VCRSP)`, () => {
      const r = parseIommuRegset(real(cap), 'iommu_regset');
      expect(r.warnings).toEqual([]);
      expect(r.units).toHaveLength(1);
      const u = r.units[0];
      expect(u.base).toBe(0xfed90000);
      expect(u.raw.RTADDR).toBe(0x23c5000n);
      expect(u.raw.GSTS).toBe(0xc7000000n);
      expect(u.raw.CAP).toBe(0xd2008c22260206n);
      expect(u.raw.ECAP).toBe(0xf00f4an);
      expect(u.raw.IQA).toBe(0x206a000n);
      expect(u.raw.IRTA).toBe(0x210000fn);
      expect(u.raw.FEADDR).toBe(0xfee01004n);
      expect(u.raw.MTRR_FIX64K_00000).toBe(0n);
      expect(u.raw.MTRR_PHYSMASK9).toBe(0n);
      expect(u.raw.VCCAP).toBe(0n);
      // 17 32-bit + 16 64-bit (CAP … MTRRDEF) + 11 fixed MTRRs + 20 variable + 3 VC* = 67
      expect(Object.keys(u.raw)).toHaveLength(67);
    });
  }
  it('sniffing', () => {
    for (const c of ['qemu-linux61-legacy', 'qemu-linux61-debugfs']) expect(looksLikeIommuRegset(real(c))).toBe(true);
    expect(looksLikeIommuRegset(readFileSync(`${CAPTURES}/qemu-linux61-debugfs/dmar_translation_struct`, 'utf8'))).toBe(false);
    expect(looksLikeIommuRegset(readFileSync(`${CAPTURES}/qemu-linux61-debugfs/dmesg.txt`, 'utf8'))).toBe(false);
    expect(looksLikeIommuRegset('{"format":"dmarsift-registers"}')).toBe(false);
    expect(looksLikeIommuRegset('')).toBe(false);
    expect(looksLikeIommuRegset('\n\nIOMMU: Invalid base address\n')).toBe(true);
  });
});

describe('variants', () => {
  it('CRLF, trailing blank lines, two units, newest kernel list without AFLOG and CCMD, extra names kept', () => {
    const text = [
      'IOMMU: dmar0 Register Base Address: fed90000',
      `Name${T}${T}${T}Offset${T}${T}Contents`,
      line('VER', '0x00', '0x0000000000000060'),
      line('GSTS', '0x1c', '0x0000000080000000'),
      line('CAP', '0x08', '0x19ed008c40780466'),
      line('ECAP', '0x10', '0x0000000000000000'),
      line('RTADDR', '0x20', '0x0000000123456400'),
      line('PERFCAP', '0x300', '0x0000000000000042'),
      '',
      'IOMMU: dmar1 Register Base Address: 0xfed91000',
      `Name${T}${T}${T}Offset${T}${T}Contents`,
      line('VER', '0x00', '0x0000000000000010'),
      '',
      '',
      '',
    ].join('\r\n');
    const r = parseIommuRegset(text, 'f');
    expect(r.warnings).toEqual([]);
    expect(r.units.map((u) => [u.name, u.base, u.line])).toEqual([['dmar0', 0xfed90000, 1], ['dmar1', 0xfed91000, 10]]);
    expect(r.units[0].raw).toEqual({ VER: 0x60n, GSTS: 0x80000000n, CAP: 0x19ed008c40780466n, ECAP: 0n, RTADDR: 0x123456400n, PERFCAP: 0x42n });
    expect(r.units[1].raw).toEqual({ VER: 0x10n });
  });
  it('IOMMU: Invalid base address → warning with its line, no unit', () => {
    const text = ['IOMMU: dmar0 Register Base Address: fed90000', line('VER', '0x00', '0x10'), '', 'IOMMU: Invalid base address', ''].join('\n');
    const r = parseIommuRegset(text, 'f');
    expect(r.units).toHaveLength(1);
    expect(r.warnings).toEqual([{ line: 4, message: expect.stringMatching(/invalid/) }]);
  });
  it('a file holding only the invalid-base line has no units and no error', () => {
    const r = parseIommuRegset('IOMMU: Invalid base address\n', 'f');
    expect(r.units).toEqual([]);
    expect(r.warnings.map((w) => w.line)).toEqual([1]);
  });
  it('non-register lines → warnings with line numbers', () => {
    const text = [
      line('VER', '0x00', '0x10'), // before any unit
      'IOMMU: dmar0 Register Base Address: fed90000',
      line('GSTS', '0x1c', '0x00000000c7000000'),
      'this is not a register line',
      line('GSTS', '0x1c', '0x0'), // duplicate
      line('CAP', '0x10', '0x1'), // wrong offset for CAP
      line('ECAP', '0x10', '0x' + 'f'.repeat(17)), // wider than 64 bits
    ].join('\n');
    const r = parseIommuRegset(text, 'f');
    expect(r.warnings.map((w) => w.line)).toEqual([1, 4, 5, 6, 7]);
    expect(r.warnings[1].message).toMatch(/not an iommu_regset line/);
    expect(r.units[0].raw.GSTS).toBe(0xc7000000n);
    expect(r.units[0].raw.CAP).toBe(1n);
    expect(r.units[0].raw.ECAP).toBeUndefined();
  });
  it('nothing recognisable → InputError at line 1', () => {
    for (const text of ['', '\n\n', 'hello world\nsecond line\n', '{"format":"x"}']) {
      const e = inputError(() => parseIommuRegset(text, 'regs.txt'));
      expect(e.line).toBe(1);
      expect(e.file).toBe('regs.txt');
    }
  });
  it('a base beyond 52 bits skips the unit with a warning', () => {
    const r = parseIommuRegset('IOMMU: dmar0 Register Base Address: ffffffffffffffff\nVER             \t0x00\t\t0x10\n', 'f');
    expect(r.units).toEqual([]);
    expect(r.warnings.map((w) => w.line)).toEqual([1, 2]);
  });
});
