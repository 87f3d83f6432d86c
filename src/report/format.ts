/**
 * Small helpers every reporter shares: the tool identity, the number and source spellings of the
 * CLI contract, byte sizes for people, severity colours and ordering, and text width/wrapping.
 * Reporters format; they never decode and never judge.
 */
import type { CheckStatusReport } from '../checks/run.js';
import type { BaselineFinding } from '../triage/baseline.js';
import type { SuppressionStatus } from '../triage/suppressions.js';
import { SEVERITIES, severityRank, type CheckInput, type CheckMeta, type Finding, type Severity } from '../checks/types.js';
import { sourceText } from '../model/source.js';
import type { Snapshot, Source, Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { VERSION } from '../version.js';

export interface ToolInfo {
  name: string;
  version: string;
}

/** The tool identity every report names (the version from package.json, src/version.ts). */
export const TOOL: ToolInfo = { name: 'dmarsift', version: VERSION };

/**
 * Public home used where a format needs an absolute URI (SARIF `informationUri`). The package
 * name is fixed by the CLI contract; replace with the repository's URL once it has a public one.
 */
export const PROJECT_URI = 'https://www.npmjs.com/package/dmarsift';

/** Path of a check's documentation page, relative to the repository root. */
export function checkDocPath(id: string): string {
  return `docs/checks/${id}.md`;
}

/** Everything the `analyze`-style reporters (json, table, markdown, sarif, junit) take. */
export interface AnalyzeReportInput {
  snapshot: Snapshot;
  findings: Finding[];
  /** Every known check (rules for SARIF, testcases for JUnit, explanations for Markdown). */
  checks: CheckMeta[];
  /** Ids of the checks that ran; undefined means all of `checks` ran. */
  ran?: string[];
  /**
   * Per selected check: ran, partial or not-applicable, with what was missing (the runner's
   * RunResult.statuses). Undefined when the caller has none (then `ran` decides).
   */
  statuses?: CheckStatusReport[];
  /** Overrides the tool identity (tests pin it). */
  tool?: ToolInfo;
  /** How to print a part path (the CLI's: as the user gave it); default: the model's own name. */
  showPath?: ShowPath;
  /** The capture's name in a fleet (its path, or below a `--recursive` root). */
  label?: string;
  /** With `--baseline`: the baseline's file, and its findings this run no longer has. */
  baseline?: { file: string; absent: BaselineFinding[] };
  /** The configured suppressions and what became of them (a single capture's run). */
  suppressions?: SuppressionStatus[];
}

/** The findings that are not suppressed (what summaries count). */
export function activeFindings<F extends Finding>(findings: readonly F[]): F[] {
  return findings.filter((f) => f.suppressed === undefined);
}

/** "hpa-leak-mmio 0000:03:01.0 unit 0xfed90000 VM vm1": what a finding is about, in a few words. */
export function findingSubject(f: Pick<Finding, 'check' | 'bdf' | 'unit' | 'vm'>): string {
  return [f.check, f.bdf, f.unit !== undefined ? `unit ${f.unit}` : undefined, f.vm !== undefined ? `VM ${f.vm}` : undefined].filter(Boolean).join(' ');
}

/**
 * Names a part path of the model (relative to the capture directory, or as typed for a part an
 * option named) the way the user gave it: the CLI's PathNamer (src/cli/paths.ts).
 */
export type ShowPath = (part: string) => string;
const asIs: ShowPath = (p) => p;

// ---------------------------------------------------------------- check statuses

/** What each check input is, in a few words (docs pages, "not checked" lines). */
export const INPUT_NAMES: Record<CheckInput, string> = {
  dmar: 'ACPI DMAR table',
  registers: 'remapping-unit registers',
  tables: 'root and context tables',
  mappings: 'page tables (mappings)',
  inventory: 'PCI inventory',
  vms: 'VM command lines',
  'memory-map': 'host memory map',
  'interrupt-remapping': 'interrupt remapping table',
  'pci-config': 'PCI configuration space',
};

/** The checks of one status that did not examine everything, and why in short. */
export interface StatusGroup {
  status: 'not-applicable' | 'partial';
  ids: string[];
  /** Inputs some of them lack (in CheckInput order). */
  missing: CheckInput[];
  /** Whether some of them could not read part of what the capture holds. */
  unreadable: boolean;
}

/** Not-applicable checks, then partial ones (registry order); the reasons in full stay in each status. */
export function statusGroups(statuses: readonly CheckStatusReport[] | undefined): StatusGroup[] {
  const inputs = Object.keys(INPUT_NAMES) as CheckInput[];
  const out: StatusGroup[] = [];
  for (const status of ['not-applicable', 'partial'] as const) {
    const list = (statuses ?? []).filter((st) => st.status === status);
    if (list.length === 0) continue;
    const missing = new Set(list.flatMap((st) => st.missing));
    out.push({
      status, ids: list.map((st) => st.id), missing: inputs.filter((i) => missing.has(i)),
      // Reasons beyond one "add …" per missing input: tables that could not be read, devices not judged.
      unreadable: list.some((st) => st.reasons.length > (st.missing.length > 0 ? 1 : 0)),
    });
  }
  return out;
}

const STATUS_WORDS: Record<StatusGroup['status'], string> = { 'not-applicable': 'Not checked', partial: 'Checked in part' };

/**
 * "Not checked: a, b — the capture lacks the PCI inventory and the VM command lines." — the short
 * line the table and Markdown reports give a group (`id` formats an id, e.g. as Markdown code);
 * JSON, SARIF and JUnit carry each check's reasons in full.
 */
export function statusLine(g: StatusGroup, id: (id: string) => string = (x) => x): string {
  const names = g.missing.map((m) => `the ${INPUT_NAMES[m]}`);
  const lacks = names.length === 0 ? '' : `the capture lacks ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`}`;
  const unread = g.unreadable ? (lacks ? 'parts of it could not be read' : 'parts of the capture could not be read') : '';
  const why = [lacks, unread].filter(Boolean).join('; ');
  return `${STATUS_WORDS[g.status]}: ${g.ids.map(id).join(', ')}${why ? ` — ${why}` : ''}.`;
}

// ---------------------------------------------------------------- numbers and sources

/** Byte count → JSON string "0x…" (bigint-safe: page counts × 4096 can pass 2^53). */
export function hexBytesFromPages(pages: number): string {
  return hex(BigInt(pages) << 12n);
}

/** A model Source as the contract spells it: `{part, offset: "0x…"}` or `{part, line}`. */
export function sourceToJson(s: Source | undefined): { part: string; offset?: string; line?: number } | null {
  if (!s) return null;
  const out: { part: string; offset?: string; line?: number } = { part: s.part };
  if (s.offset !== undefined) out.offset = hex(s.offset);
  if (s.line !== undefined) out.line = s.line;
  return out;
}

/** `part:line` for text parts, `part@0xoffset` for binary ones, `part` otherwise. */
export function sourceLabel(s: Source | undefined, show: ShowPath = asIs): string {
  return s ? sourceText(s, show(s.part)) : '';
}

/** A unit's register base as reports print it; "(base unknown)" when no part gave it. */
export function unitBaseText(u: Unit): string {
  return u.baseUnknown ? '(base unknown)' : hex(u.registerBase);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB'];

/**
 * Bytes for people: "16 MiB", "4 KiB", "1.5 GiB", "0 B". Exact multiples print without
 * decimals; others with one (rounded), so "124 KiB" is exact and "1.5 MiB" is not claimed to be.
 */
export function humanBytes(bytes: number | bigint): string {
  let b = typeof bytes === 'bigint' ? bytes : BigInt(Math.round(bytes));
  if (b < 0n) b = -b;
  let unit = 0;
  let div = 1n;
  while (unit < UNITS.length - 1 && b >= div * 1024n) {
    div *= 1024n;
    unit++;
  }
  if (b % div === 0n) return `${b / div} ${UNITS[unit]}`;
  const tenths = (b * 10n + div / 2n) / div; // rounded to one decimal
  const whole = tenths / 10n;
  const frac = tenths % 10n;
  return frac === 0n ? `${whole} ${UNITS[unit]}` : `${whole}.${frac} ${UNITS[unit]}`;
}

// ---------------------------------------------------------------- severities

/** SARIF's three levels for our four severities. */
export function sarifLevel(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'critical' || s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { critical: 0, error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

/** "2 critical, 1 error, 0 warning, 3 info" (the order of SEVERITIES). */
export function severityCountsText(findings: readonly Finding[]): string {
  const c = countBySeverity(findings);
  return SEVERITIES.map((s) => `${c[s]} ${s}`).join(', ');
}

function cmpStr(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

/**
 * Report order: most severe first, then check id, unit, BDF, DID. Deterministic whatever order
 * the runner produced, so two reports of one capture diff cleanly. Ties keep their input order.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmpStr(a.check, b.check) ||
    cmpStr(a.unit, b.unit) ||
    cmpStr(a.bdf, b.bdf) ||
    (a.did ?? -1) - (b.did ?? -1)
  );
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

/**
 * Findings of one check the human reports (table, Markdown) list one by one; the others are
 * counted in one line per check. A hostile capture gives one check 50 000 findings (a stale
 * context per present entry of random tables), which no one reads; the machine formats (JSON,
 * SARIF, JUnit) list every finding.
 */
export const MAX_LISTED_PER_CHECK = 100;

/** `findings` (in report order) cut to MAX_LISTED_PER_CHECK per check, and what was left out. */
export function listedPerCheck<F extends Finding>(findings: readonly F[], max = MAX_LISTED_PER_CHECK): { listed: F[]; omitted: { check: string; findings: F[] }[] } {
  const seen = new Map<string, number>();
  const omitted = new Map<string, F[]>();
  const listed: F[] = [];
  for (const f of findings) {
    const n = seen.get(f.check) ?? 0;
    seen.set(f.check, n + 1);
    if (n < max) listed.push(f);
    else {
      const list = omitted.get(f.check);
      if (list) list.push(f);
      else omitted.set(f.check, [f]);
    }
  }
  return { listed, omitted: [...omitted].map(([check, fs]) => ({ check, findings: fs })) };
}

/** The line saying what listedPerCheck left out of one check. */
export function omittedLine(o: { check: string; findings: readonly Finding[] }, max = MAX_LISTED_PER_CHECK): string {
  return `… and ${o.findings.length} more ${o.check} findings (${severityCountsText(o.findings)}), not listed one by one past the first ${max}: \`--format json\` lists them all.`;
}

