/**
 * `dmarsift diff` output: table (for people), JSON (schema/diff-report.schema.json) and Markdown
 * (for tickets). Long range lists are cut in the table and Markdown (with a count of what was
 * left out); the JSON always has everything.
 */
import type { CheckStatusReport } from '../checks/run.js';
import type { Finding } from '../checks/types.js';
import type { DomainChange, EntryView, RangeChange, SnapshotDiff } from '../model/diff.js';
import type { Snapshot } from '../model/types.js';
import { hex } from '../util/hex.js';
import { irteDiffJson, irteDiffLines } from './diff-irte.js';
import { findingToJson, type FindingJson } from './findings-json.js';
import {
  bold, colorSeverity, countBySeverity, hexBytesFromPages, humanBytes, plural, severityCountsText, sortFindings, sourceLabel, statusGroups, statusLine, TOOL,
  type ShowPath, type ToolInfo,
} from './format.js';
import { mdCode, mdEscape } from './markdown.js';

const DIFF_SCHEMA_VERSION = 1;

export interface DiffReportInput {
  before: Snapshot;
  after: Snapshot;
  diff: SnapshotDiff;
  /** Findings of the pair checks. */
  findings: Finding[];
  /** Per pair check: ran, partial or not-applicable, with what was missing (runPairChecks). */
  statuses?: CheckStatusReport[];
  /** Single-capture findings present in AFTER and not in BEFORE, and the reverse. */
  introduced: Finding[];
  resolved: Finding[];
  tool?: ToolInfo;
  /** How to print the part paths of each capture (the CLI's: as the user gave them). */
  showPath?: { before: ShowPath; after: ShowPath };
}

const MAX_RANGES = 8;

function rangeJson(r: RangeChange): Record<string, unknown> {
  return {
    iova: hex(BigInt(r.iovaPfn) << 12n), hpa: hex(BigInt(r.hpaPfn) << 12n), size: hexBytesFromPages(r.pages), read: r.read, write: r.write,
  };
}

function entryJson(e: EntryView): Record<string, unknown> {
  return {
    unit: hex(e.unit), bdf: e.bdf, pasid: e.pasid ?? null, mode: e.modeName, did: e.did, root: hex(e.root), aw: e.aw, fpd: e.fpd,
    raw: e.raw.map((q) => hex(q)),
  };
}

function deviceJson(d: Snapshot['devices'][number] | undefined): Record<string, unknown> | null {
  if (!d) return null;
  return { driver: d.driver ?? null, passThrough: d.passThrough, vm: d.vm ?? null, vendor: d.vendorId ?? null, device: d.deviceId ?? null };
}

export function diffToJson(i: DiffReportInput): Record<string, unknown> {
  const tool = i.tool ?? TOOL;
  const d = i.diff;
  const findings: FindingJson[] = sortFindings(i.findings).map(findingToJson);
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    tool: { name: tool.name, version: tool.version },
    before: { path: i.before.capture.path },
    after: { path: i.after.capture.path },
    known: d.known,
    summary: {
      entries: { added: d.entries.added.length, removed: d.entries.removed.length, changed: d.entries.changed.length },
      domains: d.domains.length,
      bytesGained: hexBytesFromPages(d.domains.reduce((n, x) => n + x.gainedPages, 0)),
      bytesLost: hexBytesFromPages(d.domains.reduce((n, x) => n + x.lostPages, 0)),
      devices: { left: d.devices.left.length, arrived: d.devices.arrived.length, changed: d.devices.changed.length },
      irtes: { added: d.irtes.added.length, removed: d.irtes.removed.length, changed: d.irtes.changed.length },
      findings: countBySeverity(i.findings),
      introduced: i.introduced.length,
      resolved: i.resolved.length,
    },
    units: d.units.map((u) => ({ unit: hex(u.unit), status: u.status, fields: u.fields })),
    entries: {
      added: d.entries.added.map(entryJson),
      removed: d.entries.removed.map(entryJson),
      changed: d.entries.changed.map((c) => ({ fields: c.fields, before: entryJson(c.before), after: entryJson(c.after) })),
    },
    domains: d.domains.map((x) => ({
      unit: hex(x.unit), did: x.did, root: hex(x.root), kind: x.kind, status: x.status, exact: x.exact,
      pagesBefore: x.pagesBefore, pagesAfter: x.pagesAfter,
      bytesGained: hexBytesFromPages(x.gainedPages), bytesLost: hexBytesFromPages(x.lostPages),
      gained: x.gained.map(rangeJson), lost: x.lost.map(rangeJson),
    })),
    devices: {
      left: d.devices.left.map((x) => ({ bdf: x.bdf, before: deviceJson(x.before) })),
      arrived: d.devices.arrived.map((x) => ({ bdf: x.bdf, after: deviceJson(x.after) })),
      changed: d.devices.changed.map((x) => ({ bdf: x.bdf, fields: x.fields, before: deviceJson(x.before), after: deviceJson(x.after) })),
    },
    irtes: irteDiffJson(d.irtes),
    findings,
    introduced: sortFindings(i.introduced).map(findingToJson),
    resolved: sortFindings(i.resolved).map(findingToJson),
    ...(i.statuses !== undefined ? { checks: i.statuses.map((st) => ({ id: st.id, status: st.status, missing: [...st.missing], reasons: [...st.reasons] })) } : {}),
  };
}

