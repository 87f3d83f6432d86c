/**
 * Reads one unit's translation structures out of a memory image: the root table, context tables
 * (legacy or scalable), PASID directories and tables, then walks each distinct domain's page
 * table once. Produces model records with provenance (the image part and file offset).
 */
import {
  beyondHaw, bitsBeyondHaw, decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidDirEntry, decodePasidTableEntry,
  decodeScalableContextEntry, decodeScalableRootEntry, awToLevels, PTR_MASK,
} from '../decode/entries.js';
import type { Cap, Ecap } from '../decode/registers-types.js';
import type { PhysicalMemory } from '../image/types.js';
import { formatBdf } from '../util/bdf.js';
import type {
  ContextEntry, ContextMode, Domain, ModelWarning, PasidEntry, RootEntry, Source, UnitTableProblem, UnreadableTable,
} from './types.js';
import { shareMappings } from './mapping-list.js';
import { WalkBudget, walkPageTable, type WalkOptions } from './walk.js';
import { hex } from '../util/hex.js';

export interface UnitTablesInput {
  segment: number;
  rootTable: number;
  mode: ContextMode;
  haw: number;
  cap?: Cap;
  ecap?: Ecap;
  /** Part name of the memory image (for Source). */
  part: string;
}

export interface UnitTables {
  rootEntries: RootEntry[];
  contexts: ContextEntry[];
  domains: Domain[];
  problems: UnitTableProblem[];
  warnings: ModelWarning[];
  /** Table pages read, for the work bound in tests. */
  pagesVisited: number;
  /** 'unknown' when the root table could not be read; 'partial' when some context tables could not. */
  contextsKnown: 'complete' | 'partial' | 'unknown';
  /** Root, context and PASID tables named by an entry (or RTADDR) that the image does not hold. */
  unreadable: UnreadableTable[];
}

/**
 * PASID entries decoded per unit at most (32 functions × 512 PASIDs, beyond what shared virtual
 * addressing uses on a real host); past it: a budget problem. Each decoded entry, with the uses
 * the checks derive from it, costs a few KiB of heap: 2^14 keeps a hostile capture (all 65 536
 * contexts of a unit sharing one full PASID directory) near 200 MiB, inside the 256 MiB a run may
 * use (2^15 went over).
 */
export const MAX_PASID_ENTRIES = 1 << 14;
/** PASID table pages read per unit at most (each holds 64 entries). */
export const MAX_PASID_TABLE_READS = 1 << 16;
/**
 * Walks of one unit whose `budget` problem at the root (walk cut short, problems not listed) is
 * listed one by one; past it they are counted in one problem. A real host never meets the budget.
 */
export const MAX_BUDGET_PROBLEMS_PER_UNIT = 16;
/** Warnings of one unit's walks (missing pages, budgets) listed one by one; past it, one counts the rest. */
export const MAX_WALK_WARNINGS_PER_UNIT = 64;

/** Reads qwords of a 4 KiB page; undefined when the page is not in the image. */
function readQwords(mem: PhysicalMemory, addr: number, bytes = 4096): BigUint64Array | undefined {
  const b = mem.read(addr, bytes);
  if (b === undefined) return undefined;
  const copy = new Uint8Array(bytes);
  copy.set(b);
  return new BigUint64Array(copy.buffer);
}

/** The bits of `entry` in the field `mask` of qword `index`, zero elsewhere: the fault bits of one field. */
function bitsAt(entry: readonly bigint[], index: number, mask: bigint): bigint[] {
  return entry.map((q, i) => (i === index ? q & mask : 0n));
}

/** The problem helper's argument: the entry at fault and what is wrong with it. */
interface EntryProblem {
  structure: UnitTableProblem['structure'];
  kind: UnitTableProblem['kind'];
  entryAddr: number;
  entry: bigint[];
  faultBits: bigint[];
  message: string;
  bdf?: string;
  did?: number;
  target?: number;
}

/**
 * The context or PASID entry that points at a page-table root: the entry a problem at the root
 * (missing root page, levels that disagree, a reserved AW) is about.
 */
