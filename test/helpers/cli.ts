/** Runs the built CLI (`bin/dmarsift.js`) as a user would, capturing stdout, stderr and the exit code. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'vitest';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin', 'dmarsift.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment the CLI runs in: the caller's, minus what would make a test depend on the shell it
 * was started from — dmarsift's own switches (DMARSIFT_*), colour forcing and the terminal size
 * (tables follow COLUMNS) — plus NO_COLOR. A test that wants one sets it explicitly.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('DMARSIFT_') || k === 'FORCE_COLOR' || k === 'COLUMNS' || k === 'LINES') delete env[k];
  return { ...env, NO_COLOR: '1', ...extra };
}

export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: cliEnv(opts.env),
    encoding: 'utf8',
    input: opts.input ?? '',
    maxBuffer: 256 << 20,
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `cli` and JSON.parse of stdout; throws with stderr when the output is not JSON. */
export function cliJson<T = any>(args: string[], opts: Parameters<typeof cli>[1] = {}): { status: number; json: T; stderr: string } {
  const r = cli(args, opts);
  try {
    return { status: r.status, json: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`not JSON (exit ${r.status}): ${r.stderr || r.stdout.slice(0, 500)}`);
  }
}

/** Run the CLI expecting a usage error: exit 2, nothing on stdout, one line on stderr (returned). */
export function usageError(args: string[]): string {
  const r = cli(args);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}
