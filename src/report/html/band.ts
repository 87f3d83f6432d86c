/**
 * Runs, not pages: ranges on an address axis merged at the drawing resolution. The axis is cut
 * into BAND_COLUMNS columns; every range covers at least one column; per class, consecutive
 * covered columns become one run. So a band never has more than
 *   classes × ⌈BAND_COLUMNS / 2⌉
 * runs (two runs of one class are separated by at least one column it does not cover), however
 * many ranges feed it: 65,000 mappings or 16 million pages draw the same number of elements.
 * Work is O(ranges + classes × columns), two passes, no sort.
 */

/** Columns across a band: the drawing resolution (the SVG's band is this many user units wide). */
export const BAND_COLUMNS = 1000;

/** The most runs one band can hold, for `classes` classes (the bound the tests check). */
export function maxRuns(classes: number, columns = BAND_COLUMNS): number {
  return classes * Math.ceil(columns / 2);
}

/** A linear axis [lo, hi) in page numbers, mapped onto `columns` columns. */
export interface Axis {
  lo: number;
  hi: number;
  columns: number;
}

/** Column of a page number (fractional), clamped to the axis. */
export function columnOf(axis: Axis, pfn: number): number {
  const x = ((pfn - axis.lo) / (axis.hi - axis.lo)) * axis.columns;
  return x < 0 ? 0 : Math.min(x, axis.columns);
}

export interface BandRun {
  cls: number;
  /** Columns [col0, col1). */
  col0: number;
  col1: number;
  /** Pages of the class in the run, how many ranges fed it, and its first and last page. */
  pages: number;
  ranges: number;
  startPfn: number;
  endPfn: number;
  /** The range (input index) with the lowest start: its details go into the hover text. */
  first: number;
}

/** Ranges [start[i], end[i]) of class cls[i] (0 ≤ cls < classes), merged into runs per class. */
export function bandRuns(axis: Axis, start: ArrayLike<number>, end: ArrayLike<number>, cls: ArrayLike<number>, n: number, classes: number): BandRun[] {
  const W = axis.columns;
  const diff = new Int32Array(classes * (W + 1));
  const c0 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = Math.min(W - 1, Math.floor(columnOf(axis, start[i])));
    const x1 = Math.max(x0 + 1, Math.ceil(columnOf(axis, end[i])));
    c0[i] = x0;
    const row = cls[i] * (W + 1);
    diff[row + x0]++;
    diff[row + x1]--;
  }
  const runs: BandRun[] = [];
  // Column → run index, per class (−1: not covered).
  const runAt = new Int32Array(classes * W).fill(-1);
  for (let c = 0; c < classes; c++) {
    let depth = 0;
    let open = -1;
    for (let x = 0; x < W; x++) {
      depth += diff[c * (W + 1) + x];
      if (depth > 0) {
        if (open < 0) {
          open = runs.length;
          runs.push({ cls: c, col0: x, col1: x + 1, pages: 0, ranges: 0, startPfn: Infinity, endPfn: -Infinity, first: -1 });
        } else runs[open].col1 = x + 1;
        runAt[c * W + x] = open;
      } else open = -1;
    }
  }
  for (let i = 0; i < n; i++) {
    const r = runs[runAt[cls[i] * W + c0[i]]];
    r.pages += end[i] - start[i];
    r.ranges++;
    if (start[i] < r.startPfn) {
      r.startPfn = start[i];
      r.first = i;
    }
    if (end[i] > r.endPfn) r.endPfn = end[i];
  }
  return runs;
}

/**
 * A round upper end for an axis holding [0, pfn): a multiple of a power-of-two step that gives
 * 4 to 8 ticks, so the labels read 0, 1 GiB, 2 GiB … Returns the end and the step (pages).
 */
export function niceAxis(endPfn: number): { hi: number; step: number } {
  const end = Math.max(endPfn, 256); // at least 1 MiB
  let step = 1;
  while (end / step > 8) step *= 2;
  return { hi: Math.ceil(end / step) * step, step };
}
