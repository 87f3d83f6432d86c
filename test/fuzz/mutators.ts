/**
 * Structure-aware mutators and generators for the capture-level fuzz campaign
 * (test/fuzz/structured.test.ts). Where targets.ts feeds one decoder bytes or text, these change a
 * whole capture the way a damaged or hostile one differs from a good one, and the property is about
 * what dmarsift as a whole does with it:
 *
 * - entry64     write chosen 64-bit values into the capture's own table entries (root, context,
 *               PASID and page-table entries, found through the decoded model) in its memory image;
 * - regline     rewrite a register line of an `iommu_regset` (another value, a trailing comment,
 *               garbage after the number, CRLF, tabs, a duplicate);
 * - widen       put a number wider than 53 bits (or negative) into a text part's line;
 * - manifest    change a capture.json part: unit, path (also leaving the directory), kind;
 * - fan         generate page tables whose pages point at each other (fans, cycles, shared pages);
 * - nonregular  replace a part by a FIFO, a symlink to /dev/zero, a directory, a symlink loop;
 * - hugeline    add one huge line (MBs) to a text part.
 *
 * A seed capture is copied once into a workspace; each input edits the copy, runs, and the edit is
 * undone (binary edits are pwritten back, text files rewritten), so an input costs its run only.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCapture } from '../../src/capture/load.js';
import { checks } from '../../src/checks/index.js';
import { runChecks } from '../../src/checks/run.js';
import { InputError, UsageError } from '../../src/errors.js';
import { renderDecodeTable } from '../../src/report/decode-table.js';
import { renderFindingsJson } from '../../src/report/findings-json.js';
import type { AnalyzeReportInput } from '../../src/report/format.js';
import { findingsToJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { streamSnapshotJson } from '../../src/report/model-json.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderHtml } from '../../src/report/html/html.js';
import { renderFindingsTable } from '../../src/report/table.js';
import type { Snapshot } from '../../src/model/types.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { buildLegacyRootTable, SecondLevelTable } from '../../src/synth/tables.js';
import { capturePath } from '../helpers/captures.js';
import { REPO } from '../helpers/cli.js';
import { writeCapture } from '../hostile/helpers.js';

// ------------------------------------------------------------------ workspaces

// In the current test file's temporary directory (test/helpers/setup-tmp.ts), made again if gone.
let root: string | undefined;
let nWork = 0;

/** A private, writable copy of a capture directory (symlinks followed). */
export function workspace(src: string): string {
  if (root === undefined || !fs.existsSync(root)) root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-fuzz-struct-'));
  const dir = path.join(root, `w${nWork++}-${path.basename(src)}`);
  fs.cpSync(src, dir, { recursive: true, dereference: true });
  for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) fs.chmodSync(path.join(f.parentPath, f.name), 0o644);
  return dir;
}

/** Seed captures: samples with memory images and registers, and the real Linux captures. */
export const SEEDS = {
  legacySparse: path.join(REPO, 'samples', 'bhyve-host'),
  scalableSparse: path.join(REPO, 'samples', 'scalable-kvm-host'),
  realLegacy: capturePath('qemu-linux61-legacy'),
  realDebugfs: capturePath('qemu-linux61-debugfs'),
  realVfio: capturePath('qemu-linux61-vfio'),
} as const;

// ------------------------------------------------------------------ the in-process pipeline

/**
 * What `decode` and `analyze` do with a capture, in-process: load, run every check, render every
 * format. Throws what they would let escape.
 */
export function pipeline(dir: string): Snapshot {
  const c = openCapture(dir);
  let snapshot: Snapshot;
  try {
    snapshot = c.snapshot;
  } finally {
    c.close();
  }
  const findings = runChecks(snapshot);
  const input: AnalyzeReportInput = { snapshot, findings, checks: checks.map((k) => k.meta) };
  streamSnapshotJson(snapshot, () => undefined);
  renderDecodeTable(snapshot, { color: false, mappings: true });
  renderFindingsJson(input);
  renderSarif(input);
  findingsToJunit(input, { failOn: 'error' });
  renderMarkdown(input);
  renderFindingsTable(input, { color: false, width: 80 });
  renderHtml(input);
  return snapshot;
}

