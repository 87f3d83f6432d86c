/**
 * Linux intel-iommu debugfs `dmar_translation_struct` (docs/vtd-formats.md §8.1; drivers/iommu/intel/debugfs.c,
 * root_tbl_walk / ctx_tbl_walk / print_tbl_walk, unchanged in shape from 5.x to the newest trees).
 *
 * Per active unit the kernel prints either
 *   `DMA Remapping is not enabled on dmarN`                       (GSTS.TES = 0), or
 *   `IOMMU dmarN: Root Table Address: 0x<hex>`, a `B.D.F …` header, rows, an empty line.
 * Row: `%02x:%02x.%x\t0x%016llx:0x%016llx\t0x%016llx:0x%016llx\t%-6d\t0x%016llx:0x%016llx:0x%016llx`
 *   = BDF, root entry hi:lo, context entry hi:lo, PASID, PASID-table entry q2:q1:q0.
 *
 * Legacy mode: one row per present context entry, PASID -1, PASID part zero.
 * Scalable mode (RTADDR.TTM = 01): one row per *present PASID entry*; the context column shows only
 * the low 128 bits of the 256-bit entry and the PASID column only q2:q1:q0 of the 512-bit one.
 * So a scalable-mode context here carries `raw` = [lo, hi] (2 qwords, not 4) and each PASID entry
 * `raw` = [q0, q1, q2]; decoding treats the unprinted qwords as zero.
 *
 * The file has no PCI segment: contexts get segment 0; the model builder re-labels them with the
 * unit's segment once the unit is identified by name.
 */
