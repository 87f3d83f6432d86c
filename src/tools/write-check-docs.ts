/**
 * `npm run docs`: writes docs/checks/<id>.md for every check and docs/checks/README.md. Each
 * page's example finding is taken from running the check on the bundled samples (the first
 * sample, in name order, where the check reports something that is not a "could not run" note),
 * or, for pair checks, from `diff` on the samples named `<x>-before` / `<x>-after`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCapture } from '../capture/load.js';
import { catalog } from '../checks/catalog.js';
import { checks } from '../checks/index.js';
import { pairChecks } from '../checks/pair/index.js';
import { runChecks } from '../checks/run.js';
import { severityRank, type Finding } from '../checks/types.js';
import { diffSnapshots } from '../model/diff.js';
import type { Snapshot } from '../model/types.js';
import { renderCheckDoc, renderCheckIndex, type CheckDocExample } from '../report/check-docs.js';

function sampleDirs(samples: string): string[] {
  return fs
    .readdirSync(samples, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'scenarios')
    .map((d) => d.name)
    .sort();
}

/** The most telling finding of one check: the most severe, first in report order. */
function pick(list: Finding[]): Finding | undefined {
  return [...list].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0];
}

export function checkDocs(repo: string): Map<string, string> {
  const samples = path.join(repo, 'samples');
  const names = sampleDirs(samples);
  const loaded = new Map<string, Snapshot>();
  const load = (name: string): Snapshot | undefined => {
    if (!loaded.has(name)) {
      try {
        loaded.set(name, loadCapture(path.join(samples, name)));
      } catch {
        return undefined;
      }
    }
    return loaded.get(name);
  };
  const examples = new Map<string, CheckDocExample>();
  for (const name of names) {
    const s = load(name);
    if (!s) continue;
    const found = runChecks(s).filter((f) => f.evidence.missing === undefined);
    for (const c of checks) {
      if (examples.has(c.meta.id)) continue;
      const f = pick(found.filter((x) => x.check === c.meta.id));
      if (f) examples.set(c.meta.id, { capture: `samples/${name}`, command: `dmarsift analyze samples/${name} --format json`, finding: f });
    }
  }
  for (const name of names.filter((n) => n.endsWith('-before'))) {
    const base = name.slice(0, -'-before'.length);
    if (!names.includes(`${base}-after`)) continue;
    const a = load(name);
    const b = load(`${base}-after`);
    if (!a || !b) continue;
    const d = diffSnapshots(a, b);
    for (const c of pairChecks) {
      if (examples.has(c.meta.id)) continue;
      const f = pick(c.run(a, b, d));
      if (f) examples.set(c.meta.id, { capture: `samples/${base}-*`, command: `dmarsift diff samples/${name} samples/${base}-after --format json`, finding: f });
    }
  }
  const pages = new Map<string, string>();
  for (const { meta, scope } of catalog) pages.set(`${meta.id}.md`, renderCheckDoc(meta, scope, examples.get(meta.id)));
  pages.set('README.md', renderCheckIndex(catalog));
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
