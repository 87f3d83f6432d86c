/**
 * `analyze --format html`: one self-contained page for people — the findings with filters by
 * severity and check, each with its check's description; per unit, devices → context entries →
 * domains → VMs as a picture; per VM domain an address map. No network: inline CSS, JS and SVG,
 * and a Content Security Policy that allows only this page's own style and script (by hash) and
 * no fetch of any kind. Every capture string is escaped (escape.ts); nothing from a capture goes
 * into the script or the stylesheet.
 *
 * Input: the AnalyzeReportInput every reporter takes, read tolerantly for fields other work adds
 * (HtmlReportInput, HtmlFinding): a per-check run status, suppressed findings, baseline states,
 * fingerprints, a finding's VM. A fleet is several of these (renderHtmlFleet). Reporters never
 * decode or judge: what a range hits, who owns a domain and which ranges a finding flags come
 * from src/checks/ (address-map.ts, topology.ts, evidence-ranges.ts).
 */
import { HOST_CLASSES, HOST_CLASS_TEXT, vmDomainMaps, type VmDomainMap } from '../../checks/address-map.js';
import { flaggedRanges } from '../../checks/evidence-ranges.js';
import { unitTopologies } from '../../model/topology.js';
import { SEVERITIES, type CheckMeta, type Finding } from '../../checks/types.js';
import type { Snapshot } from '../../model/types.js';
import { hex } from '../../util/hex.js';
import { sha256 as digest } from '../../util/sha256.js';
import {
  checkDocPath, countBySeverity, humanBytes, plural, snapshotCounts, sortFindings, sourceLabel, TOOL, type AnalyzeReportInput, type ToolInfo,
} from '../format.js';
import { addressMapSvg, addrOf, MAX_FLAG_MARKS, type FlagMark } from './address-map-svg.js';
import { CSS, JS } from './assets.js';
import { attr, esc, safeHref } from './escape.js';
import { renderMarkdown } from './markdown.js';
import { topologySvg, worstByBdf } from './topology-svg.js';

/** A finding as later work extends it (issue 16: suppressions, baselines, fingerprints, VM). All optional. */
export type HtmlFinding = Finding & {
  suppressed?: { reason?: string; [k: string]: unknown } | boolean;
  baselineState?: string;
  fingerprint?: string;
  vm?: string;
};

export interface HtmlReportInput extends AnalyzeReportInput {
  findings: HtmlFinding[];
  /** Baseline: findings of the baseline this run no longer has. */
  absent?: readonly Finding[];
}

export interface HtmlOptions {
  /** Absolute base (the repository root, ending in '/') for links to docs/checks/<id>.md. */
  docsBaseUri?: string;
}

/**
 * One capture of a fleet: its report input, or the error that kept it from being analysed — or
 * both, for a capture that was read but could not be judged (nothing checkable, a required part missing).
 */
export interface FleetEntry {
  /** Host name or capture directory, as the summary names it. */
  label: string;
  input?: HtmlReportInput;
  error?: string;
}

// ------------------------------------------------------------------------------------------

/** Document-wide state: ids, and the checks whose description the page holds once. */
class Page {
  readonly metas = new Map<string, CheckMeta>();
  readonly described = new Map<string, string>(); // check id → element id
  constructor(readonly opts: HtmlOptions) {}

  /** Element id of a check's description (registered on first use). */
  descId(id: string): string {
    let d = this.described.get(id);
    if (d === undefined) {
      d = `check-${this.described.size + 1}`;
      this.described.set(id, d);
    }
    return d;
  }

  docLink(id: string): string {
    const path = checkDocPath(id);
    const href = this.opts.docsBaseUri ? safeHref(new URL(path, this.opts.docsBaseUri).href) : undefined;
    return href !== undefined ? `<a href="${esc(href)}" rel="noopener noreferrer">${esc(path)}</a>` : `<code>${esc(path)}</code>`;
  }
}

function isSuppressed(f: HtmlFinding): boolean {
  return f.suppressed !== undefined && f.suppressed !== false;
}

function suppressionReason(f: HtmlFinding): string | undefined {
  return typeof f.suppressed === 'object' && f.suppressed !== null && typeof f.suppressed.reason === 'string' ? f.suppressed.reason : undefined;
}

