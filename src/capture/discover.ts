/**
 * Finds the parts of a capture: a `capture.json` manifest names them, otherwise every file of the
 * directory (subdirectories too: newer kernels put debugfs files in per-device folders) is
 * recognised by its content. Options given on the command line replace parts of the same kind.
 *
 * A capture may come from a stranger: nothing outside its directory is read on its behalf. Every
 * path (a manifest's, or a symbolic link met while scanning) must stay inside the directory once
 * symbolic links are resolved, and every part must be a regular file — a FIFO would block the
 * reader and a device such as /dev/zero never ends. Both are exit-2 errors naming the file (and,
 * for the manifest, its line). Files named on the command line are the user's own choice and may
 * be anywhere, but must be regular files too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { Part, PartKind } from '../model/types.js';
import { type JValue, JsonReader } from '../util/json-lines.js';
import type { CaptureOptions } from './options.js';
import { fileTypeName, fsError, readText, statOrThrow } from './read.js';
import { sniffPart } from './sniff.js';
import { byCodeUnits } from '../util/compare.js';

export interface DiscoveredPart extends Part {
  absPath: string;
  /**
   * Said about a file that is not read although its name says it is a part (`iommu_regset` that
   * does not parse as one): the loader turns it into a capture warning.
   */
  warning?: string;
}

export const MANIFEST = 'capture.json';
const KNOWN_KINDS: PartKind[] = [
  'dmar', 'registers', 'memory', 'dmardump-text', 'debugfs-translation', 'debugfs-domain', 'dmesg', 'pci', 'bridges',
  'vm-cmdlines', 'memory-map', 'invalidation-queue', 'ir-translation', 'pci-config', 'ignored',
];
const MAX_FILES = 10000;
const MAX_DEPTH = 8;
/** capture.json is a short list of parts; a bigger one is not a manifest. */
const MANIFEST_LIMIT = 4 * 2 ** 20;

export function discoverParts(capturePath: string, opts: CaptureOptions): DiscoveredPart[] {
  const parts: DiscoveredPart[] = [];
  if (capturePath !== '') {
    const st = statOrThrow(capturePath);
    if (st.isDirectory()) {
      const root = realpath(capturePath);
      const manifest = path.join(capturePath, MANIFEST);
      if (lstatOrUndefined(manifest) !== undefined) parts.push(...readManifest(capturePath, root, manifest, (kind) => !keep(kind, opts)));
      else parts.push(...scanDirectory(capturePath, root));
    } else {
      const sniffed = sniffPart(capturePath);
      if (sniffed.kind === 'ignored') throw new InputError(`not a capture part dmarsift recognises (${sniffed.warning ?? sniffed.note ?? 'unknown content'})`, { file: capturePath });
      parts.push({ ...sniffed, path: path.basename(capturePath), absPath: path.resolve(capturePath) });
    }
  }
  applyOptionParts(parts, opts);
  return parts.filter((p) => keep(p.kind, opts));
}

function keep(kind: PartKind, opts: CaptureOptions): boolean {
  if (kind === 'ignored') return true;
  if (opts.only && !opts.only.includes(kind)) return false;
  if (opts.ignore?.includes(kind)) return false;
  return true;
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch (e) {
    throw fsError(e, p);
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** `real` (a resolved path) is inside the directory `root` (resolved too). */
function inside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/**
 * A file that is to be read as a part: a regular file once symbolic links are followed. Returns
 * its resolved path; throws an InputError naming `shown` (dangling link, loop, FIFO, device…).
 */
function regularFile(file: string, shown: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const link = lstatOrUndefined(file);
    if (code === 'ENOENT' && link?.isSymbolicLink()) {
      throw new InputError(`symbolic link to ${JSON.stringify(fs.readlinkSync(file))}, which does not exist`, { file: shown });
    }
    throw fsError(e, shown);
  }
  if (!st.isFile()) throw new InputError(`${fileTypeName(st)}, not a regular file: save what it holds to a file and name that file`, { file: shown });
  return realpath(file);
}

function scanDirectory(capturePath: string, root: string): DiscoveredPart[] {
  const out: DiscoveredPart[] = [];
  const seenDirs = new Set<string>();
  const visit = (dir: string, real: string, depth: number): void => {
    if (seenDirs.has(real) || depth > MAX_DEPTH) return;
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodeUnits(a.name, b.name));
    } catch (e) {
      throw fsError(e, dir);
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) throw new InputError(`more than ${MAX_FILES} files: is this really a capture directory?`, { file: capturePath });
      const abs = path.join(dir, e.name);
      const rel = path.relative(capturePath, abs);
      if (e.isDirectory()) {
        visit(abs, path.join(real, e.name), depth + 1);
        continue;
      }
      if (e.isSymbolicLink()) {
        const st = statOrUndefined(abs);
        if (st?.isDirectory()) {
          const target = realpath(abs);
          if (!inside(root, target) && target !== root) {
            throw new InputError('symbolic link to a directory outside the capture directory: not read (name its files with the part options instead)', { file: abs });
          }
          visit(abs, target, depth + 1);
          continue;
        }
      }
      const resolved = regularFile(abs, abs);
      if (!inside(root, resolved)) {
        throw new InputError('symbolic link to a file outside the capture directory: not read (name the file with the part option for its kind instead)', { file: abs });
      }
      out.push({ ...sniffPart(abs), path: rel, absPath: abs });
    }
  };
  visit(capturePath, root, 0);
  return out;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

