/**
 * What a run loads of node itself (src/cli/terminal.ts, src/tools/bundle.ts): a report written to
 * a pipe or a file makes neither process.stdout nor process.stderr (node's stream modules), and
 * yargs does not load node:assert. Each is a few milliseconds of every run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, REPO } from '../helpers/cli.js';

const bundled = fs.existsSync(path.join(REPO, 'dist', 'bundle', 'load.cjs'));

/** The node modules loaded by `dmarsift ARGS` beyond those `node -e 0` loads. */
function modulesLoaded(args: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-modules-'));
  const list = path.join(dir, 'modules.json');
  const probe = path.join(dir, 'probe.cjs');
  fs.writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
  const base = spawnSync(process.execPath, ['-r', probe, '-e', '0'], { env: cliEnv() });
  expect(base.status).toBe(0);
  const before = new Set(JSON.parse(fs.readFileSync(list, 'utf8')) as string[]);
  const r = spawnSync(process.execPath, ['-r', probe, BIN, ...args], { cwd: REPO, env: cliEnv(), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const after = JSON.parse(fs.readFileSync(list, 'utf8')) as string[];
  return after.filter((m) => !before.has(m)).map((m) => m.replace(/^NativeModule /, ''));
}

describe.runIf(bundled)('node modules a run loads', () => {
  it('analyze --format json into a pipe: no streams, no assert', () => {
    const loaded = modulesLoaded(['analyze', 'samples/hpa-leak-shared', '--format', 'json', '--fail-on', 'none']);
    expect(loaded.filter((m) => /^stream$|streams\/|^assert$|^tty$|^net$/.test(m))).toEqual([]);
  });

  it('the findings table into a pipe: none either (only a character device can be a terminal)', () => {
    const loaded = modulesLoaded(['analyze', 'samples/hpa-leak-shared', '--fail-on', 'none']);
    expect(loaded.filter((m) => /^stream$|^assert$|^tty$|^net$/.test(m))).toEqual([]);
  });
});
