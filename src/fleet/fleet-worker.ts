/**
 * A worker thread of a fleet run (pool.ts): given the run's context once (workerData), it analyses
 * the captures it is sent, one at a time, and posts each one's result. A result that cannot be
 * posted (a model the structured clone refuses) becomes that capture's error, never a lost capture.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeCapture, failedCapture, type FleetContext } from './analyze-capture.js';
import type { FleetTarget } from './discover.js';

const ctx = workerData as FleetContext;
parentPort!.on('message', (job: { index: number; target: FleetTarget }) => {
  void analyzeCapture(job.target, ctx).then((result) => {
    try {
      parentPort!.postMessage({ index: job.index, result });
    } catch (e) {
      parentPort!.postMessage({ index: job.index, result: failedCapture(job.target, `internal error: the result could not be passed back: ${(e as Error).message}`, ctx) });
    }
  });
});
