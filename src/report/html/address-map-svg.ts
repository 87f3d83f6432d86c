/**
 * The address map of one VM domain as inline SVG: host-physical space as a band, the domain's
 * mapped host ranges coloured by what they hit (classes from src/checks/address-map.ts), the host
 * memory map under it, and the flagged ranges (findings' evidence) marked; below, the domain's
 * IOVA (guest-physical) space in the same colours. Hover texts carry the other side's address.
 *
 * Bound (tested in test/report/html.test.ts): whatever the number of mappings, one map has at most
 * MAX_MAP_ELEMENTS SVG elements —
 *   mapped runs   2 bands × 7 classes × 500   = 7,000   (band.ts: BAND_COLUMNS = 1000)
 *   memory map    2 kinds × 500              = 1,000
 *   flags         MAX_FLAG_MARKS × 2 bands × 4 =   256   (<a>, rect, triangle, number)
 *   the rest      svg, 3 labels, 2 bands and frames, ≤ 14 class groups, memory-map group,
 *                 MSI mark (3), 2 tick groups of ≤ 9 ticks × 2            ≤    70
 *                                                              total ≤ 8,326
 * Runs are grouped per class in one <g> each, so the colour lives in the stylesheet, not per rect.
 */
import { HOST_CLASSES, HOST_CLASS_TEXT, type VmDomainMap } from '../../checks/address-map.js';
import { MSI_END, MSI_START } from '../../checks/hpa-leak-mmio.js';
import { severityRank, type Severity } from '../../checks/types.js';
import type { MemoryRegion } from '../../model/types.js';
import { hex } from '../../util/hex.js';
import { humanBytes } from '../format.js';
import { bandRuns, BAND_COLUMNS, columnOf, maxRuns, niceAxis, type Axis } from './band.js';
import { attr, esc } from './escape.js';

/** Flag markers drawn per map; further flagged ranges are listed in the table under the map only. */
export const MAX_FLAG_MARKS = 32;
/** The element bound stated in the file comment. */
export const MAX_MAP_ELEMENTS = 2 * maxRuns(HOST_CLASSES.length) + maxRuns(2) + MAX_FLAG_MARKS * 2 * 4 + 70;

export interface FlagMark {
  /** Finding number in the report (the marker's label) and the element id it links to. */
  n: number;
  anchor: string;
  check: string;
  severity: Severity;
  hpaPfn: number;
  pages: number;
  iovaPfn?: number;
}

const LEFT = 92;
const RIGHT = 18;
const WIDTH = LEFT + BAND_COLUMNS + RIGHT;
const HPA_Y = 26;
const HPA_H = 30;
const MEM_Y = HPA_Y + HPA_H + 3;
const MEM_H = 6;
const HPA_TICKS_Y = MEM_Y + MEM_H;
const IOVA_Y = HPA_TICKS_Y + 46;
const IOVA_H = 18;
const IOVA_TICKS_Y = IOVA_Y + IOVA_H;
const HEIGHT = IOVA_TICKS_Y + 24;

/** Byte address of a page number, exact above 2^53 bytes. */
export function addrOf(pfn: number): string {
  return hex(BigInt(pfn) << 12n);
}

/** Last byte of [.., endPfn). */
function lastOf(endPfn: number): string {
  return hex((BigInt(endPfn) << 12n) - 1n);
}

function bytesOf(pages: number): string {
  return humanBytes(BigInt(pages) << 12n);
}

function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * A tick label, exact: the largest unit in which the value is a whole number of quarters
 * ("1.25 GiB", "768 MiB"), never a rounded one.
 */
export function tickLabel(pfn: number): string {
  if (pfn === 0) return '0';
  const units: [number, string][] = [[2 ** 28, 'TiB'], [2 ** 18, 'GiB'], [2 ** 8, 'MiB']];
  for (const [pages, name] of units) {
    const v = pfn / pages;
    if (v >= 1 && Number.isInteger(v * 4)) return `${v} ${name}`;
  }
  return `${pfn * 4} KiB`;
}

