/**
 * debugfs `ir_translation_struct`. Inputs are written from the kernel's printf formats
 * (drivers/iommu/intel/debugfs.c); the real captures are compared in test/decode/irte-real.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { sniffText } from '../../src/capture/text-parts.js';
import { InputError } from '../../src/errors.js';
import { irTranslationContribution, looksLikeIrTranslation, parseIrTranslation } from '../../src/text/ir-translation.js';

// " %-5d %02x:%02x.%01x %08x %02x  %016llx\t%016llx"
const REMAP_22 = ' 22    01:00.0 00000100 27  0000000000040100\t000001000027000d';
const REMAP_1 = ' 1     ff:00.0 00000100 30  000000000004ff00\t000001000030000d';
// " %-5d %02x:%02x.%01x %08x %08x %02x  %016llx\t%016llx": PDA-H 1, PDA-L << 6 = 0x23456780, VV 0x41
const POSTED_7 = ' 7     01:00.0 00000001 23456780 41  0000000100040100\t234567800041c001';

const FULL = [
  'Remapped Interrupt supported on IOMMU: dmar0',
  ' IR table address:2100000',
  ' Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low',
  REMAP_1,
  REMAP_22,
  '',
  'Remapped Interrupt supported on IOMMU: dmar1',
  'Interrupt Remapping is not enabled',
  '',
  '****',
  '',
  'Posted Interrupt supported on IOMMU: dmar0',
  ' IR table address:2100000',
  ' Entry SrcID   PDA_high PDA_low  Vct IRTE_high\t\tIRTE_low',
  POSTED_7,
  '',
  '',
].join('\n');

describe('ir_translation_struct', () => {
  it('both sections, two units, every line understood', () => {
    const r = parseIrTranslation(FULL, 'ir_translation_struct');
    expect(r.warnings).toEqual([]);
    expect(r.units.map((u) => [u.name, u.tableAddress, u.enabled, u.remappedSection, u.postedSection, u.line])).toEqual([
      ['dmar0', 0x2100000, true, true, true, 1],
      ['dmar1', undefined, false, true, false, 7],
    ]);
    expect(r.units[0].entries).toEqual([
      { index: 1, section: 'remapped', hi: 0x4ff00n, lo: 0x000001000030000dn, line: 4 },
      { index: 22, section: 'remapped', hi: 0x40100n, lo: 0x000001000027000dn, line: 5 },
      { index: 7, section: 'posted', hi: 0x0000000100040100n, lo: 0x234567800041c001n, line: 15 },
    ]);
    expect(r.units[1].entries).toEqual([]);
  });

  it('sniffs the file', () => {
    expect(looksLikeIrTranslation(FULL)).toBe(true);
    expect(looksLikeIrTranslation('IOMMU dmar0: Root Table Address: 0x1000\n')).toBe(false);
  });

  it('"Interrupt Remapping is not enabled on dmar1" (with the unit named) is understood too', () => {
    const r = parseIrTranslation('Remapped Interrupt supported on IOMMU: dmar1\nInterrupt Remapping is not enabled on dmar1\n\n****\n\n', 'f');
    expect(r.warnings).toEqual([]);
    expect(r.units[0].enabled).toBe(false);
  });

  it('a row whose columns disagree with its raw halves is kept, with a warning naming the line', () => {
    // vector column 28, but IRTE_low bits 23:16 are 0x27; SrcID 02:00.0 but SID 0x0100
    const bad = ' 22    02:00.0 00000100 28  0000000000040100\t000001000027000d';
    const r = parseIrTranslation(['Remapped Interrupt supported on IOMMU: dmar0', ' IR table address:2100000',
      ' Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low', bad].join('\n'), 'irt');
    expect(r.units[0].entries.map((e) => [e.index, e.lo])).toEqual([[22, 0x000001000027000dn]]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0].source).toEqual({ part: 'irt', line: 4 });
    expect(r.warnings[0].message).toContain('SrcID 02:00.0 but IRTE_high says 01:00.0');
    expect(r.warnings[0].message).toContain('Vct 28 but IRTE_low bits 23:16 are 27');
  });

  it('a posted-format entry (IM = 1) in the remapped section, and a non-present one, are called out', () => {
    // 0x...800d: IM set; 0x...000c: P clear
    const r = parseIrTranslation(['Remapped Interrupt supported on IOMMU: dmar0', ' Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low',
      ' 3     01:00.0 00000100 27  0000000000040100\t000001000027800d',
      ' 4     01:00.0 00000100 27  0000000000040100\t000001000027000c'].join('\n'), 'f');
    expect(r.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('IM = 1 in the remapped section'),
      expect.stringContaining('P = 0'),
    ]);
  });

  it('never drops a line silently: junk, rows without a unit, duplicates, long lines, a second separator', () => {
    const text = [
      REMAP_22, // 1: before any unit
      'Remapped Interrupt supported on IOMMU: dmar0', // 2
      ' Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low', // 3
      REMAP_22, // 4
      REMAP_22, // 5: duplicate
      'root@host:~# cat ir_translation_struct', // 6: junk
      'x'.repeat(2000), // 7: too long
      ' 70000 01:00.0 00000100 27  0000000000040100\t000001000027000d', // 8: index beyond any table
      '****', // 9
      '****', // 10
      POSTED_7, // 11: posted row, no posted unit
    ].join('\n');
    const r = parseIrTranslation(text, 'p');
    expect(r.units[0].entries.map((e) => e.line)).toEqual([4]);
    expect(r.warnings.map((w) => w.source?.line)).toEqual([1, 5, 6, 7, 8, 10, 11]);
    expect(r.warnings[2].message).toMatch(/not recognised/);
  });

  it('a table address that is no page address is refused', () => {
    const r = parseIrTranslation('Remapped Interrupt supported on IOMMU: dmar0\n IR table address:2100010\n', 'f');
    expect(r.units[0].tableAddress).toBeUndefined();
    expect(r.warnings[0].message).toMatch(/no page address/);
  });

  it('CRLF line ends are fine', () => {
    const r = parseIrTranslation(FULL.replace(/\n/g, '\r\n'), 'f');
    expect(r.warnings).toEqual([]);
    expect(r.units[0].entries).toHaveLength(3);
  });
});

describe('a real file from the QEMU q35 fixture boot (test/fixtures/pci/qemu-q35-vtd)', () => {
  it('15 remapped entries, SIDs of the IOAPIC, the three root ports and the NICs', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../fixtures/pci/qemu-q35-vtd/ir_translation_struct', import.meta.url), 'utf8');
    const r = parseIrTranslation(text, 'ir_translation_struct');
    expect(r.warnings).toEqual([]);
    const u = r.units[0];
    expect([u.name, u.tableAddress, u.enabled, u.postedSection]).toEqual(['dmar0', 0x2100000, true, false]);
    // SID = IRTE_high bits 15:0, as printed in the SrcID column: ff:00.0 = 0xff00, 00:02.0 = 0x0010, …
    const sids = u.entries.map((e) => [e.index, Number(e.hi & 0xffffn)]);
    expect(sids).toEqual([
      [1, 0xff00], [3, 0xff00], [8, 0xff00], [16, 0x0010], [18, 0x0018], [20, 0x0020],
      [21, 0x0200], [22, 0x0200], [23, 0x0200], [24, 0x0100], [25, 0x0100], [26, 0x0100], [27, 0x0500], [28, 0x0500], [29, 0x0500],
    ]);
  });
});

describe('ir_translation_struct as a capture part (kind ir-translation)', () => {
  it('is recognised by content, and each unit block becomes a unit contribution by its kernel name', () => {
    expect(sniffText(FULL)).toEqual({ kind: 'ir-translation', format: 'ir_translation_struct' });
    const c = irTranslationContribution(FULL, 'irt');
    expect(c.units?.map((u) => [u.name, u.irTable?.entries.length, u.source])).toEqual(
      parseIrTranslation(FULL, 'irt').units.map((u) => [u.name, u.entries.length, { part: 'irt', line: u.line }]),
    );
  });
  it('a host without interrupt-remapping units prints the separator alone: no unit, no error', () => {
    expect(irTranslationContribution('\n****\n\n', 'irt')).toEqual({ units: [], warnings: [] });
  });
  it('text with no unit line at all is refused at line 1', () => {
    expect(() => irTranslationContribution('hello\nworld\n', 'irt')).toThrow(InputError);
    expect(sniffText('hello\nworld\n')).toBeUndefined();
  });
});