/** The pipeline's property: it returns, or throws the project's InputError/UsageError naming a file. */
export function pipelineOk(dir: string): Snapshot | undefined {
  try {
    return pipeline(dir);
  } catch (e) {
    if (e instanceof UsageError) return undefined;
    if (e instanceof InputError) {
      if (e.file === undefined) throw new Error(`InputError without a file: ${e.format()}`);
      return undefined;
    }
    throw e;
  }
}

// ------------------------------------------------------------------ values

/** 64-bit values worth writing into an entry: edges, reserved bits, wide pointers, and random ones. */
export function interesting64(pointers: bigint[] = []): fc.Arbitrary<bigint> {
  const consts = [
    0n, 1n, 3n, 0xfffn, (1n << 64n) - 1n, 1n << 63n, 1n << 62n, 0x7fn, 0x80n, 0x800n, 0x883n,
    0xfff000007f001001n, // bits 63:52 set over a present context (the example)
    0x000f_ffff_ffff_f001n, // the widest pointer a 52-bit HAW allows
    0x0010_0000_0000_0001n, // bit 52: beyond any HAW
    0xffff_ffff_ffff_f003n,
    0xdead_beef_0000_0000n,
  ];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...consts) },
    { weight: pointers.length ? 3 : 0, arbitrary: fc.record({ p: fc.constantFrom(...(pointers.length ? pointers : [0n])), flags: fc.constantFrom(0n, 1n, 3n, 0x83n, 0x803n, 0x7n) }).map(({ p, flags }) => p | flags) },
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 63 }).map((b) => 1n << BigInt(b)) },
  );
}

// ------------------------------------------------------------------ entry64

export interface EntrySite {
  /** File (absolute) and byte offset of the qword. */
  file: string;
  offset: number;
  kind: 'root' | 'context' | 'pasid' | 'table';
  what: string;
}

export interface EntrySeed {
  dir: string;
  sites: EntrySite[];
  /** Physical addresses of the structure pages: values that make pointers back into them (cycles, fans). */
  pointers: bigint[];
}

/** Find the table entries of a workspace capture through its decoded model: every qword of root, context and PASID entries, and the entries of each table page. */
export function entrySeed(dir: string, maxTablePages = 64): EntrySeed {
  const c = openCapture(dir);
  try {
    const s = c.snapshot;
    const mem = c.memory;
    const sites: EntrySite[] = [];
    const pointers = new Set<bigint>();
    const fileOf = (part: string) => path.resolve(dir, part);
    for (const u of s.units) {
      if (u.rootTable !== undefined) pointers.add(BigInt(u.rootTable));
      for (const r of u.rootEntries) {
        if (r.source.offset === undefined) continue;
        for (let q = 0; q < 2; q++) sites.push({ file: fileOf(r.source.part), offset: r.source.offset + 8 * q, kind: 'root', what: `root entry bus ${r.bus} q${q}` });
        for (const t of [r.lowerContextTable, r.upperContextTable]) if (t !== undefined) pointers.add(BigInt(t));
      }
      for (const ctx of u.contexts) {
        if (ctx.source.offset === undefined) continue;
        for (let q = 0; q < ctx.raw.length; q++) sites.push({ file: fileOf(ctx.source.part), offset: ctx.source.offset + 8 * q, kind: 'context', what: `context ${ctx.bdf} q${q}` });
        for (const p of ctx.pasids ?? []) {
          if (p.source.offset === undefined) continue;
          for (let q = 0; q < Math.min(p.raw.length, 3); q++) sites.push({ file: fileOf(p.source.part), offset: p.source.offset + 8 * q, kind: 'pasid', what: `PASID ${p.pasid} of ${ctx.bdf} q${q}` });
        }
      }
      for (const d of u.domains) {
        for (const pfn of d.tablePfns.slice(0, maxTablePages)) {
          pointers.add(BigInt(pfn) * 4096n);
          const off = mem?.fileOffsetOf(pfn * 4096);
          if (off === undefined || mem === undefined) continue;
          // Every 8th entry of the page, and the first few: where mappings and pointers are.
          for (let i = 0; i < 512; i += i < 8 ? 1 : 8) sites.push({ file: path.resolve(dir, path.basename(mem.path)), offset: off + 8 * i, kind: 'table', what: `table page ${pfn.toString(16)} entry ${i}` });
        }
      }
    }
    if (sites.length === 0) throw new Error(`${dir}: no table entries found to mutate`);
    return { dir, sites, pointers: [...pointers] };
  } finally {
    c.close();
  }
}

