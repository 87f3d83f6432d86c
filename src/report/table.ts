/**
 * `analyze` default output: the findings (most severe first), then a summary line.
 *
 * Width: everything fits `width` columns (the terminal's, `COLUMNS`, or 80). When the message
 * column gets at least MIN_MESSAGE columns beside the severity, check id, BDF and unit/DID
 * columns (each as wide as its longest value, never cut), the findings are a table; otherwise —
 * a narrow terminal, a long check id — each finding is a line of those fields and its message
 * indented below it at nearly full width, so words are not chopped to fit a sliver of a column.
 * Messages are word-wrapped; a word longer than a line breaks after a `/`, `_`, `-` … (wrapText).
 *
 * Speed: cli-table3 measures every cell with string-width (which built ansi-regex's pattern anew
 * on every call; the bundle gives it our displayWidth, src/tools/bundle.ts), runs a debug
 * `truncate` over each cell's whole content for every line it draws — quadratic in a long
 * multi-line cell — and lays rows out in time quadratic in their number. 15 findings with wrapped
 * messages cost ~350 ms. So cli-table3 is handed one row of short cells per finding, and the
 * wrapped message is set beside them (tableLines).
 */
import Table from 'cli-table3';
import type { Finding } from '../checks/types.js';
import { counts as countsForFailOn, suppressionProblem } from '../triage/suppressions.js';
import {
  colorSeverity, countBySeverity, displayWidth, findingSubject, listedPerCheck, omittedLine, plural, severityCountsText, snapshotCounts, sortFindings, statusGroups, statusLine, wrapText,
  type AnalyzeReportInput,
} from './format.js';
import { pushAll } from '../util/arrays.js';

export interface FindingsTableOptions {
  /** ANSI colours by severity; the caller decides (TTY, --no-color, NO_COLOR). */
  color: boolean;
  /** Terminal width to fit; default 80. */
  width?: number;
}

/** Narrowest message column the table layout accepts; below it, one block per finding. */
const MIN_MESSAGE = 24;
/** Indent of a message under its finding in the block layout. */
const INDENT = '    ';
const HEAD = ['severity', 'check', 'BDF', 'unit/DID', 'message'];

const NO_BORDERS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
};

function unitDidLines(f: Finding): string[] {
  const lines: string[] = [];
  if (f.unit !== undefined) lines.push(f.unit);
  if (f.did !== undefined) lines.push(`DID ${f.did}`);
  return lines.length ? lines : ['-'];
}

function maxWidth(values: string[]): number {
  return values.reduce((m, v) => Math.max(m, displayWidth(v)), 0);
}

function messageOf(f: Finding): string {
  return f.message + (f.severityReason ? ` (${f.severityReason})` : '');
}

/**
 * The table. cli-table3 lays out the identifier columns — one row per finding, each cell one
 * line (unit/DID two short ones) — and the message column, wrapped by wrapText, is set beside
 * each finding's rows here: cli-table3 never sees a long multi-line cell.
 */
function tableLines(findings: Finding[], fixed: number[], gap: number, messageText: number, color: boolean): string[] {
  const rows: string[][] = [HEAD.slice(0, 4), fixed.map((w) => '─'.repeat(w))];
  const messages: string[][] = [[HEAD[4]], ['─'.repeat(messageText)]];
  const heights = [1, 1];
  for (const f of findings) {
    const unitDid = unitDidLines(f);
    rows.push([colorSeverity(f.severity, f.severity, color), f.check, f.bdf ?? '-', unitDid.join('\n')]);
    heights.push(unitDid.length);
    messages.push(wrapText(messageOf(f), messageText));
  }
  const drawn = drawRows(rows, fixed, gap);
  const blank = ' '.repeat(fixed.reduce((a, w) => a + w + gap, 0));
  const out: string[] = [];
  let at = 0;
  heights.forEach((h, row) => {
    const msg = messages[row];
    for (let i = 0; i < Math.max(h, msg.length); i++) out.push(((i < h ? drawn[at + i] : blank) + (msg[i] ?? '')).trimEnd());
    at += h;
  });
  return out;
}

/** Rows cli-table3 lays out at once: its layout compares each cell with every cell above it. */
const ROWS_PER_DRAW = 256;

/**
 * The identifier columns' lines. Borderless, compact and of fixed widths, each row is drawn on its
 * own lines, so rows are drawn in slices: cli-table3's layout is quadratic in the rows of one
 * table (5 600 findings took 1.3 s; 65 000 would take minutes).
 */
function drawRows(rows: string[][], fixed: number[], gap: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_DRAW) {
    const table = new Table({
      chars: NO_BORDERS,
      colWidths: fixed.map((w) => w + gap),
      wordWrap: false, // every cell fits its column already
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': gap, compact: true },
    });
    table.push(...rows.slice(i, i + ROWS_PER_DRAW));
    pushAll(out, table.toString().split('\n'));
  }
  return out;
}

