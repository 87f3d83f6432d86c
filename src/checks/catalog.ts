/**
 * Every check dmarsift has, in the order `dmarsift checks` and docs/checks list them: the capture
 * checks (`analyze`), then the pair checks (`diff`). Everything that lists checks — the `checks`
 * command, the docs generator, the tests' id lists — derives from here.
 */
import { checks } from './index.js';
import { pairChecks } from './pair/index.js';
import type { PairCheck } from './pair/types.js';
import type { Check, CheckMeta } from './types.js';

export type CatalogEntry = { meta: CheckMeta } & ({ scope: 'capture'; check: Check } | { scope: 'pair'; check: PairCheck });

/** The catalog of a registry (tests pass one with a check of their own). */
export function catalogOf(capture: readonly Check[], pair: readonly PairCheck[]): CatalogEntry[] {
  return [
    ...capture.map((check) => ({ meta: check.meta, scope: 'capture' as const, check })),
    ...pair.map((check) => ({ meta: check.meta, scope: 'pair' as const, check })),
  ];
}

export const catalog: readonly CatalogEntry[] = catalogOf(checks, pairChecks);