export interface EntryEdit { site: number; value: bigint }

/** Up to four edits; each picks the kind of entry first (root, context, PASID, page table), so the few root and context entries are hit as often as the many page-table entries. */
export function entryEdits(seed: EntrySeed): fc.Arbitrary<EntryEdit[]> {
  const byKind = new Map<EntrySite['kind'], number[]>();
  seed.sites.forEach((s, i) => { byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), i]); });
  const site = fc.constantFrom(...byKind.values()).chain((idx) => fc.constantFrom(...idx));
  return fc.array(fc.record({ site, value: interesting64(seed.pointers) }), { minLength: 1, maxLength: 4 });
}

/** Write the edits into the workspace, run `fn`, and put the original bytes back. */
export function withEntryEdits<T>(seed: EntrySeed, edits: EntryEdit[], fn: () => T): T {
  const undo: { fd: number; offset: number; old: Buffer }[] = [];
  const fds = new Map<string, number>();
  try {
    for (const e of edits) {
      const site = seed.sites[e.site];
      let fd = fds.get(site.file);
      if (fd === undefined) fds.set(site.file, (fd = fs.openSync(site.file, 'r+')));
      const old = Buffer.alloc(8);
      fs.readSync(fd, old, 0, 8, site.offset);
      undo.push({ fd, offset: site.offset, old });
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(e.value);
      fs.writeSync(fd, b, 0, 8, site.offset);
    }
    return fn();
  } finally {
    for (const u of undo.reverse()) fs.writeSync(u.fd, u.old, 0, 8, u.offset);
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}

// ------------------------------------------------------------------ text edits (regline, widen, hugeline)

/** Replace a file's text for the duration of `fn`. */
export function withText<T>(file: string, text: string, fn: () => T): T {
  const old = fs.readFileSync(file);
  fs.writeFileSync(file, text);
  try {
    return fn();
  } finally {
    fs.writeFileSync(file, old);
  }
}

/** How a register line of `iommu_regset` is rewritten. `tolerated` ones must still be read as the same value. */
export type RegLineEdit =
  | { kind: 'value'; line: number; value: bigint }
  | { kind: 'comment' | 'crlf' | 'tabs'; line: number }
  | { kind: 'garbage' | 'nonhex' | 'word' | 'decimal' | 'cut'; line: number }
  | { kind: 'duplicate'; line: number; value: bigint };

export const TOLERATED: ReadonlySet<RegLineEdit['kind']> = new Set(['value', 'comment', 'crlf', 'tabs']);

const REG_LINE = /^([A-Z][A-Z0-9_]*)(\s+)(0x[0-9a-f]+)(\s+)(0x[0-9a-f]+)\s*$/i;

/** Indexes of the lines of an iommu_regset text that hold a register (name, offset, value). */
export function registerLines(text: string): number[] {
  return text.split('\n').flatMap((l, i) => (REG_LINE.test(l) ? [i] : []));
}

export function regLineEdits(lines: number[]): fc.Arbitrary<RegLineEdit> {
  const line = fc.constantFrom(...lines);
  return fc.oneof(
    fc.record({ kind: fc.constant('value' as const), line, value: interesting64() }),
    fc.record({ kind: fc.constantFrom('comment' as const, 'crlf' as const, 'tabs' as const), line }),
    fc.record({ kind: fc.constantFrom('garbage' as const, 'nonhex' as const, 'word' as const, 'decimal' as const, 'cut' as const), line }),
    fc.record({ kind: fc.constant('duplicate' as const), line, value: interesting64() }),
  );
}

/** Apply one edit; returns the text, the register name and (for tolerated edits) the value that must be read. */
export function applyRegLineEdit(text: string, e: RegLineEdit): { text: string; name: string; lineNo: number; value?: bigint } {
  const lines = text.split('\n');
  const m = REG_LINE.exec(lines[e.line])!;
  const [, name, s1, off, s2, val] = m;
  const hex16 = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
  const lineNo = e.line + 1;
  switch (e.kind) {
    case 'value':
      lines[e.line] = `${name}${s1}${off}${s2}${hex16(e.value)}`;
      return { text: lines.join('\n'), name, lineNo, value: e.value };
    case 'comment':
      lines[e.line] = `${lines[e.line]} # ${name} as read`;
      return { text: lines.join('\n'), name, lineNo, value: BigInt(val) };
    case 'crlf':
      return { text: lines.join('\r\n'), name, lineNo, value: BigInt(val) };
    case 'tabs':
      lines[e.line] = `${name}\t${off}\t${val}`;
      return { text: lines.join('\n'), name, lineNo, value: BigInt(val) };
    case 'garbage':
      lines[e.line] = `${name}${s1}${off}${s2}${val}xyz`;
      break;
    case 'nonhex':
      lines[e.line] = `${name}${s1}${off}${s2}0xZZZZZZZZ`;
      break;
    case 'word':
      lines[e.line] = `${name}${s1}${off}${s2}hello`;
      break;
    case 'decimal':
      lines[e.line] = `${name}${s1}${off}${s2}${BigInt(val).toString(10)}`;
      break;
    case 'cut':
      lines[e.line] = `${name}${s1}${off}${s2}${val.slice(0, 7)}`;
      break;
    case 'duplicate':
      lines.splice(e.line + 1, 0, `${name}${s1}${off}${s2}${hex16(e.value)}`);
      return { text: lines.join('\n'), name, lineNo: lineNo + 1 };
  }
  return { text: lines.join('\n'), name, lineNo };
}

/** A number wider than 53 bits, negative, or absurd: what `widen` puts where a text part has a number. */
export const wideNumber: fc.Arbitrary<string> = fc.constantFrom(
  '0xffffffffffffffffffff', '0x10000000000000000', '0x20000000000001', '99999999999999999999', '9007199254740993', '-1', '0x-1', '1e400',
);

/** Replace the `k`-th number-looking token (hex or decimal) of the text by `wide`. */
export function widenText(text: string, k: number, wide: string): string {
  const re = /0x[0-9a-fA-F]+|\b\d+\b/g;
  const all = [...text.matchAll(re)];
  if (all.length === 0) return text;
  const m = all[k % all.length];
  return text.slice(0, m.index) + wide + text.slice(m.index! + m[0].length);
}

/** One huge line: `mb` MiB of a token that looks like the part (so sniffing still takes the file as that part). */
export function hugeLine(kind: 'vm-cmdlines' | 'pci' | 'dmesg' | 'memory-map' | 'registers', mb: number, pattern: number): string {
  const n = Math.max(1, Math.round(mb * 1024 * 1024));
  const unit = [
    { 'vm-cmdlines': ' -s 7,passthru,3/0/8', pci: ' class=0x020000', dmesg: ' DMAR: [DMA Read] ', 'memory-map': ' : System RAM', registers: ' 0x0000000000000000' }[kind],
    'a',
    '0',
  ][pattern % 3];
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

// ------------------------------------------------------------------ manifest

export type ManifestEdit =
  | { field: 'unit'; part: number; value: unknown }
  | { field: 'path'; part: number; value: string }
  | { field: 'kind'; part: number; value: string }
  | { field: 'duplicate'; part: number };

export const manifestEdit = (parts: number): fc.Arbitrary<ManifestEdit> =>
  fc.oneof(
    fc.record({ field: fc.constant('unit' as const), part: fc.nat(parts - 1), value: fc.constantFrom<unknown>(-1, 1e300, 2 ** 64, '0xffffffffffffffffffff', 'x', null, [], 0.5) }),
    fc.record({ field: fc.constant('path' as const), part: fc.nat(parts - 1), value: fc.constantFrom('../canary.txt', '../../../../../../etc/hostname', '/etc/hostname', '', '.', 'missing.txt', 'sub/../../canary.txt') }),
    fc.record({ field: fc.constant('kind' as const), part: fc.nat(parts - 1), value: fc.constantFrom('nonsense', '', 'ignored', 'memory', 'dmar', 'pci') }),
    fc.record({ field: fc.constant('duplicate' as const), part: fc.nat(parts - 1) }),
  );

export function applyManifestEdit(json: string, e: ManifestEdit): string {
  const m = JSON.parse(json) as { parts: Record<string, unknown>[] };
  const p = m.parts[e.part % m.parts.length];
  if (e.field === 'duplicate') m.parts.push({ ...p });
  else p[e.field] = e.value;
  return JSON.stringify(m, null, 2) + '\n';
}

// ------------------------------------------------------------------ fan / cycle generator

/** How the generated table pages point at each other. */
export interface FanShape {
  /** Table pages in the web (besides the root). */
  pages: number;
  levels: 3 | 4 | 5;
  /** For each page: which entries point where. */
  edges: { from: number; to: number; entries: 'all' | 'even' | 'first' | 'last' }[];
  /** Devices (contexts) whose tables start in the web, and at which page. */
  devices: number[];
  /** Also map a few real leaves (so there is something to find). */
  leaves: boolean;
  /** A full fan down the levels: every entry of page i points at page i + 1, and the last page's entries are leaves (512^levels paths over `levels` pages). */
  chain: boolean;
}

/** Random webs of pointers between table pages; with `chain`, also (or only) full fans down the levels. */
export const fanShape = (chain: fc.Arbitrary<boolean> = fc.boolean()): fc.Arbitrary<FanShape> => fc
  .record({ pages: fc.integer({ min: 1, max: 6 }), levels: fc.constantFrom(3 as const, 4 as const, 5 as const), leaves: fc.boolean(), chain })
  .map((r) => (r.chain ? { ...r, pages: Math.max(r.pages, r.levels) } : r))
  .chain(({ pages, levels, leaves, chain }) =>
    fc.record({
      pages: fc.constant(pages),
      levels: fc.constant(levels),
      leaves: fc.constant(leaves),
      chain: fc.constant(chain),
      edges: fc.array(fc.record({ from: fc.nat(pages - 1), to: fc.nat(pages - 1), entries: fc.constantFrom('all' as const, 'even' as const, 'first' as const, 'last' as const) }), { minLength: 1, maxLength: 8 }),
      devices: fc.array(fc.nat(pages - 1), { minLength: 1, maxLength: 3 }),
    }),
  );

/** Write a capture (sparse dump, registers, DMAR) whose page tables are the shape's web of pages; returns its directory. */
export function fanCapture(shape: FanShape): string {
  const phys = new PhysBuilder(0x1000000);
  const web = Array.from({ length: shape.pages }, () => phys.alloc());
  const edges = [...shape.edges];
  if (shape.chain) for (let i = 0; i < shape.levels; i++) edges.push({ from: i, to: (i + 1) % shape.levels, entries: 'all' });
  for (const e of edges) {
    for (let i = 0; i < 512; i++) {
      const take = e.entries === 'all' || (e.entries === 'even' && i % 2 === 0) || (e.entries === 'first' && i === 0) || (e.entries === 'last' && i === 511);
      if (take) phys.write64(web[e.from] + i * 8, web[e.to] | 3, 0);
    }
  }
  const starts = shape.chain ? [0, ...shape.devices] : shape.devices;
  const ctx: { bus: number; devfn: number; tt: number; aw: number; did: number; slptptr: number }[] = starts.map((p, k) => ({ bus: 3, devfn: k, tt: 0, aw: shape.levels - 2, did: k + 1, slptptr: web[p] }));
  if (shape.leaves) {
    const t = new SecondLevelTable(phys, shape.levels);
    t.mapRange(0, 0x5000, 4, 4096, { read: true, write: true });
    ctx.push({ bus: 4, devfn: 0, tt: 0, aw: shape.levels - 2, did: 9, slptptr: t.root });
  }
  const root = buildLegacyRootTable(phys, ctx);
  return writeCapture(phys, root);
}

// ------------------------------------------------------------------ non-regular files

export type NonRegular = 'fifo' | 'dev-zero' | 'directory' | 'dangling' | 'loop';

/** Replace `file` by something that is not a regular file. Never a device node itself: a symlink to /dev/zero at most. */
export function makeNonRegular(file: string, how: NonRegular): void {
  fs.rmSync(file, { recursive: true, force: true });
  switch (how) {
    case 'fifo':
      execFileSync('mkfifo', [file]);
      break;
    case 'dev-zero':
      fs.symlinkSync('/dev/zero', file);
      break;
    case 'directory':
      fs.mkdirSync(file);
      break;
    case 'dangling':
      fs.symlinkSync(path.join(path.dirname(file), 'no-such-file'), file);
      break;
    case 'loop': {
      const other = `${file}.loop`;
      fs.rmSync(other, { force: true });
      fs.symlinkSync(path.basename(other), file);
      fs.symlinkSync(path.basename(file), other);
      break;
    }
  }
}
