/**
 * What one `analyze` run is told, from its command line and the configuration (dmarsift.config.json
 * or `--config`): the command line wins over the environment, which wins over the configuration.
 * Plain data once resolved, so the fleet's worker threads can be given it.
 */
import { pairChecks } from '../checks/pair/index.js';
import { REQUIRABLE_KINDS, type RequirableKind } from '../checks/run.js';
import { configPath, loadConfig, OUTPUT_FORMATS, type Config, type FailOn, type OutputFormat } from '../config/config.js';
import { UsageError } from '../errors.js';
import { readBaseline, type Baseline } from '../triage/baseline.js';
import { utcDay } from '../triage/suppressions.js';
import { settingsFrom, type TriageSettings } from '../triage/triage.js';
import { withOutput } from './common.js';
import { openOutput, type Output } from './output.js';
import { mark } from './timing.js';

/** `--check a,b --check c` → [a, b, c]. */
export function idList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** `--require registers,memory --require pci` → the part kinds, each one the contract names. */
export function requiredKinds(v: unknown): RequirableKind[] {
  const list = idList(v) ?? [];
  const bad = list.filter((k) => !(REQUIRABLE_KINDS as readonly string[]).includes(k));
  if (bad.length > 0) throw new UsageError(`--require: unknown part kind${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (kinds: ${REQUIRABLE_KINDS.join(', ')})`);
  return [...new Set(list)] as RequirableKind[];
}

export interface AnalyzeRun {
  config?: Config;
  failOn: FailOn;
  /** The report on standard output (or `-o FILE`). */
  stdout: { format: OutputFormat; file?: string };
  /** Further reports (`--output-format FORMAT=FILE`, else the configuration's `outputs`). */
  outputs: { format: OutputFormat; file: string }[];
  docsUri?: string;
  required: RequirableKind[];
  triage: TriageSettings;
  baseline?: Baseline;
}

/** An absolute http(s)/file URL for the repository root (docs/checks/<id>.md is resolved against it). */
export function docsBase(v: unknown, from = '--docs-uri'): string | undefined {
  if (v === undefined || v === '') return undefined;
  const text = String(v);
  try {
    return new URL(text.endsWith('/') ? text : text + '/').href;
  } catch {
    throw new UsageError(`${from}: not an absolute URL: ${text}`);
  }
}

/** `--output-format sarif=out.sarif --output-format junit=out.xml` → the list, checked. */
export function outputFormats(v: unknown): { format: OutputFormat; file: string }[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map((x) => {
    const text = String(x);
    const at = text.indexOf('=');
    const format = at < 0 ? text : text.slice(0, at);
    const file = at < 0 ? '' : text.slice(at + 1);
    if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--output-format ${text}: expected FORMAT=FILE, FORMAT one of ${OUTPUT_FORMATS.join(', ')}`);
    if (file === '' || file === '-') throw new UsageError(`--output-format ${text}: name a file after "=" (standard output takes --format)`);
    return { format: format as OutputFormat, file };
  });
}

/**
 * `--check` and `--skip` lists; a pair check asked for is no unknown check — it needs two
 * captures (skipping one is fine: analyze never runs it).
 */
function checkLists(argv: Record<string, unknown>): { only?: string[]; skip?: string[] } {
  const only = idList(argv.check);
  const skip = idList(argv.skip)?.filter((id) => !pairChecks.some((c) => c.meta.id === id));
  const pair = (only ?? []).filter((id) => pairChecks.some((c) => c.meta.id === id));
  if (pair.length > 0) {
    const them = pair.length === 1 ? `${pair[0]} compares two captures: it runs` : `${pair.join(', ')} compare two captures: they run`;
    throw new UsageError(`--check: ${them} under \`dmarsift diff BEFORE AFTER\`, not analyze`);
  }
  return { ...(only ? { only } : {}), ...(skip ? { skip } : {}) };
}

export function analyzeRun(argv: Record<string, unknown>, today = utcDay()): AnalyzeRun {
  const { only, skip } = checkLists(argv);
  const file = configPath(argv.config);
  const config = file !== undefined ? loadConfig(file) : undefined;
  const stdout = { format: String(argv.format ?? 'table') as OutputFormat, ...(typeof argv.output === 'string' ? { file: argv.output } : {}) };
  const outputs = outputFormats(argv['output-format']) ?? config?.outputs ?? [];
  const files = [...(stdout.file !== undefined && stdout.file !== '-' ? [stdout.file] : []), ...outputs.map((o) => o.file)];
  const twice = files.find((f, i) => files.indexOf(f) !== i);
  if (twice !== undefined) throw new UsageError(`${twice} is named for two reports: give each its own file`);
  const env = process.env.DMARSIFT_DOCS_URI;
  const docsUri = argv['docs-uri'] !== undefined ? docsBase(argv['docs-uri']) : env !== undefined && env !== '' ? docsBase(env, 'DMARSIFT_DOCS_URI') : docsBase(config?.docsUri, `${file}: docsUri`);
  const run: AnalyzeRun = {
    failOn: (argv['fail-on'] as FailOn | undefined) ?? config?.failOn ?? 'error',
    stdout,
    outputs,
    required: argv.require !== undefined ? requiredKinds(argv.require) : config?.require ?? [],
    triage: settingsFrom(config, only, skip, today),
  };
  if (config !== undefined) run.config = config;
  if (docsUri !== undefined) run.docsUri = docsUri;
  if (typeof argv.baseline === 'string') run.baseline = readBaseline(argv.baseline);
  return run;
}

/**
 * Write every report of a run — standard output's (or `-o`'s) first, then each `--output-format`
 * file — each committed only once its text is complete (src/cli/output.ts). `render` makes one
 * format's text for an output (the table reads its width and whether to colour from it).
 */
export async function writeReports(run: AnalyzeRun, render: (format: OutputFormat, out: Output) => Promise<string | string[]>): Promise<void> {
  for (const [i, target] of [run.stdout, ...run.outputs].entries()) {
    const out = openOutput(target.file);
    let text: string | string[];
    try {
      text = await render(target.format, out);
    } catch (e) {
      out.abort();
      throw e;
    }
    mark(i === 0 ? 'report rendered' : `${target.format} report rendered`);
    // A fleet's report comes in pieces (one string of it all could pass V8's longest string).
    const chunks = typeof text === 'string' ? [text] : text;
    withOutput(out, () => {
      for (const c of chunks) out.write(c);
      if (!chunks[chunks.length - 1]?.endsWith('\n')) out.write('\n');
    });
  }
}
