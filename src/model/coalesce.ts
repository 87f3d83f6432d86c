/**
 * Coalesces leaf translations into ranges while they are produced, so no per-page object ever
 * exists. Two neighbours merge when both IOVA and HPA are contiguous and permissions and page
 * size are equal (cli-contract.md). Leaves must be added in ascending IOVA order, which both a
 * table walk and debugfs' row order give.
 */
import type { Mapping, PageSize } from './types.js';

export class MappingCoalescer {
  readonly mappings: Mapping[] = [];
  pageCount = 0;
  private last: Mapping | undefined;

  /** Add `pages` 4 KiB pages (a 2 MiB leaf is 512) starting at iovaPfn → hpaPfn. */
  add(iovaPfn: number, hpaPfn: number, pages: number, read: boolean, write: boolean, pageSize: PageSize, snp = false, tm = false): void {
    this.pageCount += pages;
    const l = this.last;
    if (
      l !== undefined &&
      l.iovaPfn + l.pages === iovaPfn &&
      l.hpaPfn + l.pages === hpaPfn &&
      l.read === read &&
      l.write === write &&
      l.pageSize === pageSize &&
      (l.snp ?? false) === snp &&
      (l.tm ?? false) === tm
    ) {
      l.pages += pages;
      return;
    }
    const m: Mapping = { iovaPfn, hpaPfn, pages, read, write, pageSize };
    if (snp) m.snp = true;
    if (tm) m.tm = true;
    this.mappings.push(m);
    this.last = m;
  }
}