interface Referrer {
  structure: 'context' | 'pasid';
  entryAddr: number;
  entry: bigint[];
  /** Qword and mask of the pointer field (SLPTPTR or FLPTPTR). */
  pointer: [number, bigint];
  /** Qword and mask of the field that sets the levels (AW, or FLPM for first level). */
  levelsField: [number, bigint];
  bdf: string;
  source: Source;
}

export function readUnitTables(mem: PhysicalMemory, input: UnitTablesInput): UnitTables {
  const reader = new UnitTableReader(mem, input);
  if (reader.readRootTable()) walkDomains(mem, input, reader.out, (a) => reader.src(a));
  return reader.out;
}

/**
 * One unit's root, context and PASID tables, read into `out` in named steps over explicit state:
 * the budgets that bound hostile tables (PASID entries and table reads per unit), the context
 * and PASID-directory pages already read (each is read once however many entries name it).
 */
class UnitTableReader {
  readonly out: UnitTables = { rootEntries: [], contexts: [], domains: [], problems: [], warnings: [], pagesVisited: 0, contextsKnown: 'complete', unreadable: [] };
  /** PASID entries of each directory read, by `${address}:${entries}`. */
  private readonly pasidDirs = new Map<string, PasidEntry[]>();
  /** Context-table pages read (null: not in the image). */
  private readonly contextTables = new Map<number, BigUint64Array | null>();
  private pasidBudget = MAX_PASID_ENTRIES;
  private pasidBudgetHit = false;
  private pasidReads = 0;

  constructor(private readonly mem: PhysicalMemory, private readonly input: UnitTablesInput) {}

  /** Where `addr` is in the image part (the file offset, when the image stores it). */
  src(addr: number): Source {
    const offset = this.mem.fileOffsetOf(addr);
    return offset === undefined ? { part: this.input.part } : { part: this.input.part, offset };
  }

  private problem(p: EntryProblem): void {
    const q: UnitTableProblem = { ...p, level: 0, raw: p.entry[0], source: this.src(p.entryAddr) };
    if (p.bdf === undefined) delete q.bdf;
    if (p.did === undefined) delete q.did;
    if (p.target === undefined) delete q.target;
    this.out.problems.push(q);
  }

  private beyond(structure: EntryProblem['structure'], entryAddr: number, entry: bigint[], qword: number, message: string, extra: { bdf?: string; did?: number } = {}): void {
    this.problem({ structure, kind: 'beyond-haw', entryAddr, entry, faultBits: bitsAt(entry, qword, bitsBeyondHaw(entry[qword], this.input.haw)), message, ...extra });
  }

  private missing(what: string, addr: number, table: Omit<UnreadableTable, 'addr' | 'message'>, warn = true): void {
    const message = `${what} at 0x${addr.toString(16)} is not in the image ${this.input.part}`;
    if (warn) this.out.warnings.push({ message, source: { part: this.input.part } });
    this.out.unreadable.push({ ...table, addr, message });
  }

  /** The root table and everything below it but the page tables; false when there is nothing to walk. */
  readRootTable(): boolean {
    const { input, out } = this;
    if (input.mode === 'extended') {
      const message = `unit uses a VT-d 2.x extended root table (RTADDR bit 11), deprecated since VT-d 3.0: its context tables are not decoded`;
      out.warnings.push({ message, source: { part: input.part } });
      out.contextsKnown = 'unknown';
      out.unreadable.push({ structure: 'root', addr: input.rootTable, message });
      return false;
    }
    const root = readQwords(this.mem, input.rootTable);
    out.pagesVisited++;
    if (root === undefined) {
      this.missing('root table', input.rootTable, { structure: 'root' });
      out.contextsKnown = 'unknown';
      return false;
    }
    for (let bus = 0; bus < 256; bus++) {
      if (input.mode === 'scalable') this.scalableRootEntry(bus, root[2 * bus], root[2 * bus + 1]);
      else this.legacyRootEntry(bus, root[2 * bus], root[2 * bus + 1]);
    }
    return true;
  }

