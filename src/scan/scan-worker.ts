/**
 * One share of a parallel `scan` (see scanImageParallel): the sequential pass over the runs it is
 * given, in a worker thread. It opens the image file itself, counts its progress into its slot of
 * the shared array, and posts its PassResult (the root-like pages' buffers transferred, not copied).
 * A failure (the file vanished, an I/O error) is posted as { failed } with its message and errno
 * code, for the caller to throw as one clear error about the image.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { sequentialPass, type Run } from './scan.js';

interface ShareData {
  path: string;
  runs: Run[];
  chunk: number;
  hiLimit: number;
  done: Int32Array;
  slot: number;
}

const data = workerData as ShareData;
try {
  const fd = fs.openSync(data.path, 'r');
  try {
    const result = sequentialPass(fd, data.runs, data.chunk, data.hiLimit, (bytes) => Atomics.store(data.done, data.slot, Math.floor(bytes / 4096)));
    parentPort!.postMessage(result, result.rootLike.map((r) => r.words.buffer as ArrayBuffer));
  } finally {
    fs.closeSync(fd);
  }
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  parentPort!.postMessage({ failed: { message: String(err?.message ?? e), code: typeof err?.code === 'string' ? err.code : undefined } });
}
