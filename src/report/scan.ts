/** `scan` output: the candidates as a table or as JSON (schema/scan.schema.json). */
import type { ScanCandidate, ScanResult } from '../scan/scan.js';
import { hex } from '../util/hex.js';
import { bold, columns, dim, humanBytes, plural } from './format.js';

const SCAN_SCHEMA_VERSION = 1;

/** `rank` is null for an unverified candidate (its context tables are in lost bytes: not ranked). */
export function candidateToJson(c: ScanCandidate, rank: number | null): Record<string, unknown> {
  return {
    rank,
    root: hex(c.root),
    rtaddr: hex(c.rtaddr),
    layout: c.layout,
    confidence: c.confidence,
    fileOffset: c.fileOffset === undefined ? null : hex(c.fileOffset),
    rootEntries: c.rootEntries,
    buses: c.buses,
    contextTables: c.contextTables,
    contextEntries: c.contextEntries,
    dids: c.layout === 'legacy' ? c.dids : null,
    devices: c.devices,
    deep: c.deep,
    pasidEntries: c.pasidEntries ?? null,
    lost: c.lost,
    problems: c.problems,
  };
}

export function scanToJson(r: ScanResult, limit: number): Record<string, unknown> {
  return {
    schemaVersion: SCAN_SCHEMA_VERSION,
    image: r.image,
    format: r.format,
    haw: r.haw,
    bytesScanned: r.bytesScanned,
    pagesScanned: r.pagesScanned,
    rootLikePages: r.rootLikePages,
    seconds: Math.round(r.seconds * 1000) / 1000,
    candidateCount: r.candidates.length,
    candidates: r.candidates.slice(0, limit).map((c, i) => candidateToJson(c, i + 1)),
    unverifiedCount: r.unverified.length,
    unverified: r.unverified.slice(0, limit).map((c) => candidateToJson(c, null)),
    warnings: r.warnings,
  };
}

function deepText(c: ScanCandidate): string {
  const what = c.layout === 'legacy' ? 'SL table roots' : 'PASID dirs/tables';
  const base = `${c.deep.valid}/${c.deep.checked} ${what} valid`;
  if (c.layout === 'scalable' && c.pasidEntries) {
    const p = c.pasidEntries;
    const kinds = [[p.firstLevel, 'FL'], [p.secondLevel, 'SL'], [p.nested, 'nested'], [p.passThrough, 'PT']].filter(([n]) => Number(n) > 0).map(([n, k]) => `${n} ${k}`);
    return `${base}${kinds.length ? `; PASID entries ${kinds.join(', ')}` : ''}`;
  }
  return base;
}

function devicesText(c: ScanCandidate): string {
  const more = c.contextEntries - c.devices.length;
  return c.devices.join(' ') + (more > 0 ? ` (+${more})` : '');
}

/** Rows of the candidates table; `firstRank` null marks unverified candidates ("-", not ranked). */
function candidateRows(list: ScanCandidate[], firstRank: number | null = 1): string[][] {
  return list.map((c, i) => [
    firstRank === null ? '-' : String(firstRank + i), hex(c.rtaddr), c.layout,
    // Nothing readable below the root: no evidence either way.
    c.contextTables.pointers > c.lost.contextTables ? c.confidence.toFixed(3) : '?', String(c.buses.length),
    `${c.contextTables.valid}/${c.contextTables.pointers} valid${c.lost.contextTables ? `, ${c.lost.contextTables} lost` : ''}`,
    String(c.contextEntries), c.layout === 'legacy' ? String(c.dids) : '-',
    deepText(c), devicesText(c),
  ]);
}

const CANDIDATE_HEADER = ['#', 'RTADDR', 'layout', 'confidence', 'buses', 'context tables', 'entries', 'DIDs', 'deeper', 'functions'];

/** An argument as sh reads it back: bare when safe, else in single quotes ('' for an empty one). */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface ScanRenderOptions {
  color: boolean;
  limit: number;
  /** The image as the user named it. */
  imageLabel: string;
  /** `decode`'s arguments before `--rtaddr` for the suggested next command (default: the label). */
  decodeArgs?: string[];
}

