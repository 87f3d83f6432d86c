/**
 * Writer for dmarsift sparse page dumps (docs/sparse-dump.md), used by tests and the sample
 * generator. Pages are held by reference only (never copied): PFNs are collected and sorted,
 * then header, index and page data are written with positioned fs.writeSync calls.
 *
 * Layout written: header (64) | PFN index (8 × n) | zero pad to 4 KiB | pages | registers JSON.
 */
import * as fs from 'node:fs';
import { SPARSE_HEADER_SIZE, SPARSE_MAGIC, SPARSE_MAX_PFN, SPARSE_PAGE_SIZE, SPARSE_VERSION } from '../image/sparse.js';
import { hex, hexInMessage } from '../util/hex.js';

export type SparsePages = Map<number, Uint8Array> | Iterable<{ pfn: number; data: Uint8Array }>;

interface Layout {
  pfns: number[];
  data: Map<number, Uint8Array>;
  regs: Uint8Array | undefined;
  indexOff: number;
  dataOff: number;
  regOff: number;
  total: number;
  header: Uint8Array;
  index: Uint8Array;
}

interface Frame {
  indexOff: number;
  dataOff: number;
  regOff: number;
  total: number;
  header: Uint8Array;
}

/** Offsets and the 64-byte header of a dump of `n` pages and `regLength` bytes of registers JSON. */
function frame(n: number, regLength: number | undefined): Frame {
  const indexOff = SPARSE_HEADER_SIZE;
  // Page data starts on a 4 KiB boundary so each page is one aligned block for readers.
  const dataOff = n > 0 ? Math.ceil((indexOff + n * 8) / SPARSE_PAGE_SIZE) * SPARSE_PAGE_SIZE : indexOff;
  const regOff = regLength !== undefined ? dataOff + n * SPARSE_PAGE_SIZE : 0;
  const total = dataOff + n * SPARSE_PAGE_SIZE + (regLength ?? 0);
  const header = new Uint8Array(SPARSE_HEADER_SIZE);
  for (let i = 0; i < 16; i++) header[i] = SPARSE_MAGIC.charCodeAt(i);
  const dv = new DataView(header.buffer);
  dv.setUint32(16, SPARSE_VERSION, true);
  dv.setUint32(20, 0, true);
  dv.setBigUint64(24, BigInt(n), true);
  dv.setBigUint64(32, BigInt(indexOff), true);
  dv.setBigUint64(40, BigInt(dataOff), true);
  dv.setBigUint64(48, BigInt(regOff), true);
  dv.setBigUint64(56, BigInt(regLength ?? 0), true);
  return { indexOff, dataOff, regOff, total, header };
}

/** Positioned writes of whole buffers to `fd`. */
function writerAt(fd: number): (buf: Uint8Array, at: number) => void {
  return (buf, at) => {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, at + done);
  };
}

function layout(pages: SparsePages, registersJson: string | undefined): Layout {
  const data = new Map<number, Uint8Array>();
  const entries: Iterable<[number, Uint8Array]> =
    pages instanceof Map ? pages : (function* () { for (const p of pages as Iterable<{ pfn: number; data: Uint8Array }>) yield [p.pfn, p.data] as [number, Uint8Array]; })();
  for (const [pfn, page] of entries) {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn > SPARSE_MAX_PFN) throw new RangeError(`sparse dump: bad PFN ${pfn}`);
    if (page.length !== SPARSE_PAGE_SIZE) throw new RangeError(`sparse dump: page ${hex(pfn)} is ${page.length} bytes, need ${SPARSE_PAGE_SIZE}`);
    if (data.has(pfn)) throw new RangeError(`sparse dump: page ${hex(pfn)} given twice`);
    data.set(pfn, page);
  }
  const pfns = [...data.keys()].sort((a, b) => a - b);
  const n = pfns.length;
  const regs = registersJson === undefined ? undefined : new TextEncoder().encode(registersJson);
  const { indexOff, dataOff, regOff, total, header } = frame(n, regs?.length);

  const index = new Uint8Array(n * 8);
  const idv = new DataView(index.buffer);
  pfns.forEach((pfn, i) => {
    idv.setUint32(i * 8, pfn % 2 ** 32, true);
    idv.setUint32(i * 8 + 4, Math.floor(pfn / 2 ** 32), true);
  });
  return { pfns, data, regs, indexOff, dataOff, regOff, total, header, index };
}

