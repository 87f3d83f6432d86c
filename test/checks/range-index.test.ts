/**
 * RangeIndex: the overlap query the structure and MMIO checks rely on, against a brute-force
 * overlap computed here, for ranges given in order, out of order, nested and duplicated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeIndex, RangeIndexBuilder } from '../../src/checks/roles.js';

type Item = { startPfn: number; endPfn: number; label: number };

function bruteForce(items: Item[], start: number, end: number): string[] {
  return items
    .filter((x) => x.startPfn < end && x.endPfn > start)
    .map((x) => `${x.label}:${Math.max(start, x.startPfn)}-${Math.min(end, x.endPfn)}`)
    .sort();
}

function query(index: RangeIndex<number>, start: number, end: number): string[] {
  const out: string[] = [];
  index.query(start, end, (label, from, to) => out.push(`${label}:${from}-${to}`));
  return out.sort();
}

const itemsArb = fc.array(fc.record({ start: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 1, max: 40 }) }), { maxLength: 30 }).map((xs) =>
  xs.map(({ start, len }, label) => ({ startPfn: start, endPfn: start + len, label })),
);

describe('RangeIndex', () => {
  it('finds every overlapping range with its overlap, whatever the order of the items', () => {
    fc.assert(
      fc.property(itemsArb, fc.boolean(), fc.integer({ min: 0, max: 250 }), fc.integer({ min: 1, max: 60 }), (items, presort, start, len) => {
        const given = presort ? [...items].sort((a, b) => a.startPfn - b.startPfn || a.endPfn - b.endPfn) : items;
        const expected = bruteForce(items, start, start + len);
        const index = new RangeIndex(given);
        expect(query(index, start, start + len)).toEqual(expected);
        expect(index.overlaps(start, start + len)).toBe(expected.length > 0);
        // Built through the builder (more than its initial 64 slots when the list is long): the same.
        const b = new RangeIndexBuilder<number>();
        for (const x of [...given, ...given, ...given]) b.add(x.startPfn, x.endPfn, b.labelId(x.label));
        const tripled = bruteForce([...items, ...items, ...items], start, start + len);
        expect(query(new RangeIndex(b), start, start + len)).toEqual(tripled);
      }),
      { numRuns: 3000 },
    );
  });

  it('a big range early in the list still overlaps a late query (nested ranges, items out of order)', () => {
    const index = new RangeIndex([
      { startPfn: 50, endPfn: 60, label: 1 },
      { startPfn: 0, endPfn: 1000, label: 2 },
      { startPfn: 10, endPfn: 11, label: 3 },
    ]);
    expect(query(index, 500, 501)).toEqual(['2:500-501']);
    expect(query(index, 55, 70)).toEqual(['1:55-60', '2:55-70']);
  });
});
