/**
 * `dmarsift scan`: find root tables in a memory image that came without a register snapshot.
 *
 * One sequential pass over the image's file bytes in chunks (256 KiB by default, one reused
 * buffer, positioned reads in file order), running the cheap `rootPageTest` on every 4 KiB-aligned
 * physical page — or, for big images, that pass cut into shares read by worker threads at once
 * (scanImageParallel). Only the few pages that pass are looked at further: their context-table pointers
 * and one level below are read through the image reader (random reads, bounded), scored by
 * `evaluateRoot`, and ranked. The pass reads raw, ELF, LiME and sparse images alike: each present
 * physical range is a run of file bytes (ranges + fileOffsetOf), and an ELF segment's zero-filled
 * tail (p_memsz > p_filesz) is skipped, since a zero page is no root table.
 */
import * as fs from 'node:fs';
import { InputError } from '../errors.js';
import { missingAt, type PhysicalMemory } from '../image/types.js';
import { evaluateLayout, evaluateRoot, hiLimitOf, PAGE_WORDS, rankCandidates, rootPageTest, rootPageTestFast, type RootCandidate } from './score.js';
import { hex } from '../util/hex.js';
import { zeroCheckedBuffer, type ZeroCheckedBuffer } from './zero-test.js';

/**
 * Bytes per sequential read. Small enough that the chunk stays in the L2 cache between the copy
 * into the buffer and the page tests (on a 1 GiB image full of data: 3–4.5 GiB/s with 64–256 KiB
 * chunks, 1.3–1.6 GiB/s with 1–4 MiB), big enough that the reads' own cost fades: on the
 * benchmark's 16 GiB core, mostly zero, 256 KiB scans at ~14 GiB/s in one thread and 128 KiB at
 * ~11.8 (plain reading of 1 MiB chunks: ~17). Override with `chunkBytes` (`dmarsift scan --chunk`).
 */
const DEFAULT_CHUNK = 256 << 10;
/** Root-like pages kept for the second stage; past this the scan keeps counting but not storing. */
const MAX_ROOT_LIKE = 4096;
/** Root-like pages evaluated in full (after a cheap first look at all of them). */
const MAX_EVALUATED = 256;

export interface ScanOptions {
  /** Host address width (DMAR HAW); pointers at or above 2^haw are refused. Default 52. */
  haw?: number;
  /** Bytes per sequential read. */
  chunkBytes?: number;
  /** Called after each chunk with the bytes read so far and the total to read. */
  onProgress?: (done: number, total: number) => void;
  /** Candidates below this confidence are dropped (default 0.2). */
  minConfidence?: number;
}

export interface ScanCandidate extends RootCandidate {
  /** File offset of the root table page, for a hex editor. */
  fileOffset?: number;
}

export interface ScanResult {
  image: string;
  format: string;
  haw: number;
  /** File bytes read by the sequential pass, and the physical pages tested. */
  bytesScanned: number;
  pagesScanned: number;
  /** Pages that passed the root-entry test (most lead nowhere). */
  rootLikePages: number;
  seconds: number;
  /** Ranked, best first: candidates whose context tables could all be read. */
  candidates: ScanCandidate[];
  /**
   * Root-table-shaped pages with context tables in bytes the image lost (cut short): what they
   * held is unknown, so they are not ranked as found — and the best found one may be stale.
   */
  unverified: ScanCandidate[];
  /** The image reader's warnings (segments cut short, overlaps): the scan saw only what is there. */
  warnings: string[];
}

/** A run of file bytes holding physical [phys, phys + length). */
export interface Run {
  phys: number;
  fileOffset: number;
  length: number;
}