export function renderScan(r: ScanResult, opts: ScanRenderOptions): string {
  const out: string[] = [];
  const rate = r.seconds > 0 ? `, ${humanBytes(Math.round(r.bytesScanned / r.seconds))}/s` : '';
  out.push(
    `${opts.imageLabel} (${r.format}): ${plural(r.pagesScanned, 'page')} (${humanBytes(r.bytesScanned)}) scanned in ${r.seconds.toFixed(2)} s${rate}; ` +
      `${plural(r.rootLikePages, 'page')} shaped like a root table, ${plural(r.candidates.length, 'candidate')} whose pointers lead to context tables` +
      (r.unverified.length ? `, ${r.unverified.length} unverified (context tables in lost bytes)` : ''),
  );
  // What the image reader saw (a segment cut short, overlaps) bears on every verdict below.
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.candidates.length === 0) {
    out.push('No root table found (no page of present, reserved-bit-clean root entries leading to well-formed context tables).');
  } else {
    const shown = r.candidates.slice(0, opts.limit);
    out.push(...candidateTable(shown, 1, opts.color, true));
    if (r.candidates.length > shown.length) out.push(dim(`… ${r.candidates.length - shown.length} more (--limit)`, opts.color));
  }
  if (r.unverified.length > 0) {
    const shown = r.unverified.slice(0, opts.limit);
    out.push('', 'Not ranked: their context tables are in bytes the image declares but lost (cut short), so what they held is unknown:');
    out.push(...candidateTable(shown, null, opts.color, false));
    if (r.unverified.length > shown.length) out.push(dim(`… ${r.unverified.length - shown.length} more (--limit)`, opts.color));
  }
  if (r.candidates.length === 0) return out.join('\n') + '\n';
  const decode = ['dmarsift', 'decode', ...(opts.decodeArgs ?? [opts.imageLabel])].map(shellWord).join(' ');
  const best = `${decode} --rtaddr ${hex(r.candidates[0].rtaddr)}`;
  out.push(
    '',
    r.unverified.length === 0
      ? `Decode the best one: ${best}   (or --rtaddr auto)`
      // --rtaddr auto refuses to choose here: the live table may be one that could not be checked.
      : `Decode the best checked one: ${best}   (but the image is cut short: a table not ranked above may be the live one, and this one stale)`,
  );
  return out.join('\n') + '\n';
}

function candidateTable(list: ScanCandidate[], firstRank: number | null, color: boolean, boldFirst: boolean): string[] {
  const laid = columns([CANDIDATE_HEADER, ...candidateRows(list, firstRank)], { right: [0, 3, 4, 6, 7] });
  const out = [dim(laid[0], color)];
  list.forEach((c, i) => {
    out.push(i === 0 && boldFirst ? bold(laid[i + 1], color) : laid[i + 1]);
    for (const p of c.problems) out.push(dim(`      ${p}`, color));
  });
  return out;
}

/** `scan --rtaddr ADDR`: that one page's evidence, or why it is no root table. */
export function renderOneCandidate(
  rtaddr: number,
  r: { candidate?: ScanCandidate; reason?: string; unknown?: true },
  warnings: readonly string[],
  color: boolean,
): string {
  const head = warnings.map((w) => `warning: ${w}\n`).join('');
  const c = r.candidate;
  if (!c) return `${head}${hex(rtaddr)}: ${r.unknown ? 'cannot tell whether it is a root table' : 'not a root table'}: ${r.reason ?? 'unknown reason'}\n`;
  const laid = columns([CANDIDATE_HEADER.slice(1), ...candidateRows([c]).map((row) => row.slice(1))], { right: [2, 3, 5, 6] });
  const lines = [dim(laid[0], color), laid[1], ...c.problems.map((p) => `      ${p}`)];
  return head + lines.join('\n') + '\n';
}
