/**
 * `analyze` default output: one row per finding (most severe first), then a summary line.
 *
 * Width: everything fits `width` columns (80 by default). The severity, check id and BDF columns
 * are as wide as their longest value and never cut; the unit/DID cell wraps onto two lines; the
 * message takes the rest and is word-wrapped (long words broken, never truncated). Only when the
 * fixed columns alone leave less than MIN_MESSAGE columns does the table grow past `width`,
 * because cutting an identifier would be worse than a long line.
 */
import Table from 'cli-table3';
import type { Finding } from '../checks/types.js';
import {
  colorSeverity, countBySeverity, displayWidth, plural, severityCountsText, snapshotCounts, sortFindings, wrapText,
  type AnalyzeReportInput,
} from './format.js';

export interface FindingsTableOptions {
  /** ANSI colours by severity; the caller decides (TTY, --no-color, NO_COLOR). */
  color: boolean;
  /** Terminal width to fit; default 80. */
  width?: number;
}

const MIN_MESSAGE = 20;
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

export function renderFindingsTable(input: AnalyzeReportInput, opts: FindingsTableOptions): string {
  const width = opts.width ?? 80;
  const findings = sortFindings(input.findings);
  const out: string[] = [];

  if (findings.length === 0) {
    out.push('No findings.');
  } else {
    // Content widths of the fixed columns (no cell of these is ever wrapped or cut).
    const fixed = [
      maxWidth([HEAD[0], ...findings.map((f) => f.severity)]),
      maxWidth([HEAD[1], ...findings.map((f) => f.check)]),
      maxWidth([HEAD[2], ...findings.map((f) => f.bdf ?? '-')]),
      maxWidth([HEAD[3], ...findings.flatMap(unitDidLines)]),
    ];
    // Columns are separated by `gap` blanks (cli-table3 right padding); tighten before shrinking the message.
    let gap = 2;
    // `message` is the column's width including its right padding (`gap`), as cli-table3 counts.
    let message = width - fixed.reduce((a, b) => a + b + gap, 0);
    if (message - gap < MIN_MESSAGE + 4) {
      gap = 1;
      message = width - fixed.reduce((a, b) => a + b + gap, 0);
    }
    message = Math.max(MIN_MESSAGE + gap, message);
    const messageText = message - gap;

    const table = new Table({
      chars: NO_BORDERS,
      colWidths: [...fixed.map((w) => w + gap), message],
      wordWrap: false, // we wrap ourselves: cli-table3 would cut over-long words with '…'
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': gap, compact: true },
    });
    table.push(HEAD);
    table.push([...fixed, messageText].map((w) => '─'.repeat(w)));
    for (const f of findings) {
      const msg = wrapText(f.message + (f.severityReason ? ` (${f.severityReason})` : ''), messageText).join('\n');
      table.push([colorSeverity(f.severity, f.severity, opts.color), f.check, f.bdf ?? '-', unitDidLines(f).join('\n'), msg]);
    }
    for (const line of table.toString().split('\n')) out.push(line.trimEnd());
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
  return out.join('\n') + '\n';
}