/** The file-backed part of every present range, in file order. */
function fileRuns(mem: PhysicalMemory): Run[] {
  const runs: Run[] = [];
  for (const r of mem.ranges) {
    let end = r.end;
    if (mem.fileOffsetOf(end - 1) === undefined) {
      // A zero-filled tail: find where the file-backed bytes stop (page granularity is enough).
      let lo = r.start;
      let hi = end - 1;
      if (mem.fileOffsetOf(lo) === undefined) continue;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (mem.fileOffsetOf(mid) === undefined) hi = mid;
        else lo = mid;
      }
      end = hi;
    }
    if (end > r.start) runs.push({ phys: r.start, fileOffset: mem.fileOffsetOf(r.start) ?? r.fileOffset, length: end - r.start });
  }
  runs.sort((a, b) => a.fileOffset - b.fileOffset);
  return runs;
}

/**
 * Serves byte ranges of a file from one reused buffer, refilled by big sequential reads. The
 * buffer is WebAssembly memory with a one-pass zero test over it (zero-test.ts) where there is
 * WebAssembly; elsewhere a Buffer compared with one of zeros.
 */
class ChunkReader {
  private readonly buf: Buffer;
  readonly words: Uint32Array;
  readonly qwords: Float64Array;
  private readonly zero: ZeroCheckedBuffer;
  private start = 0;
  private filled = 0;
  bytesRead = 0;
  /** The buffer's current contents are all zero (so is every page served from it). */
  allZero = false;

  constructor(private readonly fd: number, private readonly size: number, chunk: number) {
    this.zero = zeroCheckedBuffer(chunk);
    const ab = this.zero.buffer;
    this.buf = Buffer.from(ab, 0, chunk);
    this.words = new Uint32Array(ab, 0, chunk / 4);
    this.qwords = new Float64Array(ab, 0, chunk / 8);
  }

  /** File offset one past the buffer's contents. */
  get end(): number {
    return this.start + this.filled;
  }

  /** Is [b, b + 4096) of the buffer all zero? */
  zeroPage(b: number): boolean {
    return this.zero.isZero(b, 4096);
  }

  /** Make [offset, offset + 4096) available; returns its byte index in `buf`, or -1 past EOF. */
  page(offset: number): number {
    if (offset >= this.start && offset + 4096 <= this.start + this.filled) return offset - this.start;
    if (offset + 4096 > this.size) return -1;
    // Keep qword alignment: start the buffer on a multiple of 8 at or below the offset.
    this.start = offset - (offset % 8);
    const want = Math.min(this.buf.length, this.size - this.start);
    let done = 0;
    while (done < want) {
      const n = fs.readSync(this.fd, this.buf, done, want - done, this.start + done);
      if (n === 0) break;
      done += n;
    }
    this.filled = done;
    this.bytesRead += done;
    // Zero pages are the costly case for the page test (it must look at all 512 qwords), and
    // images are full of them (free memory, holes of sparse files): one pass over the whole
    // chunk clears them at memory speed.
    this.allZero = this.zero.isZero(0, done);
    return offset + 4096 <= this.start + this.filled ? offset - this.start : -1;
  }
}

/** A page that passed the cheap root-entry test: its physical address, test result and a copy of it. */
export interface RootLikePage {
  addr: number;
  test: number;
  words: Uint32Array;
}

/** What the sequential pass over some runs found. */
export interface PassResult {
  pages: number;
  bytes: number;
  rootLikeCount: number;
  /** In file order; at most MAX_ROOT_LIKE. */
  rootLike: RootLikePage[];
}

/** Progress is reported about every this many bytes read. */
const PROGRESS_EVERY = 64 << 20;

/**
 * The sequential pass over `runs` of the open file `fd`: every 4 KiB-aligned physical page gets
 * the cheap root-entry test. `onBytes` hears the bytes read so far now and then.
 */
