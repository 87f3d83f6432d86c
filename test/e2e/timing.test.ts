/** DMARSIFT_TIMING=1: one stderr line with the steps of the run, in order; nothing without it. */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

describe('DMARSIFT_TIMING', () => {
  it('analyze prints its steps with non-decreasing times, after the report and apart from it', () => {
    const r = cli(['analyze', 'samples/bhyve-host', '--format', 'json', '--fail-on', 'none'], { env: { DMARSIFT_TIMING: '1' } });
    expect(r.status).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    // The bundle's loader adds its own line (test/e2e/code-cache.test.ts).
    const m = /^dmarsift: timing \(ms since start\): (.*)\n(dmarsift: code cache: .*\n)?$/.exec(r.stderr);
    expect(m).not.toBeNull();
    const steps = m![1].split(', ').map((s) => /^(.*) (\d+)$/.exec(s)!);
    expect(steps.map((s) => s[1])).toEqual(['main', 'arguments parsed', 'command loaded', 'capture loaded', 'checks run', 'report rendered', 'written', 'exit']);
    const times = steps.map((s) => Number(s[2]));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
  });

  it('is silent when unset or 0', () => {
    expect(cli(['analyze', 'samples/bhyve-host', '--format', 'json', '--fail-on', 'none']).stderr).toBe('');
    expect(cli(['analyze', 'samples/bhyve-host', '--format', 'json', '--fail-on', 'none'], { env: { DMARSIFT_TIMING: '0' } }).stderr).toBe('');
  });
});
