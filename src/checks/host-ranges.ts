/**
 * Host page ranges as sorted typed arrays, for the checks that match a domain's mappings against
 * other host pages (I/O MMU structures, MMIO windows, other domains): a native sort instead of a
 * comparator, one shared sorted view per domain, merges instead of a search per mapping, and
 * never an object per page or per range. These loops run once per CLI call, mostly before the JIT
 * has optimized them, so they stay few and plain.
 */
import { MAP_WRITE, type MappingList } from '../model/mapping-list.js';
import { hostOrder } from './host-order.js';

/** Disjoint or overlapping [start, end) page ranges, sorted by start, with an owner tag per range. */
export interface PageRanges {
  start: Float64Array;
  end: Float64Array;
  /** Index into whatever the caller keeps (a domain list, a structure list). */
  tag: Uint32Array;
  length: number;
}

/** Ranges past these bounds take the comparator sort (2^41 pages = the 2^53 bytes of a 52-bit HAW). */
const KEY_START_LIMIT = 2 ** 41;
const KEY_INDEX_BITS = 23;

/**
 * The order of ranges [start[i], end[i]) by start, ties by end, as a permutation of 0..n-1.
 * Tens of thousands of host ranges are sorted natively: each becomes one 64-bit key, start in the
 * top 41 bits and its index in the low 23, written through an Int32Array view (no BigInt per
 * range) and sorted without a comparator. A comparator sort calls back into JS a million times
 * for 65 k ranges, mostly before the JIT has optimized anything in a one-shot CLI run.
 */
export function sortOrder(start: Float64Array, end: Float64Array, n: number): Uint32Array {
  return sortOrderBelow2e31(start, end, n) ?? sortOrderWide(start, end, n);
}

/**
 * sortOrder when every start is an integer below 2^31 (host pages below 8 TiB, every real host
 * here): the start as the key's high word and the index as its low word, both written as int32
 * with no arithmetic at all — the divisions sortOrderWide needs to split a 41-bit start cost a
 * one-shot run ~15 ms per 65 k ranges before the JIT catches up. Undefined when one does not fit.
 */
function sortOrderBelow2e31(start: Float64Array, end: Float64Array, n: number): Uint32Array | undefined {
  const keys = new BigUint64Array(n);
  const w = new Int32Array(keys.buffer);
  for (let i = 0; i < n; i++) {
    const s = start[i];
    if (!(s >= 0 && s < 2147483648)) return undefined;
    const si = s | 0;
    if (si !== s) return undefined;
    w[2 * i] = i;
    w[2 * i + 1] = si;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const j0 = w[2 * k];
    order[k] = j0;
    // Equal starts (equal high words) come out by index: put them in order of end (such runs are short).
    if (k > 0 && w[2 * k + 1] === w[2 * k - 1] && end[order[k - 1]] > end[j0]) insertByEnd(order, k, start, end);
  }
  return order;
}

/**
 * Moves order[k] back past the ranges before it with the same start and a larger end (the native
 * sorts order equal starts by index): the insertion step of an insertion sort, for short runs.
 */
function insertByEnd(order: Uint32Array, k: number, start: Float64Array, end: Float64Array): void {
  const j0 = order[k];
  let j = k;
  while (j > 0 && start[order[j - 1]] === start[j0] && end[order[j - 1]] > end[j0]) {
    order[j] = order[j - 1];
    j--;
  }
  order[j] = j0;
}

/** sortOrder for starts up to 2^41 pages (2^53 bytes, a 52-bit HAW) and lists of up to 2^23 ranges. */
function sortOrderWide(start: Float64Array, end: Float64Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const keys = n < 2 ** KEY_INDEX_BITS ? new BigUint64Array(n) : undefined;
  // Int32 words: a uint32 above 2^31 is a heap number in code the JIT has not optimized yet.
  const w = keys === undefined ? undefined : new Int32Array(keys.buffer);
  let fits = w !== undefined;
  // Two passes over the ranges and one native sort: in a one-shot run each pass costs ~2 ms per
  // 65 k ranges before the JIT catches up, so range checks ride along in the first.
  for (let i = 0; i < n && fits; i++) {
    const s = start[i];
    fits = s >= 0 && s < KEY_START_LIMIT && Math.floor(s) === s;
    // Bit operations on small integers only: no intermediate above 2^31 (a heap number each).
    const low = s % 512;
    w![2 * i] = (low << KEY_INDEX_BITS) | i;
    w![2 * i + 1] = ((s - low) / 512) | 0;
  }
  if (!fits) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort((a, b) => start[a] - start[b] || end[a] - end[b]);
  }
  keys!.sort();
  const mask = 2 ** KEY_INDEX_BITS - 1;
  for (let i = 0; i < n; i++) {
    const j0 = w![2 * i] & mask;
    order[i] = j0;
    // Equal starts (equal keys above the index bits) come out by index: put them in order of end
    // (runs of equal starts are short). The keys tell ties apart without reading `start`.
    if (i > 0 && w![2 * i + 1] === w![2 * i - 1] && w![2 * i] >>> KEY_INDEX_BITS === w![2 * i - 2] >>> KEY_INDEX_BITS && end[order[i - 1]] > end[j0]) insertByEnd(order, i, start, end);
  }
  return order;
}

