/**
 * A positioned file reader with a small LRU cache of 4 KiB-aligned blocks. Memory images can be
 * many GiB, so nothing here ever reads a whole file: the page-table walkers touch a few hundred
 * scattered 8-byte entries, which is exactly what a block cache is good at.
 *
 * Every failure (cannot open, not a regular file, read past the end, I/O error, file shrank
 * while open) becomes an InputError naming the file.
 */
import * as fs from 'node:fs';
import { InputError } from '../errors.js';
import { hex, hexInMessage } from '../util/hex.js';

export const BLOCK_SIZE = 4096;
/** 256 blocks = 1 MiB of cache per open image. */
export const DEFAULT_CACHE_BLOCKS = 256;
/** Reads at least this large bypass the cache (they would only evict useful blocks). */
const DIRECT_READ = 64 * 1024;

export function fsError(e: unknown, file: string): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const what =
    code === 'ENOENT' ? 'no such file or directory'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'is a directory, not a memory image'
    : `cannot read file: ${String((e as Error)?.message ?? e)}`;
  return new InputError(what, { file });
}

let offsetsScratch = new Float64Array(64);

/** A reused scratch array of at least `count` file offsets, for the readers' `readPages`. */
export function pageOffsets(count: number): Float64Array {
  if (offsetsScratch.length < count) offsetsScratch = new Float64Array(count);
  return offsetsScratch;
}

export class BlockFile {
  readonly path: string;
  readonly size: number;
  private fd: number | undefined;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly maxBlocks: number;

  constructor(path: string, maxBlocks = DEFAULT_CACHE_BLOCKS) {
    this.path = path;
    this.maxBlocks = Math.max(1, Math.floor(maxBlocks));
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw fsError(e, path);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new InputError('is a directory, not a memory image', { file: path });
      if (!st.isFile()) throw new InputError('is not a regular file (devices and pipes cannot be read as memory images; copy the image to a file first)', { file: path });
      this.size = st.size;
    } catch (e) {
      fs.closeSync(fd);
      throw fsError(e, path);
    }
    this.fd = fd;
  }

  /**
   * `length` bytes at file `offset`. Throws InputError when the range runs past the end of the
   * file. The result may be a view into the cache: copy it to keep it past the next read.
   */
  read(offset: number, length: number, what = 'data'): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new InputError(`${what}: invalid file range (offset ${offset}, length ${length})`, { file: this.path });
    }
    if (offset + length > this.size) {
      throw new InputError(`${what}: needs bytes ${hex(offset)}-${hex(BigInt(offset) + BigInt(length))} but the file ends at ${hex(this.size)} (truncated?)`, { file: this.path, offset });
    }
    if (length === 0) return new Uint8Array(0);
    if (length >= DIRECT_READ) return this.readDirect(offset, length);
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + length - 1) / BLOCK_SIZE);
    if (first === last) {
      const b = this.block(first);
      const o = offset - first * BLOCK_SIZE;
      return b.subarray(o, o + length);
    }
    const out = new Uint8Array(length);
    let done = 0;
    for (let bi = first; bi <= last; bi++) {
      const b = this.block(bi);
      const o = bi === first ? offset - first * BLOCK_SIZE : 0;
      const n = Math.min(b.length - o, length - done);
      out.set(b.subarray(o, o + n), done);
      done += n;
    }
    return out;
  }

  /**
   * Read `dest.length` bytes at file `offset` straight into `dest` (one positioned read, no cache,
   * no allocation): the page-table walker reads each table page once, into a buffer it reuses.
   * Throws InputError like `read`.
   */
  readInto(offset: number, dest: Uint8Array, what = 'data'): void {
    const length = dest.length;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InputError(`${what}: invalid file range (offset ${offset}, length ${length})`, { file: this.path });
    }
    if (offset + length > this.size) {
      throw new InputError(`${what}: needs bytes ${hex(offset)}-${hex(BigInt(offset) + BigInt(length))} but the file ends at ${hex(this.size)} (truncated?)`, { file: this.path, offset });
    }
    this.readAt(offset, dest);
  }

  /**
   * Page-sized reads for `readPages`: for each s < count with `offsets[s]` ≥ 0, the `pageSize`
   * bytes at that file offset into `dest` at s·pageSize. Slots whose offsets follow each other in
   * the file (offsets[s + 1] = offsets[s] + pageSize) are read with one positioned read straight
   * into `dest`; slots with a negative offset are left alone (the caller fills them). Throws
   * InputError like `read`.
   */
  readPagesAt(offsets: Float64Array, count: number, pageSize: number, dest: Uint8Array, what = 'data'): void {
    let s = 0;
    while (s < count) {
      const start = offsets[s];
      if (start < 0) {
        s++;
        continue;
      }
      let e = s + 1;
      while (e < count && offsets[e] === start + (e - s) * pageSize) e++;
      const length = (e - s) * pageSize;
      if (!Number.isSafeInteger(start) || start + length > this.size) {
        throw new InputError(`${what}: needs bytes ${hexInMessage(start)}-${hexInMessage(start + length)} but the file ends at ${hexInMessage(this.size)} (truncated?)`, { file: this.path, offset: start });
      }
      this.readAt(start, dest, s * pageSize, length);
      s = e;
    }
  }

  /** Blocks currently cached (never more than the bound given to the constructor). */
  get cachedBlocks(): number {
    return this.cache.size;
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Closing a read-only descriptor cannot lose data; nothing useful to report.
      }
      this.fd = undefined;
    }
    this.cache.clear();
  }

  private block(index: number): Uint8Array {
    const hit = this.cache.get(index);
    if (hit) {
      // Map iteration order is insertion order: re-insert to mark as most recently used.
      this.cache.delete(index);
      this.cache.set(index, hit);
      return hit;
    }
    const start = index * BLOCK_SIZE;
    const len = Math.min(BLOCK_SIZE, this.size - start);
    const data = this.readDirect(start, len);
    if (this.cache.size >= this.maxBlocks) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(index, data);
    return data;
  }

  private readDirect(offset: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    this.readAt(offset, buf);
    return buf;
  }

  /** `length` bytes (default: all of `buf` past `at`) at file `offset` into `buf` at `at`. */
  private readAt(offset: number, buf: Uint8Array, at = 0, length = buf.length - at): void {
    if (this.fd === undefined) throw new InputError('read after close', { file: this.path });
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.fd, buf, at + done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw fsError(e, this.path);
    }
    if (done < length) {
      // fstat said the bytes were there: the file shrank under us.
      throw new InputError(`short read: expected ${length} bytes at ${hex(offset)}, got ${done} (file truncated while open?)`, { file: this.path, offset: offset + done });
    }
  }
}
