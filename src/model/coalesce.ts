/**
 * Coalesces leaf translations into ranges while they are produced, so no per-page object ever
 * exists. Two neighbours merge when both IOVA and HPA are contiguous and permissions and page
 * size are equal (docs/cli-contract.md). Leaves must be added in ascending IOVA order, which both a
 * table walk and debugfs' row order give.
 */
import type { Mapping, PageSize } from './types.js';

const SMI_LIMIT = 2147483648;

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
    // Page numbers below 2^31 as small integers: one stored as a heap number (an integral double
    // from unoptimized arithmetic) turns the field into a boxed double in every Mapping object.
    const m: Mapping = { iovaPfn: iovaPfn < SMI_LIMIT ? iovaPfn | 0 : iovaPfn, hpaPfn: hpaPfn < SMI_LIMIT ? hpaPfn | 0 : hpaPfn, pages: pages < SMI_LIMIT ? pages | 0 : pages, read, write, pageSize };
    if (snp) m.snp = true;
    if (tm) m.tm = true;
    this.mappings.push(m);
    this.last = m;
  }
}
