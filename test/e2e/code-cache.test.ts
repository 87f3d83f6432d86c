/**
 * The bundle's V8 code caches (src/cli/bundle-loader.ts): the build's caches are taken by the
 * node that built them, and a cache is only ever a hint — without caches, with caches V8 refuses
 * and with a chunk changed after its cache, the CLI prints the very same report.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, REPO } from '../helpers/cli.js';

const BUNDLE = path.join(REPO, 'dist', 'bundle');
const bundled = fs.existsSync(path.join(BUNDLE, 'load.cjs'));
const ARGS = ['analyze', path.join(REPO, 'samples', 'hpa-leak-shared'), '--format', 'json'];

/** A copy of the CLI (bin/, the bundle, package.json for its version), timestamps kept. */
function copyCli(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-code-cache-'));
  fs.cpSync(path.join(REPO, 'bin'), path.join(dir, 'bin'), { recursive: true, preserveTimestamps: true });
  fs.cpSync(BUNDLE, path.join(dir, 'dist', 'bundle'), { recursive: true, preserveTimestamps: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  return dir;
}

function run(root: string, execArgv: string[] = []) {
  const r = spawnSync(process.execPath, [...execArgv, path.join(root, 'bin', 'dmarsift.js'), ...ARGS], { env: cliEnv({ DMARSIFT_TIMING: '1' }), encoding: 'utf8', timeout: 60_000 });
  const m = /dmarsift: code cache: (\d+) of (\d+) chunks compiled from their cache\n/.exec(r.stderr);
  return { status: r.status, stdout: r.stdout, cached: m ? Number(m[1]) : -1, chunks: m ? Number(m[2]) : -1 };
}

const caches = (root: string) =>
  fs
    .readdirSync(path.join(root, 'dist', 'bundle'))
    .filter((f) => f.endsWith('.v8-cache'))
    .map((f) => path.join(root, 'dist', 'bundle', f));

describe.runIf(bundled)('the bundle loader and its code caches', () => {
  let reference: ReturnType<typeof run>;
  beforeAll(() => {
    reference = run(REPO);
  });

  it('runs every chunk analyze loads from the cache the build made', () => {
    expect(reference.status).toBe(1); // the sample's planted finding
    expect(reference.chunks).toBeGreaterThan(10);
    expect(reference.cached).toBe(reference.chunks);
  });

  it('prints the same report without caches', () => {
    const dir = copyCli();
    for (const f of caches(dir)) fs.rmSync(f);
    const r = run(dir);
    expect(r.cached).toBe(0);
    expect(r.stdout).toBe(reference.stdout);
  });

  it('prints the same report when V8 refuses every cache (garbage, another flag set)', () => {
    const dir = copyCli();
    for (const f of caches(dir)) fs.writeFileSync(f, Buffer.alloc(fs.statSync(f).size, 0x5a));
    const garbage = run(dir);
    expect(garbage.cached).toBe(0);
    expect(garbage.stdout).toBe(reference.stdout);
    const otherFlags = run(REPO, ['--max-semi-space-size=4']);
    expect(otherFlags.cached).toBe(0);
    expect(otherFlags.stdout).toBe(reference.stdout);
  });

  it('skips the cache of a chunk changed after it', () => {
    const dir = copyCli();
    const main = path.join(dir, 'dist', 'bundle', 'main.cjs');
    const later = new Date(fs.statSync(`${main}.v8-cache`).mtimeMs + 1000);
    fs.utimesSync(main, later, later);
    const r = run(dir);
    expect(r.cached).toBe(reference.chunks - 1);
    expect(r.stdout).toBe(reference.stdout);
  });
});
