/**
 * A domain's mappings column by column: IOVA page, host page and length in Float64Arrays (exact
 * integers, page numbers below 2^41) and the attributes packed in a byte. A 64 GiB VM in 4 KiB
 * pages has ~65 k mappings and a 1 TiB one ~1 M; as objects they were a sixth of a CLI run — made
 * one by one, then copied by every young-generation GC while the walk went on (30–65 ms of
 * `decode` on the 64 GiB bench capture) and read field by field by the checks, mostly before the
 * JIT had optimized anything. Columns are made by the coalescer and read by the hot paths (host
 * views, JSON lines) as typed arrays; `Mapping` objects exist only where code asks for them.
 *
 * A holder — a walk result, a domain, a debugfs block — keeps its list next to its `mappings`
 * array, which is made from the list the first time something reads it (attachMappingList), so
 * code that reads `mappings` sees what it always saw.
 */
import type { Mapping, PageSize } from './types.js';

/** The attribute byte: R, W, SNP and TM (each with a bit saying whether the source gave it), page size. */
export const MAP_READ = 1;
export const MAP_WRITE = 2;
/** SNP known (the table's entry has the field: second level) and its value. */
export const MAP_SNP_KNOWN = 4;
export const MAP_SNP = 8;
export const MAP_TM_KNOWN = 16;
export const MAP_TM = 32;
/** Page size: neither bit 4 KiB, MAP_2M 2 MiB, MAP_1G 1 GiB. */
export const MAP_2M = 64;
export const MAP_1G = 128;

const PAGE_SIZE_BITS = MAP_2M | MAP_1G;

export function pageSizeFlags(pageSize: PageSize): number {
  return pageSize === 4096 ? 0 : pageSize === 2097152 ? MAP_2M : MAP_1G;
}

function pageSizeOf(flags: number): PageSize {
  const s = flags & PAGE_SIZE_BITS;
  return s === 0 ? 4096 : s === MAP_2M ? 2097152 : 1073741824;
}

/** The attribute byte of a Mapping object; -1 when its page size is none of the three. */
export function mappingFlags(m: Mapping): number {
  const size = m.pageSize === 4096 ? 0 : m.pageSize === 2097152 ? MAP_2M : m.pageSize === 1073741824 ? MAP_1G : -1;
  if (size < 0) return -1;
  return (m.read ? MAP_READ : 0) | (m.write ? MAP_WRITE : 0) | (m.snp === undefined ? 0 : m.snp ? MAP_SNP_KNOWN | MAP_SNP : MAP_SNP_KNOWN) |
    (m.tm === undefined ? 0 : m.tm ? MAP_TM_KNOWN | MAP_TM : MAP_TM_KNOWN) | size;
}

const SMI_LIMIT = 2147483648;

/** A Mapping object; every one is made here, so all share one object literal's shape. */
function newMapping(iovaPfn: number, hpaPfn: number, pages: number, read: boolean, write: boolean, pageSize: PageSize): Mapping {
  return { iovaPfn, hpaPfn, pages, read, write, pageSize };
}

// V8 gives a field the representation of the first value stored in it — a small integer — and a
// page number of 2^31 or more (an IOVA high in a 48-bit space, as Linux's DMA API hands out)
// later changes it to a double. That change deprecates the shape: every Mapping made before is
// migrated on its first read, ~1 µs each. One object made here with no number in the page fields
// makes them tagged from the start, where both kinds of number fit; the page size too (1 GiB,
// 2^30, is beyond a small integer).
newMapping(null as unknown as number, null as unknown as number, null as unknown as number, false, false, null as unknown as PageSize);

export interface IovaSummary {
  ascending: boolean;
  pages: number;
  /** Mappings whose IOVA page is their host page (1:1). */
  identity: number;
}

export class MappingList {
  /** How many mappings there are (the columns may be longer: room to grow). */
  length = 0;
  iovaPfn: Float64Array;
  hpaPfn: Float64Array;
  /** Length in 4 KiB pages (a 2 MiB leaf is 512). */
  pages: Float64Array;
  flags: Uint8Array;
  /** The objects, once asked for (or the array the list was made from). */
  private objects: Mapping[] | undefined;
  /** iovaSummary's answer, until the list changes. */
  private summary: IovaSummary | undefined;

