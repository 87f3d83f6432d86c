/**
 * The package as users get it: `npm pack` the project, install the tarball into an empty folder,
 * and run `dmarsift analyze` on a bundled sample from there.
 *
 * No network and no npm cache: the tarball's dependencies are the production packages of
 * package-lock.json, copied from this checkout's node_modules (what `npm ci` installed) into the
 * folder first, and `npm install --offline` runs with an empty cache of its own, so it only unpacks
 * the tarball and links its bin. Without those packages (node_modules not installed) the test is
 * skipped with the reason printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, REPO } from '../helpers/cli.js';
import { missingProductionPackages, productionPackages } from '../helpers/packages.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const missing = missingProductionPackages();
if (missing.length) console.warn(`skipped "npm pack → install → run": node_modules lacks ${missing.join(', ')} (run npm ci)`);

const work = mkdtempSync(path.join(tmpdir(), 'dmarsift-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack → install → run', () => {
  it.skipIf(missing.length > 0)('the installed package analyzes its own sample and reports its version', { timeout: 240_000 }, () => {
    const packDir = path.join(work, 'pack');
    const appDir = path.join(work, 'app');
    execFileSync('mkdir', ['-p', packDir, appDir]);
    // --ignore-scripts: dist/ is already built by the tests' global setup; the tarball takes it as is.
    execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: REPO, stdio: 'pipe' });
    const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }));
    for (const { dir } of productionPackages()) if (existsSync(path.join(REPO, dir))) cpSync(path.join(REPO, dir), path.join(appDir, dir), { recursive: true, dereference: true });
    execFileSync(npm, ['install', '--offline', '--cache', path.join(work, 'empty-npm-cache'), '--no-audit', '--no-fund', '--ignore-scripts', path.join(packDir, tarball!)], { cwd: appDir, stdio: 'pipe' });

    const bin = path.join(appDir, 'node_modules', '.bin', 'dmarsift');
    const sample = path.join(appDir, 'node_modules', 'dmarsift', 'samples', 'bhyve-host');
    const run = (args: string[]) => spawnSync(bin, args, { cwd: appDir, encoding: 'utf8', env: cliEnv() });
    const r = run(['analyze', sample, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { schemaVersion: number; summary: { units: number } };
    expect(report.schemaVersion).toBe(1);
    expect(report.summary.units).toBe(1);
    const pkg = JSON.parse(execFileSync('cat', [path.join(REPO, 'package.json')], { encoding: 'utf8' })) as { version: string };
    expect(run(['--version']).stdout.trim()).toBe(pkg.version);
    // The published files hold what users run: the bundle (not tsc's module tree, the bench or the
    // sample generator), the schemas, docs and the samples — no tests, sources or scenario inputs.
    const pkgDir = path.join(appDir, 'node_modules', 'dmarsift');
    const listed = readdirSync(pkgDir);
    expect(listed).not.toContain('test');
    expect(listed).not.toContain('src');
    expect(readdirSync(path.join(pkgDir, 'dist'))).toEqual(['bundle']);
    expect(readdirSync(path.join(pkgDir, 'dist', 'bundle'))).toContain('main.cjs');
    expect(readdirSync(path.join(pkgDir, 'dist', 'bundle'))).not.toContain('floor.cjs');
    expect(readdirSync(path.join(pkgDir, 'dist', 'bundle'))).not.toContain('phys-floor.cjs');
    expect(readdirSync(path.join(pkgDir, 'dist', 'bundle'))).not.toContain('rss-probe.cjs');
    expect(existsSync(path.join(pkgDir, 'samples', 'scenarios'))).toBe(false);
    expect(existsSync(path.join(pkgDir, 'schema', 'analyze-report.schema.json'))).toBe(true);
  });
});
