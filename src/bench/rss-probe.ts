/**
 * Preloaded into every process the benchmark measures (`node --require dist/bundle/rss-probe.cjs`, or `--import` of dist/bench/rss-probe.js without a bundle): at exit it
 * writes the process's peak resident set size (process.resourceUsage().maxRSS, KiB) and the CPU
 * time it used (user + system, all threads, µs) to the file named by DMARSIFT_BENCH_RSS. CPU time
 * is the figure that holds when other jobs load the machine (wall time then includes waiting). Nothing else; it does not change what the process does.
 */
import * as fs from 'node:fs';

const out = process.env.DMARSIFT_BENCH_RSS;
if (out) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      fs.writeFileSync(out, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`);
    } catch {
      // The benchmark reports a missing figure; the measured process must not fail because of it.
    }
  });
}
