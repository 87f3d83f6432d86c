/**
 * Preloaded into every process the benchmark measures (`node --import …/rss-probe.js`): at exit it
 * writes the process's peak resident set size (process.resourceUsage().maxRSS, KiB) to the file
 * named by DMARSIFT_BENCH_RSS. Nothing else; it does not change what the process does.
 */
import * as fs from 'node:fs';

const out = process.env.DMARSIFT_BENCH_RSS;
if (out) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(out, String(process.resourceUsage().maxRSS));
    } catch {
      // The benchmark reports a missing figure; the measured process must not fail because of it.
    }
  });
}
