import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// .ci/run sets DMARSIFT_TEST_JSON to collect the counts from vitest's JSON reporter.
const jsonOut = process.env.DMARSIFT_TEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-build.ts'],
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
  },
});