export function sequentialPass(fd: number, runs: readonly Run[], chunk: number, hiLimit: number, onBytes?: (bytes: number) => void): PassResult {
  const rootLike: RootLikePage[] = [];
  let rootLikeCount = 0;
  let pages = 0;
  // Read no further than the last run: a share of a parallel scan stops where the next one starts.
  const end = runs.reduce((m, r) => Math.max(m, r.fileOffset + r.length), 0);
  const reader = new ChunkReader(fd, Math.min(fs.fstatSync(fd).size, end), chunk);
  const scratch = new Uint32Array(PAGE_WORDS);
  const scratchQ = new Float64Array(scratch.buffer);
  let nextReport = PROGRESS_EVERY;
  for (const run of runs) {
    const first = Math.ceil(run.phys / 4096) * 4096;
    const runEnd = run.phys + run.length;
    for (let addr = first; addr + 4096 <= runEnd; addr += 4096) {
      const off = run.fileOffset + (addr - run.phys);
      const b = reader.page(off);
      if (b < 0) break;
      if (onBytes && reader.bytesRead >= nextReport) {
        nextReport = reader.bytesRead + PROGRESS_EVERY;
        onBytes(reader.bytesRead);
      }
      if (reader.allZero) {
        // Every page left in the buffer is zero: count them and move past them at once.
        const k = Math.max(1, Math.min(Math.floor((reader.end - off) / 4096), Math.floor((runEnd - addr) / 4096)));
        pages += k;
        addr += (k - 1) * 4096;
        continue;
      }
      pages++;
      let words = reader.words;
      let qwords = reader.qwords;
      let at = b >>> 2;
      if ((b & 7) !== 0) {
        // The page is not qword-aligned in the buffer (odd ELF p_offset): copy it.
        new Uint8Array(scratch.buffer).set(new Uint8Array(reader.words.buffer, b, 4096));
        words = scratch;
        qwords = scratchQ;
        at = 0;
      }
      // A page that starts with a zero qword may be all zero: ask the zero test before the JS loop.
      if (qwords === reader.qwords && qwords[at >>> 1] === 0 && reader.zeroPage(b)) continue;
      const test = rootPageTestFast(qwords, words, at, hiLimit);
      if (test > 0) {
        rootLikeCount++;
        if (rootLike.length < MAX_ROOT_LIKE) rootLike.push({ addr, test, words: words.slice(at, at + PAGE_WORDS) });
      }
    }
  }
  return { pages, bytes: reader.bytesRead, rootLikeCount, rootLike };
}

/** The same pass through the image reader, for images that are not files (tests hand in memory). */
function readerPass(mem: PhysicalMemory, runs: readonly Run[], chunk: number, hiLimit: number): PassResult {
  const rootLike: RootLikePage[] = [];
  let rootLikeCount = 0;
  let pages = 0;
  let bytes = 0;
  for (const run of runs) {
    for (let addr = Math.ceil(run.phys / 4096) * 4096; addr + 4096 <= run.phys + run.length; addr += chunk) {
      const n = Math.min(chunk, Math.floor((run.phys + run.length - addr) / 4096) * 4096);
      const b = mem.read(addr, n);
      if (b === undefined) continue;
      const copy = new Uint32Array(n / 4);
      new Uint8Array(copy.buffer).set(b);
      bytes += n;
      for (let p = 0; p < n / 4096; p++) {
        pages++;
        const test = rootPageTest(copy, p * PAGE_WORDS, hiLimit);
        if (test > 0) {
          rootLikeCount++;
          if (rootLike.length < MAX_ROOT_LIKE) rootLike.push({ addr: addr + p * 4096, test, words: copy.slice(p * PAGE_WORDS, (p + 1) * PAGE_WORDS) });
        }
      }
    }
  }
  return { pages, bytes, rootLikeCount, rootLike };
}

function openForScan(mem: PhysicalMemory): number | undefined {
  try {
    return fs.openSync(mem.path, 'r');
  } catch {
    return undefined; // not a file (tests hand in memory-backed images): read through the reader
  }
}