function ticks(axis: Axis, step: number, y: number): string {
  let out = `<g class="ticks">`;
  for (let p = axis.lo; p <= axis.hi; p += step) {
    const x = LEFT + columnOf(axis, p);
    const anchor = p === axis.lo ? 'start' : p === axis.hi ? 'end' : 'middle';
    out += `<line x1="${num(x)}" x2="${num(x)}" y1="${y}" y2="${y + 4}"/><text x="${num(x)}" y="${y + 15}" text-anchor="${anchor}">${esc(tickLabel(p))}</text>`;
  }
  return out + '</g>';
}

/** Runs of one band, one <g> per class, each rect with its hover text. */
function runsSvg(runs: ReturnType<typeof bandRuns>, y: number, h: number, tip: (r: ReturnType<typeof bandRuns>[number]) => string): string {
  let out = '';
  for (let c = 0; c < HOST_CLASSES.length; c++) {
    const mine = runs.filter((r) => r.cls === c);
    if (mine.length === 0) continue;
    out += `<g class="k-${HOST_CLASSES[c]}">`;
    for (const r of mine) out += `<rect x="${LEFT + r.col0}" y="${y}" width="${r.col1 - r.col0}" height="${h}"${attr('data-t', tip(r))}/>`;
    out += '</g>';
  }
  return out;
}

/** Where the last marker label of a band went, so a cluster of one finding's ranges gets one label. */
interface LabelState {
  x: number;
  n: number;
}

/** A marker to draw: a flagged range, or several of one finding that share columns. */
interface Mark {
  f: FlagMark;
  /** Where it starts on the band's axis and how many pages it spans there. */
  at: number;
  span: number;
  /** Further ranges of the same finding merged into it. */
  more: number;
}

function flagSvg(m: Mark, axis: Axis, y: number, h: number, band: 'hpa' | 'iova', last: LabelState): string {
  const f = m.f;
  let x0 = columnOf(axis, m.at);
  let x1 = columnOf(axis, m.at + m.span);
  // At least 3 units wide so a single page stays visible; centred on the range.
  if (x1 - x0 < 3) {
    const mid = (x0 + x1) / 2;
    x0 = Math.max(0, Math.min(BAND_COLUMNS - 3, mid - 1.5));
    x1 = x0 + 3;
  }
  const tip = `#${f.n} ${f.check} (${f.severity}) — HPA ${addrOf(f.hpaPfn)}–${lastOf(f.hpaPfn + f.pages)} (${bytesOf(f.pages)})${f.iovaPfn !== undefined ? `, IOVA ${addrOf(f.iovaPfn)}` : ''}${m.more > 0 ? `; and ${m.more} more range${m.more === 1 ? '' : 's'} of #${f.n} here` : ''}`;
  const cx = LEFT + (x0 + x1) / 2;
  const labelled = !(last.n === f.n && Math.abs(cx - last.x) < 16);
  if (labelled) {
    last.x = cx;
    last.n = f.n;
  }
  return (
    `<a href="#${esc(f.anchor)}" class="flag sev-${f.severity}"${attr('data-t', tip)}>` +
    `<rect class="flagged"${attr('data-band', band)}${attr('data-hpa', addrOf(f.hpaPfn))}${attr('data-pages', f.pages)} x="${num(LEFT + x0)}" y="${y - 4}" width="${num(x1 - x0)}" height="${h + 8}"/>` +
    (labelled ? `<path d="M${num(cx - 5)} ${y - 13}h10l-5 7z"/><text x="${num(cx)}" y="${y - 15}" text-anchor="middle">${f.n}</text>` : '') +
    '</a>'
  );
}

/**
 * The markers a band draws: one finding's ranges that touch the same or neighbouring columns
 * become one marker, then the most severe findings first, at most MAX_FLAG_MARKS, drawn in
 * finding order.
 */
