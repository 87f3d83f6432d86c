/**
 * PfnSet keeps clustered page numbers as bits in per-chunk bitmaps and scattered ones (more chunks
 * than it makes bitmaps for) in a hash table: either way it is a set — checked against Set<number>
 * on sequences that cluster, scatter, repeat and mix, with page numbers up to 2^52.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PfnSet } from '../../src/model/walk-budget.js';

describe('PfnSet', () => {
  it('answers add and has as a Set does', () => {
    const pfn = fc.oneof(
      fc.integer({ min: 0x40000, max: 0x40000 + 200000 }), // clustered: a few chunks
      fc.integer({ min: 0, max: 2 ** 40 }), // scattered: one chunk each, past the bitmap bound
      fc.constantFrom(0, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 52 - 1),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), pfn), { maxLength: 600 }), (ops) => {
        const s = new PfnSet();
        const ref = new Set<number>();
        for (const [add, p] of ops) {
          if (add) {
            expect(s.add(p)).toBe(!ref.has(p));
            ref.add(p);
          } else expect(s.has(p)).toBe(ref.has(p));
          expect(s.size).toBe(ref.size);
        }
        for (const p of ref) expect(s.has(p)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('holds 100 000 scattered page numbers (bitmaps for the first chunks, the hash table for the rest)', () => {
    const s = new PfnSet();
    for (let i = 0; i < 100000; i++) expect(s.add(i * 65537 * 3)).toBe(true);
    for (let i = 0; i < 100000; i++) expect(s.has(i * 65537 * 3)).toBe(true);
    expect(s.has(1)).toBe(false);
    expect(s.size).toBe(100000);
  });
});
