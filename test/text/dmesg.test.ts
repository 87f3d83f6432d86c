import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { looksLikeDmesg, parseDmesg, parseDmesgDetails } from '../../src/text/dmesg.js';
import { CAPTURES } from '../helpers/captures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/debugfs');
const read = (p: string): string => readFileSync(p, 'utf8');

describe('parseDmesg on the real captures', () => {
  it('qemu-linux61-dmar-fault: the unit and both faults with their table dumps (README)', () => {
    const text = read(path.join(CAPTURES, 'qemu-linux61-dmar-fault/dmesg.txt'));
    expect(looksLikeDmesg(text)).toBe(true);
    const r = parseDmesgDetails(text, 'dmesg.txt');
    const c = r.contribution;
    expect(c.warnings).toEqual([]);
    expect(r.haw).toBe(39);
    expect(r.drhds.map((d) => [d.base, d.flags])).toEqual([[0xfed90000, 0]]);
    expect(r.rmrrs).toEqual([]);
    expect(c.units).toHaveLength(1);
    expect(c.units![0]).toMatchObject({
      name: 'dmar0', registerBase: 0xfed90000, version: { major: 1, minor: 0 },
      registers: { base: 0xfed90000, name: 'dmar0', raw: { CAP: 0xd2008c22260206n, ECAP: 0xf00f4an, VER: 0x10n }, faultRecords: [] },
    });
    expect(c.faults).toHaveLength(2);
    const [a, b] = c.faults!;
    const common = { unit: 0xfed90000, bdf: '0000:01:00.0', type: 'read', reason: 6, reasonText: 'PTE Read access is not set', iovaOffset: 0 };
    expect(a).toMatchObject({ ...common, iovaPfn: 0xbadd000 / 4096 });
    expect(a.pasid).toBeUndefined();
    expect(a.dumped).toEqual({
      root: 0x285c001n, contextHi: 0x601n, contextLo: 0x285b001n,
      levels: [{ level: 3, entry: 0n }],
      note: 'level-3 entry not present (kernel: "page table not present at level 2")',
    });
    expect(b).toMatchObject({ ...common, iovaPfn: 0xffe00000 / 4096 });
    expect(b.dumped).toEqual({
      root: 0x285c001n, contextHi: 0x601n, contextLo: 0x285b001n,
      levels: [{ level: 3, entry: 0x2c4e003n }, { level: 2, entry: 0x2c4f003n }, { level: 1, entry: 0n }],
      note: 'level-1 entry not present (kernel: "page table not present at level 0")',
    });
    expect(a.source).toEqual({ part: 'dmesg.txt', line: 297 });
  });

  it('qemu-linux61-debugfs and -legacy: the unit, no faults; e820 lines are not ours', () => {
    for (const cap of ['qemu-linux61-debugfs', 'qemu-linux61-legacy']) {
      const c = parseDmesg(read(path.join(CAPTURES, cap, 'dmesg.txt')), 'dmesg.txt');
      expect(c.warnings).toEqual([]);
      expect(c.units!.map((u) => [u.name, u.registerBase])).toEqual([['dmar0', 0xfed90000]]);
      expect(c.faults).toBeUndefined();
      expect(c.memoryMap).toBeUndefined();
    }
  });
});

