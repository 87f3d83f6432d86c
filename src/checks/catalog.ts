/**
 * Every check dmarsift has, in the order `dmarsift checks` and docs/checks list them: the capture
 * checks (`analyze`), then the pair checks (`diff`).
 */
import { checks } from './index.js';
import { pairChecks } from './pair/index.js';
import type { CheckMeta } from './types.js';

export interface CatalogEntry {
  meta: CheckMeta;
  scope: 'capture' | 'pair';
}

export const catalog: readonly CatalogEntry[] = [
  ...checks.map((c) => ({ meta: c.meta, scope: 'capture' as const })),
  ...pairChecks.map((c) => ({ meta: c.meta, scope: 'pair' as const })),
];
