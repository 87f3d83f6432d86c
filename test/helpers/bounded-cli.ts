/**
 * Runs the built CLI in a child process with a wall-clock timeout and a resident-memory cap, for
 * inputs that used to hang or grow without bound (FIFOs, symlinks to /dev/zero, huge lines). The
 * child is killed (SIGKILL) as soon as either limit is passed, so a regression fails its test in
 * seconds instead of eating the machine. RSS is read from /proc/PID/status (Linux); elsewhere only
 * the timeout applies.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, REPO } from './cli.js';

export interface BoundedResult {
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
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** At most this much of stdout/stderr is kept (a runaway writer must not fill the test's memory). */
const KEEP = 1 << 20;

export function cliBounded(
  args: string[],
  opts: { timeoutMs?: number; rssMiB?: number; cwd?: string } = {},
): Promise<BoundedResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const cap = opts.rssMiB ?? 256;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed: BoundedResult['killed'];
    let peak = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < KEEP) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < KEEP) stderr += d; });
    const stop = (why: NonNullable<BoundedResult['killed']>): void => {
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
