/**
 * `npm run samples`: regenerates every samples/<name>/ capture from samples/scenarios/<name>.json
 * and the index samples/README.md. Output is deterministic (seeded by the scenario name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture } from './generate.js';
import type { Scenario } from './scenario.js';

export function loadScenarios(samplesDir: string): Scenario[] {
  const dir = path.join(samplesDir, 'scenarios');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Scenario);
}

export function generateAll(samplesDir: string, only?: string[]): Scenario[] {
  const scenarios = loadScenarios(samplesDir).filter((s) => !only?.length || only.includes(s.name));
  for (const s of scenarios) generateCapture(s, path.join(samplesDir, s.name));
  if (!only?.length) {
    const lines = [
      '# Samples',
      '',
      'Captures generated from the declarative descriptions in `scenarios/` (`npm run samples` rewrites them).',
      'Each line: the sample, what it shows, and what `dmarsift analyze` must report at warning or above',
      '(for the after half of a before/after pair, also what `dmarsift diff` must report). `test/samples/` checks every line.',
      '',
    ];
    for (const s of scenarios) {
      let line = `- \`${s.name}/\` — ${s.summary} \`analyze\` must report: ${mustReport(s.expect)}.`;
      if (s.diff) line += ` \`diff ${s.diff.before} ${s.name}\` must report: ${mustReport(s.diff.expect)}.`;
      lines.push(line);
    }
    fs.writeFileSync(path.join(samplesDir, 'README.md'), lines.join('\n') + '\n');
  }
  return scenarios;
}

/** "`stale-context` on 0000:03:01.1, `dmar-integrity`", or "nothing at warning or above". */
function mustReport(expect: [string, string | null][]): string {
  return expect.length ? expect.map(([c, b]) => `\`${c}\`${b ? ` on ${b}` : ''}`).join(', ') : 'nothing at warning or above';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples');
  const done = generateAll(root, process.argv.slice(2));
  process.stdout.write(`generated ${done.length} samples in ${root}\n`);
}
