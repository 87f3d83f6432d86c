/**
 * The walker reads leaf pages ahead with `readPages` (up to LEAF_BATCH_PAGES at a time) when the
 * reader has it. That must change nothing but the number of calls: on random tables — and on
 * hostile ones (shared leaves, pointers to missing pages, cycles, bad entries) — the result is the
 * one of a walk that reads page by page, and the pages read are the same pages, never more.
 * Also the superpage runs (entries that map one 2 MiB or 1 GiB page after the other go to the
 * coalescer in one call): the same mappings as entry by entry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PhysicalMemory } from '../../src/image/types.js';
import { LEAF_BATCH_PAGES } from '../../src/model/leaf-run.js';
import type { Mapping } from '../../src/model/types.js';
import { walkPageTable, type WalkOptions } from '../../src/model/walk.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { SecondLevelTable } from '../../src/synth/tables.js';
import { memoryOf } from '../helpers/memory.js';

const PAGE = 4096;

interface Recorded {
  mem: PhysicalMemory;
  /** Page addresses read, through any method. */
  pages: number[];
  /** readPages calls. */
  batches: number;
}

/** `phys` as a reader, recording every page read; with `readPages` when `batched`. */
function recorded(phys: PhysBuilder, batched: boolean): Recorded {
  const inner = memoryOf(phys);
  const rec: Recorded = { mem: inner, pages: [], batches: 0 };
  const mem: PhysicalMemory = {
    path: inner.path, format: inner.format, ranges: inner.ranges, warnings: inner.warnings,
    read(addr, length) {
      rec.pages.push(addr);
      return inner.read(addr, length);
    },
    fileOffsetOf: (addr) => inner.fileOffsetOf(addr),
    close: () => inner.close(),
  };
  if (batched) {
    mem.readPages = (addrs, count, dest, present) => {
      rec.batches++;
      expect(count).toBeLessThanOrEqual(LEAF_BATCH_PAGES);
      for (let s = 0; s < count; s++) {
        rec.pages.push(addrs[s]);
        const b = inner.read(addrs[s], PAGE);
        present[s] = b === undefined ? 0 : 1;
        if (b !== undefined) dest.set(b, s * PAGE);
        else dest.fill(0x5a, s * PAGE, (s + 1) * PAGE); // garbage where the page is absent
      }
    };
  }
  rec.mem = mem;
  return rec;
}

/** A 4-level table with random 4 KiB and 2 MiB ranges, then hostile edits of its level-2 entries. */
const tables = fc.record({
  ranges: fc.array(fc.record({
    iova: fc.integer({ min: 0, max: 4 * 512 * 512 - 1 }), // within the first 4 level-3 entries
    len: fc.integer({ min: 1, max: 2000 }),
    hpa: fc.integer({ min: 0x100000, max: 2 ** 30 }),
    big: fc.boolean(),
    write: fc.boolean(),
  }), { maxLength: 12 }),
  edits: fc.array(fc.record({
    table: fc.nat(),
    index: fc.integer({ min: 0, max: 511 }),
    kind: fc.constantFrom('shared', 'missing', 'cycle', 'beyond-haw', 'reserved', 'clear'),
    pick: fc.nat(),
  }), { maxLength: 12 }),
  firstLevel: fc.boolean(),
});

type Tables = typeof tables extends fc.Arbitrary<infer T> ? T : never;

