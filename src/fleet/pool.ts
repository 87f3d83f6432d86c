/**
 * Analyse a fleet's captures on `jobs` worker threads (fleet-worker.ts), each taking the next
 * capture when it has posted the last; results come back in capture order. A worker that dies
 * (a bug, memory exhausted) costs the capture it held — that capture's row says so — and is
 * replaced for the rest. With one job, or where the worker script is not beside this module (the
 * tests import src/ directly), the captures are analysed in this thread, one after another.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker as WorkerType } from 'node:worker_threads';
import { analyzeCapture, failedCapture, type CaptureResult, type FleetContext } from './analyze-capture.js';
import type { FleetTarget } from './discover.js';

export type OnResult = (done: number, result: CaptureResult) => void;

const WORKER = new URL('./fleet-worker.js', import.meta.url);

/**
 * Captures sent to a worker ahead of the one it analyses: it starts the next as soon as it posted
 * the last, without waiting for this thread to answer (a small capture takes ~3 ms; the round trip
 * was a noticeable part of it).
 */
const IN_FLIGHT = 2;

export async function analyzeAll(targets: readonly FleetTarget[], ctx: FleetContext, jobs: number, onResult: OnResult = () => {}): Promise<CaptureResult[]> {
  const n = Math.min(Math.max(1, Math.floor(jobs)), targets.length);
  if (n <= 1 || !existsSync(fileURLToPath(WORKER))) return inThisThread(targets, ctx, onResult);
  const { Worker } = await import('node:worker_threads');
  const results: CaptureResult[] = new Array(targets.length);
  /** Captures not sent yet (a dead worker's queued ones come back here, first). */
  const waiting = targets.map((_, i) => i);
  let done = 0;
  return new Promise((resolve) => {
    const finish = (index: number, result: CaptureResult): void => {
      results[index] = result;
      onResult(++done, result);
      if (done === targets.length) resolve(results);
    };
    const start = (): void => {
      const w: WorkerType = new Worker(WORKER, { workerData: ctx });
      /** What this worker holds, in the order it analyses them: the first is the one in progress. */
      const held: number[] = [];
      const feed = (): void => {
        while (held.length < IN_FLIGHT && waiting.length > 0) {
          const index = waiting.shift()!;
          held.push(index);
          w.postMessage({ index, target: targets[index] });
        }
        if (held.length === 0) void w.terminate();
      };
      w.on('message', (m: { index: number; result: CaptureResult }) => {
        held.splice(held.indexOf(m.index), 1);
        finish(m.index, m.result);
        feed();
      });
      const lost = (why: string): void => {
        if (held.length === 0) return;
        const [index, ...queued] = held.splice(0);
        waiting.unshift(...queued);
        finish(index, failedCapture(targets[index], `internal error: the worker analysing it stopped (${why}); please report it`, ctx));
        if (waiting.length > 0) start();
      };
      w.on('error', (e) => lost(e.message));
      w.on('exit', (code) => lost(`exit ${code}`));
      feed();
    };
    for (let i = 0; i < n; i++) start();
  });
}

async function inThisThread(targets: readonly FleetTarget[], ctx: FleetContext, onResult: OnResult): Promise<CaptureResult[]> {
  const out: CaptureResult[] = [];
  for (const t of targets) {
    out.push(await analyzeCapture(t, ctx));
    onResult(out.length, out[out.length - 1]);
  }
  return out;
}