  private legacyRootEntry(bus: number, lo: bigint, hi: bigint): void {
    const { input, out } = this;
    const entryAddr = input.rootTable + bus * 16;
    const r = decodeLegacyRootEntry(lo, hi);
    if (!r.P) return;
    out.rootEntries.push({ bus, lo, hi, lowerContextTable: r.CTP, source: this.src(entryAddr) });
    if (r.reserved[0] !== 0n || r.reserved[1] !== 0n) {
      this.problem({ structure: 'root', kind: 'reserved-bits', entryAddr, entry: [lo, hi], faultBits: [...r.reserved], message: `root entry for bus ${bus} has reserved bits set (lo 11:1 or hi)` });
    }
    if (beyondHaw(lo, input.haw)) {
      this.beyond('root', entryAddr, [lo, hi], 0, `root entry for bus ${bus} points past the host address width (${input.haw} bits)`);
      return;
    }
    const table = this.contextTable(r.CTP, `context table of bus ${bus}`, bus, [0, 255]);
    if (table) this.readLegacyContexts(bus, r.CTP, table);
  }

  private scalableRootEntry(bus: number, lo: bigint, hi: bigint): void {
    const { input, out } = this;
    const entryAddr = input.rootTable + bus * 16;
    const entry = [lo, hi];
    const r = decodeScalableRootEntry(lo, hi);
    if (!r.LP && !r.UP) return;
    const rootEntry: RootEntry = { bus, lo, hi, source: this.src(entryAddr) };
    if (r.LP) rootEntry.lowerContextTable = r.LCTP;
    if (r.UP) rootEntry.upperContextTable = r.UCTP;
    out.rootEntries.push(rootEntry);
    if (r.reserved[0] !== 0n || r.reserved[1] !== 0n) {
      this.problem({ structure: 'root', kind: 'reserved-bits', entryAddr, entry, faultBits: [...r.reserved], message: `scalable root entry for bus ${bus} has reserved bits 11:1 set` });
    }
    for (const [present, addr, qword, half] of [[r.LP, r.LCTP, 0, 0], [r.UP, r.UCTP, 1, 128]] as const) {
      if (!present) continue;
      if (beyondHaw(entry[qword], input.haw)) {
        this.beyond('root', entryAddr, entry, qword, `root entry for bus ${bus} points past the host address width (${input.haw} bits) with its ${half ? 'upper' : 'lower'} context-table pointer`);
        continue;
      }
      const table = this.contextTable(addr, `${half ? 'upper' : 'lower'} context table of bus ${bus}`, bus, [half, half + 127]);
      if (table) this.readScalableContexts(bus, addr, table, half);
    }
  }

  /** The context-table page at `addr`, read once however many root entries name it. */
  private contextTable(addr: number, what: string, bus: number, devfns: [number, number]): BigUint64Array | undefined {
    let t = this.contextTables.get(addr);
    const first = t === undefined;
    if (t === undefined) {
      t = readQwords(this.mem, addr) ?? null;
      this.out.pagesVisited++;
      this.contextTables.set(addr, t);
    }
    if (t === null) {
      // Every bus whose entries the missing page holds is unknown, not absent (one warning per page).
      this.missing(what, addr, { structure: 'context', bus, devfns }, first);
      this.out.contextsKnown = 'partial';
    }
    return t ?? undefined;
  }

