/**
 * Randomised tests are reproducible by default: every fast-check property runs from one fixed seed
 * unless `DMARSIFT_TEST_SEED` says otherwise (an integer, or `random` for a fresh one, printed).
 * A failing property prints its seed and path (fast-check does), so a failure found with a random
 * seed can be replayed with `DMARSIFT_TEST_SEED=<seed>`. The fuzz targets have their own variable,
 * `DMARSIFT_FUZZ_SEED` (test/fuzz/fuzz.test.ts), which falls back to this one.
 * test/helpers/setup-seed.ts applies it.
 */

export const DEFAULT_SEED = 20261204;

/** The seed of this run: `DMARSIFT_TEST_SEED` (an integer, or `random`), else DEFAULT_SEED. */
export function testSeed(env: string | undefined = process.env.DMARSIFT_TEST_SEED): number {
  if (env === undefined || env === '') return DEFAULT_SEED;
  if (env === 'random') return (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
  const n = Number(env);
  if (!Number.isSafeInteger(n)) throw new Error(`DMARSIFT_TEST_SEED=${JSON.stringify(env)}: expected an integer or "random"`);
  return n | 0;
}

