/**
 * `dmarsift scan` of the ELF core against plain sequential reading of the same file (the best of a
 * few chunk sizes), with its default threads and held to one (`-j 1`).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BigCapture } from './big-capture.js';
import { expectExit, measure, measureAlternating, REPO, target } from './measure.js';

const SEQREAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'seqread.js');

export interface ScanResult {
  available: true;
  image: string;
  bytes: number;
  exit: number;
  sequentialRead: { ms: number; MiBps: number; rssKiB: number | null; chunkBytes: number };
  scan: { ms: number; msAll: number[]; MiBps: number; rssKiB: number | null; ratio: number };
  oneThread: { ms: number; msAll: number[]; MiBps: number; rssKiB: number | null; ratio: number };
}

export function scanAvailable(): boolean {
  const r = spawnSync(process.execPath, [target.bin, '--help'], { encoding: 'utf8', cwd: REPO });
  return /^\s*dmarsift scan\b/m.test(r.stdout ?? '');
}

export function measureScan(elf: BigCapture, runs: number, scratch: string, log: (s: string) => void): ScanResult {
  const { image, imageBytes: bytes } = elf;
  log(`\n[scan] dmarsift scan ${path.basename(image)} (${(bytes / 2 ** 30).toFixed(1)} GiB) vs sequential read`);
  // The plain-read floor: the best of a few chunk sizes (small ones stay in the L2 cache).
  const seqs = [64 << 10, 128 << 10, 1 << 20].map((c) => ({ c, m: measure([SEQREAD, image, String(c)], runs, scratch, true) }));
  for (const x of seqs) expectExit(x.m, [0], `sequential read in ${x.c >> 10} KiB chunks`);
  const best = seqs.reduce((a, b) => (b.m.ms < a.m.ms ? b : a));
  const MiBps = (ms: number): number => Math.round(bytes / 2 ** 20 / (ms / 1000));
  log(`[scan] sequential read: ${seqs.map((x) => `${x.c >> 10} KiB ${MiBps(x.m.ms)} MiB/s`).join(', ')}`);
  // As users run it (one thread per core, at most 4), and held to one thread, alternated with the read.
  const [seq, sc, sc1] = measureAlternating([{ args: [SEQREAD, image, String(best.c)], keepStdout: true }, { args: [target.bin, 'scan', image] }, { args: [target.bin, 'scan', '-j', '1', image] }], runs, scratch);
  // The core holds the planted tables: scan finds a root table, which is exit 0 (1 would mean none found).
  expectExit(seq, [0], 'sequential read');
  expectExit(sc, [0], `dmarsift scan ${path.basename(image)}`);
  expectExit(sc1, [0], `dmarsift scan -j 1 ${path.basename(image)}`);
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const result: ScanResult = {
    available: true, image, bytes, exit: sc.exit,
    sequentialRead: { ms: Math.round(seq.ms), MiBps: MiBps(seq.ms), rssKiB: seq.rssKiB, chunkBytes: best.c },
    scan: { ms: Math.round(sc.ms), msAll: sc.msAll, MiBps: MiBps(sc.ms), rssKiB: sc.rssKiB, ratio: r2(seq.ms / sc.ms) },
    oneThread: { ms: Math.round(sc1.ms), msAll: sc1.msAll, MiBps: MiBps(sc1.ms), rssKiB: sc1.rssKiB, ratio: r2(seq.ms / sc1.ms) },
  };
  log(`[scan] sequential ${result.sequentialRead.MiBps} MiB/s; dmarsift scan ${result.scan.MiBps} MiB/s; with -j 1 ${result.oneThread.MiBps} MiB/s`);
  return result;
}