  constructor(capacity = 16) {
    this.iovaPfn = new Float64Array(capacity);
    this.hpaPfn = new Float64Array(capacity);
    this.pages = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  /** The list of `mappings` (kept: `at` and `toArray` give these very objects back). */
  static fromArray(mappings: readonly Mapping[]): MappingList {
    const list = new MappingList(Math.max(1, mappings.length));
    for (const m of mappings) {
      const f = mappingFlags(m);
      // PageSize admits no other: only a program error makes one.
      if (f < 0) throw new Error(`a mapping at IOVA page ${m.iovaPfn} has page size ${String(m.pageSize)}, none of 4 KiB, 2 MiB, 1 GiB`);
      list.push(m.iovaPfn, m.hpaPfn, m.pages, f);
    }
    list.objects = mappings as Mapping[];
    return list;
  }

  push(iovaPfn: number, hpaPfn: number, pages: number, flags: number): void {
    if (this.length === this.iovaPfn.length) this.grow();
    const i = this.length++;
    this.iovaPfn[i] = iovaPfn;
    this.hpaPfn[i] = hpaPfn;
    this.pages[i] = pages;
    this.flags[i] = flags;
    this.changed();
  }

  /** Mappings `from` to `to` (exclusive) of four columns, copied in. */
  append(iovaPfn: Float64Array, hpaPfn: Float64Array, pages: Float64Array, flags: Uint8Array, from: number, to: number): void {
    const n = to - from;
    while (this.length + n > this.iovaPfn.length) this.grow();
    const at = this.length;
    this.iovaPfn.set(iovaPfn.subarray(from, to), at);
    this.hpaPfn.set(hpaPfn.subarray(from, to), at);
    this.pages.set(pages.subarray(from, to), at);
    this.flags.set(flags.subarray(from, to), at);
    this.length += n;
    this.changed();
  }

  /** The objects and the summary were of the list before this change. */
  private changed(): void {
    this.objects = undefined;
    this.summary = undefined;
  }

  /** Lengthen the last mapping by `pages` (the coalescer's join). */
  extendLast(pages: number): void {
    this.pages[this.length - 1] += pages;
    this.changed();
  }

  /**
   * Four times the room: a column's memory costs most when first written (a page fault per 4 KiB,
   * ~10 µs on the VMs measured), and room never written costs nothing, so growing by four writes
   * a third of the final size again in copies where doubling wrote it all again.
   */
  private grow(): void {
    const n = Math.max(16, this.iovaPfn.length * 4);
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.iovaPfn = f64(this.iovaPfn);
    this.hpaPfn = f64(this.hpaPfn);
    this.pages = f64(this.pages);
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
  }

  /**
   * Whether the mappings are in ascending IOVA order without overlaps (each starts at or after the
   * end of the one before: a walk's order, and debugfs'), their pages in all, and how many map
   * their IOVA 1:1; worked out once, in one pass, for every check that asks. Ordered lists can be
   * searched by IOVA (binary search) instead of visited mapping by mapping, and a list without a
   * 1:1 mapping need not be searched for them.
   */
  iovaSummary(): IovaSummary {
    if (this.summary === undefined) {
      const iova = this.iovaPfn;
      const hpa = this.hpaPfn;
      const pages = this.pages;
      let ascending = true;
      let total = 0;
      let identity = 0;
      let end = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < this.length; i++) {
        if (iova[i] < end || !(pages[i] >= 0)) ascending = false;
        if (iova[i] === hpa[i]) identity++;
        end = iova[i] + pages[i];
        total += pages[i];
      }
      this.summary = { ascending, pages: total, identity };
    }
    return this.summary;
  }

