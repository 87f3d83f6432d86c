import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

// .ci/run sets DMARSIFT_TEST_JSON to collect the counts from vitest's JSON reporter.
const jsonOut = process.env.DMARSIFT_TEST_JSON;

/**
 * Projects. `unit` imports src/ directly and needs no build: `npm run test:unit` takes seconds
 * (`unit-isolated` holds the few unit files that mock a module).
 * `e2e` runs what was built — the CLI (bin/dmarsift.js), the bundle, `npm pack`, worker threads
 * loaded from dist/ — so its global setup compiles and bundles first. A test file is e2e when it
 * reaches for any of those; the split is read from the files themselves, so a new test lands in
 * the right project without a list to keep.
 */
const E2E_MARKS = /helpers\/(?:cli|bounded|other-user)(?:\.js)?'|\bdist\/|bin\/dmarsift|scan-worker|captureLive|spawnSync|execFileSync/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? testFiles(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const root = import.meta.dirname;
const all = testFiles(path.join(root, 'test')).map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
const e2e = all.filter((f) => E2E_MARKS.test(readFileSync(path.join(root, f), 'utf8')));
// A file that replaces a module (vi.mock) needs its own module cache: with `isolate: false` below
// the real module may already be loaded by another file of the same worker. So does one that
// says `vitest: own process` (it observes V8 state other files' objects share, such as shapes).
const mocking = all.filter((f) => !e2e.includes(f) && /\bvi\.mock\(|vitest: own process/.test(readFileSync(path.join(root, f), 'utf8')));
const unit = all.filter((f) => !e2e.includes(f) && !mocking.includes(f));

export default defineConfig({
  test: {
    // A fixed seed for every fast-check property unless DMARSIFT_TEST_SEED says otherwise; a
    // temporary directory of its own (TMPDIR) for each test file, removed after it.
    setupFiles: ['test/helpers/setup-seed.ts', 'test/helpers/setup-tmp.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files share their worker process and its module cache: loading src/ once per worker
    // instead of once per file cuts the suite's CPU time by more than half. Test files therefore
    // keep no state in shared modules beyond process exit (helpers clean up on 'exit', not in a
    // module-level afterAll).
    isolate: false,
    // Every core: vitest's default leaves one for its main process, which mostly waits (on two
    // cores that is one worker).
    maxWorkers: Math.max(1, availableParallelism()),
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      { extends: true, test: { name: 'unit-isolated', include: mocking, isolate: true } },
      { extends: true, test: { name: 'e2e', include: e2e, globalSetup: ['test/helpers/global-build.ts'] } },
    ],
  },
});