/** A domain's mappings as host page ranges in typed arrays, with their order by host page. */
export interface HostView {
  /** Mapping indices by host page (start, then end). */
  order: Uint32Array;
  /** The mappings' host ranges [hpaPfn, hpaPfn + pages), laid out in that order (sweeps read them front to back), with W. */
  sortedStart: Float64Array;
  sortedEnd: Float64Array;
  sortedWrite: Uint8Array;
  /** The union of the writable ranges, where the view can make it faster than writableRanges (host-order.ts). */
  writableUnion?: () => PageRanges;
}

const hostViews = new WeakMap<MappingList, HostView>();

/**
 * The host view of a mapping list, built once and shared by every check that matches a domain's
 * host pages against something (structures, MMIO, other domains): one sort per domain per run.
 */
export function hostView(list: MappingList): HostView {
  let v = hostViews.get(list);
  if (v === undefined) {
    v = hostOrder(list) ?? hostViewPortable(list);
    hostViews.set(list, v);
  }
  return v;
}

/** hostView in JavaScript: where WebAssembly is not (host-order.ts), and the reference its test compares with. */
export function hostViewPortable(list: MappingList): HostView {
  const n = list.length;
  // The list's own column (no copy): the list is complete before any check runs.
  const start = list.hpaPfn.subarray(0, n);
  const end = new Float64Array(n);
  const pages = list.pages;
  for (let i = 0; i < n; i++) end[i] = start[i] + pages[i];
  const order = sortOrder(start, end, n);
  const sortedStart = new Float64Array(n);
  const sortedEnd = new Float64Array(n);
  const sortedWrite = new Uint8Array(n);
  const flags = list.flags;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    sortedStart[k] = start[i];
    sortedEnd[k] = end[i];
    sortedWrite[k] = (flags[i] & MAP_WRITE) === 0 ? 0 : 1;
  }
  return { order, sortedStart, sortedEnd, sortedWrite };
}

/** Something host ranges can be matched against in one merge (RangeIndex, PageIndex). */
export interface MergeIndex {
  /** hit[order[k]] = 1 for every k where [sortedStart[k], sortedEnd[k]) overlaps the index (ranges sorted by start, then end). */
  markOverlaps(sortedStart: Float64Array, sortedEnd: Float64Array, order: Uint32Array, hit: Uint8Array): void;
}

/** Which of the mappings reach a host page any of `indexes` holds (1 where one does), by merging. */
export function mappingsReaching(list: MappingList, ...indexes: MergeIndex[]): Uint8Array {
  const { sortedStart, sortedEnd, order } = hostView(list);
  const hit = new Uint8Array(list.length);
  for (const index of indexes) index.markOverlaps(sortedStart, sortedEnd, order, hit);
  return hit;
}

/**
 * The union of the writable host ranges of some domains' mappings, sorted: each domain's in one
 * pass over its cached host view, then merged (a single domain needs no more).
 */
export function writableUnion(lists: readonly MappingList[]): PageRanges {
  return unionOfUnions(lists.map((ms) => {
    const v = hostView(ms);
    return v.writableUnion?.() ?? writableRanges(v);
  }));
}

/** The union of a host view's writable ranges: filtered and joined in one pass (no copy between); the reference for host-order.wat's. */
export function writableRanges(v: HostView): PageRanges {
  const n = v.sortedWrite.length;
  const s = new Float64Array(n);
  const e = new Float64Array(n);
  const write = v.sortedWrite;
  const starts = v.sortedStart;
  const ends = v.sortedEnd;
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (write[i] === 0) continue;
    const a = starts[i];
    if (k >= 0 && a <= e[k]) {
      if (ends[i] > e[k]) e[k] = ends[i];
    } else {
      k++;
      s[k] = a;
      e[k] = ends[i];
    }
  }
  const m = k + 1;
  return { start: s.subarray(0, m), end: e.subarray(0, m), tag: new Uint32Array(m), length: m };
}