export function renderDiffJson(i: DiffReportInput): string {
  return JSON.stringify(diffToJson(i), null, 2) + '\n';
}

// ---------------------------------------------------------------- text

function entryText(e: EntryView): string {
  const pasid = e.pasid !== undefined ? ` PASID ${e.pasid}` : '';
  return `${e.bdf}${pasid} unit ${hex(e.unit)}: ${e.modeName}, DID ${e.did}${e.root ? `, root ${hex(e.root)}` : ''}`;
}

function rangeText(r: RangeChange): string {
  const iova = BigInt(r.iovaPfn) << 12n;
  const end = iova + (BigInt(r.pages) << 12n) - 1n;
  return `${hex(iova)}-${hex(end)} → ${hex(BigInt(r.hpaPfn) << 12n)} ${r.read ? 'R' : '-'}${r.write ? 'W' : '-'} (${humanBytes(BigInt(r.pages) << 12n)})`;
}

function domainTitle(x: DomainChange): string {
  return `unit ${hex(x.unit)} DID ${x.did} root ${hex(x.root)}${x.kind === 'first-level' ? ' (first-level)' : ''}`;
}

function fieldChange(c: SnapshotDiff['entries']['changed'][number]): string {
  return c.fields
    .map((f) => {
      const a = c.before;
      const b = c.after;
      if (f === 'tt' || f === 'pgtt') return `${f.toUpperCase()} ${a.modeName} → ${b.modeName}`;
      if (f === 'did') return `DID ${a.did} → ${b.did}`;
      if (f === 'root') return `root ${hex(a.root)} → ${hex(b.root)}`;
      if (f === 'aw') return `AW ${a.aw} → ${b.aw}`;
      return `FPD ${a.fpd ? 1 : 0} → ${b.fpd ? 1 : 0}`;
    })
    .join(', ');
}

function findingText(f: Finding, color: boolean, show?: ShowPath): string {
  const where = [f.bdf, f.unit !== undefined ? `unit ${f.unit}` : '', f.did !== undefined ? `DID ${f.did}` : ''].filter(Boolean).join(' ');
  const src = sourceLabel(f.source, show);
  return `${colorSeverity(f.severity, f.severity.padEnd(8), color)} ${f.check}${where ? ` ${where}` : ''}: ${f.message}${src ? ` (${src})` : ''}`;
}

function limited<T>(list: readonly T[], show: (x: T) => string, indent: string, max = MAX_RANGES): string[] {
  const out = list.slice(0, max).map((x) => indent + show(x));
  if (list.length > max) out.push(`${indent}… and ${list.length - max} more (see --format json)`);
  return out;
}

