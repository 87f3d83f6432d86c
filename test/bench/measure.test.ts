import { describe, expect, it } from 'vitest';
import { expectExit, type Measured } from '../../src/bench/measure.js';

/** A measurement whose runs exited with `exits` (times and output do not matter here). */
function measured(exits: number[], stderr = ''): Measured {
  const last = { ms: 1, rssKiB: null, cpuMs: null, exit: exits[exits.length - 1], stdout: '', stderr };
  return { ms: 1, msAll: exits.map(() => 1), rssKiB: null, cpuMs: Number.NaN, cpuAll: [], exit: last.exit, exits, last };
}

describe('bench expectExit', () => {
  it('passes when every run exited as expected', () => {
    expect(() => expectExit(measured([0, 0, 0]), [0], 'decode')).not.toThrow();
    expect(() => expectExit(measured([1, 0]), [0, 1], 'translate')).not.toThrow();
  });

  it('fails on a run other than the last that exited otherwise (a fast failure is never timed)', () => {
    expect(() => expectExit(measured([0, 2, 0], 'dmarsift: nothing to check'), [0], 'analyze x')).toThrow(/analyze x exited 2 \(expected 0\): dmarsift: nothing to check/);
  });
});