  private readLegacyContexts(bus: number, tableAddr: number, table: BigUint64Array): void {
    const { input } = this;
    for (let devfn = 0; devfn < 256; devfn++) {
      const lo = table[2 * devfn];
      const hi = table[2 * devfn + 1];
      if ((lo & 1n) === 0n) continue;
      const c = decodeLegacyContextEntry(lo, hi);
      const entryAddr = tableAddr + devfn * 16;
      const bdf = formatBdf({ segment: input.segment, bus, devfn });
      this.out.contexts.push({
        bdf, segment: input.segment, bus, devfn, present: true, fpd: c.FPD, tt: c.TT, aw: c.AW, levels: awToLevels(c.AW),
        did: c.DID, slptptr: c.SLPTPTR, raw: [lo, hi], addr: entryAddr, source: this.src(entryAddr),
      });
      if (c.reserved[0] !== 0n || c.reserved[1] !== 0n) {
        this.problem({ structure: 'context', kind: 'reserved-bits', entryAddr, entry: [lo, hi], faultBits: [...c.reserved], bdf, did: c.DID, message: `context entry of ${bdf} has reserved bits set (lo 11:4, hi 7 or 63:24)` });
      }
      if (c.TT !== 2 && beyondHaw(lo, input.haw)) {
        this.beyond('context', entryAddr, [lo, hi], 0, `SLPTPTR of ${bdf} points past the host address width (${input.haw} bits)`, { bdf, did: c.DID });
      }
    }
  }

  private readScalableContexts(bus: number, tableAddr: number, table: BigUint64Array, half: number): void {
    const { input } = this;
    for (let i = 0; i < 128; i++) {
      const q = [table[4 * i], table[4 * i + 1], table[4 * i + 2], table[4 * i + 3]];
      if ((q[0] & 1n) === 0n) continue;
      const devfn = half + i;
      const c = decodeScalableContextEntry(q[0], q[1], q[2], q[3]);
      const entryAddr = tableAddr + i * 32;
      const bdf = formatBdf({ segment: input.segment, bus, devfn });
      const ctx: ContextEntry = {
        bdf, segment: input.segment, bus, devfn, present: true, fpd: c.FPD, aw: 0, levels: 0, did: 0, slptptr: 0,
        raw: q, addr: entryAddr, pasidDirPtr: c.PASIDDIRPTR, pdts: c.PDTS, ridPasid: c.RID_PASID, dte: c.DTE, pasids: [], source: this.src(entryAddr),
      };
      if (c.reserved.some((r) => r !== 0n)) {
        this.problem({ structure: 'context', kind: 'reserved-bits', entryAddr, entry: q, faultBits: [...c.reserved], bdf, message: `scalable-mode context entry of ${bdf} has reserved bits set` });
      }
      if (beyondHaw(q[0], input.haw)) {
        this.beyond('context', entryAddr, q, 0, `PASID directory pointer of ${bdf} points past the host address width (${input.haw} bits)`, { bdf });
      } else {
        ctx.pasids = this.pasidsOf(bdf, c.PASIDDIRPTR, 2 ** (c.PDTS + 7), entryAddr, q);
      }
      const rid = ctx.pasids!.find((p) => p.pasid === c.RID_PASID);
      if (rid) {
        ctx.did = rid.did;
        ctx.aw = rid.aw;
        ctx.levels = rid.levels;
        ctx.slptptr = rid.pgtt === 1 ? rid.flptptr : rid.slptptr;
      }
      this.out.contexts.push(ctx);
    }
  }

  /**
   * PASID entries of a directory. A directory several context entries share (DMA aliases share
   * one in Linux; a hostile root table can give all 65 536 functions the same one) is read once,
   * and all PASID entries attached to contexts count against one budget per unit, so a few pages
   * of hostile tables cannot make millions of entries.
   */
  private pasidsOf(bdf: string, dirAddr: number, dirEntries: number, ctxAddr: number, ctx: bigint[]): PasidEntry[] {
    const key = `${dirAddr}:${dirEntries}`;
    let list = this.pasidDirs.get(key);
    if (list === undefined) {
      list = this.readPasids(bdf, dirAddr, dirEntries, ctxAddr, ctx);
      this.pasidDirs.set(key, list);
    } else if (list.length > this.pasidBudget) {
      this.overBudget(bdf, ctxAddr, ctx);
      return [];
    } else this.pasidBudget -= list.length;
    return list;
  }

