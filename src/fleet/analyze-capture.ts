/**
 * One capture of a fleet, analysed where it is (a worker thread, or this thread with `--jobs 1`):
 * load, triage (src/triage/triage.ts, as a single `analyze` run does), and render its part of each
 * report the run writes, so only small results travel back — the snapshot itself only for the
 * HTML report, which draws it. Nothing escapes: a capture that cannot be read, or a bug met on
 * it, is that capture's row with the error.
 */
import { loadCapture } from '../capture/load.js';
import type { CaptureOptions } from '../capture/options.js';
import { checks } from '../checks/index.js';
import { nothingCheckable, unmetRequirements, type RequirableKind } from '../checks/run.js';
import { severityRank, type Severity } from '../checks/types.js';
import { pathNamer, namedAsGiven } from '../cli/paths.js';
import type { OutputFormat } from '../config/config.js';
import { InputError, UsageError } from '../errors.js';
import { roles } from '../model/roles.js';
import { findingsToJson } from '../report/findings-json.js';
import { activeFindings, countBySeverity, sortFindings, type AnalyzeReportInput } from '../report/format.js';
import type { FleetCapture, FleetRow } from '../report/fleet.js';
import { baselineFor, type Baseline } from '../triage/baseline.js';
import { counts } from '../triage/suppressions.js';
import { triage, type TriageSettings } from '../triage/triage.js';
import type { FleetTarget } from './discover.js';
import { junitSuite } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { absentAsFinding } from '../report/render.js';
import { findingsToSarifRun } from '../report/sarif.js';

/** What every capture of a run is analysed with (plain data: given once to each worker). */
export interface FleetContext {
  triage: TriageSettings;
  baseline?: Baseline;
  /** The run has one capture: a one-capture baseline pairs with it whatever its label. */
  alone: boolean;
  failOn: Severity | 'none';
  required: RequirableKind[];
  docsUri?: string;
  /** The formats the run writes: each capture renders its part of these. */
  formats: OutputFormat[];
  /** `--only` / `--ignore`: the part kinds read from every capture. */
  load: Pick<CaptureOptions, 'only' | 'ignore'>;
}

export interface CaptureResult extends FleetCapture {
  /** Per suppression of the context: findings it matched here. */
  suppressionMatches: number[];
}

function errorText(e: unknown, target: FleetTarget): string {
  const named = namedAsGiven(e, pathNamer(target.path));
  if (named instanceof InputError) return named.format();
  if (named instanceof UsageError) return named.message;
  const err = named as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.path === 'string') return `${err.path}: ${err.code}`;
  return `internal error: ${err && typeof err.message === 'string' ? err.message : String(named)} (please report it)`;
}

/** The row of a capture that could not be read. */
export function failedCapture(target: FleetTarget, error: string, ctx: Pick<FleetContext, 'triage'>): CaptureResult {
  const row: FleetRow = {
    label: target.label, path: target.path, status: 'not-analysed', error, units: 0, assignedDevices: 0,
    findings: { critical: 0, error: 0, warning: 0, info: 0 }, suppressed: 0, worstCheck: null,
  };
  return { row, counted: [], suppressionMatches: (ctx.triage.suppressions ?? []).map(() => 0) };
}

export async function analyzeCapture(target: FleetTarget, ctx: FleetContext): Promise<CaptureResult> {
  try {
    return await analyzeOrThrow(target, ctx);
  } catch (e) {
    return failedCapture(target, errorText(e, target), ctx);
  }
}

async function analyzeOrThrow(target: FleetTarget, ctx: FleetContext): Promise<CaptureResult> {
  const snapshot = loadCapture(target.path, ctx.load);
  const base = ctx.baseline !== undefined ? baselineFor(ctx.baseline, target.label, ctx.alone) : undefined;
  const result = triage(snapshot, ctx.triage, base);
  const active = activeFindings(result.findings);
  const threshold = ctx.failOn === 'none' ? Infinity : severityRank(ctx.failOn);
  const counted = sortFindings(result.findings.filter((f) => counts(f) && severityRank(f.severity) >= threshold));
  const problems = [...unmetRequirements(snapshot, ctx.required), ...[nothingCheckable(snapshot, result, result.selected)].filter((x): x is string => x !== undefined)];
  const error = problems.length > 0 ? problems.join('; ') : null;
  const row: FleetRow = {
    label: target.label,
    path: target.path,
    status: counted.length > 0 ? 'failing' : error !== null ? 'not-analysed' : 'ok',
    error,
    units: snapshot.units.length,
    assignedDevices: roles(snapshot).assigned.size,
    findings: countBySeverity(active),
    suppressed: result.findings.length - active.length,
    worstCheck: sortFindings(active)[0]?.check ?? null,
  };
  const namer = pathNamer(target.path);
  const parts = new Set(snapshot.capture.parts.map((p) => p.path));
  const input: AnalyzeReportInput = {
    snapshot, findings: result.findings, checks: checks.map((c) => c.meta), ran: result.selected.map((c) => c.meta.id), statuses: result.statuses,
    showPath: (p) => (parts.has(p) ? namer.part(p) : p),
    label: target.label,
    ...(ctx.baseline !== undefined ? { baseline: { file: ctx.baseline.file, absent: result.absent ?? [] } } : {}),
  };
  const out: CaptureResult = {
    row,
    counted: counted.map((f) => ({ check: f.check, severity: f.severity, message: f.message, ...(f.bdf !== undefined ? { bdf: f.bdf } : {}), ...(f.unit !== undefined ? { unit: f.unit } : {}), ...(f.vm !== undefined ? { vm: f.vm } : {}) })),
    suppressionMatches: result.suppressionMatches,
  };
  if (ctx.baseline !== undefined) {
    const fresh = result.findings.filter((f) => f.baselineState === 'new').length;
    out.baseline = { new: fresh, unchanged: result.findings.length - fresh, absent: result.absent ?? [] };
  }
  const docs = ctx.docsUri !== undefined ? { docsBaseUri: ctx.docsUri } : {};
  for (const format of new Set(ctx.formats)) {
    switch (format) {
      case 'json':
        out.json = findingsToJson(input);
        break;
      case 'sarif':
        out.sarifRun = findingsToSarifRun(input, docs);
        break;
      case 'junit':
        out.junit = junitSuite(input, { failOn: ctx.failOn }, target.label);
        break;
      case 'markdown':
        out.markdown = renderMarkdown(input, docs);
        break;
      case 'html': {
        // The page draws the capture's model: it travels back whole, without what holds functions
        // (the path namer; the checks' metadata, whose messages are functions: the receiver has its own).
        const { showPath: _show, checks: _checks, ...plain } = input;
        out.html = { ...plain, ...(input.baseline !== undefined ? { absent: input.baseline.absent.map(absentAsFinding) } : {}) };
        break;
      }
      case 'table':
        break; // the fleet table is made of the rows
    }
  }
  return out;
}
