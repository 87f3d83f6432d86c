/**
 * Finds the parts of a capture: a `capture.json` manifest names them, otherwise every file of the
 * directory (subdirectories too: newer kernels put debugfs files in per-device folders) is
 * recognised by its content. Options given on the command line replace parts of the same kind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import type { Part, PartKind } from '../model/types.js';
import type { CaptureOptions } from './options.js';
import { readText, statOrThrow } from './read.js';
import { sniffPart } from './sniff.js';

export interface DiscoveredPart extends Part {
  absPath: string;
}

export const MANIFEST = 'capture.json';
const KNOWN_KINDS: PartKind[] = [
  'dmar', 'registers', 'memory', 'dmardump-text', 'debugfs-translation', 'debugfs-domain', 'dmesg', 'pci', 'bridges',
  'vm-cmdlines', 'memory-map', 'ignored',
];
const MAX_FILES = 10000;
const MAX_DEPTH = 8;

export function discoverParts(capturePath: string, opts: CaptureOptions): DiscoveredPart[] {
  const parts: DiscoveredPart[] = [];
  if (capturePath !== '') {
    const st = statOrThrow(capturePath);
    if (st.isDirectory()) {
      const manifest = path.join(capturePath, MANIFEST);
      if (fs.existsSync(manifest)) parts.push(...readManifest(capturePath, manifest));
      else parts.push(...scanDirectory(capturePath));
    } else {
      const sniffed = sniffPart(capturePath);
      if (sniffed.kind === 'ignored') throw new InputError(`not a capture part dmarsift recognises (${sniffed.note ?? 'unknown content'})`, { file: capturePath });
      parts.push({ ...sniffed, path: path.basename(capturePath), absPath: path.resolve(capturePath) });
    }
  }
  applyOptionParts(parts, opts);
  return parts.filter((p) => keep(p.kind, opts));
}

function keep(kind: PartKind, opts: CaptureOptions): boolean {
  if (kind === 'ignored') return true;
  if (opts.only && !opts.only.includes(kind)) return false;
  if (opts.ignore && opts.ignore.includes(kind)) return false;
  return true;
}

function scanDirectory(root: string): DiscoveredPart[] {
  const out: DiscoveredPart[] = [];
  const seenDirs = new Set<string>();
  const visit = (dir: string, depth: number): void => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (seenDirs.has(real) || depth > MAX_DEPTH) return;
    seenDirs.add(real);
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.length >= MAX_FILES) throw new InputError(`more than ${MAX_FILES} files: is this really a capture directory?`, { file: root });
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs);
      if (e.isDirectory() || (e.isSymbolicLink() && isDir(abs))) {
        visit(abs, depth + 1);
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) continue;
      out.push({ ...sniffPart(abs), path: rel, absPath: abs });
    }
  };
  visit(root, 0);
  return out;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function lineOfPosition(text: string, message: string): number | undefined {
  const m = /position (\d+)/.exec(message);
  if (!m) {
    const lc = /line (\d+)/.exec(message);
    return lc ? Number(lc[1]) : undefined;
  }
  return text.slice(0, Number(m[1])).split('\n').length;
}

function readManifest(root: string, file: string): DiscoveredPart[] {
  const text = readText(file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const line = lineOfPosition(text, (e as Error).message);
    throw new InputError(`not valid JSON: ${(e as Error).message}`, line !== undefined ? { file, line } : { file });
  }
  const parts = (doc as { parts?: unknown }).parts;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(parts)) {
    throw new InputError('expected an object with a "parts" array', { file, line: 1 });
  }
  const out: DiscoveredPart[] = [];
  const listed = new Set<string>();
  parts.forEach((p: unknown, i: number) => {
    const where = `parts[${i}]`;
    if (typeof p !== 'object' || p === null) throw new InputError(`${where}: expected an object`, { file });
    const { kind, path: rel, unit, format } = p as Record<string, unknown>;
    if (typeof kind !== 'string' || !(KNOWN_KINDS as string[]).includes(kind)) {
      throw new InputError(`${where}: unknown kind ${JSON.stringify(kind)} (known: ${KNOWN_KINDS.join(', ')})`, { file });
    }
    if (typeof rel !== 'string' || rel === '') throw new InputError(`${where}: "path" must be a non-empty string`, { file });
    const abs = path.resolve(root, rel);
    if (!fs.existsSync(abs)) throw new InputError(`${where}: ${rel} does not exist`, { file });
    const part: DiscoveredPart = { kind: kind as PartKind, path: rel, absPath: abs };
    if (typeof format === 'string') part.format = format;
    if (unit !== undefined) {
      const n = typeof unit === 'string' ? Number(unit) : unit;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InputError(`${where}: "unit" must be a register base such as "0xfed90000"`, { file });
      part.unit = n;
    }
    listed.add(abs);
    out.push(part);
  });
  out.push({ kind: 'ignored', path: MANIFEST, absPath: file, note: 'manifest' });
  // Files the manifest does not name are listed as ignored, so the report shows them.
  for (const f of fs.readdirSync(root, { withFileTypes: true })) {
    // resolve, not join: `listed` holds absolute paths even when the capture path is relative.
    const abs = path.resolve(root, f.name);
    if (f.isFile() && abs !== path.resolve(file) && !listed.has(abs)) out.push({ kind: 'ignored', path: f.name, absPath: abs, note: 'not named in capture.json' });
  }
  return out;
}

function applyOptionParts(parts: DiscoveredPart[], opts: CaptureOptions): void {
  const given: [PartKind | 'debugfs' | 'text', string[] | undefined][] = [
    ['dmar', opts.dmar === undefined ? undefined : [opts.dmar]],
    ['registers', opts.registers],
    ['memory', opts.memory === undefined ? undefined : [opts.memory]],
    ['dmardump-text', opts.dmardump],
    ['debugfs', opts.debugfs],
    ['dmesg', opts.dmesg],
    ['pci', opts.pci],
    ['vm-cmdlines', opts.vms],
    ['memory-map', opts.memoryMap],
  ];
  for (const [kind, files] of given) {
    if (!files || files.length === 0) continue;
    const replaced: PartKind[] = kind === 'debugfs' ? ['debugfs-translation', 'debugfs-domain'] : kind === 'pci' ? ['pci', 'bridges'] : [kind as PartKind];
    for (let i = parts.length - 1; i >= 0; i--) if (replaced.includes(parts[i].kind)) parts.splice(i, 1);
    for (const f of files) {
      statOrThrow(f);
      const abs = path.resolve(f);
      let k: PartKind = kind as PartKind;
      let format: string | undefined;
      if (kind === 'debugfs' || kind === 'pci' || kind === 'registers') {
        const s = sniffPart(abs);
        if (kind === 'debugfs' && s.kind !== 'debugfs-translation' && s.kind !== 'debugfs-domain') {
          throw new InputError('--debugfs: neither dmar_translation_struct nor domain_translation_struct', { file: f, line: 1 });
        }
        if (kind === 'debugfs' || (kind === 'pci' && s.kind === 'bridges')) k = s.kind;
        format = s.format;
      }
      const part: DiscoveredPart = { kind: k, path: f, absPath: abs };
      if (format) part.format = format;
      parts.push(part);
    }
  }
}