  private overBudget(bdf: string, entryAddr: number, ctx: bigint[]): void {
    if (this.pasidBudgetHit) return;
    this.pasidBudgetHit = true;
    this.problem({ structure: 'context', kind: 'budget', entryAddr, entry: ctx, faultBits: ctx.map(() => 0n), bdf, message: `more than ${MAX_PASID_ENTRIES} PASID entries or ${MAX_PASID_TABLE_READS} PASID table pages in the unit's tables (first cut at ${bdf}): the rest are not decoded` });
    this.out.warnings.push({ message: `PASID entries beyond ${MAX_PASID_ENTRIES} are not decoded (from ${bdf} on): the PASID tables are hostile or corrupt`, source: this.src(entryAddr) });
  }

  /** Every present entry of a PASID directory's tables, within the unit's budgets. */
  private readPasids(bdf: string, dirAddr: number, dirEntries: number, ctxAddr: number, ctx: bigint[]): PasidEntry[] {
    const pasids: PasidEntry[] = [];
    const dirPages = Math.ceil((dirEntries * 8) / 4096);
    for (let page = 0; page < dirPages; page++) {
      const dir = readQwords(this.mem, dirAddr + page * 4096, Math.min(4096, dirEntries * 8));
      this.out.pagesVisited++;
      if (dir === undefined) {
        this.missing(`PASID directory of ${bdf}`, dirAddr + page * 4096, { structure: 'pasid-dir', bdf });
        break;
      }
      for (let j = 0; j < dir.length; j++) {
        const d = decodePasidDirEntry(dir[j]);
        if (!d.P) continue;
        const dirIndex = page * 512 + j;
        const dEntryAddr = dirAddr + dirIndex * 8;
        if (d.reserved !== 0n) this.problem({ structure: 'pasid-dir', kind: 'reserved-bits', entryAddr: dEntryAddr, entry: [dir[j]], faultBits: [d.reserved], bdf, message: `PASID directory entry ${dirIndex} of ${bdf} has reserved bits 11:2 set` });
        if (beyondHaw(dir[j], this.input.haw)) {
          this.beyond('pasid-dir', dEntryAddr, [dir[j]], 0, `PASID directory entry ${dirIndex} of ${bdf} points past the host address width (${this.input.haw} bits)`, { bdf });
          continue;
        }
        if (this.pasidBudget === 0 || this.pasidReads >= MAX_PASID_TABLE_READS) {
          this.overBudget(bdf, ctxAddr, ctx);
          return pasids;
        }
        this.pasidReads++;
        const table = readQwords(this.mem, d.PTP);
        this.out.pagesVisited++;
        if (table === undefined) {
          this.missing(`PASID table ${dirIndex} of ${bdf}`, d.PTP, { structure: 'pasid', bdf });
          continue;
        }
        if (!this.pasidTableEntries(bdf, dirIndex, d.PTP, table, ctxAddr, ctx, pasids)) return pasids;
      }
    }
    return pasids;
  }

