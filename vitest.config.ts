import { defineConfig } from 'vitest/config';

// .ci/run sets DMARSIFT_TEST_JSON to collect the counts from vitest's JSON reporter.
const jsonOut = process.env.DMARSIFT_TEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-build.ts'],
    // A fixed seed for every fast-check property unless DMARSIFT_TEST_SEED says otherwise.
    setupFiles: ['test/helpers/setup-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
