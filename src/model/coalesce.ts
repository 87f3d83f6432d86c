/**
 * Coalesces leaf translations into ranges while they are produced, so no per-page object ever
 * exists. Two neighbours merge when both IOVA and HPA are contiguous and permissions and page
 * size are equal (docs/cli-contract.md). Leaves must be added in ascending IOVA order, which both a
 * table walk and debugfs' row order give.
 */
import { MAP_READ, MAP_SNP, MAP_SNP_KNOWN, MAP_TM, MAP_TM_KNOWN, MAP_WRITE, MappingList, pageSizeFlags } from './mapping-list.js';
import type { PageSize } from './types.js';

export class MappingCoalescer {
  /** The mappings, as columns (model/mapping-list.ts): no object per mapping. */
  readonly list = new MappingList();
  pageCount = 0;
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
    if (iovaPfn === this.nextIova && hpaPfn === this.nextHpa && attrs === this.attrs) {
      this.list.extendLast(pages);
      this.nextIova += pages;
      this.nextHpa += pages;
      return;
    }
    // SNP and TM only when set: a walk reports the bits it found, not that they are clear.
    this.list.push(iovaPfn, hpaPfn, pages,
      (bits & 1 ? MAP_READ : 0) | (bits & 2 ? MAP_WRITE : 0) | (bits & 4 ? MAP_SNP_KNOWN | MAP_SNP : 0) | (bits & 8 ? MAP_TM_KNOWN | MAP_TM : 0) | pageSizeFlags(pageSize));
    this.nextIova = iovaPfn + pages;
    this.nextHpa = hpaPfn + pages;
    this.attrs = attrs;
  }
}