  /** The 64 entries of one PASID table into `pasids`; false when the budget cut them short. */
  private pasidTableEntries(bdf: string, dirIndex: number, tableAddr: number, table: BigUint64Array, ctxAddr: number, ctx: bigint[], pasids: PasidEntry[]): boolean {
    const { input } = this;
    for (let k = 0; k < 64; k++) {
      if ((table[8 * k] & 1n) === 0n) continue;
      if (this.pasidBudget === 0) {
        this.overBudget(bdf, ctxAddr, ctx);
        return false;
      }
      this.pasidBudget--;
      const q = Array.from(table.subarray(8 * k, 8 * k + 8));
      const e = decodePasidTableEntry(q);
      const entryAddr = tableAddr + k * 64;
      const pasid = dirIndex * 64 + k;
      const levels = e.PGTT === 1 ? (e.FLPM === 1 ? 5 : 4) : awToLevels(e.AW);
      pasids.push({
        pasid, present: true, fpd: e.FPD, pgtt: e.PGTT, aw: e.AW, levels, did: e.DID, slptptr: e.SLPTPTR, flptptr: e.FLPTPTR,
        flpm: e.FLPM, sre: e.SRE, raw: q, addr: entryAddr, source: this.src(entryAddr),
      });
      const at = { structure: 'pasid' as const, entryAddr, entry: q, bdf, did: e.DID };
      if (e.reserved.some((r) => r !== 0n)) this.problem({ ...at, kind: 'reserved-bits', faultBits: [...e.reserved], message: `PASID ${pasid} entry of ${bdf} has reserved bits set` });
      if (e.PGTT === 1 && e.FLPM > 1) {
        this.problem({ ...at, kind: 'reserved-bits', faultBits: bitsAt(q, 2, 0xcn), message: `PASID ${pasid} entry of ${bdf} has reserved FLPM ${e.FLPM} (00 = 4-level, 01 = 5-level): its first-level table cannot be walked` });
      } else if (e.PGTT === 1 && e.FLPM === 1 && input.cap !== undefined && !input.cap.FL5LP) {
        this.problem({ ...at, kind: 'reserved-bits', faultBits: bitsAt(q, 2, 0xcn), message: `PASID ${pasid} entry of ${bdf} selects 5-level first-level paging but CAP.FL5LP is clear` });
      }
      const ptrQword = e.PGTT === 1 ? 2 : e.PGTT === 2 || e.PGTT === 3 ? 0 : undefined;
      if (ptrQword !== undefined && beyondHaw(q[ptrQword], input.haw)) {
        this.beyond('pasid', entryAddr, q, ptrQword, `PASID ${pasid} entry of ${bdf}: ${e.PGTT === 1 ? 'FLPTPTR' : 'SLPTPTR'} points past the host address width (${input.haw} bits)`, { bdf, did: e.DID });
      }
    }
    return true;
  }
}

