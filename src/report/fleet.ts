/**
 * Reports of a fleet: many captures analysed in one run (src/fleet/). Each capture's part is made
 * by the single-capture reporters where the capture was analysed (in its worker thread), so here
 * they are only put together around a summary with one row per capture:
 *
 * - table: the summary rows (capture, units, assigned devices, findings by severity, worst check;
 *   an unreadable capture's row holds its error), the findings that count, then one summary line
 *   stating how many captures have a finding at or above --fail-on and how many could not be
 *   analysed;
 * - JSON (schema/analyze-fleet.schema.json): `captures[]` of single-capture reports plus the summary;
 * - SARIF: one run per capture (a capture that could not be analysed: a run whose invocation
 *   failed, with the error as a notification);
 * - JUnit: one `<testsuite>` per capture (an unreadable one: a test case in error);
 * - Markdown: the summary table, then each capture's report with its headings a level lower;
 * - HTML: renderHtmlFleet.
 */
import { SEVERITIES, type Severity } from '../checks/types.js';
import type { BaselineFinding } from '../triage/baseline.js';
import type { SuppressionStatus } from '../triage/suppressions.js';
import { suppressionProblem } from '../triage/suppressions.js';
import { columns, findingSubject, plural, TOOL, wrapText, type ToolInfo } from './format.js';
import { suppressionToJson, type AnalyzeReportJson } from './findings-json.js';
import type { HtmlReportInput } from './html/html.js';
import type { JunitSuite } from './junit.js';
import { mdCode, mdEscape } from './markdown.js';
import { SARIF_SCHEMA_URI } from './sarif.js';

export const FLEET_SCHEMA_VERSION = 1;

/** One capture's line of the summary. */
export interface FleetRow {
  label: string;
  /** The capture's path as given (or found by --recursive). */
  path: string;
  /** `failing`: a finding that counts at or above --fail-on; `not-analysed`: an error and none. */
  status: 'ok' | 'failing' | 'not-analysed';
  /** Why it could not be analysed (unreadable; nothing checkable; a --require not met). */
  error: string | null;
  units: number;
  assignedDevices: number;
  /** Findings by severity, suppressed ones left out. */
  findings: Record<Severity, number>;
  suppressed: number;
  /** The check of the most severe finding (not suppressed). */
  worstCheck: string | null;
}

/** A finding that counts for --fail-on, as the table lists it. */
export interface CountedFinding {
  check: string;
  severity: Severity;
  message: string;
  bdf?: string;
  unit?: string;
  vm?: string;
}

/** What each capture contributes to the fleet's reports (the formats the run writes). */
export interface FleetCapture {
  row: FleetRow;
  counted: CountedFinding[];
  baseline?: { new: number; unchanged: number; absent: BaselineFinding[] };
  json?: AnalyzeReportJson | FleetErrorJson;
  sarifRun?: Record<string, unknown>;
  junit?: JunitSuite;
  markdown?: string;
  /** The HTML page's input without the checks' metadata (functions do not cross threads; the page adds its own). */
  html?: Omit<HtmlReportInput, 'checks'>;
}

/** A capture that could not be read, in the fleet JSON. */
export interface FleetErrorJson {
  label: string;
  capture: { path: string };
  error: string;
}

export interface FleetReport {
  tool?: ToolInfo;
  failOn: Severity | 'none';
  captures: FleetCapture[];
  /** Directories --recursive passed over, with why. */
  skipped: { path: string; reason: string }[];
  suppressions: SuppressionStatus[];
  /** With --baseline: its file, and the labels of its captures this run has none of. */
  baseline?: { file: string; notInRun: string[] };
}

export interface FleetSummary {
  captures: number;
  /** Captures with a finding that counts at or above --fail-on. */
  failing: number;
  /** Captures that could not be analysed (unreadable, nothing checkable, a requirement not met). */
  notAnalysed: number;
  findings: Record<Severity, number>;
  suppressed: number;
}