/**
 * The pages two unions (each sorted by start and disjoint) share: how many, and the first `keep`
 * shared runs in host order. One two-pointer pass: the range that ends first moves on.
 */
export function sharedRuns(a: PageRanges, b: PageRanges, keep: number): { pages: number; examples: [number, number][] } {
  const examples: [number, number][] = [];
  let pages = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a.start[i], b.start[j]);
    const hi = Math.min(a.end[i], b.end[j]);
    if (hi > lo) {
      pages += hi - lo;
      if (examples.length < keep) examples.push([lo, hi]);
    }
    if (a.end[i] <= b.end[j]) i++;
    else j++;
  }
  return { pages, examples };
}

/** Two sorted lists into one; on equal (start, end) `a`'s range comes first. */
function mergeTwo(a: PageRanges, b: PageRanges): PageRanges {
  const n = a.length + b.length;
  const s = new Float64Array(n);
  const e = new Float64Array(n);
  const t = new Uint32Array(n);
  const as = a.start;
  const ae = a.end;
  const at = a.tag;
  const bs = b.start;
  const be = b.end;
  const bt = b.tag;
  let i = 0;
  let j = 0;
  for (let k = 0; k < n; k++) {
    if (j === b.length || (i < a.length && (as[i] < bs[j] || (as[i] === bs[j] && ae[i] <= be[j])))) {
      s[k] = as[i];
      e[k] = ae[i];
      t[k] = at[i];
      i++;
    } else {
      s[k] = bs[j];
      e[k] = be[j];
      t[k] = bt[j];
      j++;
    }
  }
  return { start: s, end: e, tag: t, length: n };
}

/**
 * The union of lists of ranges, each sorted by start: merged two at a time (a tree of merges), but
 * each merge keeps only the union, so lists that overlap shrink as they go up the tree instead of
 * being copied whole at every level (thousands of host domains over the same few host pages, as a
 * hostile image makes: 5 s of 2 M ranges copied 15 times over).
 */
export function unionOfSorted(lists: readonly PageRanges[]): PageRanges {
  return unionOfUnions(lists.map((r) => unionRanges(r)));
}

/** unionOfSorted of lists that are each a union already (sorted, disjoint). */
function unionOfUnions(unions: readonly PageRanges[]): PageRanges {
  let level: PageRanges[] = [...unions];
  if (level.length === 0) return { start: new Float64Array(0), end: new Float64Array(0), tag: new Uint32Array(0), length: 0 };
  while (level.length > 1) {
    const next: PageRanges[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(unionRanges(mergeTwo(level[i], level[i + 1])));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

/** Merge sorted ranges into their union (tags dropped: the result is one owner's footprint). */
export function unionRanges(r: PageRanges): PageRanges {
  const s = new Float64Array(r.length);
  const e = new Float64Array(r.length);
  let k = -1;
  for (let i = 0; i < r.length; i++) {
    if (k >= 0 && r.start[i] <= e[k]) {
      if (r.end[i] > e[k]) e[k] = r.end[i];
    } else {
      k++;
      s[k] = r.start[i];
      e[k] = r.end[i];
    }
  }
  const n = k + 1;
  return { start: s.subarray(0, n), end: e.subarray(0, n), tag: new Uint32Array(n), length: n };
}

/**
 * A static set of labelled host ranges (I/O MMU structures, MMIO windows, RMRRs: a handful to a
 * few hundred) that mapping runs are tested against: sorted by start; `maxEnd` is the running
 * maximum of ends so a search finds the first range that can overlap even when ranges nest.
 */
export class RangeIndex<L> {
  private readonly s: Float64Array;
  private readonly e: Float64Array;
  private readonly maxEnd: Float64Array;
  private readonly labels: L[];

  constructor(items: readonly { startPfn: number; endPfn: number; label: L }[]) {
    const n = items.length;
    const start = Float64Array.from(items, (x) => x.startPfn);
    const end = Float64Array.from(items, (x) => x.endPfn);
    const order = sortOrder(start, end, n);
    this.s = new Float64Array(n);
    this.e = new Float64Array(n);
    this.maxEnd = new Float64Array(n);
    this.labels = new Array<L>(n);
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const j = order[i];
      this.s[i] = start[j];
      this.e[i] = end[j];
      this.labels[i] = items[j].label;
      if (end[j] > max) max = end[j];
      this.maxEnd[i] = max;
    }
  }

  get size(): number {
    return this.s.length;
  }

  /**
   * Set hit[order[k]] = 1 for each range [sortedStart[k], sortedEnd[k]) that overlaps one of the
   * index (ranges sorted by start, then end, as a host view lays them out): one merge, as
   * PageIndex.markOverlaps.
   */
  markOverlaps(sortedStart: Float64Array, sortedEnd: Float64Array, order: Uint32Array, hit: Uint8Array): void {
    const n = this.s.length;
    let j = 0;
    for (let k = 0; k < order.length; k++) {
      const s = sortedStart[k];
      const e = sortedEnd[k];
      // maxEnd never decreases, and neither do the starts taken in order: j only moves forward.
      while (j < n && this.maxEnd[j] <= s) j++;
      if (j === n) return;
      for (let r = j; r < n && this.s[r] < e; r++) {
        if (this.e[r] > s) {
          hit[order[k]] = 1;
          break;
        }
      }
    }
  }

  /** Calls `hit` for every range overlapping [startPfn, endPfn) with the overlap. */
  query(startPfn: number, endPfn: number, hit: (label: L, fromPfn: number, toPfn: number) => void): void {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxEnd[mid] <= startPfn) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.s.length && this.s[i] < endPfn; i++) {
      if (this.e[i] <= startPfn) continue;
      hit(this.labels[i], Math.max(startPfn, this.s[i]), Math.min(endPfn, this.e[i]));
    }
  }
}

