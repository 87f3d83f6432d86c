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
      'Each line: the sample, what it shows, and what `dmarsift analyze` must report.',
      '',
    ];
    for (const s of scenarios) {
      const must = s.expect.length ? [...new Set(s.expect.map(([c]) => `\`${c}\``))].join(', ') : 'nothing at warning or above';
      lines.push(`- \`${s.name}/\` — ${s.summary} Must report: ${must}.`);
    }
    fs.writeFileSync(path.join(samplesDir, 'README.md'), lines.join('\n') + '\n');
  }
  return scenarios;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples');
  const done = generateAll(root, process.argv.slice(2));
  process.stdout.write(`generated ${done.length} samples in ${root}\n`);
}
