/**
 * The common core of the file-backed readers (raw, ELF, LiME): a sorted list of physical
 * segments, each backed by a run of file bytes, optionally followed by a zero-filled tail
 * (ELF p_memsz > p_filesz). Also the overlap resolution the container formats share.
 */
import type { ImageFormat, PhysicalMemory, PhysRange } from './types.js';
import { pageOffsets, type BlockFile } from './file.js';
import { hex } from '../util/hex.js';

const PAGE = 4096;

export interface Segment {
  /** Physical [start, end). */
  start: number;
  end: number;
  /** File offset of physical `start`. */
  fileOffset: number;
  /** Physical address where file-backed bytes stop; [fileEnd, end) reads as zeros. */
  fileEnd: number;
}

/** A candidate segment in priority order (earlier in the file wins on overlap). */
export interface CandidateSegment extends Segment {
  /** Human label for warnings, e.g. "PT_LOAD #3" or "LiME range at byte 0x40". */
  label: string;
}

const MAX_OVERLAP_WARNINGS = 10;

/**
 * Sort candidates by address and cut overlaps so that, for every physical byte claimed by
 * several candidates, the one earliest in `candidates` (file order) wins. O(n log n) even for
 * hostile inputs with many overlapping segments.
 */
export function resolveOverlaps(candidates: readonly CandidateSegment[], warnings: string[]): Segment[] {
  const items = candidates.map((c, idx) => ({ c, idx })).filter((x) => x.c.end > x.c.start);
  items.sort((a, b) => a.c.start - b.c.start || a.idx - b.idx);

  // Detect overlaps (and warn) in one pass: a segment overlaps when it starts below the
  // furthest end seen so far.
  let maxEnd = -1;
  let maxOwner: (typeof items)[number] | undefined;
  let overlaps = 0;
  for (const it of items) {
    if (maxOwner && it.c.start < maxEnd) {
      overlaps++;
      if (overlaps <= MAX_OVERLAP_WARNINGS) {
        const [first, second] = maxOwner.idx < it.idx ? [maxOwner, it] : [it, maxOwner];
        const lo = Math.max(it.c.start, maxOwner.c.start);
        const hi = Math.min(it.c.end, maxEnd);
        warnings.push(
          `${second.c.label} overlaps ${first.c.label} at physical ${hex(lo)}-${hex(hi - 1)}; ` +
            `using the bytes of ${first.c.label} (the earlier one in the file)`,
        );
      }
    }
    if (it.c.end > maxEnd) {
      maxEnd = it.c.end;
      maxOwner = it;
    }
  }
  if (overlaps > MAX_OVERLAP_WARNINGS) warnings.push(`${overlaps - MAX_OVERLAP_WARNINGS} more overlapping ranges (earlier ones in the file win)`);
  if (overlaps === 0) return items.map(({ c }) => ({ start: c.start, end: c.end, fileOffset: c.fileOffset, fileEnd: c.fileEnd }));

  // Elementary-interval sweep: between consecutive boundaries the winner is the active
  // candidate with the smallest file-order index (a min-heap with lazy deletion).
  const bounds = [...new Set(items.flatMap((x) => [x.c.start, x.c.end]))].sort((a, b) => a - b);
  const heap: (typeof items)[number][] = [];
  const push = (x: (typeof items)[number]): void => {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].idx <= heap[i].idx) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): void => {
    const last = heap.pop();
    if (!heap.length || !last) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].idx < heap[m].idx) m = l;
      if (r < heap.length && heap[r].idx < heap[m].idx) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  };
  const out: Segment[] = [];
  let next = 0;
  let lastWinner = -1;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const pos = bounds[k];
    while (next < items.length && items[next].c.start <= pos) push(items[next++]);
    while (heap.length && heap[0].c.end <= pos) pop();
    if (!heap.length) {
      lastWinner = -1;
      continue;
    }
    const w = heap[0];
    const end = bounds[k + 1];
    const prev = out[out.length - 1];
    if (prev && lastWinner === w.idx && prev.end === pos) {
      prev.end = end;
    } else {
      out.push({ start: pos, end, fileOffset: w.c.fileOffset + (pos - w.c.start), fileEnd: w.c.fileEnd });
    }
    lastWinner = w.idx;
  }
  return out;
}

/**
 * The declared-but-lost ranges of a dump cut short, as `PhysicalMemory.missing` wants them: sorted,
 * without the bytes another segment does hold (the earlier segment wins there, as for overlaps),
 * and without overlaps among themselves.
 */