type JObject = Extract<JValue, { kind: 'object' }>;

function field(obj: JObject, key: string): JValue | undefined {
  return obj.entries.find((e) => e.key === key)?.value;
}

/** The parts capture.json names; a part whose kind `leftOut` says --only/--ignore drop is neither read nor checked. */
function readManifest(capturePath: string, root: string, file: string, leftOut: (kind: PartKind) => boolean): DiscoveredPart[] {
  regularFile(file, file);
  const text = readText(file, MANIFEST_LIMIT);
  let doc: JValue;
  try {
    doc = new JsonReader(text, file).document();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`not valid JSON: ${e.message}`, { file, ...(e.line !== undefined ? { line: e.line } : {}) });
    throw e;
  }
  const fail = (message: string, line: number): never => {
    throw new InputError(message, { file, line });
  };
  if (doc.kind !== 'object') return fail('expected an object with a "parts" array', doc.line);
  const partsV = field(doc, 'parts');
  if (partsV === undefined || partsV.kind !== 'array') return fail('expected an object with a "parts" array', partsV?.line ?? doc.line);

  const out: DiscoveredPart[] = [];
  const listed = new Set<string>();
  const dirAbs = path.resolve(capturePath);
  for (const [i, p] of partsV.items.entries()) {
    const where = `parts[${i}]`;
    if (p.kind !== 'object') return fail(`${where}: expected an object`, p.line);
    const kindV = field(p, 'kind');
    const kind = kindV?.kind === 'string' ? kindV.value : undefined;
    if (kind === undefined || !(KNOWN_KINDS as string[]).includes(kind)) {
      return fail(`${where}: unknown kind ${kindV?.kind === 'string' ? JSON.stringify(kindV.value) : kindV ? `(${kindV.kind})` : '(missing)'} (known: ${KNOWN_KINDS.join(', ')})`, kindV?.line ?? p.line);
    }
    const pathV = field(p, 'path');
    if (kind !== 'ignored' && leftOut(kind as PartKind)) {
      // Named, so not listed as "not named in capture.json" either.
      if (pathV?.kind === 'string') listed.add(path.resolve(dirAbs, pathV.value));
      continue;
    }
    if (pathV?.kind !== 'string' || pathV.value === '') return fail(`${where}: "path" must be a non-empty string`, pathV?.line ?? p.line);
    const rel = pathV.value;
    const line = pathV.line;
    if (path.isAbsolute(rel)) return fail(`${where}: ${JSON.stringify(rel)}: paths in ${MANIFEST} must be relative to the capture directory`, line);
    const abs = path.resolve(dirAbs, rel);
    if (!inside(dirAbs, abs)) return fail(`${where}: ${JSON.stringify(rel)} leads outside the capture directory: not read`, line);
    if (lstatOrUndefined(abs) === undefined) return fail(`${where}: ${rel} does not exist`, line);
    let real: string;
    try {
      real = kind === 'ignored' ? realpath(abs) : regularFile(abs, rel);
    } catch (e) {
      if (e instanceof InputError) return fail(`${where}: ${rel}: ${e.message}`, line);
      throw e;
    }
    if (!inside(root, real)) return fail(`${where}: ${JSON.stringify(rel)} is a symbolic link leading outside the capture directory: not read`, line);
    const bytesV = field(p, 'bytes');
    if (bytesV !== undefined && kind !== 'ignored') {
      const bytes = bytesV.kind === 'number' ? Number(bytesV.text) : Number.NaN;
      if (!Number.isSafeInteger(bytes) || bytes < 0) return fail(`${where}: "bytes" must be the part's size, a whole number`, bytesV.line);
      const size = fs.statSync(real).size;
      if (size !== bytes) return fail(`${where}: ${rel} holds ${size} bytes where the manifest says ${bytes}: cut short or changed since it was captured (copy the capture again, or leave the part out with --ignore ${kind})`, bytesV.line);
    }
    const part: DiscoveredPart = { kind: kind as PartKind, path: rel, absPath: abs };
    const formatV = field(p, 'format');
    if (formatV?.kind === 'string') part.format = formatV.value;
    const unitV = field(p, 'unit');
    if (unitV !== undefined) {
      const n = unitAddress(unitV);
      if (n === undefined) return fail(`${where}: "unit" must be a register base such as "0xfed90000"`, unitV.line);
      part.unit = n;
    }
    listed.add(abs);
    out.push(part);
  }
  out.push({ kind: 'ignored', path: MANIFEST, absPath: file, note: 'manifest' });
  // Files the manifest does not name are listed as ignored, so the report shows them.
  for (const f of fs.readdirSync(capturePath, { withFileTypes: true })) {
    const abs = path.resolve(dirAbs, f.name);
    if (f.isFile() && abs !== path.resolve(file) && !listed.has(abs)) out.push({ kind: 'ignored', path: f.name, absPath: abs, note: 'not named in capture.json' });
  }
  return out;
}