export function fleetSummary(r: FleetReport): FleetSummary {
  const findings: Record<Severity, number> = { critical: 0, error: 0, warning: 0, info: 0 };
  let suppressed = 0;
  for (const c of r.captures) {
    for (const s of SEVERITIES) findings[s] += c.row.findings[s];
    suppressed += c.row.suppressed;
  }
  return {
    captures: r.captures.length,
    failing: r.captures.filter((c) => c.row.status === 'failing').length,
    notAnalysed: r.captures.filter((c) => c.row.error !== null).length,
    findings,
    suppressed,
  };
}

/** "36 captures: 14 with a finding at or above error, 1 could not be analysed." */
export function fleetSummaryLine(r: FleetReport): string {
  const s = fleetSummary(r);
  const at = r.failOn === 'none' ? 'counting (--fail-on none)' : `at or above ${r.failOn}`;
  return `${plural(s.captures, 'capture')}: ${s.failing} with a finding ${at}, ${s.notAnalysed} could not be analysed.`;
}

/** Suppressions to clean up (matched nothing anywhere, or expired), one line each. */
export function fleetSuppressionProblems(r: FleetReport): string[] {
  return r.suppressions.map(suppressionProblem).filter((x): x is string => x !== undefined);
}

/** The baseline's counts over the fleet: findings new and unchanged, and the baseline's findings gone. */
export function fleetBaselineCounts(r: FleetReport): { new: number; unchanged: number; absent: number } {
  const sum = (get: (b: NonNullable<FleetCapture['baseline']>) => number): number => r.captures.reduce((n, c) => n + (c.baseline !== undefined ? get(c.baseline) : 0), 0);
  return { new: sum((b) => b.new), unchanged: sum((b) => b.unchanged), absent: sum((b) => b.absent.length) };
}

/** "Baseline old.json: 1 new, 69 unchanged, 2 absent; captures it has that this run has not: host9." */
export function fleetBaselineLine(r: FleetReport): string | undefined {
  if (r.baseline === undefined) return undefined;
  const b = fleetBaselineCounts(r);
  const gone = r.baseline.notInRun.length > 0 ? `; captures it has that this run has not: ${r.baseline.notInRun.join(', ')}` : '';
  return `Baseline ${r.baseline.file}: ${b.new} new, ${b.unchanged} unchanged, ${b.absent} absent${gone}.`;
}

// ------------------------------------------------------------------------------------ table