export function renderDiffTable(i: DiffReportInput, opts: { color: boolean }): string {
  const { color } = opts;
  const d = i.diff;
  const out: string[] = [`${bold('dmarsift diff', color)} ${i.before.capture.path} → ${i.after.capture.path}`, ''];
  const section = (title: string, lines: string[]): void => {
    if (lines.length === 0) return;
    out.push(bold(title, color), ...lines, '');
  };
  section('Units', d.units.map((u) => `  ${u.status.padEnd(8)} ${hex(u.unit)}${u.fields.map((f) => `  ${f.name} ${f.before} → ${f.after}`).join('')}`));
  section('Context entries', [
    ...d.entries.added.map((e) => `  + ${entryText(e)}`),
    ...d.entries.removed.map((e) => `  - ${entryText(e)}`),
    ...d.entries.changed.map((c) => `  ~ ${c.before.bdf}${c.before.pasid !== undefined ? ` PASID ${c.before.pasid}` : ''} unit ${hex(c.before.unit)}: ${fieldChange(c)}`),
  ]);
  const domainLines: string[] = [];
  for (const x of d.domains) {
    domainLines.push(`  ${x.status.padEnd(8)} ${domainTitle(x)}: +${humanBytes(BigInt(x.gainedPages) << 12n)} -${humanBytes(BigInt(x.lostPages) << 12n)}${x.exact ? '' : ' (partial: tables incomplete or unknown)'}`);
    domainLines.push(...limited(x.gained, (r) => `+ ${rangeText(r)}`, '      '));
    domainLines.push(...limited(x.lost, (r) => `- ${rangeText(r)}`, '      '));
  }
  section('Domains (mappings gained / lost)', domainLines);
  const dev = (x: SnapshotDiff['devices']['left'][number]): string => {
    const f = x.before ?? x.after;
    return `${x.bdf}${f?.driver ? ` (${f.driver})` : ''}${f?.vm ? ` VM ${f.vm}` : ''}`;
  };
  section('PCI inventory', [
    ...d.devices.left.map((x) => `  - ${dev(x)} left`),
    ...d.devices.arrived.map((x) => `  + ${dev(x)} arrived`),
    ...d.devices.changed.map((x) => `  ~ ${x.bdf}: ${x.fields.map((f) => (f === 'driver' ? `driver ${x.before?.driver ?? '-'} → ${x.after?.driver ?? '-'}` : f === 'vm' ? `VM ${x.before?.vm ?? '-'} → ${x.after?.vm ?? '-'}` : f)).join(', ')}`),
  ]);
  section('Interrupt remapping entries', irteDiffLines(d.irtes).map((l) => `  ${l}`));
  if (d.irtes.unknown > 0) out.push(`(${plural(d.irtes.unknown, 'IRTE')} of one capture sit on interrupt remapping table pages the other does not hold: unknown there, neither added nor removed)`, '');
  if (!d.known.inventory[0] || !d.known.inventory[1]) out.push('(inventory missing in one capture: device changes and stale-after-unplug not evaluated)', '');
  if (d.known.unknownEntries > 0) out.push(`(${plural(d.known.unknownEntries, 'entry', 'entries')} of one capture sit in context tables the other could not read: unknown there, neither added nor removed)`, '');
  const nothing = d.units.length + d.entries.added.length + d.entries.removed.length + d.entries.changed.length + d.domains.length
    + d.devices.left.length + d.devices.arrived.length + d.devices.changed.length + irteDiffLines(d.irtes).length === 0;
  if (nothing) out.push('No changes in units, context entries, mappings, interrupt remapping entries or the PCI inventory.', '');
  // Pair findings cite the later capture's parts (what survived), like the new ones; gone ones the earlier's.
  section('Findings the pair reveals', sortFindings(i.findings).map((f) => '  ' + findingText(f, color, i.showPath?.after)));
  section('New findings in AFTER', sortFindings(i.introduced).map((f) => '  ' + findingText(f, color, i.showPath?.after)));
  section('Findings gone in AFTER', sortFindings(i.resolved).map((f) => '  ' + findingText(f, color, i.showPath?.before)));
  out.push(
    `${plural(d.entries.added.length, 'entry', 'entries')} added, ${d.entries.removed.length} removed, ${d.entries.changed.length} changed; `
      + `${plural(d.domains.length, 'domain')} changed; pair findings: ${severityCountsText(i.findings)}; ${i.introduced.length} new, ${i.resolved.length} gone.`,
  );
  // Pair checks that could not compare (all of) the captures: no finding, and no pass either.
  for (const g of statusGroups(i.statuses)) out.push(statusLine(g));
  return out.join('\n') + '\n';
}