/** Scan `mem` for root tables. Uses the image file directly for the sequential pass. */
export function scanImage(mem: PhysicalMemory, opts: ScanOptions = {}): ScanResult {
  const t0 = process.hrtime.bigint();
  const haw = opts.haw ?? 52;
  const hiLimit = hiLimitOf(haw);
  const chunk = Math.max(1 << 16, opts.chunkBytes ?? DEFAULT_CHUNK);
  const runs = fileRuns(mem);
  const total = runs.reduce((s, r) => s + r.length, 0);
  const fd = openForScan(mem);
  let pass: PassResult;
  try {
    pass = fd !== undefined
      ? sequentialPass(fd, runs, chunk, hiLimit, opts.onProgress && ((done) => opts.onProgress!(Math.min(done, total), total)))
      : readerPass(mem, runs, chunk, hiLimit);
  } catch (e) {
    throw readFailure(e, mem.path);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  opts.onProgress?.(total, total);
  return rankRootLike(mem, haw, pass, t0, opts.minConfidence);
}

/** Options of the parallel scan: `jobs` passes at once (worker threads), each over a share of the file. */
export interface ParallelScanOptions extends ScanOptions {
  /** Passes at once; 1 scans in this thread. */
  jobs: number;
  /** Below this many file bytes the scan stays in this thread (a worker costs ~30 ms to start). */
  minParallelBytes?: number;
}

/** Below this the worker start-up costs more than the pass it would take over. */
const MIN_PARALLEL_BYTES = 256 << 20;

/**
 * `scanImage` with the sequential pass split into `jobs` contiguous shares of the file, one per
 * worker thread (the first in this thread). Reading an image in the page cache costs a CPU copy
 * per byte, so on a machine with cores to spare the pass scales with them; the result is the same
 * as `scanImage`'s (the shares' root-like pages are joined in file order before ranking).
 */
export async function scanImageParallel(mem: PhysicalMemory, opts: ParallelScanOptions): Promise<ScanResult> {
  const runs = fileRuns(mem);
  const total = runs.reduce((s, r) => s + r.length, 0);
  const jobs = Math.max(1, Math.floor(opts.jobs));
  if (jobs === 1 || total < (opts.minParallelBytes ?? MIN_PARALLEL_BYTES)) return scanImage(mem, opts);
  const fd = openForScan(mem);
  if (fd === undefined) return scanImage(mem, opts);
  const t0 = process.hrtime.bigint();
  const haw = opts.haw ?? 52;
  const hiLimit = hiLimitOf(haw);
  const chunk = Math.max(1 << 16, opts.chunkBytes ?? DEFAULT_CHUNK);
  const shares = splitRuns(runs, jobs);
  // Each share's bytes read, in 4 KiB units (an Int32 counts to 8 TiB), for one progress line.
  const done = new Int32Array(new SharedArrayBuffer(4 * shares.length));
  const report = (): void => {
    let sum = 0;
    for (let i = 0; i < done.length; i++) sum += Atomics.load(done, i) * 4096;
    opts.onProgress?.(Math.min(sum, total), total);
  };
  const { Worker } = await import('node:worker_threads');
  const workers = shares.slice(1).map((share, i) => {
    const w = new Worker(new URL('./scan-worker.js', import.meta.url), {
      workerData: { path: mem.path, runs: share, chunk, hiLimit, done, slot: i + 1 },
      stdout: false,
      stderr: false,
    });
    return new Promise<PassResult>((resolve, reject) => {
      let result: PassResult | undefined;
      w.once('message', (m: PassResult | { failed: { message: string; code?: string } }) => {
        if ('failed' in m) reject(readFailure(m.failed, mem.path));
        else result = m;
      });
      w.once('error', reject);
      w.once('exit', (code) => (result ? resolve(result) : reject(new Error(`scan worker stopped (exit ${code}) before reporting`))));
    });
  });
  // If one share fails, the others still run to their end before the error is thrown: no thread
  // is left reading a file the caller is about to close.
  const settled = Promise.allSettled(workers);
  let mine: PassResult;
  try {
    mine = sequentialPass(fd, shares[0], chunk, hiLimit, (bytes) => {
      Atomics.store(done, 0, Math.floor(bytes / 4096));
      report();
    });
  } catch (e) {
    await settled;
    throw readFailure(e, mem.path);
  } finally {
    fs.closeSync(fd);
  }
  const passes: PassResult[] = [mine];
  // This thread's share is done; keep the progress line moving while the others finish.
  const ticker = opts.onProgress ? setInterval(report, 100) : undefined;
  const results = await settled.finally(() => clearInterval(ticker));
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    passes.push(r.value);
  }
  opts.onProgress?.(total, total);
  const joined: PassResult = { pages: 0, bytes: 0, rootLikeCount: 0, rootLike: [] };
  for (const p of passes) {
    joined.pages += p.pages;
    joined.bytes += p.bytes;
    joined.rootLikeCount += p.rootLikeCount;
    for (const r of p.rootLike) if (joined.rootLike.length < MAX_ROOT_LIKE) joined.rootLike.push(r);
  }
  return rankRootLike(mem, haw, joined, t0, opts.minConfidence);
}