export function missingRanges(lost: readonly PhysRange[], present: readonly Segment[]): PhysRange[] {
  const out: PhysRange[] = [];
  const sorted = lost.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  let p = 0;
  for (const r of sorted) {
    let start = Math.max(r.start, out.length ? out[out.length - 1].end : 0);
    while (start < r.end) {
      while (p < present.length && present[p].end <= start) p++;
      const seg = present[p];
      if (seg !== undefined && seg.start <= start) {
        start = seg.end; // held by a segment: skip it
        continue;
      }
      const end = Math.min(r.end, seg !== undefined ? seg.start : Infinity);
      const prev = out[out.length - 1];
      const fileOffset = r.fileOffset + (start - r.start);
      if (prev && prev.end === start && prev.fileOffset + (prev.end - prev.start) === fileOffset) prev.end = end;
      else out.push({ start, end, fileOffset });
      start = end;
    }
  }
  return out;
}

/** A PhysicalMemory over sorted, non-overlapping segments of one file. */
export class SegmentedMemory implements PhysicalMemory {
  readonly path: string;
  readonly format: ImageFormat;
  readonly ranges: readonly PhysRange[];
  readonly warnings: string[];
  readonly missing: readonly PhysRange[];
  readonly embeddedRegisters?: string;
  private readonly segs: readonly Segment[];
  private readonly file: BlockFile;

  /** `missing`: the output of `missingRanges` (declared ranges the file lost), if any. */
  constructor(file: BlockFile, format: ImageFormat, segments: readonly Segment[], warnings: string[], missing: readonly PhysRange[] = []) {
    this.file = file;
    this.path = file.path;
    this.format = format;
    this.segs = segments;
    this.warnings = warnings;
    this.missing = missing;
    this.ranges = segments.map((s) => ({ start: s.start, end: s.end, fileOffset: s.fileOffset }));
  }

  read(addr: number, length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0) return undefined;
    if (length === 0) return new Uint8Array(0);
    let i = this.find(addr);
    if (i < 0) return undefined;
    const s = this.segs[i];
    // Fast path: entirely inside one segment's file-backed bytes (a cache view, no copy).
    if (addr + length <= Math.min(s.end, s.fileEnd)) {
      return this.file.read(s.fileOffset + (addr - s.start), length, `physical ${hex(addr)}`);
    }
    const out = new Uint8Array(length);
    let pos = addr;
    while (pos < addr + length) {
      if (i >= this.segs.length) return undefined;
      const seg = this.segs[i];
      if (pos < seg.start || pos >= seg.end) return undefined;
      const stop = Math.min(seg.end, addr + length);
      const fileStop = Math.min(stop, Math.max(seg.fileEnd, pos));
      if (fileStop > pos) {
        out.set(this.file.read(seg.fileOffset + (pos - seg.start), fileStop - pos, `physical ${hex(pos)}`), pos - addr);
      }
      // [fileStop, stop) is the zero tail: `out` is already zero there.
      pos = stop;
      i++;
    }
    return out;
  }

  readInto(addr: number, dest: Uint8Array): boolean {
    const length = dest.length;
    if (!Number.isSafeInteger(addr) || addr < 0) return false;
    const i = this.find(addr);
    if (i < 0) return false;
    const s = this.segs[i];
    if (addr + length <= Math.min(s.end, s.fileEnd)) {
      if (length > 0) this.file.readInto(s.fileOffset + (addr - s.start), dest, 'physical memory');
      return true;
    }
    const b = this.read(addr, length);
    if (b === undefined) return false;
    dest.set(b);
    return true;
  }

  readPages(addrs: Float64Array, count: number, dest: Uint8Array, present: Uint8Array): void {
    const offsets = pageOffsets(count);
    const segs = this.segs;
    let i = -1;
    for (let s = 0; s < count; s++) {
      const addr = addrs[s];
      // Table pages come mostly in address order: try the last segment first.
      if (i < 0 || addr < segs[i].start || addr >= segs[i].end) i = this.find(addr);
      const seg = i < 0 ? undefined : segs[i];
      if (seg !== undefined && addr % PAGE === 0 && addr + PAGE <= Math.min(seg.end, seg.fileEnd)) {
        offsets[s] = seg.fileOffset + (addr - seg.start);
        present[s] = 1;
      } else {
        // Absent, or crossing into a zero tail or the next segment: the general path.
        offsets[s] = -1;
        present[s] = seg !== undefined && this.readInto(addr, dest.subarray(s * PAGE, (s + 1) * PAGE)) ? 1 : 0;
      }
    }
    this.file.readPagesAt(offsets, count, PAGE, dest, 'physical memory');
  }

  fileOffsetOf(addr: number): number | undefined {
    const i = this.find(addr);
    if (i < 0) return undefined;
    const s = this.segs[i];
    // Bytes of a zero-filled tail are present but stored nowhere in the file.
    return addr < s.fileEnd ? s.fileOffset + (addr - s.start) : undefined;
  }

  close(): void {
    this.file.close();
  }

  /** Index of the segment holding `addr`, or -1. */
  private find(addr: number): number {
    const s = this.segs;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo < s.length && s[lo].start <= addr ? lo : -1;
  }
}
