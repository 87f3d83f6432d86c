/** The bundled samples' scenarios (samples/scenarios/*.json) and the finding pairs tests compare. */
import * as path from 'node:path';
import type { Finding } from '../../src/checks/types.js';
import { loadScenarios } from '../../src/synth/generate-samples.js';
import type { Scenario } from '../../src/synth/scenario.js';
import { REPO } from '../helpers/cli.js';

export const SAMPLES = path.join(REPO, 'samples');
export const scenarios: Scenario[] = loadScenarios(SAMPLES);

/** "check BDF" strings (BDF `-` when the finding names none), sorted and without repeats. */
export function pairsOf(list: { check: string; bdf?: string | null }[]): string[] {
  return [...new Set(list.map((f) => `${f.check} ${f.bdf ?? '-'}`))].sort();
}

export function expectedPairs(expect: [string, string | null][]): string[] {
  return pairsOf(expect.map(([check, bdf]) => ({ check, bdf })));
}

/** Findings at warning or above: what a sample's `expect` lists. */
export function atLeastWarning<T extends Pick<Finding, 'severity'>>(list: T[]): T[] {
  return list.filter((f) => f.severity !== 'info');
}