/** Summary counts shared by the JSON, table and Markdown reports. */
export interface SnapshotCounts {
  units: number;
  presentContexts: number;
  domains: number;
}

export function snapshotCounts(s: Snapshot): SnapshotCounts {
  let presentContexts = 0;
  let domains = 0;
  for (const u of s.units) {
    for (const c of u.contexts) if (c.present) presentContexts++;
    domains += u.domains.length;
  }
  return { units: s.units.length, presentContexts, domains };
}

export function plural(n: number, word: string, many = word + 's'): string {
  return `${n} ${n === 1 ? word : many}`;
}

// ---------------------------------------------------------------- colour

const ESC = '\x1b[';
const SEVERITY_SGR: Record<Severity, string> = {
  critical: '1;31', // bold red
  error: '31', // red
  warning: '33', // yellow
  info: '36', // cyan
};

/** Wrap `text` in the severity's colour when `color` is true (the caller decides TTY/NO_COLOR). */
export function colorSeverity(severity: Severity, text: string, color: boolean): string {
  return color ? `${ESC}${SEVERITY_SGR[severity]}m${text}${ESC}0m` : text;
}

export function bold(text: string, color: boolean): string {
  return color ? `${ESC}1m${text}${ESC}22m` : text;
}

export function dim(text: string, color: boolean): string {
  return color ? `${ESC}2m${text}${ESC}22m` : text;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC and BEL are what terminal escape sequences are made of
const ANSI_RE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/** East Asian wide and fullwidth ranges (enough for names a capture might hold). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns a string takes (ANSI codes take none; combining marks none; wide chars 2). */
export function displayWidth(text: string): number {
  // Nearly every cell and word is printable ASCII: one native test instead of a code-point loop.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let w = 0;
  for (const ch of stripAnsi(text)) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || (cp >= 0xfe00 && cp <= 0xfe0f)) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

/** Where a word too long for its line may break: just after one of these (paths, identifiers, lists). */
const SOFT_BREAK = /[/\\_\-.,:;=&?|]/;

/**
 * Word-wrap plain text (no ANSI) to `width` columns. Words longer than the width are broken —
 * after a `/`, `_`, `-`, `.`, … when they have one, else hard — so nothing is ever cut off;
 * existing newlines are kept.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let lineW = 0;
    for (const word of para.split(/\s+/).filter((x) => x !== '')) {
      let rest = word;
      let restW = displayWidth(rest);
      if (lineW > 0 && lineW + 1 + restW <= w) {
        line += ' ' + rest;
        lineW += 1 + restW;
        continue;
      }
      if (lineW > 0) {
        out.push(line);
        line = '';
        lineW = 0;
      }
      while (restW > w) {
        let cut = '';
        let cutW = 0;
        let soft = 0; // length of `cut` just after its last soft break point
        for (const ch of rest) {
          const cw = displayWidth(ch);
          if (cutW + cw > w) break;
          cut += ch;
          cutW += cw;
          if (SOFT_BREAK.test(ch)) soft = cut.length;
        }
        if (cut === '') cut = [...rest][0]; // a wide char in a 1-column cell: emit it anyway
        else if (soft > 0 && soft < cut.length) cut = cut.slice(0, soft); // a path breaks after a slash, not mid-name
        out.push(cut);
        rest = rest.slice(cut.length);
        restW = displayWidth(rest);
      }
      line = rest;
      lineW = restW;
    }
    out.push(line);
  }
  return out;
}

/** Lay rows out in aligned columns separated by `gap` spaces; trailing blanks are trimmed. */
export function columns(rows: string[][], opts: { indent?: string; gap?: number; right?: number[] } = {}): string[] {
  const gap = ' '.repeat(opts.gap ?? 2);
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, displayWidth(c)); });
  return rows.map((r) =>
    ((opts.indent ?? '') +
      r
        .map((c, i) => {
          const pad = ' '.repeat(widths[i] - displayWidth(c));
          return opts.right?.includes(i) ? pad + c : c + pad;
        })
        .join(gap)).trimEnd(),
  );
}
