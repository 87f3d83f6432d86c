/**
 * `npm run docs`: writes docs/checks/<id>.md for every check and docs/checks/README.md. Each
 * page's example finding comes from the sample the check's `meta.example` names: `analyze` on it
 * for a capture check, `diff` of its before and after samples for a pair check (the most severe
 * finding of that check, first in report order).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCapture } from '../capture/load.js';
import { catalog, type CatalogEntry } from '../checks/catalog.js';
import { runPairChecks } from '../checks/pair/run.js';
import { runChecks } from '../checks/run.js';
import { severityRank, type Finding } from '../checks/types.js';
import { diffSnapshots } from '../model/diff.js';
import type { Snapshot } from '../model/types.js';
import { assignFingerprints } from '../triage/fingerprint.js';
import { renderCheckDoc, renderCheckIndex, type CheckDocExample } from '../report/check-docs.js';

/** The most telling finding of one check: the most severe, first in report order. */
function pick(list: Finding[]): Finding | undefined {
  return [...list].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0];
}

/** Where a check's example comes from: the command that shows it and the sample(s) it runs on. */
function exampleSource(entry: CatalogEntry): Omit<CheckDocExample, 'finding'> | undefined {
  const ex = entry.meta.example;
  if (ex === undefined) return undefined;
  if ('sample' in ex) return { capture: `samples/${ex.sample}`, command: `dmarsift analyze samples/${ex.sample} --format json` };
  const common = ex.before.replace(/-before$/, '');
  return {
    capture: ex.after === `${common}-after` ? `samples/${common}-*` : `samples/${ex.before}, samples/${ex.after}`,
    command: `dmarsift diff samples/${ex.before} samples/${ex.after} --format json`,
  };
}

/** The findings of a check on the sample(s) its `meta.example` names (empty when it names none). */
export function exampleFindings(entry: CatalogEntry, load: (name: string) => Snapshot): Finding[] {
  const { meta } = entry;
  const ex = meta.example;
  if (ex === undefined) return [];
  if ('sample' in ex) {
    if (entry.scope !== 'capture') throw new Error(`${meta.id}: a pair check's example names a before and an after sample`);
    // As `analyze` shows it: with the finding's VM and fingerprint (no configuration, no baseline).
    const snapshot = load(ex.sample);
    const findings = runChecks(snapshot, {}, [entry.check]);
    assignFingerprints(snapshot, findings);
    return findings;
  }
  if (entry.scope !== 'pair') throw new Error(`${meta.id}: a capture check's example names one sample`);
  const [a, b] = [load(ex.before), load(ex.after)];
  return runPairChecks(a, b, diffSnapshots(a, b), {}, [entry.check]).findings;
}

/** The example finding of a check's docs page: the most severe its sample gives. */
function checkExample(entry: CatalogEntry, load: (name: string) => Snapshot): CheckDocExample | undefined {
  const source = exampleSource(entry);
  if (source === undefined) return undefined;
  const f = pick(exampleFindings(entry, load));
  if (f === undefined) throw new Error(`${entry.meta.id}: its example sample finds nothing of it (meta.example)`);
  return { ...source, finding: f };
}

/** The pages of `entries` (the whole catalog by default), by file name. */
export function checkDocs(repo: string, entries: readonly CatalogEntry[] = catalog): Map<string, string> {
  const loaded = new Map<string, Snapshot>();
  const load = (name: string): Snapshot => {
    let s = loaded.get(name);
    if (s === undefined) {
      s = loadCapture(path.join(repo, 'samples', name));
      loaded.set(name, s);
    }
    return s;
  };
  const pages = new Map<string, string>();
  for (const entry of entries) pages.set(`${entry.meta.id}.md`, renderCheckDoc(entry.meta, entry.scope, checkExample(entry, load)));
  pages.set('README.md', renderCheckIndex(entries));
  return pages;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const dir = path.join(repo, 'docs', 'checks');
  fs.mkdirSync(dir, { recursive: true });
  const pages = checkDocs(repo);
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.md') && !pages.has(f)) fs.rmSync(path.join(dir, f));
  for (const [f, text] of pages) fs.writeFileSync(path.join(dir, f), text);
  process.stdout.write(`wrote ${pages.size} pages to ${path.relative(process.cwd(), dir) || dir}\n`);
}
