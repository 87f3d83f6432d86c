/**
 * Coalesces leaf translations into ranges while they are produced, so no per-page object ever
 * exists. Two neighbours merge when both IOVA and HPA are contiguous and permissions and page
 * size are equal (docs/cli-contract.md). Leaves must be added in ascending IOVA order, which both a
 * table walk and debugfs' row order give.
 */
import type { Mapping, PageSize } from './types.js';

const SMI_LIMIT = 2147483648;

/** A Mapping object; every one is made here, so all share one object literal's shape. */
function newMapping(iovaPfn: number, hpaPfn: number, pages: number, read: boolean, write: boolean, pageSize: PageSize): Mapping {
  return { iovaPfn, hpaPfn, pages, read, write, pageSize };
}

// V8 gives a field the representation of the first value stored in it — a small integer — and a
// page number of 2^31 or more (an IOVA high in a 48-bit space, as Linux's DMA API hands out)
// later changes it to a double. That change deprecates the shape: every Mapping made before is
// migrated on its first read, ~1 µs each (2.6 s over the mappings of a hostile 8 MiB image, and
// on any capture whose domains start low and end high). One object made here with no number in
// the page fields makes them tagged from the start, where both kinds of number fit.
newMapping(null as unknown as number, null as unknown as number, null as unknown as number, false, false, 4096);

export class MappingCoalescer {
  readonly mappings: Mapping[] = [];
  pageCount = 0;
  private last: Mapping | undefined;
  /**
   * Where the last mapping ends (IOVA and HPA page) and its attributes packed as addRun's `bits`
   * plus the page size (16: 2 MiB, 32: 1 GiB): the test "continues it" on numbers, not on the
   * object's fields — it runs once per run of PTEs, ~100 k times for a 64 GiB VM, mostly before
   * the JIT has optimized it.
   */
  private nextIova = -1;
  private nextHpa = -1;
  private attrs = -1;

  /** Add `pages` 4 KiB pages (a 2 MiB leaf is 512) starting at iovaPfn → hpaPfn. */
  add(iovaPfn: number, hpaPfn: number, pages: number, read: boolean, write: boolean, pageSize: PageSize, snp = false, tm = false): void {
    this.addRun(iovaPfn, hpaPfn, pages, (read ? 1 : 0) | (write ? 2 : 0) | (snp ? 4 : 0) | (tm ? 8 : 0), pageSize);
  }

  /**
   * 4 KiB mappings as the walker's WebAssembly leaf loop writes them (leaf-run.wat): `count`
   * records of four numbers — IOVA page, host page, pages, bits — in IOVA order.
   */
  addRecords(values: Float64Array, count: number): void {
    for (let r = 0; r < count; r++) this.addRun(values[4 * r], values[4 * r + 1], values[4 * r + 2], values[4 * r + 3], 4096);
  }

  /** `add` with the permissions packed in `bits`: read 1, write 2, SNP 4, TM 8 (the walker's form). */
  addRun(iovaPfn: number, hpaPfn: number, pages: number, bits: number, pageSize: PageSize): void {
    this.pageCount += pages;
    const attrs = bits | (pageSize === 4096 ? 0 : pageSize === 2097152 ? 16 : 32);
    const l = this.last;
    if (l !== undefined && iovaPfn === this.nextIova && hpaPfn === this.nextHpa && attrs === this.attrs) {
      l.pages += pages;
      this.nextIova += pages;
      this.nextHpa += pages;
      return;
    }
    // Page numbers below 2^31 as small integers: one stored as a heap number (an integral double
    // from unoptimized arithmetic) turns the field into a boxed double in every Mapping object.
    const m = newMapping(
      iovaPfn < SMI_LIMIT ? iovaPfn | 0 : iovaPfn, hpaPfn < SMI_LIMIT ? hpaPfn | 0 : hpaPfn, pages < SMI_LIMIT ? pages | 0 : pages,
      (bits & 1) !== 0, (bits & 2) !== 0, pageSize,
    );
    if ((bits & 4) !== 0) m.snp = true;
    if ((bits & 8) !== 0) m.tm = true;
    this.mappings.push(m);
    this.last = m;
    this.nextIova = iovaPfn + pages;
    this.nextHpa = hpaPfn + pages;
    this.attrs = attrs;
  }
}