/**
 * An I/O error of the sequential pass (here or in a worker: an errno code) as one clear error
 * about the image; anything else is a bug and stays one (a worker's is rebuilt from its message).
 */
function readFailure(e: unknown, file: string): unknown {
  const err = e as { message?: unknown; code?: unknown } | null;
  if (e instanceof InputError || err === null || typeof err !== 'object') return e;
  if (typeof err.code === 'string') return new InputError(`reading the image for the scan failed: ${err.code}`, { file });
  return e instanceof Error ? e : new Error(`scan worker: ${String(err.message)}`);
}

/**
 * Cut `runs` (in file order) into `n` shares of about equal bytes, at page boundaries of the
 * physical addresses so that every share tests exactly the pages the whole pass would.
 */
export function splitRuns(runs: readonly Run[], n: number): Run[][] {
  const total = runs.reduce((s, r) => s + r.length, 0);
  const shares: Run[][] = [[]];
  let target = total / n;
  let acc = 0;
  for (const whole of runs) {
    let run = whole;
    while (shares.length < n && acc + run.length > target) {
      // Cut at the first page boundary at or past the target (pages are tested from the run's
      // first page boundary on, so a cut there moves whole pages from one share to the next).
      // A share that already overshot its target (a run too short to cut) ends at this run's start.
      const cut = Math.max(run.phys, Math.ceil((run.phys + (target - acc)) / 4096) * 4096);
      if (cut >= run.phys + run.length) break;
      const head = cut - run.phys;
      if (head > 0) shares[shares.length - 1].push({ phys: run.phys, fileOffset: run.fileOffset, length: head });
      acc += head;
      run = { phys: cut, fileOffset: run.fileOffset + head, length: run.length - head };
      shares.push([]);
      target = (total / n) * shares.length;
    }
    shares[shares.length - 1].push(run);
    acc += run.length;
  }
  return shares.filter((s) => s.length > 0);
}

