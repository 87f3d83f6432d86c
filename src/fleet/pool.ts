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

export async function analyzeAll(targets: readonly FleetTarget[], ctx: FleetContext, jobs: number, onResult: OnResult = () => {}): Promise<CaptureResult[]> {
  const n = Math.min(Math.max(1, Math.floor(jobs)), targets.length);
  if (n <= 1 || !existsSync(fileURLToPath(WORKER))) return inThisThread(targets, ctx, onResult);
  const { Worker } = await import('node:worker_threads');
  const results: CaptureResult[] = new Array(targets.length);
  let next = 0;
  let done = 0;
  return new Promise((resolve) => {
    const finish = (index: number, result: CaptureResult): void => {
      results[index] = result;
      onResult(++done, result);
      if (done === targets.length) resolve(results);
    };
    const start = (): void => {
      const w: WorkerType = new Worker(WORKER, { workerData: ctx });
      let current: number | undefined;
      const feed = (): void => {
        if (next >= targets.length) {
          current = undefined;
          void w.terminate();
          return;
        }
        current = next++;
        w.postMessage({ index: current, target: targets[current] });
      };
      w.on('message', (m: { index: number; result: CaptureResult }) => {
        finish(m.index, m.result);
        feed();
      });
      const lost = (why: string): void => {
        if (current === undefined) return;
        const index = current;
        current = undefined;
        finish(index, failedCapture(targets[index], `internal error: the worker analysing it stopped (${why}); please report it`, ctx));
        if (next < targets.length) start();
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