function build(t: Tables): { phys: PhysBuilder; root: number } {
  const phys = new PhysBuilder(0x1000000);
  const st = new SecondLevelTable(phys, 4);
  for (const r of t.ranges) {
    if (r.big) st.mapRange(Math.floor(r.iova / 512) * 512, Math.floor(r.hpa / 512) * 512, Math.min(r.len, 20) * 512, 2 * 1024 * 1024, { read: true, write: r.write });
    else st.mapRange(r.iova, r.hpa, r.len, PAGE, { read: true, write: r.write });
  }
  // Level-2 pages: those the level-3 entries point at.
  const l3 = Number(phys.readQword(st.root) & 0xffffffffff000n);
  const l2: number[] = [];
  for (let i = 0; l3 && i < 512; i++) {
    const q = phys.readQword(l3 + i * 8);
    if (q & 3n) l2.push(Number(q & 0xffffffffff000n));
  }
  const leaves = [...phys.pages.keys()].map((p) => p * PAGE).filter((a) => a !== st.root && a !== l3 && !l2.includes(a));
  for (const e of t.edits) {
    if (l2.length === 0) break;
    const table = l2[e.table % l2.length];
    const at = table + e.index * 8;
    const ptr = (addr: number, flags = 3): void => phys.write64(at, (addr % 2 ** 32) + flags, Math.floor(addr / 2 ** 32));
    if (e.kind === 'shared' && leaves.length) ptr(leaves[e.pick % leaves.length]);
    else if (e.kind === 'missing') ptr(0x7000_0000 + (e.pick % 64) * PAGE);
    else if (e.kind === 'cycle') ptr([st.root, l3, table][e.pick % 3]);
    else if (e.kind === 'beyond-haw') ptr(2 ** 47 + PAGE);
    else if (e.kind === 'reserved') ptr(leaves.length ? leaves[e.pick % leaves.length] : 0x5000, 0x803);
    else if (e.kind === 'clear') phys.write64(at, 0, 0);
  }
  return { phys, root: st.root };
}

describe('walker read-ahead (readPages)', () => {
  it('gives the page-by-page walk\'s result and reads the same pages, on random and hostile tables', () => {
    fc.assert(
      fc.property(tables, fc.boolean(), (t, portable) => {
        const { phys, root } = build(t);
        const opts: WalkOptions = { haw: 46, firstLevel: t.firstLevel, portableLeafLoop: portable };
        const one = recorded(phys, false);
        const ahead = recorded(phys, true);
        const want = walkPageTable(one.mem, root, 4, opts);
        const got = walkPageTable(ahead.mem, root, 4, opts);
        expect(got).toEqual(want);
        expect([...ahead.pages].sort((a, b) => a - b)).toEqual([...one.pages].sort((a, b) => a - b));
      }),
      { numRuns: Number(process.env.DMARSIFT_FUZZ_RUNS ?? 300) },
    );
  });

  it('reads a level-2 table\'s 512 leaf pages in 512 / LEAF_BATCH_PAGES calls', () => {
    const phys = new PhysBuilder(0x1000000);
    const st = new SecondLevelTable(phys, 4);
    st.mapRange(0, 0x100000, 512 * 512, PAGE, { read: true, write: true }); // 1 GiB in 4 KiB pages
    const r = recorded(phys, true);
    const w = walkPageTable(r.mem, st.root, 4, { haw: 46 });
    expect(w.mappings).toEqual([{ iovaPfn: 0, hpaPfn: 0x100000, pages: 512 * 512, read: true, write: true, pageSize: PAGE }]);
    expect(r.batches).toBe(512 / LEAF_BATCH_PAGES);
    expect(r.pages.length).toBe(3 + 512);
    expect(w.pagesVisited).toBe(3 + 512);
  });
});

