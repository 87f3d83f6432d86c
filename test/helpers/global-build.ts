/**
 * Vitest global setup: compile src/ to dist/ and bundle it once before the tests, so the tests that
 * spawn `bin/dmarsift.js` run the code under test, not a stale build (tsc 7 takes ~2 s).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  // Then the bundle bin/dmarsift.js runs (as `npm run build` does).
  execFileSync(process.execPath, [path.join(root, 'dist', 'tools', 'bundle.js')], { cwd: root, stdio: 'pipe' });
}