export function renderFleetTable(r: FleetReport, opts: { width?: number } = {}): string {
  const width = opts.width ?? 80;
  const head = ['capture', 'units', 'assigned', ...SEVERITIES, 'worst check'];
  // An error makes the table unreadable inline: the row says so, the errors follow the table.
  const rows = r.captures.map(({ row }) => row.units === 0 && row.worstCheck === null && row.error !== null
    ? [row.label, '-', '-', ...SEVERITIES.map(() => '-'), 'not analysed (below)']
    : [row.label, String(row.units), String(row.assignedDevices), ...SEVERITIES.map((s) => String(row.findings[s])), (row.worstCheck ?? '-') + (row.error !== null ? ' (not analysed: below)' : '')]);
  const out = columns([head, ...rows], { right: [1, 2, 3, 4, 5, 6] });
  const errors = r.captures.filter((c) => c.row.error !== null);
  if (errors.length > 0) {
    out.push('', 'Not analysed:');
    for (const c of errors) out.push(...wrapText(`${c.row.label}: ${c.row.error}`, width - 2).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`)));
  }
  const counted = r.captures.filter((c) => c.counted.length > 0);
  if (counted.length > 0) {
    out.push('', `Findings ${r.failOn === 'none' ? 'that count' : `at or above ${r.failOn}`}${r.baseline !== undefined ? ', new since the baseline' : ''}, not suppressed:`);
    for (const c of counted) {
      for (const f of c.counted) {
        const where = [f.bdf, f.unit !== undefined ? `unit ${f.unit}` : undefined, f.vm !== undefined ? `VM ${f.vm}` : undefined].filter(Boolean).join(' ');
        out.push(...wrapText(`${c.row.label}: ${f.severity} ${f.check}${where ? ` ${where}` : ''}: ${f.message}`, width).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`)));
      }
    }
  }
  const absent = r.captures.flatMap((c) => (c.baseline?.absent ?? []).map((f) => ({ label: c.row.label, f })));
  if (absent.length > 0) {
    out.push('', 'Absent (in the baseline, gone now):');
    for (const { label, f } of absent) out.push(...wrapText(`${label}: ${f.severity} ${findingSubject(f)}: ${f.message}`, width - 2).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`)));
  }
  if (r.skipped.length > 0) out.push('', ...wrapText(`Not captures (skipped): ${r.skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}.`, width));
  for (const p of fleetSuppressionProblems(r)) out.push(...wrapText(`Warning: ${p}.`, width));
  const baseline = fleetBaselineLine(r);
  if (baseline !== undefined) out.push(...wrapText(baseline, width));
  const s = fleetSummary(r);
  out.push('', ...wrapText(`${fleetSummaryLine(r)} Findings: ${SEVERITIES.map((x) => `${s.findings[x]} ${x}`).join(', ')}${s.suppressed > 0 ? `; ${s.suppressed} suppressed` : ''}.`, width));
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------- JSON

/**
 * `JSON.stringify(doc, null, 2) + '\n'` in pieces: the elements of `doc[key]` (an array) each one
 * piece. A fleet's SARIF holds every check's description once per capture (95 MB for 1,000), and
 * one string of it all would pass V8's longest string (~512 MiB) at a few thousand captures.
 */
export function jsonChunks(doc: Record<string, unknown>, key: string): string[] {
  const list = doc[key];
  if (!Array.isArray(list) || list.length === 0) return [JSON.stringify(doc, null, 2) + '\n'];
  const placeholder = '\u0000fleet-elements\u0000';
  const whole = JSON.stringify({ ...doc, [key]: placeholder }, null, 2);
  const at = whole.indexOf(JSON.stringify(placeholder));
  const indent = whole.slice(whole.lastIndexOf('\n', at) + 1, at).match(/^ */)![0];
  const inner = `${indent}  `;
  const out = [whole.slice(0, at) + '[\n'];
  list.forEach((item, i) => {
    out.push(inner + JSON.stringify(item, null, 2).replace(/\n/g, `\n${inner}`) + (i < list.length - 1 ? ',\n' : '\n'));
  });
  out.push(`${indent}]` + whole.slice(at + JSON.stringify(placeholder).length) + '\n');
  return out;
}

export function fleetToJson(r: FleetReport): Record<string, unknown> {
  const tool = r.tool ?? TOOL;
  const s = fleetSummary(r);
  const out: Record<string, unknown> = {
    schemaVersion: FLEET_SCHEMA_VERSION,
    kind: 'fleet',
    tool: { name: tool.name, version: tool.version },
    failOn: r.failOn,
    summary: { ...s, rows: r.captures.map((c) => c.row), skipped: r.skipped },
    captures: r.captures.map((c) => c.json ?? { label: c.row.label, capture: { path: c.row.path }, error: c.row.error ?? 'not analysed' }),
  };
  if (r.baseline !== undefined) {
    out.baseline = { file: r.baseline.file, ...fleetBaselineCounts(r), capturesNotInRun: r.baseline.notInRun };
  }
  if (r.suppressions.length > 0) out.suppressions = r.suppressions.map(suppressionToJson);
  return out;
}

// ------------------------------------------------------------------------------------ SARIF

/** A capture that could not be analysed, as a run whose invocation failed. */
export function sarifErrorRun(row: FleetRow, tool: ToolInfo = TOOL): Record<string, unknown> {
  return {
    automationDetails: { id: `dmarsift/${row.label}/` },
    tool: { driver: { name: tool.name, version: tool.version, rules: [] } },
    invocations: [{ executionSuccessful: false, toolExecutionNotifications: [{ level: 'error', message: { text: `${row.path}: ${row.error ?? 'not analysed'}` } }] }],
    results: [],
    properties: { capture: row.path, label: row.label, error: row.error },
  };
}

type SarifInvocation = { executionSuccessful?: boolean; toolExecutionNotifications?: unknown[] };

/**
 * A capture read but not analysed (nothing checkable, a required part missing): its run stays, and
 * its invocation says it did not succeed, with why — as the summary counts it.
 */
function withRowError(run: Record<string, unknown>, row: FleetRow): Record<string, unknown> {
  if (row.error === null) return run;
  const [first, ...rest] = (run.invocations as SarifInvocation[] | undefined) ?? [{}];
  const inv: SarifInvocation = { ...first, executionSuccessful: false, toolExecutionNotifications: [...(first.toolExecutionNotifications ?? []), { level: 'error', message: { text: `${row.path}: ${row.error}` } }] };
  return { ...run, invocations: [inv, ...rest] };
}

export function fleetToSarif(r: FleetReport): Record<string, unknown> {
  const runs = r.captures.map((c) => (c.sarifRun !== undefined ? withRowError(c.sarifRun, c.row) : sarifErrorRun(c.row, r.tool)));
  const problems = fleetSuppressionProblems(r);
  // Suppressions belong to the whole run: their problems go to the first run's notifications.
  if (problems.length > 0 && runs.length > 0) {
    const inv = (runs[0].invocations as SarifInvocation[] | undefined)?.[0];
    if (inv !== undefined) inv.toolExecutionNotifications = [...(inv.toolExecutionNotifications ?? []), ...problems.map((text) => ({ level: 'warning', message: { text } }))];
  }
  return { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs };
}

// ----------------------------------------------------------------------------------- Markdown

export function renderFleetMarkdown(r: FleetReport): string {
  const tool = r.tool ?? TOOL;
  const out: string[] = ['## dmarsift fleet report', '', `- Tool: ${tool.name} ${tool.version}`, `- ${mdEscape(fleetSummaryLine(r))}`];
  const baseline = fleetBaselineLine(r);
  if (baseline !== undefined) out.push(`- ${mdEscape(baseline)}`);
  out.push('', '| capture | units | assigned devices | ' + SEVERITIES.join(' | ') + ' | worst check |', '|---|---:|---:|' + SEVERITIES.map(() => '---:|').join('') + '---|');
  const cell = (t: string): string => mdEscape(t).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const { row } of r.captures) {
    const worst = row.worstCheck !== null ? mdCode(row.worstCheck) : '—';
    out.push(`| ${mdCode(row.label)} | ${row.units} | ${row.assignedDevices} | ${SEVERITIES.map((s) => row.findings[s]).join(' | ')} | ${row.error !== null ? `${worst} (not analysed: ${cell(row.error)})` : worst} |`);
  }
  out.push('');
  if (r.skipped.length > 0) out.push(`Not captures (skipped): ${r.skipped.map((s) => `${mdCode(s.path)} (${mdEscape(s.reason)})`).join(', ')}`, '');
  const problems = fleetSuppressionProblems(r);
  if (problems.length > 0) out.push('### Suppressions to review', '', ...problems.map((p) => `- ${mdEscape(p)}`), '');
  for (const c of r.captures) {
    out.push(`## Capture ${mdCode(c.row.label)}`, '');
    if (c.markdown === undefined) {
      out.push(`Not analysed: ${mdEscape(c.row.error ?? 'unknown error')}`, '');
      continue;
    }
    // The capture's report below the fleet's headings: `## dmarsift report` becomes this section.
    out.push(c.markdown.replace(/^## dmarsift report\n/, '').replace(/^(#{2,5}) /gm, '#$1 '), '');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '') + '\n';
}
