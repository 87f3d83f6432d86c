/**
 * dmarsift sparse page dumps (our own format, specified in docs/sparse-dump.md): selected 4 KiB
 * pages by page frame number plus an optional embedded register-snapshot JSON blob.
 *
 * Header (64 bytes, little-endian):
 *   0  char[16] magic "DMARSIFT-SPARSE\0"
 *   16 u32 version (1)          20 u32 flags (0; unknown bits are rejected)
 *   24 u64 page_count           32 u64 index_offset (page_count u64 PFNs, strictly ascending)
 *   40 u64 data_offset (page i at data_offset + i*4096)
 *   48 u64 registers_offset     56 u64 registers_length (0, 0 = none; UTF-8 JSON)
 *
 * The PFN index is read once into a Float64Array (8 bytes per page; PFNs < 2^41 are exact
 * doubles), and every lookup is a binary search on it. Page data is read on demand.
 */
import { InputError } from '../errors.js';
import { BlockFile, pageOffsets } from './file.js';
import type { PhysicalMemory, PhysRange } from './types.js';
import { hex } from '../util/hex.js';

export const SPARSE_MAGIC = 'DMARSIFT-SPARSE\0';
export const SPARSE_VERSION = 1;
export const SPARSE_HEADER_SIZE = 64;
export const SPARSE_PAGE_SIZE = 4096;
/** PFNs must keep pfn*4096 an exact number: < 2^41 (i.e. addresses < 2^53). */
export const SPARSE_MAX_PFN = 2 ** 41 - 1;
/** Register snapshots are small text; refuse absurd blobs rather than allocate them. */
export const SPARSE_MAX_REGISTERS = 16 * 1024 * 1024;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const INDEX_CHUNK = 8192; // PFNs per read while loading the index

export function hasSparseMagic(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  for (let i = 0; i < 16; i++) if (head[i] !== SPARSE_MAGIC.charCodeAt(i)) return false;
  return true;
}

/** Open a sparse dump at `path`. */
export function openSparseImage(path: string): PhysicalMemory {
  const file = new BlockFile(path);
  try {
    return sparseFromFile(file);
  } catch (e) {
    file.close();
    throw e;
  }
}

/** A sparse dump over an already open file (takes ownership of `file` on success). */
export function sparseFromFile(file: BlockFile): PhysicalMemory {
  const err = (msg: string, offset: number) => new InputError(msg, { file: file.path, offset });
  if (file.size < SPARSE_HEADER_SIZE) throw err(`truncated sparse dump header: ${file.size} bytes, need ${SPARSE_HEADER_SIZE}`, 0);
  const h = file.read(0, SPARSE_HEADER_SIZE, 'sparse dump header').slice();
  if (!hasSparseMagic(h)) throw err('not a dmarsift sparse dump (expected magic "DMARSIFT-SPARSE\\0")', 0);
  const dv = new DataView(h.buffer, h.byteOffset, SPARSE_HEADER_SIZE);
  const version = dv.getUint32(16, true);
  if (version !== SPARSE_VERSION) throw err(`unsupported sparse dump version ${version} (this dmarsift reads version ${SPARSE_VERSION})`, 16);
  const flags = dv.getUint32(20, true);
  if (flags !== 0) throw err(`unknown sparse dump flags ${hex(flags)} (version 1 defines none)`, 20);
  const u64 = (at: number, what: string): number => {
    const v = dv.getBigUint64(at, true);
    if (v > MAX) throw err(`${what} ${hex(v)} is past the end of the file (${hex(file.size)} bytes)`, at);
    return Number(v);
  };
  const count = u64(24, 'page_count');
  const indexOff = u64(32, 'index_offset');
  const dataOff = u64(40, 'data_offset');
  const regOff = u64(48, 'registers_offset');
  const regLen = u64(56, 'registers_length');

  const within = (off: number, len: number, what: string, field: number): void => {
    if (off < SPARSE_HEADER_SIZE && len > 0) throw err(`${what} at ${hex(off)} overlaps the 64-byte header`, field);
    if (off + len > file.size) {
      throw err(`${what} (${hex(off)}+${hex(len)}) runs past the end of the file at ${hex(file.size)}`, field);
    }
  };
  if (count > file.size / SPARSE_PAGE_SIZE) throw err(`page_count ${count} cannot fit in a ${file.size}-byte file`, 24);
  within(indexOff, count * 8, 'PFN index', 32);
  within(dataOff, count * SPARSE_PAGE_SIZE, 'page data', 40);
  if (count > 0 && indexOff < dataOff + count * SPARSE_PAGE_SIZE && dataOff < indexOff + count * 8) {
    throw err('PFN index and page data overlap', 32);
  }

  let embeddedRegisters: string | undefined;
  if (regLen > 0 || regOff !== 0) {
    if (regLen > SPARSE_MAX_REGISTERS) throw err(`registers blob of ${regLen} bytes exceeds the ${SPARSE_MAX_REGISTERS}-byte limit`, 56);
    within(regOff, regLen, 'registers blob', 48);
    try {
      embeddedRegisters = new TextDecoder('utf-8', { fatal: true }).decode(file.read(regOff, regLen, 'registers blob'));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw err('registers blob is not valid UTF-8', regOff);
    }
  }

  const pfns = new Float64Array(count);
  for (let i = 0; i < count; i += INDEX_CHUNK) {
    const n = Math.min(INDEX_CHUNK, count - i);
    const b = file.read(indexOff + i * 8, n * 8, 'PFN index');
    const idv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let j = 0; j < n; j++) {
      const lo = idv.getUint32(j * 8, true);
      const hi = idv.getUint32(j * 8 + 4, true);
      const at = indexOff + (i + j) * 8;
      if (hi > 0x1ff) throw err(`PFN ${hex((BigInt(hi) << 32n) | BigInt(lo))} is beyond any physical address (max ${hex(SPARSE_MAX_PFN)})`, at);
      const pfn = hi * 2 ** 32 + lo;
      if (i + j > 0 && pfn <= pfns[i + j - 1]) {
        throw err(`PFN index not strictly ascending: entry ${i + j} (${hex(pfn)}) follows ${hex(pfns[i + j - 1])}`, at);
      }
      pfns[i + j] = pfn;
    }
  }
  return new SparseMemory(file, pfns, dataOff, embeddedRegisters);
}

