/**
 * The walker's leaf loop compares raw PTE words to extend runs (a fast path for the benchmark's
 * 16.8 M PTEs). This property checks it against a plain per-PTE reference — decode each entry,
 * test it, merge neighbours — on random leaf pages built to hit every edge: runs crossing the
 * 4 GiB carry of the low word, ignored bits that differ inside a run, SNP/TM with the unit
 * allowing or refusing them, addresses at and past the host address width, first- and
 * second-level formats, and parents without read or write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Mapping } from '../../src/model/types.js';
import { walkPageTable, type WalkOptions } from '../../src/model/walk.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { memoryOf } from '../helpers/memory.js';

const TWO32 = 2 ** 32;

interface Leaf { lo: number; hi: number }

/** Entries of one leaf page: runs of consecutive HPAs with one flag set, holes, odd entries. */
const leafPage = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({
        kind: fc.constant('run' as const),
        // Near a 4 GiB boundary (the low word's carry), near 2^haw, or anywhere.
        hpa: fc.oneof(
          fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((x) => 2 ** 20 - 1 - (x % 8) + Math.floor(x / 8) * 2 ** 20),
          fc.constantFrom(2 ** 19 - 2, 2 ** 27 - 3, 2 ** 34 - 2, 2 ** 36 - 2, 2 ** 40 - 1),
          fc.integer({ min: 0, max: 2 ** 40 - 1 }),
        ),
        len: fc.integer({ min: 1, max: 40 }),
        // End exactly below a 4 GiB boundary (the next page carries into the high word).
        toBoundary: fc.boolean(),
        flags: fc.integer({ min: 0, max: 0xfff }),
        hiFlags: fc.integer({ min: 0, max: 0xfff }), // bits 63:52
        // Change an ignored bit in the middle of the run (must not change the mappings).
        flip: fc.option(fc.integer({ min: 0, max: 39 }), { nil: undefined }),
      }) },
      // A run right after the previous one: the low word continues, while the high word stays,
      // jumps by ±4 GiB of address, or changes its flag bits; the low flags may change too.
      { weight: 3, arbitrary: fc.record({
        kind: fc.constant('next' as const),
        jump: fc.constantFrom(0, 2 ** 20, -(2 ** 20)),
        len: fc.integer({ min: 1, max: 40 }),
        flags: fc.option(fc.integer({ min: 0, max: 0xfff }), { nil: undefined }),
        hiFlags: fc.option(fc.integer({ min: 0, max: 0xfff }), { nil: undefined }),
      }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('hole' as const), len: fc.integer({ min: 1, max: 20 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), lo: fc.integer({ min: 0, max: TWO32 - 1 }), hi: fc.integer({ min: 0, max: TWO32 - 1 }) }) },
    ),
    { maxLength: 40 },
  )
  .map((parts) => {
    const out: Leaf[] = [];
    let prev = { hpa: 0, flags: 3, hiFlags: 0 };
    const put = (hpa: number, flags: number, hiFlags: number): void => {
      out.push({ lo: ((hpa % 2 ** 20) * 4096 + flags) >>> 0, hi: (Math.floor(hpa / 2 ** 20) % 2 ** 20) + hiFlags * 2 ** 20 });
      prev = { hpa, flags, hiFlags };
    };
    for (const p of parts) {
      if (p.kind === 'hole') for (let k = 0; k < p.len; k++) out.push({ lo: 0, hi: 0 });
      else if (p.kind === 'raw') out.push({ lo: p.lo, hi: p.hi });
      else if (p.kind === 'next') {
        const start = Math.max(0, prev.hpa + 1 + p.jump);
        const flags = p.flags ?? prev.flags;
        const hiFlags = p.hiFlags ?? prev.hiFlags;
        for (let k = 0; k < p.len; k++) put(start + k, flags, hiFlags);
      } else {
        const start = p.toBoundary ? Math.max(0, Math.ceil((p.hpa + 1) / 2 ** 20) * 2 ** 20 - p.len) : p.hpa;
        for (let k = 0; k < p.len; k++) put(start + k, p.flip === k ? p.flags ^ 0x100 : p.flags, p.hiFlags); // bit 8: ignored in 4 KiB leaves
      }
    }
    return out.slice(0, 512);
  });

const options = fc.record({
  haw: fc.constantFrom(31, 39, 46, 48, 52), // 31: the low word holds address bits at and above HAW
  firstLevel: fc.boolean(),
  snoopControl: fc.constantFrom(undefined, true, false),
  deviceTlb: fc.constantFrom(undefined, true, false),
  parentBits: fc.constantFrom(1, 2, 3),
  // The WebAssembly leaf loop (the default) and the JavaScript one.
  portable: fc.boolean(),
});