describe('parseDmesg on hand-written lines of other kernel versions', () => {
  const text = read(path.join(FIXTURES, 'dmesg-kernel-versions.txt'));

  it('older unit, HAW, DRHD and RMRR lines behind syslog prefixes', () => {
    const r = parseDmesgDetails(text, 'kern.log');
    expect(r.haw).toBe(46);
    expect(r.drhds.map((d) => [d.base, d.flags])).toEqual([[0xfbffe000, 1]]);
    expect(r.rmrrs.map((x) => [x.base, x.end])).toEqual([[0xbf7ec000, 0xbf7fffff]]);
    expect(r.contribution.units).toHaveLength(1);
    expect(r.contribution.units![0]).toMatchObject({
      name: 'dmar0', registerBase: 0xfbffe000, version: { major: 1, minor: 0 },
      registers: { raw: { CAP: 0xd2078c106f0462n, ECAP: 0xf020fen, VER: 0x10n } },
      source: { part: 'kern.log', line: 3 },
    });
  });

  it('every fault spelling; old reasons are decimal; PASID ffffffff means none; INTR-REMAP skipped', () => {
    const c = parseDmesg(text, 'kern.log');
    const f = c.faults!;
    expect(f.map((x) => [x.source.line, x.bdf, x.type, x.iovaPfn, x.iovaOffset, x.reason, x.pasid])).toEqual([
      [7, '0000:00:02.0', 'write', 0x7fbf, 0, 5, undefined],
      [8, '0000:01:00.0', 'read', 0xbadd, 0x123, 12, undefined],
      [9, '0000:02:00.1', 'write', 0x7fff0, 0, 0xc, 0x1a],
      [10, '0000:03:00.0', 'read', 0x1, 0, 6, undefined],
      [13, '0000:01:00.0', 'read', 0x200, 0, 6, undefined],
      [19, '0000:00:03.0', 'read', 0x40201, 0, 4, 0],
      [27, '0000:01:00.0', 'read', 0x40200, 0, 6, undefined],
    ]);
    expect(f[0].reasonText).toBe('PTE Write access is not set');
    expect(f[3].reasonText).toBe('PTE Read access is not set'); // from the 2.6 continuation line
    expect(f.every((x) => x.unit === 0xfbffe000)).toBe(true);
    expect(f.slice(0, 4).every((x) => x.dumped === undefined)).toBe(true);
    // Pre-2024 dump: "PTE not present at level 3" names the entry's own level, not the one below.
    expect(f[4].dumped).toEqual({
      root: 0x1000001n, contextHi: 0x202n, contextLo: 0x1001001n, levels: [{ level: 4, entry: 0x1002003n }],
      note: 'level-3 entry not present or a large page (kernel: "PTE not present at level 3")',
    });
    expect(f[5].dumped!.root).toBe(0x1000001n);
    expect(f[5].dumped!.contextLo).toBe(0x1003001n);
    expect(f[5].dumped!.levels).toEqual([]);
    expect(f[5].dumped!.note).toContain('scalable mode page table is not present');
    expect(f[5].dumped!.note).toContain('PASID directory entry 0x0000000001004001');
    // A walk that ends at a large-page leaf prints no "not present" line.
    expect(f[6].dumped).toEqual({
      root: 0x1000001n, contextHi: 0x202n, contextLo: 0x1001001n,
      levels: [{ level: 4, entry: 0x1002003n }, { level: 3, entry: 0x1005003n }, { level: 2, entry: 0x80000083n }],
    });
    // The cut-off last line is a warning, not a lost fault in silence.
    expect(c.warnings.map((w) => w.source)).toEqual([{ part: 'kern.log', line: 34 }]);
  });

  it('CRLF gives the same result', () => {
    expect(parseDmesgDetails(text.replace(/\n/g, '\r\n'), 'k')).toEqual(parseDmesgDetails(text, 'k'));
  });

  it('a dump with no fault before it is not attached (warning)', () => {
    const c = parseDmesg('[ 1.0] DMAR: Dump dmar0 table entries for IOVA 0x1000\n[ 1.1] DMAR: root entry: 0x0000000000000000\n', 'd');
    expect(c.faults).toBeUndefined();
    expect(c.warnings.map((w) => w.source)).toEqual([{ part: 'd', line: 1 }]);
  });

  it('a kernel log without DMAR lines is empty with a warning; random text is an InputError', () => {
    const c = parseDmesg('[    0.000000] Linux version 6.1.0\n[    0.1] e820: update [mem 0x0-0xfff]\n', 'd');
    expect(c.units).toBeUndefined();
    expect(c.warnings).toHaveLength(1);
    expect(() => parseDmesg('just some notes\nabout nothing', 'notes.txt')).toThrow(InputError);
    expect(looksLikeDmesg('just some notes')).toBe(false);
  });

  it('property: arbitrary text never throws anything but InputError', () => {
    const fragments = fc.constantFrom(
      'DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0xffffffffffffffff [fault reason 0xff] x',
      'DMAR:[DMA Write] Request device [ff:1f.7] fault addr 1 ', 'DMAR:[fault reason 9a] y', 'DMAR: Dump dmar9 table entries for IOVA 0x0',
      'DMAR: pte level: 9, pte value: 0x1', 'DMAR: page table not present at level 0', 'DMAR: root entry: 0x', 'dmar: IOMMU 7: reg_base_addr ffffffffffffffff ver 99:99 cap 0 ecap 0',
      'DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap 1 ecap 2', '[    0.000000] ', 'DMAR: RMRR base: 0xffffffffffffffff end: 0x0',
    );
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.oneof(fragments, fc.string({ maxLength: 20 })), { maxLength: 30 }).map((a) => a.join('\n')));
    fc.assert(fc.property(text, (t) => {
      try {
        parseDmesgDetails(t, 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});

describe('addresses at or above 2^53 (issue 13: an address is an exact number in the model)', () => {
  // 2^53 = 0x20000000000000: the first address a double cannot hold next to its neighbour.
  const UNIT = (base: string): string => `[    0.01] DMAR: dmar0: reg_base_addr ${base} ver 1:0 cap d2008c22260206 ecap f00f4a`;
  const at = (ws: { message: string; source?: { part: string; line?: number } }[], line: number): string[] =>
    ws.filter((w) => w.source?.part === 'dmesg.txt' && w.source.line === line).map((w) => w.message);

  it('a unit register base of 2^53 or more is rejected with a warning at its line, not rounded', () => {
    for (const base of ['20000000000000', '20000000000001', 'fffffffffffff000']) {
      const r = parseDmesgDetails(`[    0.00] DMAR: Host address width 39\n${UNIT(base)}\n`, 'dmesg.txt');
      expect(r.contribution.units, base).toBeUndefined();
      expect(at(r.contribution.warnings, 2), base).toEqual([expect.stringMatching(new RegExp(`0x${base}.*2\\^53`))]);
    }
  });

  it('the largest exact base is kept to the byte', () => {
    const r = parseDmesgDetails(`${UNIT('1ffffffffff000')}\n`, 'dmesg.txt');
    expect(r.contribution.units![0].registerBase).toBe(2 ** 53 - 4096);
    expect(r.contribution.warnings).toEqual([]);
  });

  it('DRHD base and RMRR base or end of 2^53 or more: the line is rejected with a warning, not rounded', () => {
    const log = [
      'DMAR: DRHD base: 0x20000000000000 flags: 0x1',
      'DMAR: RMRR base: 0x20000000000000 end: 0x20000000000fff',
      'DMAR: RMRR base: 0x000000bf7ec000 end: 0xffffffffffffffff',
      'DMAR: DRHD base: 0x000000fed90000 flags: 0x0',
    ].join('\n');
    const r = parseDmesgDetails(log, 'dmesg.txt');
    expect(r.drhds.map((d) => d.base)).toEqual([0xfed90000]);
    expect(r.rmrrs).toEqual([]);
    for (const line of [1, 2, 3]) expect(at(r.contribution.warnings, line), `line ${line}`).toEqual([expect.stringMatching(/2\^53/)]);
  });
});
