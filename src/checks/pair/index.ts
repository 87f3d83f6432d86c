/** The registry of pair checks (`dmarsift diff`), in the order `dmarsift checks` lists them. */
import { didReused } from './did-reused.js';
import { domainSurvivedTeardown } from './domain-survived-teardown.js';
import { staleAfterUnplug } from './stale-after-unplug.js';
import type { PairCheck } from './types.js';

export const pairChecks: readonly PairCheck[] = [staleAfterUnplug, domainSurvivedTeardown, didReused];
