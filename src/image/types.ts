/**
 * Where bytes come from. Every image format (raw, ELF core, LiME, sparse page dump) is read
 * through this one interface: "read N bytes at host-physical address A, or say precisely that A
 * is not in the image". Readers use positioned reads (fs.readSync at an offset) and a bounded
 * page cache; nothing loads a whole image.
 *
 * Physical addresses here are plain numbers: VT-d host addresses are at most 52 bits wide, so
 * they are exact in a double.
 */
import { hex } from '../util/hex.js';
export type ImageFormat = 'raw' | 'elf' | 'lime' | 'sparse';

/** A run of physical memory present in the image, [start, end) in bytes. */
export interface PhysRange {
  start: number;
  end: number;
  /** Where the run starts in the file (for error messages and `source.offset`). */
  fileOffset: number;
}

export interface PhysicalMemory {
  readonly path: string;
  readonly format: ImageFormat;
  /** Present ranges, sorted by start, non-overlapping. */
  readonly ranges: readonly PhysRange[];
  /**
   * Total bytes present, for readers that know it without building `ranges` (a sparse dump of
   * scattered pages would build one range object per page run just to add them up).
   */
  readonly bytesPresent?: number;
  /** Register snapshots a sparse dump may carry (raw JSON text of our register format). */
  readonly embeddedRegisters?: string;
  /** Warnings found while opening (overlapping segments etc.). */
  readonly warnings: readonly string[];
  /**
   * Physical ranges the image's own headers declare but whose bytes the file does not hold (a
   * dump cut short). `read` returns undefined there as for a hole, but the memory was not absent:
   * its content is unknown. Sorted, non-overlapping, disjoint from `ranges`; `fileOffset` is where
   * the bytes should have been.
   */
  readonly missing?: readonly PhysRange[];
  /**
   * Read `length` bytes at physical address `addr`. Returns undefined when any byte of the
   * range is not in the image (use `describeMissing` for the message). The returned array may
   * be a view into the reader's cache: copy it if you keep it past the next read.
   */
  read(addr: number, length: number): Uint8Array | undefined;
  /**
   * Optional fast path: fill `dest` with the `dest.length` bytes at `addr` (no cache, no
   * allocation). Returns false, leaving `dest` unspecified, exactly when `read` would return
   * undefined. Callers fall back to `read` when a reader does not have it.
   */
  readInto?(addr: number, dest: Uint8Array): boolean;
  /**
   * Optional fast path for many table pages at once (the walker's leaf pages): for each
   * s < count, the 4 KiB page at `addrs[s]` into `dest` at byte s·4096, and `present[s]` = 1, or
   * 0 exactly when `readInto` of that page would return false (its bytes in `dest` are then
   * unspecified). Pages that lie one after the other in the file are read with one positioned
   * read: one call instead of one per page is most of what reading 32 k table pages costs.
   */
  readPages?(addrs: Float64Array, count: number, dest: Uint8Array, present: Uint8Array): void;
  /** The file offset holding physical address `addr`, if present (for provenance). */
  fileOffsetOf(addr: number): number | undefined;
  close(): void;
}

/** Index of the first range of `r` (sorted, non-overlapping) that ends above `addr`. */
function firstEndingAbove(r: readonly PhysRange[], addr: number): number {
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid].end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The missing range (declared by the image, lost from the file) holding `addr`, if any. */
export function missingAt(mem: PhysicalMemory, addr: number): PhysRange | undefined {
  const m = mem.missing;
  if (!m || m.length === 0) return undefined;
  const r = m[firstEndingAbove(m, addr)];
  return r !== undefined && r.start <= addr ? r : undefined;
}

/**
 * "0x5000 is not in memory.elf (nearest present ranges: 0x0-0x4fff, 0x8000-0x9fff)", or, for an
 * address the image declares but the file lost, that it was cut short.
 */
export function describeMissing(mem: PhysicalMemory, addr: number): string {
  const name = mem.path.split('/').pop() ?? mem.path;
  const lost = missingAt(mem, addr);
  if (lost) {
    return `physical address ${hex(addr)} is in ${name}'s range ${hex(lost.start)}-${hex(lost.end - 1)}, ` +
      `which its headers declare but the file was cut short before (its bytes would be at file offset ${hex(lost.fileOffset + (addr - lost.start))}, past the end of the file)`;
  }
  const r = mem.ranges;
  const lo = firstEndingAbove(r, addr);
  const near: string[] = [];
  for (const i of [lo - 1, lo]) {
    if (i >= 0 && i < r.length) near.push(`${hex(r[i].start)}-${hex(r[i].end - 1)}`);
  }
  return `physical address ${hex(addr)} is not in ${name}` + (near.length ? ` (nearest present: ${near.join(', ')})` : ' (image has no ranges)');
}