function markSet(flags: readonly FlagMark[], axis: Axis, pos: (f: FlagMark) => number): Mark[] {
  const merged: Mark[] = [];
  let endCol = -Infinity;
  for (const f of [...flags].sort((a, b) => a.n - b.n || pos(a) - pos(b))) {
    const last = merged[merged.length - 1];
    const at = pos(f);
    if (last !== undefined && last.f.n === f.n && columnOf(axis, at) <= endCol + 1) {
      last.span = Math.max(last.span, at + f.pages - last.at);
      last.more++;
    } else merged.push({ f, at, span: f.pages, more: 0 });
    const cur = merged[merged.length - 1];
    endCol = columnOf(axis, cur.at + cur.span);
  }
  return merged
    .map((m, i) => ({ m, i }))
    .sort((a, b) => severityRank(b.m.f.severity) - severityRank(a.m.f.severity) || a.i - b.i)
    .slice(0, MAX_FLAG_MARKS)
    .sort((a, b) => a.i - b.i)
    .map((x) => x.m);
}

/** The domain's address map; `memoryMap` is drawn under the band when the capture has one. */
export function addressMapSvg(map: VmDomainMap, flags: readonly FlagMark[], memoryMap: readonly MemoryRegion[], title: string): string {
  const { pieces, mappings } = map;
  const n = pieces.length;

  // Host axis: everything mapped or flagged, and host RAM, from 0 to a round end.
  let hpaEnd = 0;
  for (let i = 0; i < n; i++) if (pieces.end[i] > hpaEnd) hpaEnd = pieces.end[i];
  for (const f of flags) hpaEnd = Math.max(hpaEnd, f.hpaPfn + f.pages);
  for (const m of memoryMap) if (m.type === 'ram') hpaEnd = Math.max(hpaEnd, Math.ceil(m.end / 4096));
  const h = niceAxis(hpaEnd);
  const hAxis: Axis = { lo: 0, hi: h.hi, columns: BAND_COLUMNS };

  // IOVA axis and the pieces' IOVAs.
  const iStart = new Float64Array(n);
  const iEnd = new Float64Array(n);
  let iovaEnd = 0;
  for (let i = 0; i < n; i++) {
    const mi = pieces.mapping[i];
    iStart[i] = mappings.iovaPfn[mi] + (pieces.start[i] - mappings.hpaPfn[mi]);
    iEnd[i] = iStart[i] + (pieces.end[i] - pieces.start[i]);
    if (iEnd[i] > iovaEnd) iovaEnd = iEnd[i];
  }
  for (const f of flags) if (f.iovaPfn !== undefined) iovaEnd = Math.max(iovaEnd, f.iovaPfn + f.pages);
  const iv = niceAxis(iovaEnd);
  const iAxis: Axis = { lo: 0, hi: iv.hi, columns: BAND_COLUMNS };

  const classText = (c: number): string => HOST_CLASS_TEXT[HOST_CLASSES[c]];
  const hpaRuns = bandRuns(hAxis, pieces.start, pieces.end, pieces.cls, n, HOST_CLASSES.length);
  const iovaRuns = bandRuns(iAxis, iStart, iEnd, pieces.cls, n, HOST_CLASSES.length);

  let svg = `<svg class="amap" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"${attr('aria-label', title)}` +
    `${attr('data-hlo', 0)}${attr('data-hhi', hAxis.hi)}${attr('data-ilo', 0)}${attr('data-ihi', iAxis.hi)}${attr('data-left', LEFT)}${attr('data-cols', BAND_COLUMNS)}>`;
  svg += `<text class="lbl" x="${LEFT - 8}" y="${HPA_Y + HPA_H / 2 + 4}" text-anchor="end">host-physical</text>`;
  svg += `<text class="lbl sub" x="${LEFT - 8}" y="${MEM_Y + MEM_H}" text-anchor="end">memory map</text>`;
  svg += `<text class="lbl" x="${LEFT - 8}" y="${IOVA_Y + IOVA_H / 2 + 4}" text-anchor="end">IOVA</text>`;

  // Host band: frame, mapped runs, memory-map strip, MSI reference, ticks.
  svg += `<g class="band" data-axis="h"><rect class="frame" x="${LEFT}" y="${HPA_Y}" width="${BAND_COLUMNS}" height="${HPA_H}"/>`;
  svg += runsSvg(hpaRuns, HPA_Y, HPA_H, (r) => {
    const mi = pieces.mapping[r.first];
    const iova = mappings.iovaPfn[mi] + (pieces.start[r.first] - mappings.hpaPfn[mi]);
    return `${classText(r.cls)} — HPA ${addrOf(r.startPfn)}–${lastOf(r.endPfn)}: ${bytesOf(r.pages)} in ${r.ranges} range${r.ranges === 1 ? '' : 's'}; first at IOVA ${addrOf(iova)}`;
  });
  svg += '</g>';
  if (memoryMap.length > 0) {
    const ms = memoryMap.filter((m) => m.end > m.start);
    const s = Float64Array.from(ms, (m) => Math.floor(m.start / 4096));
    const e = Float64Array.from(ms, (m) => Math.ceil(m.end / 4096));
    const k = Uint8Array.from(ms, (m) => (m.type === 'ram' ? 0 : 1));
    const runs = bandRuns(hAxis, s, e, k, ms.length, 2);
    svg += `<g class="mem">`;
    for (const r of runs) {
      svg += `<rect class="${r.cls === 0 ? 'ram' : 'nonram'}" x="${LEFT + r.col0}" y="${MEM_Y}" width="${r.col1 - r.col0}" height="${MEM_H}"${attr('data-t', `host ${r.cls === 0 ? 'RAM' : 'non-RAM (reserved, ACPI, MMIO…)'} ${addrOf(r.startPfn)}–${lastOf(r.endPfn)}`)}/>`;
    }
    svg += '</g>';
  }
  const msiPfn = MSI_START / 4096;
  if (msiPfn < hAxis.hi) {
    const x = LEFT + columnOf(hAxis, msiPfn);
    svg += `<g class="ref"${attr('data-t', `the MSI window ${hex(MSI_START)}–${hex(MSI_END - 1)}`)}><line x1="${num(x)}" x2="${num(x)}" y1="${HPA_Y - 2}" y2="${MEM_Y + MEM_H}"/><text x="${num(x + 3)}" y="${HPA_Y - 4}">MSI</text></g>`;
  }
  svg += ticks(hAxis, h.step, HPA_TICKS_Y);

  // IOVA band.
  svg += `<g class="band" data-axis="i"><rect class="frame" x="${LEFT}" y="${IOVA_Y}" width="${BAND_COLUMNS}" height="${IOVA_H}"/>`;
  svg += runsSvg(iovaRuns, IOVA_Y, IOVA_H, (r) => {
    const mi = pieces.mapping[r.first];
    const hpa = mappings.hpaPfn[mi] + (r.startPfn - mappings.iovaPfn[mi]);
    return `${classText(r.cls)} — IOVA ${addrOf(r.startPfn)}–${lastOf(r.endPfn)}: ${bytesOf(r.pages)} in ${r.ranges} range${r.ranges === 1 ? '' : 's'}; first at HPA ${addrOf(hpa)}`;
  });
  svg += '</g>';
  svg += ticks(iAxis, iv.step, IOVA_TICKS_Y);

  // Flags last, on top of everything.
  const lastH: LabelState = { x: -1e9, n: -1 };
  const lastI: LabelState = { x: -1e9, n: -1 };
  for (const m of markSet(flags, hAxis, (x) => x.hpaPfn)) svg += flagSvg(m, hAxis, HPA_Y, HPA_H, 'hpa', lastH);
  for (const m of markSet(flags.filter((x) => x.iovaPfn !== undefined), iAxis, (x) => x.iovaPfn!)) svg += flagSvg(m, iAxis, IOVA_Y, IOVA_H, 'iova', lastI);
  return svg + '</svg>';
}