/** Stage 1: a cheap look (8 context tables each) at every root-like page; stage 2: the best in full. */
function rankRootLike(mem: PhysicalMemory, haw: number, pass: PassResult, t0: bigint, minConfidence = 0.2): ScanResult {
  const hiLimit = hiLimitOf(haw);
  const readPage = (addr: number): Uint32Array | undefined => {
    const b = mem.read(addr, 4096);
    if (b === undefined) return undefined;
    const w = new Uint32Array(PAGE_WORDS);
    new Uint8Array(w.buffer).set(b);
    return w;
  };
  const isLost = (addr: number): boolean => missingAt(mem, addr) !== undefined;
  const quick = pass.rootLike
    .map((r) => ({ r, c: evaluateRoot(r.words, 0, r.addr, r.test, { hiLimit, readPage, isLost, maxReads: 8 }) }))
    .filter((x) => x.c !== undefined)
    .sort((a, b) => b.c!.confidence - a.c!.confidence || b.c!.contextEntries - a.c!.contextEntries)
    .slice(0, MAX_EVALUATED);
  const found: ScanCandidate[] = [];
  const unverified: ScanCandidate[] = [];
  for (const { r } of quick) {
    const c = evaluateRoot(r.words, 0, r.addr, r.test, { hiLimit, readPage, isLost, maxReads: 2048 });
    if (!c) continue;
    const fileOffset = mem.fileOffsetOf(r.addr);
    const withOffset = fileOffset === undefined ? c : { ...c, fileOffset };
    // A table whose readable part already fails is no candidate, lost bytes or not; one with
    // nothing readable below it is unknown, not bad.
    const readable = c.contextTables.pointers - c.lost.contextTables;
    if (readable > 0 && c.confidence < minConfidence) continue;
    (c.lost.contextTables > 0 ? unverified : found).push(withOffset);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    image: mem.path, format: mem.format, haw, bytesScanned: pass.bytes, pagesScanned: pass.pages, rootLikePages: pass.rootLikeCount, seconds,
    candidates: rankCandidates(found), unverified: rankCandidates(unverified), warnings: [...mem.warnings],
  };
}

/**
 * Score one page the user names (`scan --rtaddr`), without the sequential pass. `unknown` says the
 * reason is bytes the image lost (cut short): the page may be a root table, nobody can tell.
 */
export function scoreAt(mem: PhysicalMemory, rtaddr: number, haw = 52): { candidate?: ScanCandidate; reason?: string; unknown?: true } {
  const root = rtaddr - (rtaddr % 4096);
  const b = mem.read(root, 4096);
  if (b === undefined) {
    if (missingAt(mem, root)) return { reason: `${hex(root)} is in bytes the image declares but lost (cut short)`, unknown: true };
    return { reason: `${hex(root)} is not in the image` };
  }
  const w = new Uint32Array(PAGE_WORDS);
  new Uint8Array(w.buffer).set(b);
  const hiLimit = hiLimitOf(haw);
  const test = rootPageTest(w, 0, hiLimit);
  if (test < 0) return { reason: 'the page holds values no root table can hold (a non-zero entry with reserved bits set, or a pointer of 0 or beyond the address width)' };
  if (test === 0) return { reason: 'the page is all zero: no present root entry' };
  const readPage = (addr: number): Uint32Array | undefined => {
    const p = mem.read(addr, 4096);
    if (p === undefined) return undefined;
    const x = new Uint32Array(PAGE_WORDS);
    new Uint8Array(x.buffer).set(p);
    return x;
  };
  // RTADDR's TTM (bits 11:10) = 01 asks for the scalable layout; 00 lets the evidence decide.
  const ttm = Math.floor(rtaddr / 1024) % 4;
  if (ttm >= 2) return { reason: `TTM ${ttm.toString(2)}b in bits 11:10 is not a table layout (10b reserved, 11b abort-DMA)` };
  const evalOpts = { hiLimit, readPage, maxReads: 2048, isLost: (a: number) => missingAt(mem, a) !== undefined };
  const forced = ttm === 1 ? evaluateLayout(w, 0, root, 'scalable', evalOpts) : undefined;
  const c = ttm === 1 ? (forced!.contextEntries > 0 || forced!.lost.contextTables > 0 ? forced : undefined) : evaluateRoot(w, 0, root, test, evalOpts);
  if (!c) return { reason: `none of its pointers leads to a well-formed ${ttm === 1 ? 'scalable-mode ' : ''}context entry` };
  if (c.contextEntries === 0) {
    return { reason: `its ${c.lost.contextTables === 1 ? 'context table is' : `${c.lost.contextTables} context tables are`} in bytes the image declares but lost (cut short)`, unknown: true };
  }
  const fileOffset = mem.fileOffsetOf(root);
  return { candidate: fileOffset === undefined ? c : { ...c, fileOffset } };
}
