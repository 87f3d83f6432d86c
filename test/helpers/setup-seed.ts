/**
 * Vitest setup file (vitest.config.ts `setupFiles`), run before each test file: gives fast-check
 * the run's seed (test/helpers/seed.ts). fast-check keeps its global configuration per module
 * instance and costs ~0.1 s to load, so it is configured only in test files that import it
 * themselves (a helper importing it for a test file that does not would get fast-check's own
 * random seed).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { testSeed } from './seed.js';

const testPath = expect.getState().testPath;
if (testPath !== undefined && readFileSync(testPath, 'utf8').includes("from 'fast-check'")) {
  const fc = (await import('fast-check')).default;
  const seed = testSeed();
  if (process.env.DMARSIFT_TEST_SEED === 'random') console.log(`fast-check seed ${seed} (DMARSIFT_TEST_SEED=${seed} replays it)`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
