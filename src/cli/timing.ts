/**
 * `DMARSIFT_TIMING=1`: where a run's time went, as one stderr line at exit — milliseconds since
 * the process started at each step (node's own start-up is the first figure). For finding out why
 * a capture is slow; nothing is measured or printed without the variable.
 */
const marks: [string, number][] = [];
const enabled = process.env.DMARSIFT_TIMING !== undefined && process.env.DMARSIFT_TIMING !== '' && process.env.DMARSIFT_TIMING !== '0';

export function mark(step: string): void {
  if (enabled) marks.push([step, performance.now()]);
}

export function printTiming(): void {
  if (!enabled || marks.length === 0) return;
  mark('exit');
  process.stderr.write(`dmarsift: timing (ms since start): ${marks.map(([s, t]) => `${s} ${t.toFixed(0)}`).join(', ')}\n`);
}
