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
import { spawn, spawnSync } from 'node:child_process';
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

export interface WatchedResult {
  /** Exit code; null when the child was killed. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Why the child was killed, if it was. */
  killed?: 'timeout' | 'rss';
  /** Highest VmRSS seen while polling, in MiB (0 when /proc is not available). */
  peakRssMiB: number;
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** At most this much of stdout/stderr is kept (a runaway writer must not fill the test's memory). */
const KEEP = 1 << 20;

/**
 * The same run, watched: asynchronous, RSS polled from /proc/PID/status every 20 ms, and the child
 * killed (SIGKILL) as soon as it passes `rssMiB` or `timeoutMs` — for inputs that grow without
 * bound, so a regression fails in seconds instead of eating the machine.
 */
export function cliWatched(
  args: string[],
  opts: { timeoutMs?: number; rssMiB?: number; cwd?: string } = {},
): Promise<WatchedResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const cap = opts.rssMiB ?? 256;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed: WatchedResult['killed'];
    let peak = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < KEEP) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < KEEP) stderr += d; });
    const stop = (why: NonNullable<WatchedResult['killed']>): void => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const r = rssMiB(child.pid);
      if (r > peak) peak = r;
      if (r > cap) stop('rss');
    }, 20);
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    child.on('close', (status) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ status, stdout, stderr, peakRssMiB: Math.round(peak), ...(killed ? { killed } : {}) });
    });
  });
}
