/** `scan` output: the candidates as a table or as JSON (schema/scan.schema.json). */
import type { ScanCandidate, ScanResult } from '../scan/scan.js';
import { hex } from '../util/hex.js';
import { bold, columns, dim, humanBytes, plural } from './format.js';

export const SCAN_SCHEMA_VERSION = 1;

export function candidateToJson(c: ScanCandidate, rank: number): Record<string, unknown> {
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

export function candidateRows(list: ScanCandidate[], firstRank = 1): string[][] {
  return list.map((c, i) => [
    String(firstRank + i), hex(c.rtaddr), c.layout, c.confidence.toFixed(3), String(c.buses.length),
    `${c.contextTables.valid}/${c.contextTables.pointers} valid`, String(c.contextEntries), c.layout === 'legacy' ? String(c.dids) : '-',
    deepText(c), devicesText(c),
  ]);
}

export const CANDIDATE_HEADER = ['#', 'RTADDR', 'layout', 'confidence', 'buses', 'context tables', 'entries', 'DIDs', 'deeper', 'functions'];

/** An argument as sh reads it back: bare when safe, else in single quotes ('' for an empty one). */
export function shellWord(arg: string): string {
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
      `${plural(r.rootLikePages, 'page')} shaped like a root table, ${plural(r.candidates.length, 'candidate')} whose pointers lead to context tables`,
  );
  if (r.candidates.length === 0) {
    out.push('No root table found (no page of present, reserved-bit-clean root entries leading to well-formed context tables).');
    return out.join('\n') + '\n';
  }
  const shown = r.candidates.slice(0, opts.limit);
  const laid = columns([CANDIDATE_HEADER, ...candidateRows(shown)], { right: [0, 3, 4, 6, 7] });
  out.push(dim(laid[0], opts.color));
  shown.forEach((c, i) => {
    out.push(i === 0 ? bold(laid[i + 1], opts.color) : laid[i + 1]);
    for (const p of c.problems) out.push(dim(`      ${p}`, opts.color));
  });
  if (r.candidates.length > shown.length) out.push(dim(`… ${r.candidates.length - shown.length} more (--limit)`, opts.color));
  const decode = ['dmarsift', 'decode', ...(opts.decodeArgs ?? [opts.imageLabel])].map(shellWord).join(' ');
  out.push('', `Decode the best one: ${decode} --rtaddr ${hex(r.candidates[0].rtaddr)}   (or --rtaddr auto)`);
  return out.join('\n') + '\n';
}

/** `scan --rtaddr ADDR`: that one page's evidence, or why it is no root table. */
export function renderOneCandidate(rtaddr: number, c: ScanCandidate | undefined, reason: string | undefined, color: boolean): string {
  if (!c) return `${hex(rtaddr)}: not a root table: ${reason ?? 'unknown reason'}\n`;
  const laid = columns([CANDIDATE_HEADER.slice(1), ...candidateRows([c]).map((r) => r.slice(1))], { right: [2, 3, 5, 6] });
  const lines = [dim(laid[0], color), laid[1], ...c.problems.map((p) => `      ${p}`)];
  return lines.join('\n') + '\n';
}