describe('superpage runs', () => {
  /** Level-2 entries: runs of 2 MiB pages, each run with its own flags, start and length. */
  const pdes = fc.array(fc.record({
    hpa2m: fc.oneof(fc.integer({ min: 0, max: 2 ** 20 }), fc.constantFrom(2047, 2046, 4095)), // 2047: the next one carries past 4 GiB
    len: fc.integer({ min: 1, max: 40 }),
    flags: fc.constantFrom(0x83, 0x81, 0x82, 0x883, 0x80, 0x183),
    gap: fc.integer({ min: 0, max: 2 }),
  }), { maxLength: 30 });

  it('gives the mappings of entry-by-entry coalescing', () => {
    fc.assert(
      fc.property(pdes, fc.boolean(), (runs, firstLevel) => {
        const phys = new PhysBuilder(0x1000000);
        const root = phys.alloc(); // level 2 (a 2-level walk)
        const want: Mapping[] = [];
        let i = 0;
        for (const r of runs) {
          i += r.gap;
          for (let k = 0; k < r.len && i < 512; k++, i++) {
            const hpa = (r.hpa2m + k) * 512; // in 4 KiB pages
            phys.write64(root + i * 8, ((hpa % 2 ** 20) * PAGE + r.flags) >>> 0, Math.floor(hpa / 2 ** 20));
            const present = firstLevel ? (r.flags & 1) !== 0 : (r.flags & 3) !== 0;
            if (!present) continue;
            const m: Mapping = { iovaPfn: i * 512, hpaPfn: hpa, pages: 512, read: firstLevel || (r.flags & 1) !== 0, write: (r.flags & 2) !== 0, pageSize: 2097152 };
            if (!firstLevel && (r.flags & 0x800) !== 0) m.snp = true;
            const last = want[want.length - 1];
            if (last && last.iovaPfn + last.pages === m.iovaPfn && last.hpaPfn + last.pages === m.hpaPfn && last.read === m.read && last.write === m.write && last.snp === m.snp) last.pages += 512;
            else want.push(m);
          }
        }
        const got = walkPageTable(memoryOf(phys), root, 2, { haw: 46, sllps: 3, firstLevel });
        expect(got.problems).toEqual([]);
        expect(got.mappings).toEqual(want);
      }),
      { numRuns: Number(process.env.DMARSIFT_FUZZ_RUNS ?? 300) },
    );
  });

  it('does not run on where the low word wraps and the high word stays (0xffe00000, then 0x0)', () => {
    const phys = new PhysBuilder(0x1000000);
    const root = phys.alloc();
    phys.write64(root, 0xffe00083, 0);
    phys.write64(root + 8, 0x00000083, 0);
    phys.write64(root + 16, 0x00200083, 0);
    const got = walkPageTable(memoryOf(phys), root, 2, { haw: 46, sllps: 1 });
    expect(got.mappings).toEqual([
      { iovaPfn: 0, hpaPfn: 0xffe00, pages: 512, read: true, write: true, pageSize: 2 * 1024 * 1024 },
      { iovaPfn: 512, hpaPfn: 0, pages: 1024, read: true, write: true, pageSize: 2 * 1024 * 1024 },
    ]);
  });
});

describe('WebAssembly leaf loop records', () => {
  it('hands over full records mid-page and carries the mapping being built across pages', () => {
    const phys = new PhysBuilder(0x1000000);
    const root = phys.alloc();
    // Leaf page 0: 512 one-page mappings (the write bit alternates): more than the records hold.
    // Leaf page 1: continues page 0's last mapping for 100 PTEs, then a bad PTE, then more.
    const leaf0 = phys.alloc();
    const leaf1 = phys.alloc();
    for (let i = 0; i < 512; i++) phys.write64(leaf0 + i * 8, ((0x40000 + i) * PAGE + (i % 2 ? 3 : 1)) >>> 0, 0);
    for (let i = 0; i < 100; i++) phys.write64(leaf1 + i * 8, ((0x40000 + 512 + i) * PAGE + 3) >>> 0, 0);
    phys.write64(leaf1 + 100 * 8, 0x1003, 0x8000); // address bit 47: beyond HAW 46
    for (let i = 101; i < 512; i++) phys.write64(leaf1 + i * 8, ((0x50000 + i) * PAGE + 3) >>> 0, 0);
    phys.write64(root, leaf0 + 3, 0);
    phys.write64(root + 8, leaf1 + 3, 0);
    const wasm = walkPageTable(memoryOf(phys), root, 2, { haw: 46 });
    const js = walkPageTable(memoryOf(phys), root, 2, { haw: 46, portableLeafLoop: true });
    expect(wasm).toEqual(js);
    expect(wasm.mappings).toHaveLength(512 + 1);
    expect(wasm.mappings[511]).toEqual({ iovaPfn: 511, hpaPfn: 0x40000 + 511, pages: 101, read: true, write: true, pageSize: PAGE });
    expect(wasm.mappings[512]).toEqual({ iovaPfn: 512 + 101, hpaPfn: 0x50000 + 101, pages: 411, read: true, write: true, pageSize: PAGE });
    expect(wasm.problems.map((p) => [p.kind, p.entryAddr])).toEqual([['beyond-haw', leaf1 + 800]]);
  });
});
