/**
 * The per-check lists tests used to keep by hand (ids, the sample that shows each check), derived
 * from a catalog — the real one (src/checks/catalog.ts) or a test's own with a check added.
 */
import type { CatalogEntry } from '../../src/checks/catalog.js';

export { exampleFindings } from '../../src/tools/write-check-docs.js';

/** Ids of the catalog's checks of `scope` (all by default), in catalog order. */
export function checkIds(entries: readonly CatalogEntry[], scope?: CatalogEntry['scope']): string[] {
  return entries.filter((e) => scope === undefined || e.scope === scope).map((e) => e.meta.id);
}

/** [sample, check id] for every sample a check's `meta.example` names (a pair check's before and after). */
export function exampleSamples(entries: readonly CatalogEntry[]): [string, string][] {
  return entries.flatMap((e): [string, string][] => {
    const ex = e.meta.example;
    if (ex === undefined) return [];
    return 'sample' in ex ? [[ex.sample, e.meta.id]] : [[ex.before, e.meta.id], [ex.after, e.meta.id]];
  });
}
