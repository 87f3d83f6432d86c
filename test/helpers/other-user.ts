/**
 * Running the built CLI as another, unprivileged user (uid/gid 65534, "nobody"), as a test does to
 * see what dmarsift does without root.
 *
 * Why a copy: the checkout may sit where that user cannot enter (a clone under `mktemp -d` or in a
 * home directory, mode 700), and then node cannot even load bin/dmarsift.js. So what the CLI needs
 * at run time — bin/, dist/bundle/, package.json (its version) and the production dependencies
 * listed in package-lock.json (yargs is loaded from node_modules) — is copied into a fresh directory
 * under the temp dir (the test file's own, test/helpers/setup-tmp.ts), made world-readable. When no
 * such place can be made (the temp dir or node itself is not reachable by other users),
 * `otherUserCli()` says why and the caller skips with that reason printed.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliEnv, REPO } from './cli.js';
import { productionPackages } from './packages.js';

export const NOBODY = 65534;

export type OtherUserCli =
  | { ok: true; bin: string; dir: string; run(args: string[], opts?: { cwd?: string }): SpawnSyncReturns<string> }
  | { ok: false; reason: string };

/** True when every directory from `/` down to `p` can be searched by others, and `p` itself has `bits` for others. */
function othersReach(p: string, bits: number): string | undefined {
  const parts = path.resolve(p).split(path.sep).filter(Boolean);
  let at: string = path.sep;
  for (const part of parts) {
    if ((fs.statSync(at).mode & 0o001) === 0) return `${at} is not searchable by other users`;
    at = path.join(at, part);
  }
  if ((fs.statSync(at).mode & bits) !== bits) return `${at} lacks mode o+${bits.toString(8)}`;
  return undefined;
}

function makeWorldReadable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) makeWorldReadable(p);
    else if (e.isFile()) fs.chmodSync(p, 0o644 | (fs.statSync(p).mode & 0o111 ? 0o111 : 0));
  }
}

let cached: OtherUserCli | undefined;

/**
 * A copy of the built CLI that user `nobody` can run, or the reason there is none. Only meaningful
 * when the tests run as root (a normal user cannot change uid and runs the CLI as itself).
 */
export function otherUserCli(): OtherUserCli {
  // The copy lives in a test file's temporary directory (test/helpers/setup-tmp.ts): made again for the next file.
  if (cached && (!cached.ok || fs.existsSync(cached.dir))) return cached;
  const nodeProblem = othersReach(process.execPath, 0o005);
  if (nodeProblem) return (cached = { ok: false, reason: `node (${process.execPath}) cannot be run by another user: ${nodeProblem}` });
  const tmpProblem = othersReach(os.tmpdir(), 0o001);
  if (tmpProblem) return (cached = { ok: false, reason: `no directory another user can read: ${tmpProblem}` });
  if (!fs.existsSync(path.join(REPO, 'dist', 'bundle', 'load.cjs'))) return (cached = { ok: false, reason: 'dist/bundle/load.cjs is missing (esbuild unavailable?)' });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-other-user-'));
  fs.cpSync(path.join(REPO, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.cpSync(path.join(REPO, 'dist', 'bundle'), path.join(dir, 'dist', 'bundle'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  for (const { dir: pkg } of productionPackages()) if (fs.existsSync(path.join(REPO, pkg))) fs.cpSync(path.join(REPO, pkg), path.join(dir, pkg), { recursive: true, dereference: true });
  makeWorldReadable(dir);

  const bin = path.join(dir, 'bin', 'dmarsift.js');
  const run = (args: string[], opts: { cwd?: string } = {}): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: opts.cwd ?? dir, encoding: 'utf8', env: cliEnv(), timeout: 60_000, uid: NOBODY, gid: NOBODY,
    });
  // The copy must start for that user; if it does not, say what node said rather than fail the caller obscurely.
  const probe = run(['--version']);
  if (probe.status !== 0) return (cached = { ok: false, reason: `the copy in ${dir} does not run as uid ${NOBODY}: ${(probe.stderr || String(probe.error)).trim().split('\n')[0]}` });
  return (cached = { ok: true, bin, dir, run });
}
