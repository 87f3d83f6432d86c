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
   * Where the last mapping ends (IOVA and HPA page) and its attribute byte: the test "continues
   * it" on numbers, not on the list — it runs once per run of PTEs, ~100 k times for a 64 GiB VM,
   * mostly before the JIT has optimized it.
   */
  private nextIova = -1;
  private nextHpa = -1;
  private flags = -1;

  /** Add `pages` 4 KiB pages (a 2 MiB leaf is 512) starting at iovaPfn → hpaPfn. */
  add(iovaPfn: number, hpaPfn: number, pages: number, read: boolean, write: boolean, pageSize: PageSize, snp = false, tm = false): void {
    this.addRun(iovaPfn, hpaPfn, pages, (read ? 1 : 0) | (write ? 2 : 0) | (snp ? 4 : 0) | (tm ? 8 : 0), pageSize);
  }

  /** `add` with the permissions packed in `bits`: read 1, write 2, SNP 4, TM 8 (the walker's form). */
  addRun(iovaPfn: number, hpaPfn: number, pages: number, bits: number, pageSize: PageSize): void {
    this.pageCount += pages;
    // SNP and TM only when set: a walk reports the bits it found, not that they are clear.
    this.addMapping(iovaPfn, hpaPfn, pages,
      (bits & 1 ? MAP_READ : 0) | (bits & 2 ? MAP_WRITE : 0) | (bits & 4 ? MAP_SNP_KNOWN | MAP_SNP : 0) | (bits & 8 ? MAP_TM_KNOWN | MAP_TM : 0) | pageSizeFlags(pageSize));
  }

  /** One run with its attribute byte: joined to the last mapping when it continues it. */
  private addMapping(iovaPfn: number, hpaPfn: number, pages: number, flags: number): void {
    if (iovaPfn === this.nextIova && hpaPfn === this.nextHpa && flags === this.flags) {
      this.list.extendLast(pages);
    } else {
      this.list.push(iovaPfn, hpaPfn, pages, flags);
      this.flags = flags;
    }
    this.nextIova = iovaPfn + pages;
    this.nextHpa = hpaPfn + pages;
  }

  /**
   * Mappings as the walker's WebAssembly leaf loop writes them (leaf-run.wat): `count` records in
   * columns, in IOVA order, adding `pages` 4 KiB pages in all. The loop joined every record it
   * could, so only the first may continue the last mapping; the others are copied in whole.
   */
  addColumns(iova: Float64Array, hpa: Float64Array, pages: Float64Array, flags: Uint8Array, count: number, pageTotal: number): void {
    this.pageCount += pageTotal;
    if (count === 0) return;
    this.addMapping(iova[0], hpa[0], pages[0], flags[0]);
    if (count === 1) return;
    this.list.append(iova, hpa, pages, flags, 1, count);
    const last = count - 1;
    this.nextIova = iova[last] + pages[last];
    this.nextHpa = hpa[last] + pages[last];
    this.flags = flags[last];
  }
}
