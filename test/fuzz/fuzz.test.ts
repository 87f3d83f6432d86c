/**
 * Every decoder of untrusted input against random and mutated input (targets.ts): it returns or
 * throws InputError with a byte offset / line, nothing else. In the normal suite each target runs
 * a few hundred inputs from a fixed seed (printed; DMARSIFT_FUZZ_SEED chooses another, `random` a
 * fresh one); `npm run fuzz` sets DMARSIFT_FUZZ_RUNS (1 000 000) for the long campaign, with a
 * fresh seed each time unless DMARSIFT_FUZZ_SEED is given, and a summary per target.
 * A crasher the campaign finds becomes a case in the tests of the code at fault (docs/fuzzing.md);
 * the capture-level campaign is structured.test.ts.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import { describe, it } from 'vitest';
import { testSeed } from '../helpers/seed.js';
import { check, fuzzTargets } from './targets.js';

const RUNS = Number(process.env.DMARSIFT_FUZZ_RUNS ?? 150);
/** Fixed unless asked: DMARSIFT_FUZZ_SEED (an integer, or `random`), else DMARSIFT_TEST_SEED, else the suite's default. */
const SEED = testSeed(process.env.DMARSIFT_FUZZ_SEED ?? process.env.DMARSIFT_TEST_SEED);
const REPORT = process.env.DMARSIFT_FUZZ_REPORT;
const ONLY = process.env.DMARSIFT_FUZZ_ONLY?.split(',');

describe('fuzz: decoders return or throw InputError with a position', () => {
  console.log(`fuzz seed ${SEED} (DMARSIFT_FUZZ_SEED=${SEED} replays it; DMARSIFT_FUZZ_SEED=random picks a new one)`);
  for (const target of fuzzTargets()) {
    if (ONLY && !ONLY.some((o) => target.name.includes(o))) continue;
    it(`${target.name} (${RUNS.toLocaleString('en-US')} inputs)`, () => {
      const t0 = performance.now();
      let slowest = 0;
      let errors = 0;
      const seed = SEED;
      try {
        fc.assert(
          fc.property(target.arb, (input) => {
            const t = performance.now();
            try {
              check(target, input);
            } finally {
              slowest = Math.max(slowest, performance.now() - t);
            }
          }),
          { numRuns: RUNS, seed, endOnFailure: RUNS > 10_000 },
        );
      } catch (e) {
        errors++;
        throw e;
      } finally {
        const line = { target: target.name, inputs: RUNS, seed, seconds: +((performance.now() - t0) / 1000).toFixed(1), slowestMs: +slowest.toFixed(1), failed: errors > 0 };
        if (RUNS > 10_000) process.stdout.write(`fuzz ${JSON.stringify(line)}\n`);
        if (REPORT) fs.appendFileSync(REPORT, JSON.stringify(line) + '\n');
      }
    });
  }
});
