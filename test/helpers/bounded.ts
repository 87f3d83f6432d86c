/**
 * Run the built CLI in a child process with a deadline and a memory cap, and report its peak RSS:
 * for inputs that may hang or grow without bound (a FIFO, /dev/zero behind a symlink, a 40 MB
 * line, a fan of page tables). The test process itself never reads such input, so a regression
 * fails the test instead of hanging or exhausting the suite.
 *
 * - deadline: the child is killed (SIGKILL) after `timeoutMs`; `timedOut` says so.
 * - memory: V8's old space is capped (`--max-old-space-size`), so a heap runaway ends the child
 *   quickly; the peak RSS comes from the benchmark's probe (dist/bench/rss-probe.js, preloaded with
 *   --import, which writes process.resourceUsage().maxRSS at exit). It is undefined when the child
 *   was killed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, cliEnv, REPO } from './cli.js';

export interface BoundedResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Peak resident set size in MiB, when the child exited on its own. */
  maxRssMiB?: number;
  ms: number;
}

export interface BoundedOptions {
  timeoutMs?: number;
  /** V8 old-space cap in MiB (default 256, the RSS target of the project). */
  heapMiB?: number;
  cwd?: string;
  env?: Record<string, string>;
}

const PROBE = path.join(REPO, 'dist', 'bench', 'rss-probe.js');

export function runCliBounded(args: string[], opts: BoundedOptions = {}): BoundedResult {
  const rssFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-rss-')), 'rss');
  const nodeArgs = [`--max-old-space-size=${opts.heapMiB ?? 256}`, ...(fs.existsSync(PROBE) ? ['--import', pathToFileURL(PROBE).href] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...nodeArgs, BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: cliEnv({ ...opts.env, DMARSIFT_BENCH_RSS: rssFile }),
    encoding: 'utf8',
    input: '',
    maxBuffer: 64 << 20,
    timeout: opts.timeoutMs ?? 20_000,
    killSignal: 'SIGKILL',
  });
  const ms = performance.now() - t0;
  let maxRssMiB: number | undefined;
  try {
    maxRssMiB = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
  } catch {
    maxRssMiB = undefined;
  }
  fs.rmSync(path.dirname(rssFile), { recursive: true, force: true });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut, maxRssMiB, ms };
}

/** What every bounded run must show: it ended by itself with 0, 1 or 2, no stack, no internal error, within the memory target. */
export function boundedProblems(r: BoundedResult, rssMiB = 256): string[] {
  const out: string[] = [];
  if (r.timedOut) out.push(`did not finish (killed after ${Math.round(r.ms)} ms)`);
  else if (r.status === null || ![0, 1, 2].includes(r.status)) out.push(`exit ${r.status ?? r.signal}`);
  if (/\n\s+at /.test(r.stderr)) out.push('stack trace on stderr');
  if (/internal error/.test(r.stderr)) out.push(`internal error: ${r.stderr.trim().split('\n')[0]}`);
  if (/heap out of memory|Allocation failed/i.test(r.stderr)) out.push('ran out of heap');
  if (r.maxRssMiB !== undefined && r.maxRssMiB > rssMiB) out.push(`peak RSS ${r.maxRssMiB.toFixed(0)} MiB > ${rssMiB} MiB`);
  return out;
}