/** A register base: "0x…" or a decimal integer, as a string or a JSON number; ≤ 52 bits. */
function unitAddress(v: JValue): number | undefined {
  const text = v.kind === 'string' ? v.value.trim() : v.kind === 'number' ? v.text : undefined;
  if (text === undefined || !/^(?:0x[0-9a-f]{1,13}|\d{1,16})$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xf_ffff_ffff_ffff ? n : undefined;
}

const OPTION_OF: Partial<Record<PartKind | 'debugfs', string>> = {
  dmar: '--dmar', registers: '--registers', memory: '--memory', 'dmardump-text': '--dmardump', debugfs: '--debugfs',
  dmesg: '--dmesg', pci: '--pci', 'vm-cmdlines': '--vms', 'memory-map': '--memory-map',
};

function applyOptionParts(parts: DiscoveredPart[], opts: CaptureOptions): void {
  const given: [PartKind | 'debugfs', string[] | undefined][] = [
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
    const replaced: PartKind[] = kind === 'debugfs' ? ['debugfs-translation', 'debugfs-domain'] : kind === 'pci' ? ['pci', 'bridges'] : [kind];
    for (let i = parts.length - 1; i >= 0; i--) if (replaced.includes(parts[i].kind)) parts.splice(i, 1);
    for (const f of files) {
      regularFile(f, f);
      const abs = path.resolve(f);
      let k: PartKind = kind === 'debugfs' ? 'debugfs-translation' : kind;
      let format: string | undefined;
      if (kind === 'debugfs' || kind === 'pci' || kind === 'registers') {
        const s = sniffPart(abs);
        if (kind === 'debugfs' && s.kind !== 'debugfs-translation' && s.kind !== 'debugfs-domain') {
          throw new InputError('--debugfs: neither dmar_translation_struct nor domain_translation_struct', { file: f, line: 1 });
        }
        if (kind === 'debugfs' || (kind === 'pci' && s.kind === 'bridges')) k = s.kind;
        format = s.format;
      }
      refuseContradiction(OPTION_OF[kind] ?? kind, f, k, opts);
      const part: DiscoveredPart = { kind: k, path: f, absPath: abs };
      if (format) part.format = format;
      parts.push(part);
    }
  }
}

/**
 * A part named with its option and excluded with --ignore/--only at the same time: the command
 * says two opposite things, so it is a usage error rather than a guess at which one was meant.
 */
function refuseContradiction(option: string, file: string, kind: PartKind, opts: CaptureOptions): void {
  if (opts.ignore?.includes(kind)) {
    throw new UsageError(`${option} ${file} contradicts --ignore ${opts.ignore.join(',')}: a part named on the command line cannot also be ignored (drop one of the two)`);
  }
  if (opts.only && !opts.only.includes(kind)) {
    throw new UsageError(`${option} ${file} contradicts --only ${opts.only.join(',')}, which leaves out ${kind} parts (add ${kind} to --only, or drop ${option})`);
  }
}