  /** The first mapping (in list order) that ends after IOVA page `pfn`; length when none. Only for ascending lists. */
  firstEndingAfter(pfn: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.iovaPfn[mid] + this.pages[mid] > pfn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  write(i: number): boolean {
    return (this.flags[i] & MAP_WRITE) !== 0;
  }

  pageSize(i: number): PageSize {
    return pageSizeOf(this.flags[i]);
  }

  /** Mapping i as an object (the same object each time once toArray has run). */
  at(i: number): Mapping {
    return this.objects !== undefined ? this.objects[i] : this.object(i);
  }

  private object(i: number): Mapping {
    const f = this.flags[i];
    const iova = this.iovaPfn[i];
    const hpa = this.hpaPfn[i];
    const pages = this.pages[i];
    // Page numbers below 2^31 as small integers: a double in one object turns the field into a
    // boxed double in every Mapping (see newMapping).
    const m = newMapping(iova < SMI_LIMIT ? iova | 0 : iova, hpa < SMI_LIMIT ? hpa | 0 : hpa, pages < SMI_LIMIT ? pages | 0 : pages, (f & MAP_READ) !== 0, (f & MAP_WRITE) !== 0, pageSizeOf(f));
    if ((f & MAP_SNP_KNOWN) !== 0) m.snp = (f & MAP_SNP) !== 0;
    if ((f & MAP_TM_KNOWN) !== 0) m.tm = (f & MAP_TM) !== 0;
    return m;
  }

  /** Whether `array` is the one this list made (toArray) or was made from: the list still describes it. */
  describes(array: readonly Mapping[]): boolean {
    return this.objects === array && array.length === this.length;
  }

  /** Every mapping as an object, made once. */
  toArray(): Mapping[] {
    if (this.objects === undefined) {
      const out: Mapping[] = new Array(this.length);
      for (let i = 0; i < this.length; i++) out[i] = this.object(i);
      this.objects = out;
    }
    return this.objects;
  }
}

/** Something with a `mappings` array: a walk result, a domain, a block of debugfs rows. */
export interface HasMappings {
  mappings: Mapping[];
}

const LIST = Symbol('mapping list');
type Holder = HasMappings & { [LIST]?: MappingList };

/** Lists made from holders' arrays (a domain built by a test or a text reader), by array. */
const fromArrays = new WeakMap<readonly Mapping[], MappingList>();

/**
 * Give `holder` the mappings of `list`: its `mappings` array is made from the list when first read
 * (and then stays); assigning `mappings` replaces both. The list is not enumerable, so a copy made
 * by spreading or JSON sees the array, as before.
 */
export function attachMappingList<T extends HasMappings>(holder: T, list: MappingList): T {
  const h = holder as T & Holder;
  Object.defineProperty(h, LIST, { value: list, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(h, 'mappings', {
    configurable: true,
    enumerable: true,
    get(this: Holder) {
      const array = list.toArray();
      setMappings(this, array);
      this[LIST] = list;
      return array;
    },
    set(this: Holder, value: Mapping[]) {
      setMappings(this, value);
    },
  });
  return holder;
}

function setMappings(h: Holder, value: Mapping[]): void {
  Object.defineProperty(h, 'mappings', { value, writable: true, configurable: true, enumerable: true });
  h[LIST] = undefined;
}

/** `to` takes `from`'s mappings: its list when it has one (no objects made), else its array. */
export function shareMappings(to: HasMappings, from: HasMappings): void {
  const list = (from as Holder)[LIST];
  if (list !== undefined) attachMappingList(to, list);
  else to.mappings = from.mappings;
}

/**
 * The mappings of `holder` as columns: its own list while its array has not been made, else a
 * list made from the array — once per array, again if the array has grown since (a test adds a
 * mapping). Mappings are not edited in place once read: the model is built whole, then judged.
 */
export function mappingListOf(holder: HasMappings): MappingList {
  const own = (holder as Holder)[LIST];
  if (own !== undefined && Object.getOwnPropertyDescriptor(holder, 'mappings')?.get !== undefined) return own;
  const array = holder.mappings;
  // The list is the holder's only while its array is the list's own (a replaced array of the same
  // length is not: its numbers may differ).
  if (own?.describes(array) === true) return own;
  let list = fromArrays.get(array);
  if (list === undefined || list.length !== array.length) {
    list = MappingList.fromArray(array);
    fromArrays.set(array, list);
  }
  return list;
}
