/**
 * Vitest setup file (vitest.config.ts `setupFiles`), run before each test file: the file gets a
 * temporary directory of its own as TMPDIR (so os.tmpdir(), mkdtemp and every child it spawns —
 * the CLI, npm — write there), removed with everything in it when the file is done. Tests then
 * leave nothing behind in the machine's temp dir and never meet what another run (or another user)
 * left there.
 *
 * The directory is mode 755 like the temp dir it stands for, so a test can still run something
 * as another user from inside it (test/helpers/other-user.ts). Helpers that keep a directory
 * across test files create it again when the previous file's is gone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

const base = (process.env.DMARSIFT_TEST_TMP_BASE ??= os.tmpdir());
const dir = fs.mkdtempSync(path.join(base, 'dmarsift-test-'));
fs.chmodSync(dir, 0o755);
process.env.TMPDIR = dir;

/** Remove `p`, first giving back the owner's rights a test took away (a mode-000 directory). */
function removeAll(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    const grant = (q: string): void => {
      try {
        const st = fs.lstatSync(q);
        if (!st.isDirectory()) return;
        fs.chmodSync(q, 0o700);
        for (const e of fs.readdirSync(q)) grant(path.join(q, e));
      } catch {
        // Not ours to change: the removal below says so.
      }
    };
    grant(p);
    try {
      fs.rmSync(p, { recursive: true, force: true });
    } catch (e) {
      console.warn(`could not remove the test's temporary directory ${p}: ${(e as Error).message}`);
    }
  }
}

afterAll(() => {
  process.env.TMPDIR = base;
  removeAll(dir);
});
