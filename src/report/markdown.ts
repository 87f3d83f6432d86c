/**
 * `analyze --format markdown`: a report to paste into a GitHub/GitLab/Bugzilla ticket. It must
 * read well rendered and as plain text (Bugzilla shows it raw): headings and short lines, one
 * `<details>` block per finding holding the evidence and the check's explanation, relative links
 * to docs/checks/<id>.md, warnings last.
 */
import type { CheckMeta, EvidenceValue, Finding } from '../checks/types.js';
import { SEVERITIES } from '../checks/types.js';
import { suppressionProblem } from '../triage/suppressions.js';
import {
  activeFindings, findingSubject, listedPerCheck, omittedLine, plural, checkDocPath, countBySeverity, snapshotCounts, sortFindings, sourceLabel, statusGroups, statusLine, TOOL, type AnalyzeReportInput, type ShowPath,
} from './format.js';
import { pushAll } from '../util/arrays.js';

/** Escape what would change meaning in running Markdown text, and nothing else (plain text stays readable). */
export function mdEscape(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/([`*<])/g, '\\$1')
    // Intraword underscores (CONFIG_DMAR_DEBUG) are literal in CommonMark; only an opener needs it.
    .replace(/(^|\s)_(?=\S)/g, '$1\\_')
    .replace(/\[(?=[^\]]*\]\()/g, '\\[')
    // A line start that would make a heading, quote or list item.
    .replace(/^([#=+>-])/gm, '\\$1');
}

/** Inline code that survives backticks in the text. */
export function mdCode(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = '`'.repeat(runs.reduce((m, r) => Math.max(m, r.length), 0) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside. */
export function mdFence(lang: string, body: string): string {
  const runs = body.match(/`{3,}/g) ?? [];
  const fence = '`'.repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
  return `${fence}${lang}\n${body.replace(/\n$/, '')}\n${fence}`;
}

function isScalar(v: EvidenceValue): boolean {
  return v === null || typeof v !== 'object';
}

/**
 * Evidence as a small two-column table when every value is a scalar (reads best), otherwise as
 * fenced JSON (nested arrays/objects keep their structure).
 */
export function evidenceBlock(evidence: { [key: string]: EvidenceValue }): string {
  const entries = Object.entries(evidence);
  if (entries.length === 0) return '_No evidence recorded._';
  if (entries.length <= 12 && entries.every(([, v]) => isScalar(v))) {
    const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const rows = entries.map(([k, v]) => `| ${cell(k)} | ${v === null ? 'null' : mdCode(cell(String(v)))} |`);
    return ['| field | value |', '|---|---|', ...rows].join('\n');
  }
  return mdFence('json', JSON.stringify(evidence, null, 2));
}

function findingTitle(i: number, f: Finding): string {
  const where = [f.bdf, f.unit !== undefined ? `unit ${f.unit}` : undefined, f.did !== undefined ? `DID ${f.did}` : undefined, f.vm !== undefined ? `VM ${mdEscape(f.vm)}` : undefined].filter(Boolean);
  const state = f.baselineState !== undefined ? ` (${f.baselineState})` : '';
  return `### ${i}. [${f.severity.toUpperCase()}] ${f.check}${where.length ? ` — ${where.join(', ')}` : ''}${state}`;
}

/** Suppressed findings, absent ones and suppressions to review: apart from the findings that count. */
function triageSections(input: AnalyzeReportInput, findings: readonly Finding[]): string[] {
  const out: string[] = [];
  const suppressed = findings.filter((f) => f.suppressed !== undefined);
  if (suppressed.length > 0) {
    out.push('### Suppressed findings', '', 'Accepted by the configuration: they do not count for `--fail-on`.', '');
    for (const f of suppressed) {
      const until = f.suppressed!.expires !== undefined ? ` (until ${f.suppressed!.expires})` : '';
      out.push(`- [${f.severity}] ${mdCode(findingSubject(f))}: ${mdEscape(f.message)} — **${mdEscape(f.suppressed!.reason)}**${until}`);
    }
    out.push('');
  }
  const absent = input.baseline?.absent ?? [];
  if (absent.length > 0) {
    out.push('### Absent since the baseline', '');
    for (const b of absent) out.push(`- [${b.severity}] ${mdCode(findingSubject(b))}: ${mdEscape(b.message)}`);
    out.push('');
  }
  const problems = (input.suppressions ?? []).map(suppressionProblem).filter((x): x is string => x !== undefined);
  if (problems.length > 0) {
    out.push('### Suppressions to review', '');
    for (const p of problems) out.push(`- ${mdEscape(p)}`);
    out.push('');
  }
  return out;
}

function findingSection(i: number, f: Finding, meta: CheckMeta | undefined, opts: MarkdownOptions, show?: ShowPath): string[] {
  // In a ticket a repository-relative link goes nowhere: resolve it when a base is given.
  const doc = opts.docsBaseUri ? new URL(checkDocPath(f.check), opts.docsBaseUri).href : checkDocPath(f.check);
  const out = [findingTitle(i, f), '', mdEscape(f.message), ''];
  const facts: string[] = [];
  if (meta && meta.defaultSeverity !== f.severity) {
    facts.push(`- Severity: ${f.severity} (default ${meta.defaultSeverity}${f.severityReason ? `: ${mdEscape(f.severityReason)}` : ''})`);
  } else if (f.severityReason) {
    facts.push(`- Severity: ${f.severity} (${mdEscape(f.severityReason)})`);
  }
  if (f.source) facts.push(`- Source: ${mdCode(sourceLabel(f.source, show))}`);
  facts.push(`- Check: [${f.check}](${doc})`);
  out.push(...facts, '');
  out.push('<details>', `<summary>Evidence and explanation of ${f.check}</summary>`, '');
  out.push('**Evidence**', '', evidenceBlock(f.evidence), '');
  out.push(`**About ${mdCode(f.check)}**${meta ? ` (default severity ${meta.defaultSeverity})` : ''}`, '');
  // The description's own headings (## What it means …) sit inside a finding's ### section: demote them.
  out.push(meta ? meta.description.trim().replace(/^#{1,3} /gm, '#### ') : '_No description: the check is not in the list of known checks._', '');
  out.push(`More: [${doc}](${doc})`, '', '</details>', '');
  return out;
}

export interface MarkdownOptions {
  /** Absolute base (the repository root, ending in '/') for links to docs/checks/<id>.md. */
  docsBaseUri?: string;
}

export function renderMarkdown(input: AnalyzeReportInput, opts: MarkdownOptions = {}): string {
  const s = input.snapshot;
  const tool = input.tool ?? TOOL;
  const findings = sortFindings(input.findings);
  const metas = new Map(input.checks.map((c) => [c.id, c]));
  const counts = countBySeverity(activeFindings(findings));
  const shown = activeFindings(findings);
  const sc = snapshotCounts(s);
  const out: string[] = [];

  out.push('## dmarsift report', '');
  out.push(`- Capture: ${s.capture.path === '' ? 'parts named by options' : mdCode(s.capture.path)}`);
  out.push(`- Tool: ${tool.name} ${tool.version}`);
  const parts = s.capture.parts.filter((p) => p.kind !== 'ignored');
  if (parts.length) out.push(`- Parts: ${parts.map((p) => `${mdCode(input.showPath ? input.showPath(p.path) : p.path)} (${p.kind})`).join(', ')}`);
  if (input.baseline !== undefined) {
    const fresh = findings.filter((f) => f.baselineState === 'new').length;
    out.push(`- Baseline: ${mdCode(input.baseline.file)}: ${fresh} new, ${findings.length - fresh} unchanged, ${input.baseline.absent.length} absent`);
  }
  out.push(`- Model: ${plural(sc.units, 'unit')}, ${plural(sc.presentContexts, 'present context')}, ${plural(sc.domains, 'domain')}`, '');

  out.push('### Summary', '');
  out.push('| severity | findings |', '|---|---:|');
  for (const sev of SEVERITIES) out.push(`| ${sev} | ${counts[sev]} |`);
  out.push('');
  if (input.ran) {
    const notRun = input.checks.filter((c) => !input.ran!.includes(c.id)).map((c) => c.id);
    if (notRun.length) out.push(`Checks not run: ${notRun.map(mdCode).join(', ')}`, '');
  }
  // Checks that could not examine (all of) the capture are no pass: say so apart from the findings.
  for (const g of statusGroups(input.statuses)) out.push(statusLine(g, mdCode), '');

  out.push('### Findings', '');
  if (shown.length === 0) out.push(findings.length === 0 ? 'No findings.' : 'No findings but suppressed ones.', '');
  const { listed, omitted } = listedPerCheck(shown);
  listed.forEach((f, i) => {
    out.push(...findingSection(i + 1, f, metas.get(f.check), opts, input.showPath));
  });
  for (const o of omitted) out.push(omittedLine(o), '');
  pushAll(out, triageSections(input, findings));

  if (s.warnings.length) {
    out.push('### Capture warnings', '');
    for (const w of s.warnings) {
      const src = sourceLabel(w.source, input.showPath);
      out.push(`- ${src ? `${mdCode(src)}: ` : ''}${mdEscape(w.message)}`);
    }
    out.push('');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '') + '\n';
}
