/**
 * The parallel `scan`: splitRuns must hand the shares exactly the pages the single pass tests (a
 * property over random runs, checked against a page list computed here), and scanImageParallel
 * must find what scanImage finds — including root tables on either side of a cut. The worker runs
 * compiled code, so the parallel scan is imported from dist/ (built by the global setup).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openMemoryImage } from '../../src/image/open.js';
import { scanImage, splitRuns, type Run, type ScanResult } from '../../src/scan/scan.js';
import { cli } from '../helpers/cli.js';
import { writeTmp } from '../image/fixtures.js';
import { SAMPLES } from '../samples/scenarios.js';

/** Every (physical page, file offset) the pass tests in `runs`: whole 4 KiB pages inside each run. */
function testedPages(runs: readonly Run[]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of runs) {
    for (let a = Math.ceil(r.phys / 4096) * 4096; a + 4096 <= r.phys + r.length; a += 4096) out.push([a, r.fileOffset + (a - r.phys)]);
  }
  return out;
}

const runsArb = fc
  .array(fc.record({ gap: fc.integer({ min: 0, max: 3 * 4096 }), length: fc.integer({ min: 1, max: 40 * 4096 }), physSkew: fc.integer({ min: 0, max: 8191 }) }), { minLength: 1, maxLength: 12 })
  .map((xs) => {
    // Runs in file order, back to back or with gaps, at physical addresses of any alignment.
    let off = 64;
    return xs.map(({ gap, length, physSkew }, i) => {
      off += gap;
      const run = { phys: (i + 1) * 0x1000000 + physSkew, fileOffset: off, length };
      off += length;
      return run;
    });
  });

describe('splitRuns', () => {
  it('the shares test exactly the pages of the whole, in the same order, at most n shares, none empty', () => {
    fc.assert(
      fc.property(runsArb, fc.integer({ min: 1, max: 7 }), (runs, n) => {
        const shares = splitRuns(runs, n);
        expect(shares.length).toBeLessThanOrEqual(n);
        expect(shares.length).toBeGreaterThan(0);
        for (const s of shares) expect(s.length).toBeGreaterThan(0);
        expect(testedPages(shares.flat())).toEqual(testedPages(runs));
        // Bytes are kept too (the pass counts what it reads).
        expect(shares.flat().reduce((s, r) => s + r.length, 0)).toBe(runs.reduce((s, r) => s + r.length, 0));
      }),
      { numRuns: 2000 },
    );
  });

  it('one long run is cut into n near-equal shares at page boundaries', () => {
    const runs = [{ phys: 0x100000, fileOffset: 4096, length: 1000 * 4096 }];
    const shares = splitRuns(runs, 4);
    expect(shares.map((s) => s.map((r) => [r.phys, r.fileOffset, r.length]))).toEqual([
      [[0x100000, 4096, 250 * 4096]],
      [[0x100000 + 250 * 4096, 4096 + 250 * 4096, 250 * 4096]],
      [[0x100000 + 500 * 4096, 4096 + 500 * 4096, 250 * 4096]],
      [[0x100000 + 750 * 4096, 4096 + 750 * 4096, 250 * 4096]],
    ]);
  });
});

type ParallelScan = (mem: ReturnType<typeof openMemoryImage>, opts: { jobs: number; minParallelBytes?: number; chunkBytes?: number }) => Promise<ScanResult>;
const loadParallel = async (): Promise<ParallelScan> => ((await import(path.resolve('dist/scan/scan.js'))) as { scanImageParallel: ParallelScan }).scanImageParallel;
const withoutTime = (r: ScanResult): ScanResult => ({ ...r, seconds: 0 });
/** Chunks of different shares start at different places, so gaps between runs may be read differently. */
const withoutTimeAndBytes = (r: ScanResult): ScanResult => ({ ...r, seconds: 0, bytesScanned: 0 });

/** A legacy root table at `root` → context table → SLPT with one leaf: what the scan looks for. */
function tablesAt(img: Uint8Array, root: number, ctx: number, slpt: number): void {
  const v = new DataView(img.buffer);
  v.setBigUint64(root + 3 * 16, BigInt(ctx) | 1n, true); // bus 3 → context table
  v.setBigUint64(ctx + 8 * 16, BigInt(slpt) | 1n, true); // 03:01.0, TT 00
  v.setBigUint64(ctx + 8 * 16 + 8, (5n << 8n) | 2n, true); // DID 5, AW 2 (4-level)
  v.setBigUint64(slpt, 0x77000003n, true);
}