/** One walk per distinct (DID, table root, format): contexts and PASIDs that share it share the domain. */
function walkDomains(mem: PhysicalMemory, input: UnitTablesInput, out: UnitTables, src: (a: number) => Source): void {
  const byKey = new Map<string, { domain: Domain; ref: Referrer }>();
  // One work bound for all the walks of the unit (see WalkBudget).
  const budget = new WalkBudget();
  // Budget problems at a walk's root and walk warnings met so far (listed up to their caps).
  const notes = { budgetProblems: 0, warnings: 0 };
  const refProblem = (ref: Referrer, kind: UnitTableProblem['kind'], faultBits: bigint[], message: string, did: number, target?: number): void => {
    const p: UnitTableProblem = {
      structure: ref.structure, kind, level: 0, entryAddr: ref.entryAddr, raw: ref.entry[0], entry: ref.entry, faultBits, message,
      bdf: ref.bdf, did, source: ref.source,
    };
    if (target !== undefined) p.target = target;
    out.problems.push(p);
  };
  const want = (did: number, root: number, aw: number, levels: number, kind: Domain['kind'], ref: Referrer): void => {
    const key = `${kind}:${did}:${root}`;
    const existing = byKey.get(key);
    const levelsBits = bitsAt(ref.entry, ref.levelsField[0], ref.levelsField[1]);
    if (existing) {
      if (existing.domain.levels !== levels) {
        const other = existing.ref;
        refProblem(ref, 'levels-mismatch', levelsBits, `${ref.bdf} uses table ${hex(root)} (DID ${did}) with ${levels} levels, but ${other.bdf === ref.bdf ? 'another of its entries' : other.bdf} (entry at ${hex(other.entryAddr)}) uses it with ${existing.domain.levels}`, did, root);
      }
      return;
    }
    const opts: WalkOptions = { haw: input.haw, budget };
    if (input.cap) { opts.sllps = input.cap.SLLPS; opts.fl1gp = input.cap.FL1GP; }
    if (input.ecap) { opts.snoopControl = input.ecap.SC; opts.deviceTlb = input.ecap.DT; }
    if (kind === 'first-level') opts.firstLevel = true;
    const domain: Domain = { did, root, kind, aw, levels, pageCount: 0, mappings: [], tablePfns: [], complete: true, mappingsKnown: true, source: src(root) };
    byKey.set(key, { domain, ref });
    if (kind === 'second-level' && (levels < 2 || levels > 6 || aw > 4)) {
      domain.complete = false;
      refProblem(ref, 'reserved-bits', levelsBits, `AW ${aw} of ${ref.bdf} is reserved: its table cannot be walked`, did, root);
      return;
    }
    const r = walkPageTable(mem, root, levels, opts);
    out.pagesVisited += r.pagesVisited;
    shareMappings(domain, r);
    domain.pageCount = r.pageCount;
    domain.tablePfns = r.tablePfns;
    domain.complete = r.complete;
    for (const p of r.problems) {
      const { atRoot, ...rest } = p;
      // Once the unit's budget is spent every later walk is cut short: listed for the first few
      // walks, counted for the others (a hostile image has ~65 000 of them).
      if (p.kind === 'budget' && notes.budgetProblems++ >= MAX_BUDGET_PROBLEMS_PER_UNIT) continue;
      if (atRoot) {
        // The entry at fault is the context or PASID entry that points at the root.
        const bits = p.kind === 'budget' ? ref.entry.map(() => 0n) : bitsAt(ref.entry, ref.pointer[0], ref.pointer[1]);
        refProblem(ref, p.kind, bits, p.message, did, p.target);
      } else {
        out.problems.push({ ...rest, structure: 'page-table', bdf: ref.bdf, did, source: src(p.entryAddr) });
      }
      if ((p.kind === 'missing-page' || p.kind === 'budget') && notes.warnings++ < MAX_WALK_WARNINGS_PER_UNIT) {
        out.warnings.push({ message: `${ref.bdf} (DID ${did}): ${p.message}`, source: atRoot ? ref.source : src(p.entryAddr) });
      }
    }
  };
  for (const c of out.contexts) {
    const entryAddr = c.addr ?? 0;
    if (c.pasids === undefined) {
      if ((c.tt === 0 || c.tt === 1) && !beyondHaw(c.raw[0], input.haw)) {
        want(c.did, c.slptptr, c.aw, c.levels, 'second-level', {
          structure: 'context', entryAddr, entry: c.raw, pointer: [0, PTR_MASK], levelsField: [1, 0x7n], bdf: c.bdf, source: c.source,
        });
      }
      continue;
    }
    for (const p of c.pasids) {
      const ref = (pointer: [number, bigint], levelsField: [number, bigint]): Referrer => ({
        structure: 'pasid', entryAddr: p.addr ?? entryAddr, entry: p.raw, pointer, levelsField, bdf: c.bdf, source: p.source,
      });
      if (p.pgtt === 2 || p.pgtt === 3) {
        if (!beyondHaw(p.raw[0], input.haw)) want(p.did, p.slptptr, p.aw, p.levels, 'second-level', ref([0, PTR_MASK], [0, 0x1cn]));
      } else if (p.pgtt === 1 && p.flpm <= 1 && !beyondHaw(p.raw[2], input.haw)) {
        want(p.did, p.flptptr, p.aw, p.levels, 'first-level', ref([2, PTR_MASK], [2, 0xcn]));
      }
    }
  }
  out.domains = [...byKey.values()].map((d) => d.domain);
  noteUnlisted(out, notes.budgetProblems - MAX_BUDGET_PROBLEMS_PER_UNIT, notes.warnings - MAX_WALK_WARNINGS_PER_UNIT, input.rootTable, src);
}

/** One problem and one warning for the walk budget problems and walk warnings past their caps. */
function noteUnlisted(out: UnitTables, problems: number, warnings: number, rootTable: number, src: (a: number) => Source): void {
  if (problems > 0) {
    const message = `${problems} more walks met a budget (cut short by the unit's table-read budget, or with more problems than one walk lists): not listed one by one`;
    out.problems.push({ structure: 'root', kind: 'budget', level: 0, entryAddr: rootTable, raw: 0n, entry: [0n], faultBits: [0n], message, source: src(rootTable) });
    out.warnings.push({ message, source: src(rootTable) });
  }
  if (warnings > 0) {
    out.warnings.push({ message: `${warnings} more warnings of this unit's page-table walks (missing pages, walks cut short) not listed one by one`, source: src(rootTable) });
  }
}