function statusOf(input: HtmlReportInput, id: string): { status: string; reason?: string } {
  // The runner's status (AnalyzeReportInput.statuses) when the caller has one.
  const s = input.statuses?.find((x) => x.id === id);
  if (s !== undefined) return { status: s.status, ...(s.reasons.length > 0 ? { reason: s.reasons.join('; ') } : {}) };
  if (input.ran !== undefined && !input.ran.includes(id)) return { status: 'not run' };
  return { status: 'ran' };
}

/** The finding's VM: its own field when present, else the VM its BDF is assigned to. */
function vmOf(f: HtmlFinding, s: Snapshot): string | undefined {
  if (typeof f.vm === 'string') return f.vm;
  return f.bdf === undefined ? undefined : s.devices.find((d) => d.bdf === f.bdf)?.vm;
}

function severityCards(findings: readonly HtmlFinding[]): string {
  const active = findings.filter((f) => !isSuppressed(f));
  const c = countBySeverity(active);
  return SEVERITIES.map((s) => `<div class="card sev-${s}${c[s] === 0 ? ' zero' : ''}"><b>${c[s]}</b><span>${s}</span></div>`).join('');
}

function findingItem(page: Page, f: HtmlFinding, n: number, anchor: string, s: Snapshot, maps: readonly { id: string; title: string }[]): string {
  const meta = page.metas.get(f.check);
  const vm = vmOf(f, s);
  const where = [f.bdf, f.unit !== undefined ? `unit ${f.unit}` : undefined, f.did !== undefined ? `DID ${f.did}` : undefined, vm !== undefined ? `VM ${vm}` : undefined]
    .filter((x): x is string => x !== undefined);
  const tags: string[] = [];
  if (isSuppressed(f)) tags.push(`<span class="tag">suppressed${suppressionReason(f) !== undefined ? ': ' + esc(suppressionReason(f)!) : ''}</span>`);
  if (typeof f.baselineState === 'string') tags.push(`<span class="tag ${f.baselineState === 'new' ? 'new' : ''}">${esc(f.baselineState)}</span>`);
  const facts: string[] = [];
  if (meta && meta.defaultSeverity !== f.severity) facts.push(`Severity ${esc(f.severity)} (default ${esc(meta.defaultSeverity)}${f.severityReason ? `: ${esc(f.severityReason)}` : ''}).`);
  else if (f.severityReason) facts.push(`Severity: ${esc(f.severityReason)}.`);
  if (f.source) facts.push(`Source <code>${esc(sourceLabel(f.source))}</code>.`);
  if (typeof f.fingerprint === 'string') facts.push(`Fingerprint <code>${esc(f.fingerprint)}</code>.`);
  if (maps.length > 0) facts.push(`Marked in the address map${maps.length > 1 ? 's' : ''} of ${maps.map((m) => `<a href="#${m.id}">${esc(m.title)}</a>`).join(', ')}.`);
  const evidence = Object.keys(f.evidence).length > 0 ? `<details class="evidence"><summary>Evidence</summary><pre>${esc(JSON.stringify(f.evidence, null, 2))}</pre></details>` : '';
  const about = meta
    ? `<details class="about"${attr('data-src', page.descId(f.check))}><summary>About <code>${esc(f.check)}</code></summary>` +
      `<div class="desc"><p><a href="#${page.descId(f.check)}">The check's description</a> (below).</p></div><p class="note">More: ${page.docLink(f.check)}</p></details>`
    : `<p class="note">No description: <code>${esc(f.check)}</code> is not among the known checks.</p>`;
  return (
    `<li class="finding sev-${f.severity}${isSuppressed(f) ? ' suppressed' : ''}" id="${anchor}"${attr('data-severity', f.severity)}${attr('data-check', f.check)}${isSuppressed(f) ? ' data-suppressed=""' : ''}>` +
    `<div class="fhead"><span class="num">#${n}</span><span class="badge sev-${f.severity}">${esc(f.severity)}</span><code class="check">${esc(f.check)}</code>` +
    (where.length > 0 ? `<span class="where">${esc(where.join(' · '))}</span>` : '') + tags.join('') + '</div>' +
    `<p class="msg">${esc(f.message)}</p>` + (facts.length > 0 ? `<p class="note">${facts.join(' ')}</p>` : '') + evidence + about + '</li>'
  );
}

