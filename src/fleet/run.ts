/**
 * `dmarsift analyze CAPTURE…` with several captures (or `--recursive`): find the captures, analyse
 * them in parallel (pool.ts) with a progress line across them (on a TTY, not with --quiet), and
 * write the fleet's reports (src/report/fleet.ts). Exit 1 when any capture has a finding that
 * counts at or above --fail-on, else 2 when any capture could not be analysed, else 0.
 */
import { availableParallelism } from 'node:os';
import type { AnalyzeRun } from '../cli/analyze-settings.js';
import { writeReports } from '../cli/analyze-settings.js';
import { captureOptionsFrom } from '../cli/capture-options.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../cli/errors.js';
import { stderrProgress } from '../cli/progress.js';
import { mark } from '../cli/timing.js';
import { outputWidth } from '../cli/width.js';
import type { OutputFormat } from '../config/config.js';
import { UsageError } from '../errors.js';
import {
  fleetSummary, fleetSummaryLine, fleetSuppressionProblems, fleetToJson, fleetToSarif, jsonChunks, renderFleetMarkdown, renderFleetTable, type FleetReport,
} from '../report/fleet.js';
import type { Baseline } from '../triage/baseline.js';
import { suppressionStatuses } from '../triage/suppressions.js';
import type { FleetContext } from './analyze-capture.js';
import { findCaptures, type FleetTarget } from './discover.js';
import { analyzeAll } from './pool.js';
import { checks } from '../checks/index.js';
import { junitDocument, junitErrorSuite } from '../report/junit.js';

/** Default --jobs: the cores, at most this many (each worker holds a capture's model). */
const MAX_DEFAULT_JOBS = 8;

/**
 * `--jobs`, or by default the cores (at most 8) — but on two cores or fewer, this thread alone:
 * a worker pays its own start and warm-up and its results cross threads, and on a two-core
 * machine two workers analysed 1,000 small captures slower than one thread did (README).
 */
export function jobsOption(v: unknown, cores = availableParallelism()): number {
  if (v === undefined) return cores <= 2 ? 1 : Math.min(MAX_DEFAULT_JOBS, cores);
  const text = String(v);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 256) throw new UsageError(`--jobs: expected a number of threads from 1 to 256, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Labels of the baseline's captures that no capture of this run pairs with (a host gone from the fleet). */
function notInRun(b: Baseline, captures: readonly FleetTarget[]): string[] {
  if (captures.length === 1 && b.captures.length === 1) return []; // paired whatever their labels
  const labels = new Set(captures.map((c) => c.label));
  return [...new Set(b.captures.map((c) => c.key).filter((k) => !labels.has(k)))];
}

/** The part-kind filters every capture is read with (other capture options name one capture's parts: refused). */
function loadOptions(argv: Record<string, unknown>): FleetContext['load'] {
  const { only, ignore } = captureOptionsFrom(argv);
  return { ...(only !== undefined ? { only } : {}), ...(ignore !== undefined ? { ignore } : {}) };
}

async function renderFleet(format: OutputFormat, report: FleetReport, width: number, docsUri: string | undefined): Promise<string | string[]> {
  switch (format) {
    case 'table':
      return renderFleetTable(report, { width });
    case 'json':
      return jsonChunks(fleetToJson(report), 'captures');
    case 'sarif':
      return jsonChunks(fleetToSarif(report), 'runs');
    case 'markdown':
      return renderFleetMarkdown(report);
    case 'junit': {
      return junitDocument(report.captures.map((c) => c.junit ?? junitErrorSuite(c.row.label, c.row.path, c.row.error ?? 'not analysed')));
    }
    case 'html': {
      const { renderHtmlFleet } = await import('../report/html/html.js');
      const metas = checks.map((c) => c.meta);
      const entries = report.captures.map((c) => (c.html !== undefined ? { label: c.row.label, input: { ...c.html, checks: metas }, ...(c.row.error !== null ? { error: c.row.error } : {}) } : { label: c.row.label, error: c.row.error ?? 'not analysed' }));
      return renderHtmlFleet(entries, docsUri !== undefined ? { docsBaseUri: docsUri } : {});
    }
  }
}

export async function runFleet(argv: Record<string, unknown>, paths: string[], run: AnalyzeRun): Promise<number> {
  const jobs = jobsOption(argv.jobs);
  const { captures, skipped } = findCaptures(paths, argv.recursive === true);
  if (captures.length === 0) {
    throw new UsageError(`no capture found in ${paths.join(', ')}${skipped.length > 0 ? ` (searched, not captures: ${skipped.map((s) => s.path).join(', ')})` : ''}`);
  }
  mark('captures found');
  const ctx: FleetContext = {
    triage: run.triage, alone: captures.length === 1, failOn: run.failOn, required: run.required,
    formats: [run.stdout.format, ...run.outputs.map((o) => o.format)],
    load: loadOptions(argv),
    ...(run.baseline !== undefined ? { baseline: run.baseline } : {}),
    ...(run.docsUri !== undefined ? { docsUri: run.docsUri } : {}),
  };
  const progress = stderrProgress(argv);
  let failing = 0;
  let failed = 0;
  const results = await analyzeAll(captures, ctx, jobs, (done, r) => {
    if (r.row.status === 'failing') failing++;
    if (r.row.error !== null) failed++;
    progress.update(`dmarsift: ${done}/${captures.length} captures analysed — ${failing} with findings at or above ${run.failOn}, ${failed} not analysed`);
  }).finally(() => progress.done());
  mark('captures analysed');

  const matched = (run.triage.suppressions ?? []).map((_, i) => results.reduce((n, r) => n + (r.suppressionMatches[i] ?? 0), 0));
  const report: FleetReport = {
    failOn: run.failOn, captures: results, skipped,
    suppressions: suppressionStatuses(run.triage.suppressions ?? [], matched, run.triage.today),
    ...(run.baseline !== undefined ? { baseline: { file: run.baseline.file, notInRun: notInRun(run.baseline, captures) } } : {}),
  };
  await writeReports(run, (format, out) => renderFleet(format, report, outputWidth(out), run.docsUri));
  mark('written');
  // A table on standard output already ends with the suppressions to review and the summary line;
  // otherwise they go to stderr, for the CI log.
  if (argv.quiet !== true && (run.stdout.format !== 'table' || run.stdout.file !== undefined)) {
    for (const p of fleetSuppressionProblems(report)) process.stderr.write(`dmarsift: warning: ${p}\n`);
    process.stderr.write(`dmarsift: ${fleetSummaryLine(report)}\n`);
  }
  const s = fleetSummary(report);
  return s.failing > 0 ? EXIT_FINDINGS : s.notAnalysed > 0 ? EXIT_ERROR : EXIT_OK;
}
