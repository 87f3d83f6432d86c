/**
 * host-ranges: the sorted-typed-array machinery of the HPA checks (sortOrder, RangeIndex,
 * PageIndex, the shared host view, unions and merges), each against a brute force computed here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostOrder } from '../../src/checks/host-order.js';
import { HOST_ORDER_WASM } from '../../src/checks/host-order-wasm.js';
import { hostView, hostViewPortable, PageIndex, RangeIndex, sharedRuns, sortOrder, writableRanges, writableUnion } from '../../src/checks/host-ranges.js';
import { assembleWat } from '../../src/tools/wat.js';
import type { Mapping } from '../../src/model/types.js';
import { MappingList } from '../../src/model/mapping-list.js';

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
        // Every range three times: each copy is reported.
        const tripled = bruteForce([...items, ...items, ...items], start, start + len);
        expect(query(new RangeIndex([...given, ...given, ...given]), start, start + len)).toEqual(tripled);
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

describe('sortOrder', () => {
  const pairsArb = fc.array(
    fc.record({
      // Small starts (many ties), starts up to and past 2^41 (the native key's limit), fractions.
      start: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2 ** 41 - 1 }), fc.constantFrom(2 ** 41, 2 ** 41 + 7, 2 ** 52, 0.5)),
      len: fc.integer({ min: 1, max: 30 }),
    }),
    { maxLength: 200 },
  );
  it('is a permutation that orders by start, then end (the native key path and the fallback alike)', () => {
    fc.assert(
      fc.property(pairsArb, (pairs) => {
        const n = pairs.length;
        const start = Float64Array.from(pairs, (p) => p.start);
        const end = Float64Array.from(pairs, (p) => p.start + p.len);
        const order = sortOrder(start, end, n);
        expect([...order].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        const got = [...order].map((i) => [start[i], end[i]]);
        const want = pairs.map((p) => [p.start, p.start + p.len]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('orders by start, then end, when every start is below 2^31 (the int32 key path), ties and the top edge included', () => {
    const below = fc.array(
      fc.record({ start: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 2 ** 31 - 20, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })), len: fc.integer({ min: 1, max: 30 }) }),
      { maxLength: 200 },
    );
    fc.assert(
      fc.property(below, (pairs) => {
        const n = pairs.length;
        const start = Float64Array.from(pairs, (p) => p.start);
        const end = Float64Array.from(pairs, (p) => p.start + p.len);
        const got = [...sortOrder(start, end, n)].map((i) => [start[i], end[i]]);
        expect(got).toEqual(pairs.map((p) => [p.start, p.start + p.len]).sort((a, b) => a[0] - b[0] || a[1] - b[1]));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts 100 000 ranges with distinct large starts the same as a comparator', () => {
    const n = 100_000;
    const start = new Float64Array(n);
    const end = new Float64Array(n);
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      start[i] = x * 511 + (i % 7); // up to ~2^41
      end[i] = start[i] + 1 + (i % 3);
    }
    const order = sortOrder(start, end, n);
    for (let i = 1; i < n; i++) {
      const a = order[i - 1];
      const b = order[i];
      expect(start[a] < start[b] || (start[a] === start[b] && end[a] <= end[b])).toBe(true);
    }
  });
});

describe('PageIndex and markOverlaps', () => {
  const groupsArb = fc.array(fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 40 }), { minLength: 1, maxLength: 4 });
  const queriesArb = fc.array(fc.record({ start: fc.integer({ min: 0, max: 130 }), len: fc.integer({ min: 1, max: 30 }) }), { maxLength: 30 });

  it('query reports, per label, the runs of consecutive pages inside the window, in page order', () => {
    fc.assert(
      fc.property(groupsArb, fc.integer({ min: 0, max: 130 }), fc.integer({ min: 1, max: 60 }), (groups, start, len) => {
        const index = new PageIndex(groups.map((pfns, label) => ({ label, pfns })));
        const got: [number, number, number][] = [];
        index.query(start, start + len, (label, from, to) => got.push([label, from, to]));
        // Brute force: each label's distinct pages in the window, cut into consecutive runs.
        const want: [number, number, number][] = [];
        groups.forEach((pfns, label) => {
          const pages = [...new Set(pfns)].filter((p) => p >= start && p < start + len).sort((a, b) => a - b);
          for (let i = 0; i < pages.length; ) {
            let j = i;
            while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
            want.push([label, pages[i], pages[j] + 1]);
            i = j + 1;
          }
        });
        want.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('markOverlaps of PageIndex and RangeIndex agree with a brute-force overlap test', () => {
    fc.assert(
      fc.property(groupsArb, itemsArb, queriesArb, (groups, items, queries) => {
        const n = queries.length;
        const start = Float64Array.from(queries, (q) => q.start);
        const end = Float64Array.from(queries, (q) => q.start + q.len);
        const order = sortOrder(start, end, n);
        // The queries laid out in their order, as a host view has them.
        const sortedStart = Float64Array.from(order, (i) => start[i]);
        const sortedEnd = Float64Array.from(order, (i) => end[i]);
        const pages = new PageIndex(groups.map((pfns, label) => ({ label, pfns })));
        const hitP = new Uint8Array(n);
        pages.markOverlaps(sortedStart, sortedEnd, order, hitP);
        const all = groups.flat();
        expect([...hitP]).toEqual(queries.map((q) => (all.some((p) => p >= q.start && p < q.start + q.len) ? 1 : 0)));
        const ranges = new RangeIndex(items);
        const hitR = new Uint8Array(n);
        ranges.markOverlaps(sortedStart, sortedEnd, order, hitR);
        expect([...hitR]).toEqual(queries.map((q) => (bruteForce(items, q.start, q.start + q.len).length > 0 ? 1 : 0)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hostView, writableUnion, sharedRuns', () => {
  const mappingsArb = fc.array(fc.record({ hpa: fc.integer({ min: 0, max: 100 }), pages: fc.integer({ min: 1, max: 12 }), write: fc.boolean() }), { maxLength: 40 }).map((xs) =>
    xs.map(({ hpa, pages, write }, i): Mapping => ({ iovaPfn: i * 16, hpaPfn: hpa, pages, read: true, write, pageSize: 4096 })),
  );
  /** The writable pages of some mapping lists, as sorted disjoint [start, end) runs. */
  const writableRuns = (lists: Mapping[][]): [number, number][] => {
    const pages = new Set<number>();
    for (const ms of lists) for (const m of ms) if (m.write) for (let p = m.hpaPfn; p < m.hpaPfn + m.pages; p++) pages.add(p);
    const sorted = [...pages].sort((a, b) => a - b);
    const out: [number, number][] = [];
    for (const p of sorted) {
      if (out.length > 0 && out[out.length - 1][1] === p) out[out.length - 1][1]++;
      else out.push([p, p + 1]);
    }
    return out;
  };

  it('hostView lists every mapping once, by host page, with its W bit; it is built once per list', () => {
    fc.assert(
      fc.property(mappingsArb, (ms) => {
        const list = MappingList.fromArray(ms);
        const v = hostView(list);
        expect(hostView(list)).toBe(v);
        expect([...v.order].sort((a, b) => a - b)).toEqual([...ms.keys()]);
        for (let k = 0; k < ms.length; k++) {
          const m = ms[v.order[k]];
          expect([v.sortedStart[k], v.sortedEnd[k], v.sortedWrite[k]]).toEqual([m.hpaPfn, m.hpaPfn + m.pages, m.write ? 1 : 0]);
          if (k > 0) expect(v.sortedStart[k - 1] < v.sortedStart[k] || (v.sortedStart[k - 1] === v.sortedStart[k] && v.sortedEnd[k - 1] <= v.sortedEnd[k])).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('writableUnion of one or more lists is the union of their writable pages (lists merged as a tree: odd counts, several levels)', () => {
    fc.assert(
      fc.property(fc.array(mappingsArb, { minLength: 1, maxLength: 9 }), (lists) => {
        const u = writableUnion(lists.map((ms) => MappingList.fromArray(ms)));
        const got = Array.from({ length: u.length }, (_, i) => [u.start[i], u.end[i]]);
        expect(got).toEqual(writableRuns(lists));
      }),
      { numRuns: 1000 },
    );
  });

  it('sharedRuns gives the pages two unions share and their first runs, as visiting every page does', () => {
    fc.assert(
      fc.property(mappingsArb, mappingsArb, fc.integer({ min: 0, max: 4 }), (ma, mb, keep) => {
        const [ua, ub] = [ma, mb].map((ms) => writableUnion([MappingList.fromArray(ms)]));
        const pagesOf = (u: typeof ua): Set<number> => {
          const out = new Set<number>();
          for (let i = 0; i < u.length; i++) for (let p = u.start[i]; p < u.end[i]; p++) out.add(p);
          return out;
        };
        const inB = pagesOf(ub);
        const both = [...pagesOf(ua)].filter((p) => inB.has(p)).sort((x, y) => x - y);
        const runs: [number, number][] = [];
        for (const p of both) {
          const last = runs[runs.length - 1];
          if (last !== undefined && last[1] === p) last[1] = p + 1;
          else runs.push([p, p + 1]);
        }
        expect(sharedRuns(ua, ub, keep)).toEqual({ pages: both.length, examples: runs.slice(0, keep) });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('hostView in WebAssembly (host-order.wat)', () => {
  /** Host pages spread over every 11-bit digit of the radix sort, with many equal starts and ends. */
  const pageArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(0, 2047, 2048, 2 ** 22, 2 ** 31 - 1, 2 ** 31));
  const listArb = fc.array(fc.record({ hpa: pageArb, pages: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })), flags: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 300 });
  const listOf = (xs: { hpa: number; pages: number; flags: number }[]): MappingList => {
    const l = new MappingList();
    for (const [i, x] of xs.entries()) l.push(i * 8, x.hpa, x.pages, x.flags);
    return l;
  };

  it('orders the ranges by (start, end, index) — a comparator sort says so — and agrees with the JavaScript view', () => {
    fc.assert(
      fc.property(listArb, (xs) => {
        const list = listOf(xs);
        const w = hostOrder(list);
        expect(w).toBeDefined();
        const want = xs.map((_, i) => i).sort((a, b) => xs[a].hpa - xs[b].hpa || xs[a].hpa + xs[a].pages - (xs[b].hpa + xs[b].pages) || a - b);
        expect([...w!.order]).toEqual(want);
        expect([...w!.sortedStart]).toEqual(want.map((i) => xs[i].hpa));
        expect([...w!.sortedEnd]).toEqual(want.map((i) => xs[i].hpa + xs[i].pages));
        expect([...w!.sortedWrite]).toEqual(want.map((i) => ((xs[i].flags & 2) !== 0 ? 1 : 0)));
        const js = hostViewPortable(list);
        expect([...w!.order]).toEqual([...js.order]);
        expect([...w!.sortedWrite]).toEqual([...js.sortedWrite]);
      }),
      { numRuns: 1000 },
    );
  });

  it('joins the writable ranges as writableRanges does in JavaScript', () => {
    fc.assert(
      fc.property(listArb, (xs) => {
        const w = hostOrder(listOf(xs))!;
        const u = w.writableUnion!();
        const js = writableRanges(w);
        expect([...u.start]).toEqual([...js.start]);
        expect([...u.end]).toEqual([...js.end]);
        expect(u.length).toBe(js.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves a range ending past host page 2^32 (or a page number not an integer) to JavaScript', () => {
    expect(hostOrder(listOf([{ hpa: 2 ** 32 - 1, pages: 1, flags: 3 }]))).toBeUndefined();
    expect(hostOrder(listOf([{ hpa: 2 ** 32 - 2, pages: 1, flags: 3 }]))).toBeDefined();
    expect(hostOrder(listOf([{ hpa: 1.5, pages: 1, flags: 3 }]))).toBeUndefined();
    const far = listOf([{ hpa: 2 ** 45, pages: 1, flags: 2 }, { hpa: 3, pages: 1, flags: 0 }, { hpa: 3, pages: 0.5, flags: 0 }]);
    expect(hostOrder(far)).toBeUndefined();
    expect([...hostView(far).order]).toEqual([2, 1, 0]);
  });

  it('sorts a single range, ranges all at page 0, and keys of all 64 bits', () => {
    expect([...hostOrder(listOf([{ hpa: 0, pages: 0, flags: 2 }]))!.sortedWrite]).toEqual([1]);
    const zeros = hostOrder(listOf([{ hpa: 0, pages: 0, flags: 0 }, { hpa: 0, pages: 0, flags: 2 }]))!;
    expect([...zeros.order]).toEqual([0, 1]);
    const top = hostOrder(listOf([{ hpa: 2 ** 32 - 2, pages: 1, flags: 0 }, { hpa: 2 ** 32 - 3, pages: 2, flags: 0 }, { hpa: 2 ** 32 - 3, pages: 1, flags: 0 }]))!;
    expect([...top.order]).toEqual([2, 1, 0]);
    expect([...top.sortedEnd]).toEqual([2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32 - 1]);
  });

  it('the committed module is host-order.wat assembled (run `npm run wasm` after editing the .wat)', async () => {
    const wat = fs.readFileSync(path.resolve('src/checks/host-order.wat'), 'utf8');
    expect(Buffer.from(await assembleWat('host-order.wat', wat)).toString('base64')).toBe(HOST_ORDER_WASM);
  });
});
