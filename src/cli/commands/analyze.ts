import { checks } from '../../checks/index.js';
import { nothingCheckable, unmetRequirements } from '../../checks/run.js';
import { severityRank, type Finding, type Severity } from '../../checks/types.js';
import { UsageError } from '../../errors.js';
import type { AnalyzeReportInput } from '../../report/format.js';
import { renderReport } from '../../report/render.js';
import { baselineFor } from '../../triage/baseline.js';
import { counts, suppressionProblem, suppressionStatuses } from '../../triage/suppressions.js';
import { triage } from '../../triage/triage.js';
import { analyzeRun, writeReports, type AnalyzeRun } from '../analyze-settings.js';
import { REPEATABLE_CAPTURE_OPTIONS } from '../capture-options.js';
import { loadFromArgv, showPathFor, useColor } from '../common.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { mark } from '../timing.js';
import { outputWidth } from '../width.js';

export type FailOn = Severity | 'none';

/** True when a finding reaches the --fail-on threshold (the exit code and JUnit failures agree). */
export function reachesThreshold(findings: readonly Finding[], failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  const floor = severityRank(failOn);
  return findings.some((f) => severityRank(f.severity) >= floor);
}

/** Options that name one capture's parts: meaningless for several captures. */
const PART_OPTIONS = ['dmar', 'memory', 'base', ...REPEATABLE_CAPTURE_OPTIONS] as const;

export async function run(argv: Record<string, unknown>): Promise<number> {
  const captures = (Array.isArray(argv.capture) ? argv.capture : [argv.capture]).map(String);
  const settings = analyzeRun(argv);
  if (captures.length === 1 && argv.recursive !== true) return analyzeOne({ ...argv, capture: captures[0] }, settings);
  const given = PART_OPTIONS.filter((o) => argv[o] !== undefined);
  if (given.length > 0) {
    throw new UsageError(`${given.map((o) => `--${o}`).join(', ')} name${given.length === 1 ? 's' : ''} the parts of one capture: analyze the captures one at a time to use ${given.length === 1 ? 'it' : 'them'}`);
  }
  return (await import('../../fleet/run.js')).runFleet(argv, captures, settings);
}

async function analyzeOne(argv: Record<string, unknown>, run: AnalyzeRun): Promise<number> {
  const snapshot = loadFromArgv(argv);
  const base = run.baseline !== undefined ? baselineFor(run.baseline, String(argv.capture), true) : undefined;
  const result = triage(snapshot, run.triage, base);
  mark('checks run');
  const suppressions = suppressionStatuses(run.triage.suppressions ?? [], result.suppressionMatches, run.triage.today);
  const input: AnalyzeReportInput = {
    snapshot, findings: result.findings, checks: checks.map((c) => c.meta), ran: result.selected.map((c) => c.meta.id), statuses: result.statuses,
    showPath: showPathFor(argv, snapshot),
    ...(run.baseline !== undefined ? { baseline: { file: run.baseline.file, absent: result.absent ?? [] } } : {}),
    ...(suppressions.length > 0 ? { suppressions } : {}),
  };
  // Colour and width only when the table asks: looking whether the output is a terminal can make
  // process.stdout, which a JSON report never needs (cli/terminal.ts).
  await writeReports(run, (format, out) => renderReport(format, input, {
    failOn: run.failOn,
    ...(run.docsUri !== undefined ? { docsUri: run.docsUri } : {}),
    get color() {
      return useColor(argv, out);
    },
    get width() {
      return outputWidth(out);
    },
  }));
  mark('written');
  // Suppressions to clean up are said on stderr too: a CI log shows them without opening a report.
  if (argv.quiet !== true) for (const st of suppressions) {
    const p = suppressionProblem(st);
    if (p !== undefined) process.stderr.write(`dmarsift: warning: ${p}\n`);
  }
  // A CI gate must not pass on a capture nothing could examine, nor on one that lacks a part it
  // demands: the report is written (it says what was not checked), then exit 2 with one line.
  const unmet = unmetRequirements(snapshot, run.required);
  const nothing = nothingCheckable(snapshot, result, result.selected);
  if (unmet.length > 0 || nothing !== undefined) {
    process.stderr.write(`dmarsift: ${[...unmet, ...(nothing !== undefined ? [nothing] : [])].join('\ndmarsift: ')}\n`);
    return EXIT_ERROR;
  }
  return reachesThreshold(result.findings.filter(counts), run.failOn) ? EXIT_FINDINGS : EXIT_OK;
}
