import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { DomainContribution } from '../../src/model/contribution.js';
import type { Mapping } from '../../src/model/types.js';
import { looksLikeDebugfsDomain, parseDebugfsDomain } from '../../src/text/debugfs-domain.js';
import { CAPTURES } from '../helpers/captures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/debugfs');
const read = (p: string): string => readFileSync(p, 'utf8');
const G1 = 1073741824;
const M2 = 2097152;

/** The mapping covering an IOVA, and the HPA it gives (independent of how ranges were coalesced). */
function translate(d: DomainContribution, iova: number): { hpa: number; m: Mapping } | undefined {
  const pfn = Math.floor(iova / 4096);
  const m = d.mappings.find((x) => pfn >= x.iovaPfn && pfn < x.iovaPfn + x.pages);
  if (!m) return undefined;
  return { hpa: (m.hpaPfn + (pfn - m.iovaPfn)) * 4096 + (iova % 4096), m };
}

function byRoot(ds: DomainContribution[] | undefined, root: number): DomainContribution {
  const d = ds?.find((x) => x.root === root);
  expect(d, `domain with root 0x${root.toString(16)}`).toBeDefined();
  return d!;
}

describe('parseDebugfsDomain on the real Linux 6.1 captures (older single-file layout)', () => {
  const text = read(path.join(CAPTURES, 'qemu-linux61-debugfs/domain_translation_struct'));

  it('parses the 1.4 MB file into coalesced ranges: far fewer objects than its 12 868 leaf rows', () => {
    // Work, not time (its speed is the bench's business): rows become runs as they are read, so
    // the objects kept grow with the runs, not with the rows or pages.
    const rows = text.split('\n').filter((l) => l.startsWith('0x')).length;
    expect(rows).toBe(12868);
    const c = parseDebugfsDomain(text, 'domain_translation_struct');
    const ranges = c.domains!.reduce((n, d) => n + d.mappings.length, 0);
    expect(ranges).toBeGreaterThan(0);
    expect(ranges).toBeLessThan(rows / 10);
  });

  it('page counts, levels and sample translations of the README', () => {
    expect(looksLikeDebugfsDomain(text)).toBe(true);
    const c = parseDebugfsDomain(text, 'domain_translation_struct');
    expect(c.warnings).toEqual([]);
    // One contribution per table: the 00:1f.x block printed three times collapses into one.
    expect(c.domains!.map((d) => d.root)).toEqual([0x2844000, 0x2849000, 0x284c000, 0x2851000, 0x285b000, 0x286e000]);
    for (const root of [0x2844000, 0x2849000, 0x284c000]) {
      expect(byRoot(c.domains, root)).toMatchObject({ pageCount: 0, mappings: [] });
    }
    const isa = byRoot(c.domains, 0x2851000);
    expect(isa.headerBdf).toBe('0000:00:1f.0');
    expect(isa.source).toEqual({ part: 'domain_translation_struct', line: 10 });
    expect(isa.pageCount).toBe(4096);
    expect(isa.levels).toBe(3);
    // IOVA 0–16 MiB identity, 4 KiB pages.
    expect(isa.mappings).toEqual([{ iovaPfn: 0, hpaPfn: 0, pages: 4096, read: true, write: true, pageSize: 4096 }]);
    expect(translate(isa, 0xfff000)!.hpa).toBe(0xfff000);

    const e1000e = byRoot(c.domains, 0x285b000);
    expect(e1000e.headerBdf).toBe('0000:01:00.0');
    expect(e1000e.pageCount).toBe(258);
    expect(e1000e.mappings.reduce((s, m) => s + m.pages * 4096, 0)).toBe(0x102000);
    expect(translate(e1000e, 0xffefd000)).toMatchObject({ hpa: 0x2d75000, m: { read: true, write: true, pageSize: 4096 } });
    expect(translate(e1000e, 0xfffff000)).toMatchObject({ hpa: 0x2c59000, m: { read: true, write: true } });
    // Root, and the level-2 and level-1 tables the fault dump of 0xffe00000 shows (0x2c4e003, 0x2c4f003).
    expect(e1000e.tablePfns).toEqual(expect.arrayContaining([0x285b, 0x2c4e, 0x2c4f]));

    const virtio = byRoot(c.domains, 0x286e000);
    expect(virtio.headerBdf).toBe('0000:02:00.0');
    expect(virtio.pageCount).toBe(322);
    expect(virtio.mappings.reduce((s, m) => s + m.pages * 4096, 0)).toBe(0x142000);
    expect(translate(virtio, 0xffebd000)!.hpa).toBe(0x2cd1000);
    expect(translate(virtio, 0xfffff000)!.hpa).toBe(0x2afc000);
  });

  it('qemu-linux61-dmar-fault: 02:00.0 gone, 01:00.0 still 258 pages; faulting IOVAs unmapped', () => {
    const c = parseDebugfsDomain(read(path.join(CAPTURES, 'qemu-linux61-dmar-fault/domain_translation_struct')), 'f');
    expect(c.warnings).toEqual([]);
    expect(c.domains!.map((d) => d.root)).toEqual([0x2844000, 0x2849000, 0x284c000, 0x2851000, 0x285b000]);
    expect(byRoot(c.domains, 0x2851000).pageCount).toBe(4096);
    const e1000e = byRoot(c.domains, 0x285b000);
    expect(e1000e.pageCount).toBe(258);
    expect(translate(e1000e, 0xbadd000)).toBeUndefined();
    expect(translate(e1000e, 0xffe00000)).toBeUndefined();
  });

  it('a repeated table with different rows keeps the first and warns', () => {
    const block = (pte: string): string => `Device 0000:00:1f.0 @0x2851000\nIOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE\n`
      + `0x0000000000000 |\t0x0000000000000000\t0x0000000000000000\t0x0000000002852003\t0x0000000002853003\t${pte}\n\n`;
    const same = parseDebugfsDomain(block('0x0000000000000003') + block('0x0000000000000003'), 's');
    expect(same.domains).toHaveLength(1);
    expect(same.warnings).toEqual([]);
    const diff = parseDebugfsDomain(block('0x0000000000000003') + block('0x0000000000000001'), 'd');
    expect(diff.domains).toHaveLength(1);
    expect(diff.domains![0].mappings[0].write).toBe(true);
    expect(diff.warnings).toHaveLength(1);
    expect(diff.warnings[0].source).toEqual({ part: 'd', line: 5 });
  });
});