import {
  awToLevels, decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidTableEntry, decodeScalableContextEntry,
  decodeScalableRootEntry,
} from '../decode/entries.js';
import { InputError } from '../errors.js';
import type { Contribution, UnitContribution } from '../model/contribution.js';
import type { ContextEntry, PasidEntry, RootEntry, Source } from '../model/types.js';
import { formatBdf } from '../util/bdf.js';
import { fromHexDigits, hexDigits } from '../util/hex.js';
import { eachLine, excerpt, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';
import { LostRows } from './lost-rows.js';

const UNIT_RE = /^IOMMU\s+(\S+?):\s+Root Table Address:\s+0x([0-9a-f]{1,16})\s*$/i;
const DISABLED_RE = /^DMA Remapping is not enabled on\s+(\S+)\s*$/;
/** `%02x:%02x.%x`; wider than valid (3 bus digits, function 8-f) so impossible addresses are errors. */
const BDF_RE = /^([0-9a-f]{2,3}):([0-9a-f]{2})\.([0-9a-f])$/i;
const PAIR_RE = /^0x([0-9a-f]{1,16}):0x([0-9a-f]{1,16})$/i;
const TRIPLE_RE = /^0x([0-9a-f]{1,16}):0x([0-9a-f]{1,16}):0x([0-9a-f]{1,16})$/i;
const PASID_RE = /^-?\d{1,10}$/;

/** Cheap content sniff: the unit header or the row header, in the first few KiB. */
export function looksLikeDebugfsTranslation(text: string): boolean {
  const head = text.slice(0, 4096);
  if (/IOMMU \S+: Root Table Address: 0x[0-9a-f]/.test(head)) return true;
  if (head.includes('B.D.F\tRoot_entry')) return true;
  // A file of only "not enabled" lines: the translation file when every unit is off. (The newer
  // per-device domain files can print the same line, but always in a file named after a device.)
  const lines = head.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length > 0 && lines.every((l) => DISABLED_RE.test(l));
}

interface Row {
  line: number;
  bus: number;
  devfn: number;
  rootLo: bigint;
  rootHi: bigint;
  ctxLo: bigint;
  ctxHi: bigint;
  /** -1 for legacy rows (and rows whose PASID part was cut off). */
  pasid: number;
  /** The PASID column was there (false for a row cut off after the context entry). */
  pasidPrinted: boolean;
  pe?: [bigint, bigint, bigint];
}

interface Block {
  unit: UnitContribution;
  rows: Row[];
  /** Rows that could not be read, and the entries they hide. */
  lost: LostRows;
}

/**
 * A line that failed to parse as a row but starts like one (a BDF, or the start of one: a file cut
 * short) hides entries; any other line (a shell prompt pasted with the output) hides nothing.
 */
const ROW_START_RE = /^[0-9a-f]{1,3}(?::|\s|$)/i;

export function parseDebugfsTranslation(input: TextInput, part: string): Contribution {
  const w = new LineWarnings(part);
  const warn = (message: string, line: number): void => w.warn(message, line);

  const blocks: Block[] = [];
  const disabled: UnitContribution[] = [];
  let current: Block | undefined;
  let recognised = false;
  let nonBlank = false;

  for (const { text: line, no: lineNo } of eachLine(input, (l) => w.tooLong(l))) {
    const t = line.trim();
    if (t === '') continue;
    nonBlank = true;

    let m = UNIT_RE.exec(t);
    if (m) {
      recognised = true;
      // An address is an exact number (≤ 2^53, cli-contract "Numbers"), as dmardump's reader requires.
      const rootTable = fromHexDigits(m[2]) & ~0xfffn;
      if (rootTable > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`root table address 0x${m[2]} is beyond 2^53`, { file: part, line: lineNo });
      current?.lost.end();
      current = {
        unit: { name: m[1], rootTable: Number(rootTable), translationEnabled: true, source: { part, line: lineNo } },
        rows: [],
        lost: new LostRows(),
      };
      if ((fromHexDigits(m[2]) & 0xfffn) !== 0n) warn(`root table address 0x${m[2]} is not page aligned`, lineNo);
      blocks.push(current);
      continue;
    }
    m = DISABLED_RE.exec(t);
    if (m) {
      recognised = true;
      current?.lost.end();
      disabled.push({ name: m[1], translationEnabled: false, source: { part, line: lineNo } });
      current = undefined;
      continue;
    }
    if (t.startsWith('B.D.F')) {
      recognised = true;
      continue;
    }

    const row = parseRow(t, lineNo, warn, part);
    if (!row) {
      noteLost(current, t, lineNo);
      continue;
    }
    recognised = true;
    if (!current) {
      // Half-pasted file: rows without their `IOMMU dmarN:` line. Keep them under an unnamed unit.
      warn('row before any "IOMMU dmarN: Root Table Address" line: unit unknown', lineNo);
      current = { unit: { source: { part, line: lineNo } }, rows: [], lost: new LostRows() };
      blocks.push(current);
    }
    current.lost.read(row.bus * 256 + row.devfn);
    current.rows.push(row);
  }

  if (!recognised) {
    if (!nonBlank) {
      // The kernel prints nothing when no unit is active: an empty file is a valid (empty) capture.
      return { units: [], warnings: [{ message: 'dmar_translation_struct is empty (no active remapping unit)', source: { part, line: 1 } }] };
    }
    throw new NotRecognisedError('not a Linux dmar_translation_struct: expected "IOMMU dmarN: Root Table Address: 0x…" or "DMA Remapping is not enabled on dmarN"', { file: part, line: 1 });
  }

  const units: UnitContribution[] = [];
  for (const b of blocks) units.push(buildUnit(b, part, warn));
  units.push(...disabled);
  return { units, warnings: w.done() };
}

/** A row that could not be read: its own entry when its BDF is readable, else those up to the next row read. */
function noteLost(b: Block | undefined, t: string, line: number): void {
  if (!b || !ROW_START_RE.test(t)) return;
  const bdf = BDF_RE.exec(t.split(/\s+/)[0]);
  const [bus, slot, fn] = bdf ? [parseInt(bdf[1], 16), parseInt(bdf[2], 16), parseInt(bdf[3], 16)] : [];
  b.lost.lost(line, bus !== undefined && bus <= 0xff && slot! <= 31 && fn! <= 7 ? (bus << 8) | (slot! << 3) | fn! : undefined);
}

/** A bus's context table address as its rows print it (the upper half for devfn >= 0x80 in scalable mode). */
function ctpOf(b: Block, bus: number, devfn: number): number {
  const root = b.rows.find((x) => x.bus === bus);
  if (!root) return 0;
  return Number((devfn >= 0x80 && root.rootHi !== 0n ? root.rootHi : root.rootLo) & 0xffffffffff000n);
}

function parseRow(t: string, lineNo: number, warn: (m: string, l: number) => void, part: string): Row | undefined {
  const f = t.split(/\s+/);
  const b = BDF_RE.exec(f[0]);
  const root = f.length > 1 ? PAIR_RE.exec(f[1]) : null;
  const ctx = f.length > 2 ? PAIR_RE.exec(f[2]) : null;
  if (!b || !root || !ctx) {
    warn(`cannot parse line (expected "BB:DD.F<TAB>0x<root hi>:0x<root lo><TAB>0x<ctx hi>:0x<ctx lo><TAB>PASID<TAB>…"): ${excerpt(t, 120)}`, lineNo);
    return undefined;
  }
  const bus = parseInt(b[1], 16);
  const slot = parseInt(b[2], 16);
  const fn = parseInt(b[3], 16);
  if (bus > 0xff || slot > 31 || fn > 7) {
    const what = bus > 0xff ? `bus 0x${b[1]} (0-0xff)` : slot > 31 ? `device 0x${b[2]} (0-0x1f)` : `function ${b[3]} (0-7)`;
    throw new InputError(`PCI address ${f[0]} cannot exist: ${what} out of range`, { file: part, line: lineNo });
  }
  const row: Row = {
    line: lineNo, bus, devfn: (slot << 3) | fn,
    rootHi: fromHexDigits(root[1]), rootLo: fromHexDigits(root[2]), ctxHi: fromHexDigits(ctx[1]), ctxLo: fromHexDigits(ctx[2]), pasid: -1, pasidPrinted: false,
  };
  const pasidOk = f.length > 3 && PASID_RE.test(f[3]);
  const pe = f.length > 4 ? TRIPLE_RE.exec(f[4]) : null;
  if (!pasidOk || !pe || f.length > 5) {
    if (pasidOk && Number(f[3]) >= 0) {
      warn(`PASID ${f[3]} row without a readable PASID-table entry: skipped`, lineNo);
      return undefined;
    }
    warn(f.length > 5 ? 'extra fields after the PASID-table entry ignored' : 'row truncated after the context entry: PASID part missing', lineNo);
  }
  if (pasidOk) {
    row.pasid = Number(f[3]);
    row.pasidPrinted = true;
  }
  if (row.pasid < -1 || row.pasid > 0xfffff) {
    warn(`PASID ${f[3]} out of range`, lineNo);
    return undefined;
  }
  if (pe && row.pasid >= 0) row.pe = [fromHexDigits(pe[3]), fromHexDigits(pe[2]), fromHexDigits(pe[1])];
  return row;
}

function buildUnit(b: Block, part: string, warn: (m: string, l: number) => void): UnitContribution {
  const u = b.unit;
  // The mode is visible only through the rows. The kernel prints PASID -1 only on the legacy path
  // (RTADDR.SMT clear) and PASID >= 0 only on the scalable one; a root entry with an upper half
  // decides only for rows whose PASID column was cut off. No rows: mode unknown (a scalable unit
  // with no present PASID entry prints no rows either).
  const printedLegacy = b.rows.some((r) => r.pasidPrinted && r.pasid === -1);
  const scalable = b.rows.some((r) => r.pasid >= 0) || (!printedLegacy && b.rows.some((r) => r.rootHi !== 0n));
  if (b.rows.length > 0) u.mode = scalable ? 'scalable' : 'legacy';
  if (scalable && printedLegacy) warn('rows with PASID -1 (legacy) and PASID >= 0 (scalable) under one unit', b.rows[0].line);
  const src = (line: number): Source => ({ part, line });

  const rootEntries: RootEntry[] = [];
  const rootByBus = new Map<number, Row>();
  for (const r of b.rows) {
    const prev = rootByBus.get(r.bus);
    if (prev) {
      if (prev.rootLo !== r.rootLo || prev.rootHi !== r.rootHi) {
        warn(`root entry of bus ${hexDigits(r.bus, 2)} differs from line ${prev.line}`, r.line);
      }
      continue;
    }
    rootByBus.set(r.bus, r);
    const e: RootEntry = { bus: r.bus, lo: r.rootLo, hi: r.rootHi, source: src(r.line) };
    if (scalable) {
      const d = decodeScalableRootEntry(r.rootLo, r.rootHi);
      if (d.LP) e.lowerContextTable = d.LCTP;
      if (d.UP) e.upperContextTable = d.UCTP;
    } else {
      const d = decodeLegacyRootEntry(r.rootLo, r.rootHi);
      if (d.P) e.lowerContextTable = d.CTP;
    }
    rootEntries.push(e);
  }

  const contexts: ContextEntry[] = [];
  const byKey = new Map<number, { ctx: ContextEntry; row: Row }>();
  for (const r of b.rows) {
    const key = r.bus * 256 + r.devfn;
    const bdf = formatBdf({ segment: 0, bus: r.bus, devfn: r.devfn });
    const seen = byKey.get(key);
    if (!scalable) {
      if (seen) {
        warn(`${bdf} listed twice (first on line ${seen.row.line}): second row ignored`, r.line);
        continue;
      }
      const c = decodeLegacyContextEntry(r.ctxLo, r.ctxHi);
      const ctx: ContextEntry = {
        bdf, segment: 0, bus: r.bus, devfn: r.devfn, present: c.P, fpd: c.FPD, tt: c.TT, aw: c.AW, levels: awToLevels(c.AW),
        did: c.DID, slptptr: c.SLPTPTR, raw: [r.ctxLo, r.ctxHi], source: src(r.line),
      };
      byKey.set(key, { ctx, row: r });
      contexts.push(ctx);
      continue;
    }
    let entry = seen;
    if (!entry) {
      const c = decodeScalableContextEntry(r.ctxLo, r.ctxHi, 0n, 0n);
      const ctx: ContextEntry = {
        bdf, segment: 0, bus: r.bus, devfn: r.devfn, present: c.P, fpd: c.FPD, aw: 0, levels: 0, did: 0, slptptr: 0,
        raw: [r.ctxLo, r.ctxHi], pasidDirPtr: c.PASIDDIRPTR, pdts: c.PDTS, ridPasid: c.RID_PASID, dte: c.DTE, pasids: [], source: src(r.line),
      };
      entry = { ctx, row: r };
      byKey.set(key, entry);
      contexts.push(ctx);
    } else if (entry.row.ctxLo !== r.ctxLo || entry.row.ctxHi !== r.ctxHi) {
      warn(`${bdf}: context entry differs from line ${entry.row.line}`, r.line);
    }
    if (!r.pe) {
      warn(`${bdf}: a PASID -1 row in a scalable-mode table (no PASID entry)`, r.line);
      continue;
    }
    const [q0, q1, q2] = r.pe;
    const e = decodePasidTableEntry([q0, q1, q2, 0n, 0n, 0n, 0n, 0n]);
    const p: PasidEntry = {
      pasid: r.pasid, present: e.P, fpd: e.FPD, pgtt: e.PGTT, aw: e.AW,
      levels: e.PGTT === 1 ? (e.FLPM === 1 ? 5 : 4) : awToLevels(e.AW),
      did: e.DID, slptptr: e.SLPTPTR, flptptr: e.FLPTPTR, flpm: e.FLPM, sre: e.SRE, raw: [q0, q1, q2], source: src(r.line),
    };
    const pasids = entry.ctx.pasids!;
    if (pasids.some((x) => x.pasid === p.pasid)) {
      warn(`${bdf}: PASID ${p.pasid} listed twice: second row ignored`, r.line);
      continue;
    }
    pasids.push(p);
  }
  // As the memory walk does (src/model/tables.ts): a scalable context's DID/AW/table are those of
  // its RID_PASID entry (PASID 0 under Linux), when that entry is present.
  for (const { ctx } of byKey.values()) {
    if (!ctx.pasids) continue;
    const rid = ctx.pasids.find((p) => p.pasid === ctx.ridPasid);
    if (rid) {
      ctx.did = rid.did;
      ctx.aw = rid.aw;
      ctx.levels = rid.levels;
      ctx.slptptr = rid.pgtt === 1 ? rid.flptptr : rid.slptptr;
    }
  }
  u.rootEntries = rootEntries;
  u.contexts = contexts;
  const lost = b.lost.tables(part, (bus, devfn) => ctpOf(b, bus, devfn));
  if (lost.length > 0) u.unreadableTables = lost;
  return u;
}