/** Severity chips, the check menu, the suppressed switch and the count: one bar for the page. */
function filterBar(findings: readonly HtmlFinding[]): string {
  const bySev = countBySeverity(findings);
  const checks = new Map<string, number>();
  for (const f of findings) checks.set(f.check, (checks.get(f.check) ?? 0) + 1);
  const suppressed = findings.filter(isSuppressed).length;
  let out = `<div class="filters"><span class="lab">Severity</span>`;
  for (const s of SEVERITIES) out += `<label class="chip sev-${s}"><input type="checkbox" data-filter="severity" value="${s}" checked>${s} <b>${bySev[s]}</b></label>`;
  out += `<label><span class="lab">Check</span> <select data-filter="check"><option value="">all checks (${findings.length})</option>`;
  for (const [id, n] of [...checks].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out += `<option${attr('value', id)}>${esc(id)} (${n})</option>`;
  out += '</select></label>';
  if (suppressed > 0) out += `<label class="chip"><input type="checkbox" data-filter="suppressed">show suppressed <b>${suppressed}</b></label>`;
  return out + `<span class="count" data-count>${plural(findings.length, 'finding')}</span></div>`;
}

interface CaptureIds {
  prefix: string;
}

function findingsList(page: Page, findings: readonly HtmlFinding[], s: Snapshot, ids: CaptureIds, numbers: Map<HtmlFinding, number>, plan: MapPlan): string {
  if (findings.length === 0) return '<p class="note">No findings.</p>';
  let out = '<ol class="findings">';
  for (const f of findings) out += findingItem(page, f, numbers.get(f)!, `${ids.prefix}f${numbers.get(f)}`, s, plan.byFinding.get(numbers.get(f)!) ?? []);
  return out + '</ol><p class="note" data-findings-empty hidden>No finding matches the filters.</p>';
}

function checksTable(page: Page, input: HtmlReportInput, findings: readonly HtmlFinding[]): string {
  const per = new Map<string, number>();
  for (const f of findings) per.set(f.check, (per.get(f.check) ?? 0) + 1);
  let out = '<table><thead><tr><th>check</th><th>status</th><th>findings</th><th>what it looks for</th></tr></thead><tbody>';
  for (const c of input.checks) {
    const st = statusOf(input, c.id);
    const n = per.get(c.id) ?? 0;
    const name = n > 0 ? `<a href="#${page.descId(c.id)}"><code>${esc(c.id)}</code></a>` : `<code>${esc(c.id)}</code>`;
    out += `<tr><td>${name}</td><td>${esc(st.status)}${st.reason ? ` <span class="note">— ${esc(st.reason)}</span>` : ''}</td><td class="n">${n}</td><td>${esc(c.summary)}</td></tr>`;
  }
  return out + '</tbody></table>';
}

/** Legend of the address maps' colours, once per capture. */
function legend(): string {
  return (
    '<div class="legend">' +
    HOST_CLASSES.map((c) => `<span><i class="sw k-${c}"></i>${esc(HOST_CLASS_TEXT[c])}</span>`).join('') +
    '<span><i class="sw flag"></i>flagged by a finding (#n)</span><span><i class="sw ram"></i>host RAM</span><span><i class="sw nonram"></i>host non-RAM</span></div>'
  );
}

function domainTitle(m: VmDomainMap): string {
  const owner = m.vms.length > 0 ? `VM ${m.vms.join(', ')}` : `assigned device ${m.devices.join(', ')}`;
  return `${owner} — domain DID ${m.did} on unit ${m.unitName !== undefined ? `${m.unitName} ` : ''}${hex(m.unit)}`;
}

/** The VM domains' maps and the flagged ranges each finding puts on them (with the maps' element ids). */
interface MapPlan {
  maps: VmDomainMap[];
  flags: Map<string, FlagMark[]>;
  mapId: Map<string, string>;
  /** Finding number → ids and titles of the maps that mark its ranges. */
  byFinding: Map<number, { id: string; title: string }[]>;
}

function planMaps(input: HtmlReportInput, findings: readonly HtmlFinding[], ids: CaptureIds, numbers: Map<HtmlFinding, number>): MapPlan {
  const maps = vmDomainMaps(input.snapshot);
  const flags = new Map<string, FlagMark[]>();
  const mapId = new Map(maps.map((m, i) => [m.key, `${ids.prefix}map${i + 1}`]));
  const byFinding = new Map<number, { id: string; title: string }[]>();
  for (const f of findings) {
    const n = numbers.get(f)!;
    for (const r of flaggedRanges(f)) {
      for (const m of maps) {
        if (m.did !== r.did || (r.unit !== undefined && m.unit !== r.unit)) continue;
        const list = flags.get(m.key) ?? [];
        list.push({ n, anchor: `${ids.prefix}f${n}`, check: f.check, severity: f.severity, hpaPfn: r.hpaPfn, pages: r.pages, ...(r.iovaPfn !== undefined ? { iovaPfn: r.iovaPfn } : {}) });
        flags.set(m.key, list);
        const links = byFinding.get(n) ?? [];
        if (!links.some((l) => l.id === mapId.get(m.key))) links.push({ id: mapId.get(m.key)!, title: domainTitle(m) });
        byFinding.set(n, links);
      }
    }
  }
  return { maps, flags, mapId, byFinding };
}

function addressMaps(input: HtmlReportInput, plan: MapPlan): string {
  const { maps } = plan;
  if (maps.length === 0) return '<p class="note">No VM domain with known mappings: the capture has no page tables of a domain an assigned device uses.</p>';
  const flagsByDomain = plan.flags;
  let out = legend();
  for (const m of maps) {
    const flags = flagsByDomain.get(m.key) ?? [];
    const title = domainTitle(m);
    const total = m.pagesByClass.reduce((a, b) => a + b, 0);
    const parts = HOST_CLASSES.map((c, i) => [c, m.pagesByClass[i]] as const).filter(([, p]) => p > 0)
      .map(([c, p]) => `<span><i class="sw k-${c}"></i>${esc(humanBytes(BigInt(p) << 12n))} ${esc(HOST_CLASS_TEXT[c])}</span>`).join('');
    out += `<div class="panel amap-panel" id="${plan.mapId.get(m.key)!}"${attr('data-domain', `${hex(m.unit)}/${m.did}`)}><h3>${esc(title)}</h3>`;
    out += `<p class="meta">${esc(`root ${hex(m.root)} · ${m.kind} · ${plural(m.mappings.length, 'mapping')} · ${humanBytes(BigInt(total) << 12n)} mapped · devices ${m.devices.join(', ')}${m.complete ? '' : ' · walk incomplete'}`)}</p>`;
    out += `<div class="legend">${parts}</div>`;
    out += addressMapSvg(m, flags, input.snapshot.memoryMapKnown ? input.snapshot.memoryMap : [], `address map of ${title}`);
    if (flags.length > 0) {
      out += '<table class="flags"><thead><tr><th>#</th><th>check</th><th>host-physical</th><th>IOVA</th><th>size</th></tr></thead><tbody>';
      for (const f of flags) {
        out += `<tr><td><a href="#${esc(f.anchor)}">#${f.n}</a></td><td class="sev-${f.severity}"><code>${esc(f.check)}</code></td><td class="mono">${addrOf(f.hpaPfn)}</td>` +
          `<td class="mono">${f.iovaPfn !== undefined ? addrOf(f.iovaPfn) : '—'}</td><td class="n">${esc(humanBytes(BigInt(f.pages) << 12n))}</td></tr>`;
      }
      out += '</tbody></table>';
      if (flags.length > MAX_FLAG_MARKS) out += `<p class="note">The map marks the first ${MAX_FLAG_MARKS} flagged ranges.</p>`;
    }
    out += '</div>';
  }
  return out;
}

function unitsSection(input: HtmlReportInput, findings: readonly HtmlFinding[]): string {
  const tops = unitTopologies(input.snapshot);
  if (tops.length === 0) return '<p class="note">The capture has no remapping unit.</p>';
  const worst = worstByBdf(findings.filter((f) => !isSuppressed(f)));
  let out = '';
  for (const t of tops) {
    const name = `${t.name !== undefined ? t.name + ' ' : ''}${(t as { baseUnknown?: boolean }).baseUnknown ? '(base unknown)' : hex(t.registerBase)}`;
    const state = [t.mode, t.translationEnabled === undefined ? 'translation state unknown' : t.translationEnabled ? 'translation on' : 'translation OFF', `segment ${t.segment}`]
      .filter((x): x is string => x !== undefined).join(' · ');
    out += `<div class="panel"><h3>Unit ${esc(name)}</h3><p class="meta">${esc(state)} · ${plural(t.devices.length, 'device')} · ${plural(t.domains.length, 'domain')}</p>`;
    out += t.devices.length + t.domains.length > 0 ? topologySvg(t, worst, `unit ${name}: devices, context entries, domains and VMs`) : '<p class="note">No context entry and no domain.</p>';
    out += '</div>';
  }
  return out;
}

/** One capture's sections. `prefix` keeps element ids apart in a fleet. */
function captureBody(page: Page, input: HtmlReportInput, prefix: string, withFilters: boolean): string {
  const s = input.snapshot;
  for (const c of input.checks) if (!page.metas.has(c.id)) page.metas.set(c.id, c);
  const findings = sortFindings(input.findings) as HtmlFinding[];
  const numbers = new Map<HtmlFinding, number>();
  findings.forEach((f, i) => { numbers.set(f, i + 1); });
  const ids: CaptureIds = { prefix };
  const sc = snapshotCounts(s);
  const assigned = new Set<string>();
  for (const t of unitTopologies(s)) for (const d of t.devices) if (d.assigned) assigned.add(d.bdf);
  let out = `<div class="cards">${severityCards(findings)}` +
    `<div class="card"><b>${sc.units}</b><span>${sc.units === 1 ? 'unit' : 'units'}</span></div>` +
    `<div class="card"><b>${sc.presentContexts}</b><span>present contexts</span></div>` +
    `<div class="card"><b>${sc.domains}</b><span>${sc.domains === 1 ? 'domain' : 'domains'}</span></div>` +
    `<div class="card"><b>${s.vms.length}</b><span>${s.vms.length === 1 ? 'VM' : 'VMs'}</span></div>` +
    `<div class="card"><b>${assigned.size}</b><span>assigned devices</span></div></div>`;
  const parts = s.capture.parts.filter((p) => p.kind !== 'ignored');
  if (parts.length > 0) out += `<p class="meta">Parts: ${parts.map((p) => `<code>${esc(p.path)}</code> (${esc(p.kind)})`).join(', ')}</p>`;

  out += `<h2 id="${prefix}findings">Findings</h2>`;
  if (withFilters) out += filterBar(findings);
  const plan = planMaps(input, findings, ids, numbers);
  out += findingsList(page, findings, s, ids, numbers, plan);
  if (input.absent !== undefined && input.absent.length > 0) {
    out += `<h3>Absent since the baseline</h3><ul>${input.absent.map((f) => `<li><code>${esc(f.check)}</code> ${esc([f.bdf, f.unit].filter(Boolean).join(' · '))} — ${esc(f.message)}</li>`).join('')}</ul>`;
  }
  out += `<h2 id="${prefix}units">Remapping units</h2>` + unitsSection(input, findings);
  out += `<h2 id="${prefix}maps">Address maps of the VM domains</h2>` + addressMaps(input, plan);
  out += `<h2 id="${prefix}checks">Checks</h2>` + checksTable(page, input, findings);
  if (s.warnings.length > 0) {
    out += `<h2 id="${prefix}warnings">Capture warnings</h2><ul>`;
    for (const w of s.warnings) {
      const src = sourceLabel(w.source);
      out += `<li>${src ? `<code>${esc(src)}</code>: ` : ''}${esc(w.message)}</li>`;
    }
    out += '</ul>';
  }
  return out;
}

/** Descriptions of the checks the page refers to, once each (the findings' "About" opens a copy). */
function descriptions(page: Page): string {
  if (page.described.size === 0) return '';
  let out = '<h2 id="about-checks">About the checks</h2>';
  for (const [id, elementId] of page.described) {
    const meta = page.metas.get(id);
    if (meta === undefined) continue;
    out += `<div class="panel" id="${elementId}"><h3><code>${esc(id)}</code> <span class="note">default ${esc(meta.defaultSeverity)}</span></h3>` +
      `<p>${esc(meta.summary)}</p><div class="desc">${renderMarkdown(meta.description)}</div><p class="note">More: ${page.docLink(id)}</p></div>`;
  }
  return out;
}

function sha256(text: string): string {
  return Buffer.from(digest(text)).toString('base64');
}

function document(title: string, body: string, tool: ToolInfo): string {
  // Only this page's own style and script may run; nothing may be fetched, framed or submitted.
  const csp = `default-src 'none'; style-src 'sha256-${sha256(CSS)}'; script-src 'sha256-${sha256(JS)}'; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'`;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    // The policy is this file's own text (no capture data, no double quote): written as is.
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="generator"${attr('content', `${tool.name} ${tool.version}`)}>` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    body +
    `<div id="tip" hidden></div><footer>${esc(tool.name)} ${esc(tool.version)} · a self-contained report: no network, nothing loaded from elsewhere.</footer>` +
    `<script>${JS}</script></body></html>\n`
  );
}

/** The report of one capture. */
export function renderHtml(input: HtmlReportInput, opts: HtmlOptions = {}): string {
  const page = new Page(opts);
  const tool = input.tool ?? TOOL;
  const s = input.snapshot;
  let body = `<header><h1>dmarsift report</h1><p class="meta">Capture <code>${esc(s.capture.path)}</code> · ${esc(tool.name)} ${esc(tool.version)}</p></header>`;
  body += '<nav class="toc"><a href="#findings">Findings</a><a href="#units">Remapping units</a><a href="#maps">Address maps</a><a href="#checks">Checks</a>' +
    (s.warnings.length > 0 ? '<a href="#warnings">Capture warnings</a>' : '') + '</nav>';
  body += captureBody(page, input, '', true);
  body += descriptions(page);
  return document(`dmarsift report — ${s.capture.path}`, body, tool);
}

/** Worst finding of a capture (the first in report order), not counting suppressed ones. */
function worstOf(findings: readonly HtmlFinding[]): HtmlFinding | undefined {
  return sortFindings(findings.filter((f) => !isSuppressed(f)))[0] as HtmlFinding | undefined;
}

/**
 * The report of several captures: a summary table with a row per capture (an unreadable capture
 * is a row with its error), one filter bar for every finding on the page, then each capture's
 * sections as in the single report, folded.
 */
export function renderHtmlFleet(entries: readonly FleetEntry[], opts: HtmlOptions = {}): string {
  const page = new Page(opts);
  const tool = entries.find((e) => e.input?.tool !== undefined)?.input?.tool ?? TOOL;
  const all = entries.flatMap((e) => (e.input ? e.input.findings : []));
  const failed = entries.filter((e) => e.input === undefined || e.error !== undefined).length;
  let body = `<header><h1>dmarsift fleet report</h1><p class="meta">${plural(entries.length, 'capture')}${failed > 0 ? `, ${failed} not analysed` : ''} · ${esc(tool.name)} ${esc(tool.version)}</p></header>`;
  body += `<div class="cards">${severityCards(all)}</div>`;
  body += '<h2>Captures</h2><table class="fleet"><thead><tr><th>capture</th><th class="n">units</th><th class="n">assigned devices</th>' +
    SEVERITIES.map((s) => `<th class="n">${s}</th>`).join('') + '<th>worst check</th></tr></thead><tbody>';
  entries.forEach((e, i) => {
    const link = `<a href="#c${i + 1}-top">${esc(e.label)}</a>`;
    if (e.input === undefined) {
      body += `<tr class="failed"><td>${esc(e.label)}</td><td colspan="${3 + SEVERITIES.length}">not analysed: ${esc(e.error ?? 'unknown error')}</td></tr>`;
      return;
    }
    const active = e.input.findings.filter((f) => !isSuppressed(f));
    const c = countBySeverity(active);
    const assigned = new Set<string>();
    for (const t of unitTopologies(e.input.snapshot)) for (const d of t.devices) if (d.assigned) assigned.add(d.bdf);
    const worst = worstOf(e.input.findings);
    const why = e.error !== undefined ? ` <span class="note">not analysed: ${esc(e.error)}</span>` : '';
    body += `<tr${e.error !== undefined ? ' class="failed"' : ''}><td>${link}</td><td class="n">${e.input.snapshot.units.length}</td><td class="n">${assigned.size}</td>` +
      SEVERITIES.map((s) => `<td class="n${c[s] > 0 ? ' sev-' + s : ''}">${c[s]}</td>`).join('') +
      `<td>${worst ? `<code>${esc(worst.check)}</code>` : '—'}${why}</td></tr>`;
  });
  body += '</tbody></table>';
  body += '<h2>Findings of every capture</h2>' + filterBar(all);
  entries.forEach((e, i) => {
    if (e.input === undefined) return;
    const n = e.input.findings.length;
    body += `<details class="capture" id="c${i + 1}-top"${n > 0 ? ' open' : ''}><summary>${esc(e.label)} <span class="note">(${plural(n, 'finding')})</span></summary>`;
    body += `<p class="meta">Capture <code>${esc(e.input.snapshot.capture.path)}</code></p>`;
    body += captureBody(page, e.input, `c${i + 1}-`, false) + '</details>';
  });
  body += descriptions(page);
  return document('dmarsift fleet report', body, tool);
}