export function renderDiffMarkdown(i: DiffReportInput): string {
  const d = i.diff;
  const tool = i.tool ?? TOOL;
  const out: string[] = [
    `## dmarsift diff`,
    '',
    `Before: \`${mdEscape(i.before.capture.path)}\`  `,
    `After: \`${mdEscape(i.after.capture.path)}\`  `,
    `Tool: ${tool.name} ${tool.version}`,
    '',
    '| | added | removed | changed |',
    '|---|---:|---:|---:|',
    `| context entries | ${d.entries.added.length} | ${d.entries.removed.length} | ${d.entries.changed.length} |`,
    `| PCI functions | ${d.devices.arrived.length} | ${d.devices.left.length} | ${d.devices.changed.length} |`,
    `| interrupt remapping entries | ${d.irtes.added.length} | ${d.irtes.removed.length} | ${d.irtes.changed.length} |`,
    '',
  ];
  const findingsBlock = (title: string, list: Finding[]): void => {
    if (list.length === 0) return;
    out.push(`### ${title}`, '');
    for (const f of sortFindings(list)) out.push(`- **${f.severity}** \`${f.check}\`${f.bdf ? ` ${f.bdf}` : ''}: ${mdEscape(f.message)}`);
    out.push('');
  };
  findingsBlock('Findings the pair reveals', i.findings);
  for (const g of statusGroups(i.statuses)) out.push(statusLine(g, mdCode), '');
  findingsBlock('New findings in AFTER', i.introduced);
  findingsBlock('Findings gone in AFTER', i.resolved);
  if (d.entries.added.length + d.entries.removed.length + d.entries.changed.length > 0) {
    out.push('### Context entries', '', '```');
    for (const e of d.entries.added) out.push(`+ ${entryText(e)}`);
    for (const e of d.entries.removed) out.push(`- ${entryText(e)}`);
    for (const c of d.entries.changed) out.push(`~ ${c.before.bdf} unit ${hex(c.before.unit)}: ${fieldChange(c)}`);
    out.push('```', '');
  }
  if (irteDiffLines(d.irtes).length > 0) out.push('### Interrupt remapping entries', '', '```', ...irteDiffLines(d.irtes), '```', '');
  if (d.domains.length > 0) {
    out.push('### Domains', '', '| domain | status | gained | lost |', '|---|---|---:|---:|');
    for (const x of d.domains) out.push(`| ${domainTitle(x)} | ${x.status}${x.exact ? '' : ' (partial)'} | ${humanBytes(BigInt(x.gainedPages) << 12n)} | ${humanBytes(BigInt(x.lostPages) << 12n)} |`);
    out.push('');
    for (const x of d.domains) {
      if (x.gained.length + x.lost.length === 0) continue;
      out.push(`<details><summary>${domainTitle(x)}: ranges</summary>`, '', '```');
      out.push(...limited(x.gained, (r) => `+ ${rangeText(r)}`, '', 50), ...limited(x.lost, (r) => `- ${rangeText(r)}`, '', 50));
      out.push('```', '', '</details>', '');
    }
  }
  if (d.devices.left.length + d.devices.arrived.length + d.devices.changed.length > 0) {
    out.push('### PCI inventory', '');
    for (const x of d.devices.left) out.push(`- left: ${x.bdf}${x.before?.driver ? ` (${x.before.driver})` : ''}`);
    for (const x of d.devices.arrived) out.push(`- arrived: ${x.bdf}${x.after?.driver ? ` (${x.after.driver})` : ''}`);
    for (const x of d.devices.changed) out.push(`- changed: ${x.bdf} (${x.fields.join(', ')})`);
    out.push('');
  }
  return out.join('\n');
}
