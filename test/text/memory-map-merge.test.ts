/**
 * One memory map from several sources (issue 11 item 4): /proc/iomem wins over the firmware's e820
 * (or SMAP) map where both cover a range, the firmware map fills what iomem does not cover, a
 * disagreement about RAM is a warning naming both lines, and RAM is counted once.
 *
 * Expected values are read off the files by hand: test/fixtures/real/live-before is what
 * `dmarsift capture` wrote on a Linux 6.1 guest with `-m 1024M` (see its README).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeMemoryMaps, readMemoryMap } from '../../src/text/memory-map.js';

const LIVE = path.resolve(import.meta.dirname, '../fixtures/real/live-before');
const live = (f: string): string => readFileSync(path.join(LIVE, f), 'utf8');

const ramOf = (regions: { start: number; end: number; type: string }[]): number =>
  regions.filter((r) => r.type === 'ram').reduce((a, r) => a + (r.end - r.start), 0);

/** Sources as load.ts hands them over: the memory-map part, then the e820 lines of dmesg. */
function merged(iomemText: string, dmesgText: string) {
  const a = readMemoryMap(iomemText, 'iomem.txt');
  const b = readMemoryMap(dmesgText, 'dmesg.txt', { kernelLog: true });
  return mergeMemoryMaps([...a.sources, ...b.sources]);
}

describe('the live capture: /proc/iomem and the dmesg e820 lines of a 1 GiB guest', () => {
  // System RAM in iomem.txt: 00001000-0009fbff and 00100000-3ffdffff (inclusive ends).
  const IOMEM_RAM = (0x9fbff + 1 - 0x1000) + (0x3ffdffff + 1 - 0x100000);

  it('each source alone has its own RAM figure', () => {
    expect(ramOf(readMemoryMap(live('iomem.txt'), 'iomem.txt').sources.flatMap((s) => s.regions))).toBe(IOMEM_RAM);
    // e820 usable: 0-9fbff and 100000-3ffdffff.
    expect(ramOf(readMemoryMap(live('dmesg.txt'), 'dmesg.txt', { kernelLog: true }).sources.flatMap((s) => s.regions))).toBe(0x9fc00 + (0x3ffe0000 - 0x100000));
  });
  it('merged: RAM once (iomem wins), about 1 GiB, no warning (the kernel reserving page 0 is expected)', () => {
    const m = merged(live('iomem.txt'), live('dmesg.txt'));
    expect(ramOf(m.regions)).toBe(IOMEM_RAM);
    expect(ramOf(m.regions)).toBeGreaterThan(1023 * 2 ** 20);
    expect(ramOf(m.regions)).toBeLessThanOrEqual(2 ** 30);
    expect(m.warnings).toEqual([]);
    // Page 0 is Reserved in iomem (e820 says usable): iomem's word is kept.
    expect(m.regions.find((r) => r.start === 0)).toMatchObject({ end: 0x1000, type: 'reserved', source: { part: 'iomem.txt', line: 1 } });
  });
  it('merged regions do not overlap, and each comes from one line of one source', () => {
    const m = merged(live('iomem.txt'), live('dmesg.txt'));
    for (let i = 1; i < m.regions.length; i++) expect(m.regions[i].start).toBeGreaterThanOrEqual(m.regions[i - 1].end);
    expect(m.regions.every((r) => r.source.part === 'iomem.txt' && typeof r.source.line === 'number')).toBe(true);
  });
});

describe('rules', () => {
  const IOMEM = '00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n00100000-3fffffff : System RAM\n';
  it('the order of the sources does not matter: iomem wins either way', () => {
    const e820 = '[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000003fffffff] usable\n';
    const a = mergeMemoryMaps([...readMemoryMap(e820, 'dmesg', { kernelLog: true }).sources, ...readMemoryMap(IOMEM, 'iomem').sources]);
    // iomem's RAM, plus the hole 0xa0000-0xfffff that only e820 covers.
    expect(ramOf(a.regions)).toBe((0xa0000 - 0x1000) + (0x100000 - 0xa0000) + (0x40000000 - 0x100000));
    expect(a.regions[0]).toMatchObject({ start: 0, end: 0x1000, type: 'reserved', source: { part: 'iomem' } });
  });
  it('the firmware map fills what iomem does not cover', () => {
    const e820 = 'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved\nBIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable\n';
    const m = merged(IOMEM, e820);
    expect(m.regions.map((r) => [r.start, r.end, r.type, r.source.part])).toEqual([
      [0, 0x1000, 'reserved', 'iomem.txt'],
      [0x1000, 0xa0000, 'ram', 'iomem.txt'],
      [0xf0000, 0x100000, 'reserved', 'dmesg.txt'],
      [0x100000, 0x40000000, 'ram', 'iomem.txt'],
      [0x100000000, 0x140000000, 'ram', 'dmesg.txt'],
    ]);
  });
  it('a disagreement about RAM is one warning naming both lines; iomem is kept', () => {
    const e820 = 'BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] usable\nBIOS-e820: [mem 0x0000000000200000-0x00000000002fffff] reserved\n';
    const m = merged(IOMEM, e820);
    expect(ramOf(m.regions)).toBe(0xa0000 - 0x1000 + 0x40000000 - 0x100000);
    expect(m.warnings).toHaveLength(1);
    const w = m.warnings[0];
    expect(w.message).toMatch(/0x200000-0x2fffff/);
    expect(w.message).toMatch(/iomem\.txt:3/);
    expect(w.message).toMatch(/dmesg\.txt:2/);
    expect(w.source).toEqual({ part: 'dmesg.txt', line: 2 });
  });
  it('RAM that iomem calls something else than Reserved is a disagreement too', () => {
    const m = merged('00000000-3fffffff : PCI Bus 0000:00\n40000000-7fffffff : System RAM\n', 'BIOS-e820: [mem 0x0000000000000000-0x000000000fffffff] usable\n');
    expect(m.warnings).toHaveLength(1);
    expect(ramOf(m.regions)).toBe(0x40000000);
  });
  it('two copies of the same e820 map (dmesg read twice) count once, silently', () => {
    const e820 = 'BIOS-e820: [mem 0x0000000000000000-0x000000003fffffff] usable\n';
    const m = mergeMemoryMaps([...readMemoryMap(e820, 'a', { kernelLog: true }).sources, ...readMemoryMap(e820, 'b', { kernelLog: true }).sources]);
    expect(ramOf(m.regions)).toBe(0x40000000);
    expect(m.warnings).toEqual([]);
  });
  it('many overlapping regions merge in n log n (no quadratic splice): 200 000 lines', () => {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`BIOS-e820: [mem 0x${(i * 0x1000).toString(16)}-0x${(i * 0x1000 + 0x1fff).toString(16)}] usable`);
    const m = merged(IOMEM, lines.join('\n'));
    // Their union is [0, 200001 pages), inside iomem's cover except the hole 0xa0000-0xfffff, which it fills.
    expect(ramOf(m.regions)).toBe((0xa0000 - 0x1000) + (0x100000 - 0xa0000) + (0x40000000 - 0x100000));
    expect(m.warnings).toEqual([]);
  });
});
