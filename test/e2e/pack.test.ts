/**
 * The package as users get it: `npm pack` the project, install the tarball into an empty folder
 * (dependencies from the npm cache `npm ci` filled, so no network is needed when it is warm), and
 * run `dmarsift analyze` on a bundled sample from there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm pack → install → run', () => {
  it('the installed package analyzes its own sample and reports its version', { timeout: 240_000 }, () => {
    const work = mkdtempSync(path.join(tmpdir(), 'dmarsift-pack-'));
    const packDir = path.join(work, 'pack');
    const appDir = path.join(work, 'app');
    execFileSync('mkdir', ['-p', packDir, appDir]);
    // --ignore-scripts: dist/ is already built by the tests' global setup; the tarball takes it as is.
    execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: REPO, stdio: 'pipe' });
    const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }));
    execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(packDir, tarball!)], { cwd: appDir, stdio: 'pipe' });

    const bin = path.join(appDir, 'node_modules', '.bin', 'dmarsift');
    const sample = path.join(appDir, 'node_modules', 'dmarsift', 'samples', 'bhyve-host');
    const run = (args: string[]) => spawnSync(bin, args, { cwd: appDir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const r = run(['analyze', sample, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { schemaVersion: number; summary: { units: number } };
    expect(report.schemaVersion).toBe(1);
    expect(report.summary.units).toBe(1);
    const pkg = JSON.parse(execFileSync('cat', [path.join(REPO, 'package.json')], { encoding: 'utf8' })) as { version: string };
    expect(run(['--version']).stdout.trim()).toBe(pkg.version);
    // The published files hold no tests and no TypeScript sources.
    const listed = readdirSync(path.join(appDir, 'node_modules', 'dmarsift'));
    expect(listed).not.toContain('test');
    expect(listed).not.toContain('src');
  });
});