/** Write a sparse dump to `path` (truncating it). */
export function writeSparseDump(path: string, pages: SparsePages, registersJson?: string): void {
  const l = layout(pages, registersJson);
  const fd = fs.openSync(path, 'w');
  try {
    const put = writerAt(fd);
    put(l.header, 0);
    put(l.index, l.indexOff);
    l.pfns.forEach((pfn, i) => { put(l.data.get(pfn) as Uint8Array, l.dataOff + i * SPARSE_PAGE_SIZE); });
    if (l.regs) put(l.regs, l.regOff);
    // The pad between index and data is a hole; make the length exact even with no pages.
    fs.ftruncateSync(fd, l.total);
  } finally {
    fs.closeSync(fd);
  }
}

/** The same bytes in memory (small tests). */
export function buildSparseDump(pages: SparsePages, registersJson?: string): Uint8Array {
  const l = layout(pages, registersJson);
  const out = new Uint8Array(l.total);
  out.set(l.header, 0);
  out.set(l.index, l.indexOff);
  l.pfns.forEach((pfn, i) => { out.set(l.data.get(pfn) as Uint8Array, l.dataOff + i * SPARSE_PAGE_SIZE); });
  if (l.regs) out.set(l.regs, l.regOff);
  return out;
}

/**
 * Write a sparse dump whose pages arrive one at a time, in strictly ascending PFN order, without
 * holding them: each page is copied into a 1 MiB write buffer and flushed (so the iterator may
 * reuse one page buffer). `count` must be the number of pages the iterator yields (the index sits
 * before the data, so its size is needed first). Used by the benchmark for 128 MiB of tables.
 */
export function streamSparseDump(path: string, count: number, pages: Iterable<{ pfn: number; data: Uint8Array }>, registersJson?: string): void {
  const regs = registersJson === undefined ? undefined : new TextEncoder().encode(registersJson);
  const { indexOff, dataOff, regOff, total, header } = frame(count, regs?.length);
  const index = new Uint8Array(count * 8);
  const idv = new DataView(index.buffer);
  const fd = fs.openSync(path, 'w');
  try {
    const put = writerAt(fd);
    const batch = new Uint8Array(256 * SPARSE_PAGE_SIZE);
    let inBatch = 0;
    let batchStart = 0; // page number of batch[0]
    const flush = (): void => {
      if (inBatch > 0) put(batch.subarray(0, inBatch * SPARSE_PAGE_SIZE), dataOff + batchStart * SPARSE_PAGE_SIZE);
      batchStart += inBatch;
      inBatch = 0;
    };
    let n = 0;
    let prev = -1;
    for (const { pfn, data } of pages) {
      if (n >= count) throw new RangeError(`sparse dump: more than the ${count} pages announced`);
      if (!Number.isSafeInteger(pfn) || pfn <= prev || pfn > SPARSE_MAX_PFN) throw new RangeError(`sparse dump: PFN ${hexInMessage(pfn)} is not above ${hexInMessage(prev)} (pages must come in ascending order)`);
      if (data.length !== SPARSE_PAGE_SIZE) throw new RangeError(`sparse dump: page ${hex(pfn)} is ${data.length} bytes, need ${SPARSE_PAGE_SIZE}`);
      idv.setUint32(n * 8, pfn % 2 ** 32, true);
      idv.setUint32(n * 8 + 4, Math.floor(pfn / 2 ** 32), true);
      batch.set(data, inBatch * SPARSE_PAGE_SIZE);
      if (++inBatch === 256) flush();
      prev = pfn;
      n++;
    }
    flush();
    if (n !== count) throw new RangeError(`sparse dump: ${n} pages given, ${count} announced`);
    put(header, 0);
    put(index, indexOff);
    if (regs) put(regs, regOff);
    fs.ftruncateSync(fd, total);
  } finally {
    fs.closeSync(fd);
  }
}