/**
 * Single labelled pages (every domain's page-table pages: tens of thousands, scattered), each
 * label's as a sorted Float64Array of page numbers. Built with one native sort per label, no loop
 * that coalesces or allocates per page; a query reports runs of consecutive pages of one label.
 * The labels stay apart: matching sorted ranges against them is one merge per label (a label is
 * a domain: a few), where one merged, labelled list cost 20 bytes a page of fresh memory (~3 ms
 * for the 65 k table pages of two 64 GiB VMs).
 */
export class PageIndex<L> {
  /** Label id → its pages, sorted (a page a label lists twice is in it twice). */
  private readonly pages: Float64Array[];

  /** `groups`: each label with its pages (any order; a page may repeat under several labels). */
  constructor(groups: { label: L; pfns: readonly number[] }[]) {
    this.labels = groups.map((g) => g.label);
    this.pages = groups.map((g) => Float64Array.from(g.pfns).sort());
  }

  readonly labels: L[];

  get size(): number {
    return this.pages.reduce((n, p) => n + p.length, 0);
  }

  /**
   * Set hit[order[k]] = 1 for each range [sortedStart[k], sortedEnd[k]) that holds a page of the
   * index (ranges sorted by start). One merge per label instead of a binary search per range:
   * tens of thousands of mappings against tens of thousands of table pages.
   */
  markOverlaps(sortedStart: Float64Array, sortedEnd: Float64Array, order: Uint32Array, hit: Uint8Array): void {
    for (const p of this.pages) {
      let j = 0;
      for (let k = 0; k < order.length; k++) {
        const s = sortedStart[k];
        while (j < p.length && p[j] < s) j++;
        if (j === p.length) break;
        if (p[j] < sortedEnd[k]) hit[order[k]] = 1;
      }
    }
  }

  /**
   * Calls `hit` for every run of consecutive pages of one label inside [startPfn, endPfn), in
   * page order, then label order (a page listed under two labels is reported under each).
   */
  query(startPfn: number, endPfn: number, hit: (label: L, fromPfn: number, toPfn: number) => void): void {
    const runs: { id: number; from: number; to: number }[] = [];
    for (let id = 0; id < this.pages.length; id++) {
      const p = this.pages[id];
      let run: { id: number; from: number; to: number } | undefined;
      for (let i = lowerBound(p, startPfn); i < p.length && p[i] < endPfn; i++) {
        if (run !== undefined && run.to === p[i]) run.to = p[i] + 1;
        else if (run === undefined || run.to < p[i]) {
          run = { id, from: p[i], to: p[i] + 1 };
          runs.push(run);
        } // else: the same page twice under one label
      }
    }
    runs.sort((a, b) => a.from - b.from || a.id - b.id);
    for (const r of runs) hit(this.labels[r.id], r.from, r.to);
  }
}

/** Index of the first of the sorted `p` at or above `pfn`. */
function lowerBound(p: Float64Array, pfn: number): number {
  let lo = 0;
  let hi = p.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (p[mid] < pfn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
