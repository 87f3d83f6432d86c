/**
 * The page tests of `scan`, on pages written qword by qword from the layouts (docs/vtd-formats.md §3–§5):
 * what a root table may hold, what its pointers must lead to, and how the two layouts are told apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluateRoot, hiLimitOf, legacyContextTest, pasidTableTest, rootPageTest, rootPageTestFast, scalableContextTest, UPPER_USED,
} from '../../src/scan/score.js';

/** A page from (qword index, value) pairs. */
function page(entries: [number, bigint][]): Uint32Array {
  const w = new Uint32Array(1024);
  for (const [i, v] of entries) {
    w[2 * i] = Number(v & 0xffffffffn);
    w[2 * i + 1] = Number(v >> 32n);
  }
  return w;
}

const HI39 = hiLimitOf(39); // pointers below 2^39: high word < 0x80
const HI52 = hiLimitOf(52);

describe('rootPageTest: every qword 0 or pointer | 1, bits 11:1 clear, below 2^HAW, not 0', () => {
  it('a legacy root table with three buses: 3 present, no upper half', () => {
    // bus 0 → 0x265b000, bus 1 → 0x269b000, bus 2 → 0x269f000 (qemu-linux61-legacy README): lo qwords 0, 2, 4.
    const w = page([[0, 0x265b001n], [2, 0x269b001n], [4, 0x269f001n]]);
    expect(rootPageTest(w, 0, HI39)).toBe(3);
  });
  it('an upper half (odd qword: scalable UCTP) is flagged', () => {
    const w = page([[6, 0x101001n], [7, 0x102001n]]); // bus 3 lo and hi
    expect(rootPageTest(w, 0, HI39)).toBe(2 | UPPER_USED);
  });
  it('refuses reserved bits, a pointer of 0, a pointer at or above 2^HAW, a non-present entry with bits', () => {
    expect(rootPageTest(page([[0, 0x265b003n]]), 0, HI39)).toBe(-1); // bit 1 reserved
    expect(rootPageTest(page([[0, 0x1n]]), 0, HI39)).toBe(-1); // CTP 0
    expect(rootPageTest(page([[0, (1n << 39n) | 0x1001n]]), 0, HI39)).toBe(-1); // bit 39 with HAW 39
    expect(rootPageTest(page([[0, (1n << 39n) | 0x1001n]]), 0, HI52)).toBe(1); // fine with HAW 52
    expect(rootPageTest(page([[0, 0x265b000n]]), 0, HI39)).toBe(-1); // P clear but pointer bits set
  });
  it('an all-zero page is 0 (no present entry)', () => {
    expect(rootPageTest(new Uint32Array(1024), 0, HI52)).toBe(0);
  });
  it('the float64 fast path accepts exactly the pages the exact test accepts, with the same count (-0 qwords included)', () => {
    const qword = fc.oneof(
      fc.constant(0n), fc.constant(0x8000000000000000n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 1n, max: (1n << 27n) - 1n }).map((p) => (p << 12n) | 1n),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 511 }), qword), { maxLength: 12 }), (list) => {
        const w = page(list);
        const f = new Float64Array(w.buffer);
        // A page of only 0x8000000000000000 qwords reads as zero (0) to the fast test and as invalid (-1) to the
        // exact one: both reject it, which is all the scan needs.
        expect(Math.max(0, rootPageTestFast(f, w, 0, HI39))).toBe(Math.max(0, rootPageTest(w, 0, HI39)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('context table tests', () => {
  it('legacy: the real 01:00.0 entry (lo 0x285b001, hi 0x601) is one present entry, DID 6', () => {
    const w = page([[0, 0x285b001n], [1, 0x601n]]);
    expect(legacyContextTest(w, 0, HI39)).toMatchObject({ present: 1, invalid: 0, entries: [{ devfn: 0, table: 0x285b000, did: 6, tt: 0 }] });
  });
  it('legacy: TT 11b, AW 5, lo bits 11:4, hi bit 7 and 63:24, and SLPTPTR 0 with TT 0 are invalid; TT 10b may have SLPTPTR 0', () => {
    const bad = [0x285b00dn, 0x285b001n, 0x285b011n, 0x285b001n, 0x285b001n, 0x1n];
    const his = [0x601n, 0x605n, 0x601n, 0x681n, 0x1000601n, 0x601n];
    const w = page(bad.flatMap((lo, i) => [[2 * i, lo], [2 * i + 1, his[i]]] as [number, bigint][]));
    expect(legacyContextTest(w, 0, HI39)).toMatchObject({ present: 0, invalid: 6 });
    expect(legacyContextTest(page([[0, 0x9n], [1, 0x302n]]), 0, HI39)).toMatchObject({ present: 1, invalid: 0 }); // TT 10b, AW 2, DID 3
  });
  it('scalable: q0 = dir | PDTS 7 << 9 | PASIDE | P is valid; anything in q2/q3 or q1 63:21 is not', () => {
    // 0x104000 | 0xe00 | 0x8 | 1 = 0x104e09
    expect(scalableContextTest(page([[0, 0x104e09n]]), 0, HI39, 0x80)).toMatchObject({ present: 1, invalid: 0, entries: [{ devfn: 0x80, table: 0x104000, pdts: 7 }] });
    expect(scalableContextTest(page([[0, 0x104001n], [2, 1n]]), 0, HI39, 0).invalid).toBe(1);
    expect(scalableContextTest(page([[0, 0x104001n], [1, 1n << 21n]]), 0, HI39, 0).invalid).toBe(1);
    expect(scalableContextTest(page([[0, 0x104021n]]), 0, HI39, 0).invalid).toBe(1); // bit 5 (8:5 reserved)
  });
  it('PASID table: PGTT 1–4 with reserved fields clear; PGTT 0, 5 and q3 bits are invalid', () => {
    // entry 0: SL q0 = 0x110089 (PGTT 2, AW 2), q1 DID 5; entry 1: PT q0 0x101; entry 2: PGTT 5 (0x141);
    // entry 3: FL q0 0x41 with q3 = 1.
    const w = page([[0, 0x110089n], [1, 5n], [8, 0x101n], [16, 0x141n], [24, 0x41n], [26, 0x130000n], [27, 1n]]);
    expect(pasidTableTest(w, 0, HI39)).toMatchObject({ present: 2, invalid: 2, byPgtt: [0, 1, 0, 1] });
  });
});

describe('evaluateRoot: the layout the evidence supports', () => {
  const pages = new Map<number, Uint32Array>();
  const readPage = (a: number): Uint32Array | undefined => pages.get(a);

  it('a legacy table whose context table holds entries at odd devfns is legacy, confident', () => {
    pages.set(0x2000, page([[2, 0x5001n], [3, 0x101n], [6, 0x6001n], [7, 0x201n]])); // devfn 1 → 0x5000 DID 1, devfn 3 → 0x6000 DID 2
    pages.set(0x5000, page([[0, 0x7003n]]));
    pages.set(0x6000, new Uint32Array(1024));
    const root = page([[0, 0x2001n]]);
    const c = evaluateRoot(root, 0, 0x1000, rootPageTest(root, 0, HI39), { hiLimit: HI39, readPage });
    expect(c).toMatchObject({ layout: 'legacy', rtaddr: 0x1000, contextEntries: 2, dids: 2, devices: ['00:00.1', '00:00.3'], deep: { checked: 2, valid: 2 } });
    // 2 entries: (1 − 2^−2) = 0.75; context tables 1/1; deep 2/2 → 0.75
    expect(c!.confidence).toBe(0.75);
  });

  it('a scalable table with only lower halves is told apart by its PASID entries', () => {
    // root bus 0 lo → 0x12000; context devfn 0: dir 0x13000 | PASIDE | P; dir[0] → 0x14000; PASID 0: SL 0x15000 DID 3.
    pages.set(0x12000, page([[0, 0x13009n]]));
    pages.set(0x13000, page([[0, 0x14001n]]));
    pages.set(0x14000, page([[0, 0x15089n], [1, 3n]]));
    pages.set(0x15000, new Uint32Array(1024));
    const root = page([[0, 0x12001n]]);
    const c = evaluateRoot(root, 0, 0x11000, rootPageTest(root, 0, HI39), { hiLimit: HI39, readPage });
    expect(c).toMatchObject({ layout: 'scalable', rtaddr: 0x11400, contextEntries: 1, pasidEntries: { secondLevel: 1, firstLevel: 0 } });
  });

  it('a page of pointers to data pages is no candidate', () => {
    const junk = new Uint32Array(1024).map((_, i) => (i * 2654435761) >>> 0);
    pages.set(0x30000, junk);
    const root = page([[0, 0x30001n]]);
    expect(evaluateRoot(root, 0, 0x31000, rootPageTest(root, 0, HI39), { hiLimit: HI39, readPage })).toBeUndefined();
  });
});