describe('parseDebugfsDomain on hand-written newer per-device / per-PASID files', () => {
  it('rows stop at the leaf: 3 columns = 1 GiB, 4 = 2 MiB, 5 = 4 KiB; SNP and TM bits', () => {
    const text = read(path.join(FIXTURES, 'domain-newer-device.txt'));
    expect(looksLikeDebugfsDomain(text)).toBe(true);
    const c = parseDebugfsDomain(text, 'domain_translation_struct');
    expect(c.warnings).toEqual([]);
    expect(c.domains).toHaveLength(1);
    const d = c.domains![0];
    expect(d.root).toBe(0x1234000);
    expect(d.headerBdf).toBe('0000:03:00.0');
    expect(d.pasid).toBeUndefined();
    expect(d.levels).toBe(4);
    expect(d.mappings).toEqual([
      { iovaPfn: 0x40000, hpaPfn: 0x80000, pages: 262144, read: true, write: true, pageSize: G1 },
      { iovaPfn: 0x80000, hpaPfn: 0x90000, pages: 512, read: true, write: false, pageSize: M2 },
      { iovaPfn: 0x80200, hpaPfn: 0xa0000, pages: 2, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 0x80202, hpaPfn: 0xa0002, pages: 1, read: true, write: true, pageSize: 4096, snp: true, tm: true },
    ]);
    expect(d.pageCount).toBe(262144 + 512 + 3);
    expect([...d.tablePfns].sort((a, b) => a - b)).toEqual([0x1234, 0x1235, 0x1236, 0x1237]);
  });

  it('per-PASID file: pasid (hex in the header), 5-level table', () => {
    const c = parseDebugfsDomain(read(path.join(FIXTURES, 'domain-newer-pasid.txt')), 'p');
    expect(c.warnings).toEqual([]);
    const d = c.domains![0];
    expect(d).toMatchObject({ root: 0x2000000, headerBdf: '0001:3a:02.1', pasid: 0x1a, levels: 5, pageCount: 1 });
    expect(d.mappings).toEqual([{ iovaPfn: 2 ** 36, hpaPfn: 0x5000, pages: 1, read: true, write: false, pageSize: 4096 }]);
    expect([...d.tablePfns].sort((a, b) => a - b)).toEqual([0x2000, 0x2001, 0x2002, 0x2003, 0x2004]);
  });

  it('cut-off rows and pasted noise become warnings with line numbers; good rows are kept', () => {
    const text = read(path.join(FIXTURES, 'domain-cut.txt'));
    const c = parseDebugfsDomain(text, 'cut.txt');
    const d = c.domains![0];
    expect(d.levels).toBe(3);
    expect(d.mappings).toEqual([
      { iovaPfn: 0x100, hpaPfn: 0x7000, pages: 2, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 0x400, hpaPfn: 0x8000, pages: 512, read: true, write: true, pageSize: M2 },
    ]);
    expect(d.pageCount).toBe(514);
    expect(c.warnings.map((w) => w.source!.line)).toEqual([5, 7, 9]);
    // CRLF: identical result.
    expect(parseDebugfsDomain(text.replace(/\n/g, '\r\n'), 'cut.txt')).toEqual(c);
  });

  it('"DMA Remapping is not enabled" gives a disabled unit; empty file is an empty capture', () => {
    const c = parseDebugfsDomain('DMA Remapping is not enabled on dmar1\n', 'x');
    expect(c.domains).toEqual([]);
    expect(c.units).toEqual([{ name: 'dmar1', translationEnabled: false, source: { part: 'x', line: 1 } }]);
    expect(parseDebugfsDomain('', 'e').domains).toEqual([]);
  });

  it('random text is an InputError at line 1', () => {
    expect(() => parseDebugfsDomain('lorem ipsum\n0xzz\n', 'r.txt')).toThrow(InputError);
    try {
      parseDebugfsDomain('lorem ipsum', 'r.txt');
    } catch (e) {
      expect((e as InputError).format()).toMatch(/^r\.txt:1: /);
    }
    expect(looksLikeDebugfsDomain('lorem ipsum')).toBe(false);
    expect(looksLikeDebugfsDomain(read(path.join(CAPTURES, 'qemu-linux61-debugfs/dmar_translation_struct')))).toBe(false);
  });

  it('property: arbitrary text never throws anything but InputError', () => {
    const fragments = fc.constantFrom(
      'Device 0000:01:00.0 @0x285b000', 'Device 0000:01:00.0 with pasid 1 @0x1000', 'Device ppt0 @0xffffffffffffffff',
      'IOVA_PFN\t\tPML5E', '0x0000000000000 |\t0x0000000000000000\t0x0000000000000000\t0x0000000002852003\t0x0000000002853003\t0x0000000000000003',
      '0x1 |\t0xffffffffffffffff\t0xffffffffffffffff\t0xffffffffffffffff', '0x |', '|', '\t', '0x0000000000000083', 'DMA Remapping is not enabled on dmar0',
    );
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.oneof(fragments, fc.string({ maxLength: 20 })), { maxLength: 30 }).map((a) => a.join('\n')));
    fc.assert(fc.property(text, (t) => {
      try {
        parseDebugfsDomain(t, 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});

describe('table address at or above 2^53 (issue 13: an address is an exact number in the model)', () => {
  const ROW = '0x0000000000000 |\t0x0000000000000000\t0x0000000000000000\t0x0000000001001003\t0x0000000001002003\t0x0000000001003003';
  const block = (root: string, bdf: string): string => `Device ${bdf} @0x${root}\nIOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE\n${ROW}\n`;

  it('the block is rejected with a warning at its header line, its rows are not kept under a rounded root', () => {
    for (const root of ['20000000000000', '200000000001000', 'fffffffffffff000']) {
      const c = parseDebugfsDomain(block(root, '0000:01:00.0') + '\n' + block('1000000', '0000:02:00.0'), 'domain_translation_struct');
      expect(c.domains!.map((d) => [d.root, d.headerBdf]), root).toEqual([[0x1000000, '0000:02:00.0']]);
      expect(c.warnings.map((w) => [w.source, w.message]), root).toEqual([
        [{ part: 'domain_translation_struct', line: 1 }, expect.stringMatching(new RegExp(`0x${root}.*2\\^53`))],
      ]);
    }
  });

  it('the largest exact table address is kept to the byte', () => {
    const c = parseDebugfsDomain(block('1ffffffffff000', '0000:01:00.0'), 'p');
    expect(c.domains!.map((d) => d.root)).toEqual([2 ** 53 - 4096]);
    expect(c.warnings).toEqual([]);
  });
});