class SparseMemory implements PhysicalMemory {
  readonly path: string;
  readonly format = 'sparse' as const;
  readonly warnings: string[] = [];
  readonly embeddedRegisters?: string;
  private cachedRanges: PhysRange[] | undefined;

  constructor(
    private readonly file: BlockFile,
    private readonly pfns: Float64Array,
    private readonly dataOff: number,
    embeddedRegisters: string | undefined,
  ) {
    this.path = file.path;
    if (embeddedRegisters !== undefined) this.embeddedRegisters = embeddedRegisters;
  }

  get bytesPresent(): number {
    return this.pfns.length * SPARSE_PAGE_SIZE;
  }

  /** Built on first use: a dump of scattered pages would otherwise pay for one object each. */
  get ranges(): readonly PhysRange[] {
    if (!this.cachedRanges) {
      const out: PhysRange[] = [];
      const p = this.pfns;
      for (let i = 0; i < p.length; i++) {
        const last = out[out.length - 1];
        if (last && i > 0 && p[i] === p[i - 1] + 1) last.end += SPARSE_PAGE_SIZE;
        else out.push({ start: p[i] * SPARSE_PAGE_SIZE, end: (p[i] + 1) * SPARSE_PAGE_SIZE, fileOffset: this.dataOff + i * SPARSE_PAGE_SIZE });
      }
      this.cachedRanges = out;
    }
    return this.cachedRanges;
  }

  read(addr: number, length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0) return undefined;
    if (length === 0) return new Uint8Array(0);
    const firstPfn = Math.floor(addr / SPARSE_PAGE_SIZE);
    const lastPfn = Math.floor((addr + length - 1) / SPARSE_PAGE_SIZE);
    const i = this.indexOf(firstPfn);
    if (i < 0) return undefined;
    const off = addr - firstPfn * SPARSE_PAGE_SIZE;
    if (firstPfn === lastPfn) return this.file.read(this.dataOff + i * SPARSE_PAGE_SIZE + off, length, `physical ${hex(addr)}`);
    // Spanning pages: every page must be present and, being sorted, they are consecutive in
    // the index exactly when their PFNs are.
    const pages = lastPfn - firstPfn + 1;
    if (i + pages > this.pfns.length || this.pfns[i + pages - 1] !== lastPfn) return undefined;
    return this.file.read(this.dataOff + i * SPARSE_PAGE_SIZE + off, length, `physical ${hex(addr)}`);
  }

  readInto(addr: number, dest: Uint8Array): boolean {
    const length = dest.length;
    if (!Number.isSafeInteger(addr) || addr < 0) return false;
    if (length === 0) return true;
    const firstPfn = Math.floor(addr / SPARSE_PAGE_SIZE);
    const lastPfn = Math.floor((addr + length - 1) / SPARSE_PAGE_SIZE);
    const i = this.indexOf(firstPfn);
    if (i < 0) return false;
    const pages = lastPfn - firstPfn + 1;
    if (pages > 1 && (i + pages > this.pfns.length || this.pfns[i + pages - 1] !== lastPfn)) return false;
    this.file.readInto(this.dataOff + i * SPARSE_PAGE_SIZE + (addr - firstPfn * SPARSE_PAGE_SIZE), dest, 'page data');
    return true;
  }

  readPages(addrs: Float64Array, count: number, dest: Uint8Array, present: Uint8Array): void {
    const offsets = pageOffsets(count);
    const p = this.pfns;
    let i = -1;
    for (let s = 0; s < count; s++) {
      const addr = addrs[s];
      const pfn = addr / SPARSE_PAGE_SIZE;
      // Table pages come mostly in file order: try the entry after the last one first.
      if (i + 1 < p.length && p[i + 1] === pfn) i++;
      else if (Number.isSafeInteger(pfn)) i = this.indexOf(pfn);
      else {
        // Not page-aligned (the walker never asks for one): the general path.
        offsets[s] = -1;
        present[s] = this.readInto(addr, dest.subarray(s * SPARSE_PAGE_SIZE, (s + 1) * SPARSE_PAGE_SIZE)) ? 1 : 0;
        continue;
      }
      present[s] = i < 0 ? 0 : 1;
      offsets[s] = i < 0 ? -1 : this.dataOff + i * SPARSE_PAGE_SIZE;
    }
    this.file.readPagesAt(offsets, count, SPARSE_PAGE_SIZE, dest, 'page data');
  }

  fileOffsetOf(addr: number): number | undefined {
    if (!Number.isSafeInteger(addr) || addr < 0) return undefined;
    const pfn = Math.floor(addr / SPARSE_PAGE_SIZE);
    const i = this.indexOf(pfn);
    return i < 0 ? undefined : this.dataOff + i * SPARSE_PAGE_SIZE + (addr - pfn * SPARSE_PAGE_SIZE);
  }

  close(): void {
    this.file.close();
  }

  private indexOf(pfn: number): number {
    const p = this.pfns;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (p[mid] < pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo < p.length && p[lo] === pfn ? lo : -1;
  }
}