/** Per-PTE reference: what the hardware would use, merged when both addresses and all bits continue. */
function reference(pages: Leaf[][], opts: WalkOptions, parentR: boolean, parentW: boolean): { mappings: Mapping[]; problems: [string, number][] } {
  const first = opts.firstLevel === true;
  const mappings: Mapping[] = [];
  const problems: [string, number][] = [];
  pages.forEach((page, k) => {
    page.forEach(({ lo, hi }, i) => {
      const present = first ? (lo & 1) !== 0 : (lo & 3) !== 0;
      if (!present) return;
      const hpa = Math.floor(lo / 4096) + (hi % 2 ** 20) * 2 ** 20;
      const entryAddr = LEAF_BASE + k * 4096 + i * 8;
      if (opts.haw < 52 && hpa >= 2 ** (opts.haw - 12)) {
        problems.push(['beyond-haw', entryAddr]);
        return;
      }
      const snp = !first && (lo & 0x800) !== 0;
      const tm = !first && (Math.floor(hi / 2 ** 30) & 1) !== 0;
      if ((snp && opts.snoopControl === false) || (tm && opts.deviceTlb === false)) {
        problems.push(['reserved-bits', entryAddr]);
        return;
      }
      const read = parentR && (first || (lo & 1) !== 0);
      const write = parentW && (lo & 2) !== 0;
      const iovaPfn = k * 512 + i;
      const last = mappings[mappings.length - 1];
      if (last && last.iovaPfn + last.pages === iovaPfn && last.hpaPfn + last.pages === hpa && last.read === read && last.write === write && (last.snp ?? false) === snp && (last.tm ?? false) === tm) {
        last.pages++;
        return;
      }
      const m: Mapping = { iovaPfn, hpaPfn: hpa, pages: 1, read, write, pageSize: 4096 };
      if (snp) m.snp = true;
      if (tm) m.tm = true;
      mappings.push(m);
    });
  });
  return { mappings, problems };
}

const LEAF_BASE = 0x200000;

function walkLeaves(entries: Leaf[], haw = 48, portableLeafLoop = false): Mapping[] {
  const phys = new PhysBuilder(0x100000);
  const root = phys.alloc();
  phys.page(LEAF_BASE);
  entries.forEach((e, i) => { phys.write64(LEAF_BASE + i * 8, e.lo, e.hi); });
  phys.write64(root, LEAF_BASE | 3, 0);
  return walkPageTable(memoryOf(phys), root, 2, { haw, portableLeafLoop }).mappings;
}

describe('walker leaf loop = per-PTE reference', () => {
  it.each([false, true])('does not run on across the low word\'s carry when the high word stays (HPA 0xfffff000 then 0x0; JavaScript loop: %s)', (portable) => {
    expect(walkLeaves([{ lo: 0xfffff003, hi: 0 }, { lo: 0x003, hi: 0 }], 48, portable)).toEqual([
      { iovaPfn: 0, hpaPfn: 0xfffff, pages: 1, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 1, hpaPfn: 0, pages: 1, read: true, write: true, pageSize: 4096 },
    ]);
    // …and continues when the high word does carry (HPA 0xfffff000 then 0x100000000).
    expect(walkLeaves([{ lo: 0xfffff003, hi: 0 }, { lo: 0x003, hi: 1 }], 48, portable)).toEqual([
      { iovaPfn: 0, hpaPfn: 0xfffff, pages: 2, read: true, write: true, pageSize: 4096 },
    ]);
  });

  it('stops a run where the next page crosses the host address width in the low word (HAW 31)', () => {
    expect(walkLeaves([{ lo: 0x7ffff003, hi: 0 }, { lo: 0x80000003, hi: 0 }], 31)).toEqual([
      { iovaPfn: 0, hpaPfn: 0x7ffff, pages: 1, read: true, write: true, pageSize: 4096 },
    ]);
  });

  it('gives the same mappings and problems on random leaf pages', () => {
    fc.assert(
      fc.property(fc.array(leafPage, { minLength: 1, maxLength: 3 }), options, (pages, o) => {
        const phys = new PhysBuilder(0x100000);
        const root = phys.alloc(); // a 2-level table: one directory page, then the leaves
        pages.forEach((entries, k) => {
          const leaf = LEAF_BASE + k * 4096;
          phys.page(leaf);
          entries.forEach((e, i) => { phys.write64(leaf + i * 8, e.lo, e.hi); });
          const rootLo = leaf | (o.firstLevel ? 1 | (o.parentBits & 2) : o.parentBits);
          phys.write64(root + k * 8, rootLo, 0);
        });
        const opts: WalkOptions = { haw: o.haw, firstLevel: o.firstLevel, portableLeafLoop: o.portable };
        if (o.snoopControl !== undefined) opts.snoopControl = o.snoopControl;
        if (o.deviceTlb !== undefined) opts.deviceTlb = o.deviceTlb;
        const got = walkPageTable(memoryOf(phys), root, 2, opts);
        const parentR = o.firstLevel ? true : (o.parentBits & 1) !== 0;
        const want = reference(pages, opts, parentR, (o.parentBits & 2) !== 0);
        expect(got.mappings).toEqual(want.mappings);
        expect(got.problems.map((p) => [p.kind, p.entryAddr])).toEqual(want.problems);
        expect(got.pageCount).toBe(want.mappings.reduce((n, m) => n + m.pages, 0));
      }),
      { numRuns: Number(process.env.DMARSIFT_FUZZ_RUNS ?? 400) },
    );
  });
});