describe('scanImageParallel agrees with scanImage', () => {
  it('on the scan-no-registers sample, with 1 to 5 shares', async () => {
    const scanImageParallel = await loadParallel();
    const mem = openMemoryImage(path.join(SAMPLES, 'scan-no-registers', 'memory.elf'));
    try {
      const one = scanImage(mem, {});
      expect(one.candidates.length).toBeGreaterThan(0);
      for (const jobs of [1, 2, 3, 5]) {
        const par = await scanImageParallel(mem, { jobs, minParallelBytes: 0 });
        expect(withoutTimeAndBytes(par), `jobs ${jobs}`).toEqual(withoutTimeAndBytes(one));
        // Every tested page was read, and no byte twice (the shares' reads do not overlap).
        expect(par.bytesScanned).toBeGreaterThanOrEqual(one.pagesScanned * 4096);
        expect(par.bytesScanned).toBeLessThanOrEqual(fs.statSync(mem.path).size);
      }
    } finally {
      mem.close();
    }
  });

  it('root tables just before and just after the cut of a 2-share raw image are both found', async () => {
    const scanImageParallel = await loadParallel();
    const pages = 64;
    const img = new Uint8Array(pages * 4096);
    // The cut of 64 pages in two shares is at page 32: tables at pages 29–31 and 32–34.
    tablesAt(img, 29 * 4096, 30 * 4096, 31 * 4096);
    tablesAt(img, 32 * 4096, 33 * 4096, 34 * 4096);
    const mem = openMemoryImage(writeTmp(img, 'cut.raw'));
    try {
      const par = await scanImageParallel(mem, { jobs: 2, minParallelBytes: 0, chunkBytes: 1 << 16 });
      expect(par.pagesScanned).toBe(pages);
      expect(par.candidates.map((c) => c.root).sort((a, b) => a - b)).toEqual([29 * 4096, 32 * 4096]);
      expect(withoutTime(par)).toEqual(withoutTime(scanImage(mem, { chunkBytes: 1 << 16 })));
    } finally {
      mem.close();
    }
  });
});

describe('scan --jobs through the CLI', () => {
  it('-j 1 and -j 3 print the same candidates; -j 0 is refused', () => {
    const img = path.join(SAMPLES, 'scan-no-registers', 'memory.elf');
    const strip = (s: string): string => s.replace(/scanned in [0-9.]+ s, [0-9.]+ [GMK]iB\/s/, 'scanned');
    const a = cli(['scan', img, '-j', '1']);
    const b = cli(['scan', img, '--jobs', '3']);
    expect(a.status).toBe(0);
    expect(strip(b.stdout)).toBe(strip(a.stdout));
    const bad = cli(['scan', img, '-j', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--jobs');
  });
});

describe('scan failures are one clear error', () => {
  it('a worker that cannot open the image posts the errno code instead of crashing', async () => {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(path.resolve('dist/scan/scan-worker.js'), {
      workerData: { path: '/nonexistent/memory.raw', runs: [{ phys: 0, fileOffset: 0, length: 4096 }], chunk: 1 << 16, hiLimit: 1 << 20, done: new Int32Array(new SharedArrayBuffer(8)), slot: 1 },
    });
    const message = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(message).toEqual({ failed: { message: expect.stringContaining('ENOENT'), code: 'ENOENT' } });
  });

  it('an image that cannot be read (a directory) gives an InputError naming the file, in one thread or several', async () => {
    const scanImageParallel = await loadParallel();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-scan-'));
    // A reader that claims 1 MiB of present memory in a "file" that is a directory.
    const fake = { path: dir, format: 'raw' as const, warnings: [], ranges: [{ start: 0, end: 1 << 20, fileOffset: 0 }], read: () => undefined, fileOffsetOf: (a: number) => a, close: () => undefined };
    expect(() => scanImage(fake, {})).toThrow(/reading the image for the scan failed: EISDIR/);
    await expect(scanImageParallel(fake as never, { jobs: 3, minParallelBytes: 0 })).rejects.toThrow(/reading the image for the scan failed: EISDIR/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