/** Narrow: the fields on one line (wrapped between fields, never inside one), the message below. */
function blockLines(findings: Finding[], width: number, color: boolean): string[] {
  const sevWidth = maxWidth(findings.map((f) => f.severity));
  const out: string[] = [];
  findings.forEach((f, i) => {
    if (i > 0) out.push('');
    const fields = [f.check, f.bdf, f.unit, f.did !== undefined ? `DID ${f.did}` : undefined].filter((x): x is string => x !== undefined);
    let line = colorSeverity(f.severity, f.severity, color) + ' '.repeat(sevWidth - displayWidth(f.severity));
    let lineW = sevWidth;
    for (const field of fields) {
      const w = displayWidth(field);
      if (lineW + 2 + w > width && lineW > INDENT.length) {
        out.push(line);
        line = INDENT + field;
        lineW = INDENT.length + w;
      } else {
        line += '  ' + field;
        lineW += 2 + w;
      }
    }
    out.push(line);
    for (const m of wrapText(messageOf(f), Math.max(1, width - INDENT.length))) out.push(INDENT + m);
  });
  return out;
}

/**
 * What the table leaves out of its rows, in lines after the summary: suppressed findings with their
 * reasons, how many are unchanged since the baseline and which are absent, suppressions to review.
 */
function triageLines(input: AnalyzeReportInput, all: readonly Finding[]): string[] {
  const out: string[] = [];
  const suppressed = all.filter((f) => f.suppressed !== undefined);
  if (suppressed.length > 0) out.push(`Suppressed (${suppressed.length}): ${suppressed.map((f) => `${findingSubject(f)} (${f.suppressed!.reason})`).join('; ')}.`);
  if (input.baseline !== undefined) {
    const unchanged = all.filter((f) => f.baselineState === 'unchanged' && f.suppressed === undefined).length;
    const absent = input.baseline.absent;
    out.push(`Baseline ${input.baseline.file}: ${plural(unchanged, 'finding')} unchanged (not listed)${absent.length > 0 ? `; absent now: ${absent.map(findingSubject).join('; ')}` : ''}.`);
  }
  for (const st of input.suppressions ?? []) {
    const p = suppressionProblem(st);
    if (p !== undefined) out.push(`Warning: ${p}.`);
  }
  return out;
}

export function renderFindingsTable(input: AnalyzeReportInput, opts: FindingsTableOptions): string {
  const width = opts.width ?? 80;
  const all = sortFindings(input.findings);
  // The rows: findings that count (not suppressed; with a baseline, new), whatever their severity.
  const findings = all.filter(countsForFailOn);
  const out: string[] = [];

  if (findings.length === 0) {
    out.push(all.length === 0 ? 'No findings.' : input.baseline !== undefined ? 'No new findings.' : 'No findings but suppressed ones.');
  } else {
    const { listed, omitted } = listedPerCheck(findings);
    // Content widths of the fixed columns (no cell of these is ever wrapped or cut).
    const fixed = [
      maxWidth([HEAD[0], ...listed.map((f) => f.severity)]),
      maxWidth([HEAD[1], ...listed.map((f) => f.check)]),
      maxWidth([HEAD[2], ...listed.map((f) => f.bdf ?? '-')]),
      maxWidth([HEAD[3], ...listed.flatMap(unitDidLines)]),
    ];
    // Columns are separated by `gap` blanks; tighten to one before giving up on the table.
    const messageFor = (gap: number): number => width - fixed.reduce((a, b) => a + b + gap, 0) - gap;
    const gap = messageFor(2) >= MIN_MESSAGE ? 2 : 1;
    const messageText = messageFor(gap);
    pushAll(out, messageText >= MIN_MESSAGE ? tableLines(listed, fixed, gap, messageText, opts.color) : blockLines(listed, width, opts.color));
    for (const o of omitted) pushAll(out, wrapText(omittedLine(o), width));
  }

  const counts = snapshotCounts(input.snapshot);
  const c = countBySeverity(findings);
  let summary = `${severityCountsText(findings)} — ${plural(counts.units, 'unit')}, ${plural(counts.presentContexts, 'present context')}, ${plural(counts.domains, 'domain')}`;
  const warnings = input.snapshot.warnings.length;
  if (warnings) summary += `; ${plural(warnings, 'capture warning')} (see dmarsift decode)`;
  summary += '.';
  if (opts.color) {
    // Colour only the counts that are non-zero, each in its severity's colour.
    summary = summary.replace(/^(\d+) critical, (\d+) error, (\d+) warning, (\d+) info/, () =>
      (['critical', 'error', 'warning', 'info'] as const)
        .map((sev) => (c[sev] ? colorSeverity(sev, `${c[sev]} ${sev}`, true) : `0 ${sev}`))
        .join(', '),
    );
  }
  out.push('');
  // wrapText works on plain text; colour codes contain no blanks and take no width.
  out.push(...wrapText(summary, width));
  // Checks that could not examine (all of) the capture: no finding, and no pass either.
  for (const g of statusGroups(input.statuses)) out.push(...wrapText(statusLine(g), width));
  for (const line of triageLines(input, all)) out.push(...wrapText(line, width));
  return out.join('\n') + '\n';
}
