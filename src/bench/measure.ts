/**
 * Running the processes the benchmark times: wall time from spawn to exit (node's start-up
 * included) and peak RSS, which the preloaded probe (rss-probe.js) writes at exit.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');

/**
 * One of the bench's own scripts (dist/bench/NAME.js) as the bundle builds it when there is one:
 * a CommonJS script, which node starts without setting up its ES module loader (~5 ms less), like
 * the CLI's own entry.
 */
export function bundled(name: string): string {
  const cjs = path.join(REPO, 'dist', 'bundle', `${name}.cjs`);
  return fs.existsSync(cjs) ? cjs : path.join(HERE, `${name}.js`);
}
/**
 * How the probe is preloaded. `--import` of an ES module sets up node's ES module loader in every
 * measured process and then loads even a CommonJS entry through it (lexing the whole file for its
 * exports): +18 ms on the physical floor, +66 on the reader floor's 60 KB script. The bundle's
 * CommonJS build of the probe preloads with `--require` and changes nothing else.
 */
const PROBE = bundled('rss-probe');
const PRELOAD = PROBE.endsWith('.cjs') ? ['--require', PROBE] : ['--import', pathToFileURL(PROBE).href];

/** The CLI measured: this checkout's, or another build's (`npm run bench -- --bin PATH`, e.g. main's, for a before/after). */
export const target = { bin: path.join(REPO, 'bin', 'dmarsift.js') };

export interface Run {
  ms: number;
  rssKiB: number | null;
  /** CPU time (user + system, every thread), start-up included; null when the probe wrote nothing. */
  cpuMs: number | null;
  exit: number;
  stdout: string;
  stderr: string;
}

export interface Measured {
  /** Median wall time, every run's, and the largest RSS seen. */
  ms: number;
  msAll: number[];
  rssKiB: number | null;
  /** Median CPU time, and every run's (NaN where missing). */
  cpuMs: number;
  cpuAll: number[];
  /** The last run's exit status, and every run's (a run that failed must not pass for a fast one). */
  exit: number;
  exits: number[];
  last: Run;
}

/**
 * Throws unless every run of `m` exited with one of `allowed`: each step states the exit it expects
 * (0, or 1 where a finding or fault is the outcome), so a command that fails fast is never timed.
 */
export function expectExit(m: Measured, allowed: readonly number[], what: string): void {
  const bad = m.exits.find((e) => !allowed.includes(e));
  if (bad !== undefined) throw new Error(`${what} exited ${bad} (expected ${allowed.join(' or ')}): ${m.last.stderr.trim().split('\n').at(-1) ?? ''}`);
}

/** One run of `node ARGS` (stdout kept only when asked: a pipe costs the child time). */
export function runOnce(args: string[], keepStdout: boolean, scratch: string, env: NodeJS.ProcessEnv = {}): Run {
  const rssFile = path.join(scratch, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...PRELOAD, ...args], {
    cwd: REPO,
    env: { ...process.env, DMARSIFT_BENCH_RSS: rssFile, NO_COLOR: '1', ...env },
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  let rssKiB: number | null = null;
  let cpuMs: number | null = null;
  try {
    const [rss, cpuMicros] = fs.readFileSync(rssFile, 'utf8').split(' ').map(Number);
    rssKiB = rss;
    cpuMs = cpuMicros / 1000;
    fs.rmSync(rssFile);
  } catch {
    rssKiB = null;
  }
  return { ms, rssKiB, cpuMs, exit: r.status ?? -1, stdout: keepStdout ? r.stdout : '', stderr: r.stderr ?? '' };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** `runs` runs of one command. */
export function measure(args: string[], runs: number, scratch: string, keepStdout = false): Measured {
  const all: Run[] = [];
  for (let i = 0; i < runs; i++) all.push(runOnce(args, keepStdout, scratch));
  return summarize(all);
}

/**
 * `runs` rounds of several commands, one run of each per round: on a machine whose speed drifts
 * from one second to the next, a command and its floor then see the same drift.
 */
export function measureAlternating(commands: { args: string[]; keepStdout?: boolean }[], runs: number, scratch: string): Measured[] {
  const all: Run[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) commands.forEach((c, k) => void all[k].push(runOnce(c.args, c.keepStdout === true, scratch)));
  return all.map(summarize);
}

function summarize(all: Run[]): Measured {
  const rss = all.map((r) => r.rssKiB).filter((x): x is number => x !== null);
  return {
    ms: median(all.map((r) => r.ms)),
    msAll: all.map((r) => Math.round(r.ms)),
    rssKiB: rss.length ? Math.max(...rss) : null,
    cpuMs: median(all.map((r) => r.cpuMs ?? NaN)),
    cpuAll: all.map((r) => Math.round(r.cpuMs ?? NaN)),
    exit: all[all.length - 1].exit,
    exits: all.map((r) => r.exit),
    last: all[all.length - 1],
  };
}

export const mib = (kib: number | null): string => (kib === null ? '?' : `${(kib / 1024).toFixed(0)} MiB`);
/** "120 ms [112–131]": the median and the spread of the runs. */
export const msSpread = (m: { ms: number; msAll: number[] }): string =>
  m.msAll.length > 1 ? `${Math.round(m.ms)} ms [${Math.min(...m.msAll)}–${Math.max(...m.msAll)}]` : `${Math.round(m.ms)} ms`;
