/**
 * Reads one unit's translation structures out of a memory image: the root table, context tables
 * (legacy or scalable), PASID directories and tables, then walks each distinct domain's page
 * table once. Produces model records with provenance (the image part and file offset).
 */
import {
  beyondHaw, decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidDirEntry, decodePasidTableEntry,
  decodeScalableContextEntry, decodeScalableRootEntry, awToLevels,
} from '../decode/entries.js';
import type { Cap, Ecap } from '../decode/registers-types.js';
import type { PhysicalMemory } from '../image/types.js';
import { formatBdf } from '../util/bdf.js';
import type {
  ContextEntry, ContextMode, Domain, ModelWarning, PasidEntry, RootEntry, Source, UnitTableProblem,
} from './types.js';
import { walkPageTable, type WalkOptions } from './walk.js';

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
}

/** PASID entries decoded per unit at most (256 functions × 512 PASIDs); past it: a budget problem. */
export const MAX_PASID_ENTRIES = 1 << 17;
/** PASID table pages read per unit at most (each holds 64 entries). */
export const MAX_PASID_TABLE_READS = 1 << 16;

/** Reads qwords of a 4 KiB page; undefined when the page is not in the image. */
function readQwords(mem: PhysicalMemory, addr: number, bytes = 4096): BigUint64Array | undefined {
  const b = mem.read(addr, bytes);
  if (b === undefined) return undefined;
  const copy = new Uint8Array(bytes);
  copy.set(b);
  return new BigUint64Array(copy.buffer);
}

export function readUnitTables(mem: PhysicalMemory, input: UnitTablesInput): UnitTables {
  const out: UnitTables = { rootEntries: [], contexts: [], domains: [], problems: [], warnings: [], pagesVisited: 0 };
  const src = (addr: number): Source => {
    const offset = mem.fileOffsetOf(addr);
    return offset === undefined ? { part: input.part } : { part: input.part, offset };
  };
  const problem = (p: Omit<UnitTableProblem, 'source'>): void => {
    out.problems.push({ ...p, source: src(p.entryAddr) });
  };
  const missing = (what: string, addr: number): void => {
    out.warnings.push({ message: `${what} at 0x${addr.toString(16)} is not in the image ${input.part}`, source: { part: input.part } });
  };

  if (input.mode === 'extended') {
    out.warnings.push({ message: `unit uses a VT-d 2.x extended root table (RTADDR bit 11), deprecated since VT-d 3.0: its context tables are not decoded`, source: { part: input.part } });
    return out;
  }
  const root = readQwords(mem, input.rootTable);
  out.pagesVisited++;
  if (root === undefined) {
    missing('root table', input.rootTable);
    return out;
  }
  const scalable = input.mode === 'scalable';
  const pasidDirs = new Map<string, PasidEntry[]>();
  let pasidBudget = MAX_PASID_ENTRIES;
  let pasidBudgetHit = false;
  let pasidReads = 0;
  const contextTables = new Map<number, BigUint64Array | null>();
  const contextTable = (addr: number, what: string): BigUint64Array | undefined => {
    let t = contextTables.get(addr);
    if (t === undefined) {
      t = readQwords(mem, addr) ?? null;
      out.pagesVisited++;
      contextTables.set(addr, t);
      if (t === null) missing(what, addr);
    }
    return t ?? undefined;
  };

  for (let bus = 0; bus < 256; bus++) {
    const lo = root[2 * bus];
    const hi = root[2 * bus + 1];
    const entryAddr = input.rootTable + bus * 16;
    if (!scalable) {
      const r = decodeLegacyRootEntry(lo, hi);
      if (!r.P) continue;
      const entry: RootEntry = { bus, lo, hi, lowerContextTable: r.CTP, source: src(entryAddr) };
      out.rootEntries.push(entry);
      if (r.reserved[0] !== 0n || r.reserved[1] !== 0n) {
        problem({ structure: 'root', kind: 'reserved-bits', level: 0, entryAddr, raw: lo, message: `root entry for bus ${bus} has reserved bits set (lo 11:1 or hi)` });
      }
      if (beyondHaw(lo, input.haw)) {
        problem({ structure: 'root', kind: 'beyond-haw', level: 0, entryAddr, raw: lo, message: `root entry for bus ${bus} points past the host address width (${input.haw} bits)` });
        continue;
      }
      const table = contextTable(r.CTP, `context table of bus ${bus}`);
      if (table) readLegacyContexts(bus, r.CTP, table);
    } else {
      const r = decodeScalableRootEntry(lo, hi);
      if (!r.LP && !r.UP) continue;
      const entry: RootEntry = { bus, lo, hi, source: src(entryAddr) };
      if (r.LP) entry.lowerContextTable = r.LCTP;
      if (r.UP) entry.upperContextTable = r.UCTP;
      out.rootEntries.push(entry);
      if (r.reserved[0] !== 0n || r.reserved[1] !== 0n) {
        problem({ structure: 'root', kind: 'reserved-bits', level: 0, entryAddr, raw: lo, message: `scalable root entry for bus ${bus} has reserved bits 11:1 set` });
      }
      for (const [present, addr, q, half] of [[r.LP, r.LCTP, lo, 0], [r.UP, r.UCTP, hi, 128]] as const) {
        if (!present) continue;
        if (beyondHaw(q, input.haw)) {
          problem({ structure: 'root', kind: 'beyond-haw', level: 0, entryAddr, raw: q, message: `root entry for bus ${bus} points past the host address width` });
          continue;
        }
        const table = contextTable(addr, `${half ? 'upper' : 'lower'} context table of bus ${bus}`);
        if (table) readScalableContexts(bus, addr, table, half);
      }
    }
  }

  function readLegacyContexts(bus: number, tableAddr: number, table: BigUint64Array): void {
    for (let devfn = 0; devfn < 256; devfn++) {
      const lo = table[2 * devfn];
      const hi = table[2 * devfn + 1];
      if ((lo & 1n) === 0n) continue;
      const c = decodeLegacyContextEntry(lo, hi);
      const entryAddr = tableAddr + devfn * 16;
      const bdf = formatBdf({ segment: input.segment, bus, devfn });
      out.contexts.push({
        bdf, segment: input.segment, bus, devfn, present: true, fpd: c.FPD, tt: c.TT, aw: c.AW, levels: awToLevels(c.AW),
        did: c.DID, slptptr: c.SLPTPTR, raw: [lo, hi], source: src(entryAddr),
      });
      if (c.reserved[0] !== 0n || c.reserved[1] !== 0n) {
        problem({ structure: 'context', kind: 'reserved-bits', level: 0, entryAddr, raw: lo, bdf, did: c.DID, message: `context entry of ${bdf} has reserved bits set (lo 11:4, hi 7 or 63:24)` });
      }
      if (c.TT !== 2 && beyondHaw(lo, input.haw)) {
        problem({ structure: 'context', kind: 'beyond-haw', level: 0, entryAddr, raw: lo, bdf, did: c.DID, message: `SLPTPTR of ${bdf} points past the host address width (${input.haw} bits)` });
      }
    }
  }

  function readScalableContexts(bus: number, tableAddr: number, table: BigUint64Array, half: number): void {
    for (let i = 0; i < 128; i++) {
      const q = [table[4 * i], table[4 * i + 1], table[4 * i + 2], table[4 * i + 3]];
      if ((q[0] & 1n) === 0n) continue;
      const devfn = half + i;
      const c = decodeScalableContextEntry(q[0], q[1], q[2], q[3]);
      const entryAddr = tableAddr + i * 32;
      const bdf = formatBdf({ segment: input.segment, bus, devfn });
      const ctx: ContextEntry = {
        bdf, segment: input.segment, bus, devfn, present: true, fpd: c.FPD, aw: 0, levels: 0, did: 0, slptptr: 0,
        raw: q, pasidDirPtr: c.PASIDDIRPTR, pdts: c.PDTS, ridPasid: c.RID_PASID, pasids: [], source: src(entryAddr),
      };
      if (c.reserved.some((r) => r !== 0n)) {
        problem({ structure: 'context', kind: 'reserved-bits', level: 0, entryAddr, raw: q[0], bdf, message: `scalable-mode context entry of ${bdf} has reserved bits set` });
      }
      if (beyondHaw(q[0], input.haw)) {
        problem({ structure: 'context', kind: 'beyond-haw', level: 0, entryAddr, raw: q[0], bdf, message: `PASID directory pointer of ${bdf} points past the host address width` });
      } else {
        ctx.pasids = pasidsOf(bdf, c.PASIDDIRPTR, 2 ** (c.PDTS + 7), entryAddr);
      }
      const rid = ctx.pasids!.find((p) => p.pasid === c.RID_PASID);
      if (rid) {
        ctx.did = rid.did;
        ctx.aw = rid.aw;
        ctx.levels = rid.levels;
        ctx.slptptr = rid.pgtt === 1 ? rid.flptptr : rid.slptptr;
      }
      out.contexts.push(ctx);
    }
  }

  /**
   * PASID entries of a directory. A directory several context entries share (DMA aliases share
   * one in Linux; a hostile root table can give all 65 536 functions the same one) is read once,
   * and all PASID entries attached to contexts count against one budget per unit, so a few pages
   * of hostile tables cannot make millions of entries.
   */
  function pasidsOf(bdf: string, dirAddr: number, dirEntries: number, ctxAddr: number): PasidEntry[] {
    const key = `${dirAddr}:${dirEntries}`;
    let list = pasidDirs.get(key);
    if (list === undefined) {
      list = readPasids(bdf, dirAddr, dirEntries, ctxAddr);
      pasidDirs.set(key, list);
    } else if (list.length > pasidBudget) {
      overBudget(bdf, ctxAddr);
      return [];
    } else pasidBudget -= list.length;
    return list;
  }

  function overBudget(bdf: string, entryAddr: number): void {
    if (pasidBudgetHit) return;
    pasidBudgetHit = true;
    problem({ structure: 'pasid', kind: 'budget', level: 0, entryAddr, raw: 0n, bdf, message: `more than ${MAX_PASID_ENTRIES} PASID entries or ${MAX_PASID_TABLE_READS} PASID table pages in the unit's tables (first cut at ${bdf}): the rest are not decoded` });
    out.warnings.push({ message: `PASID entries beyond ${MAX_PASID_ENTRIES} are not decoded (from ${bdf} on): the PASID tables are hostile or corrupt`, source: src(entryAddr) });
  }

  function readPasids(bdf: string, dirAddr: number, dirEntries: number, ctxAddr: number): PasidEntry[] {
    const pasids: PasidEntry[] = [];
    const dirPages = Math.ceil((dirEntries * 8) / 4096);
    for (let page = 0; page < dirPages; page++) {
      const dir = readQwords(mem, dirAddr + page * 4096, Math.min(4096, dirEntries * 8));
      out.pagesVisited++;
      if (dir === undefined) {
        missing(`PASID directory of ${bdf}`, dirAddr + page * 4096);
        break;
      }
      for (let j = 0; j < dir.length; j++) {
        const d = decodePasidDirEntry(dir[j]);
        if (!d.P) continue;
        const dirIndex = page * 512 + j;
        const dEntryAddr = dirAddr + dirIndex * 8;
        if (d.reserved !== 0n) problem({ structure: 'pasid-dir', kind: 'reserved-bits', level: 0, entryAddr: dEntryAddr, raw: dir[j], bdf, message: `PASID directory entry ${dirIndex} of ${bdf} has reserved bits 11:2 set` });
        if (beyondHaw(dir[j], input.haw)) {
          problem({ structure: 'pasid-dir', kind: 'beyond-haw', level: 0, entryAddr: dEntryAddr, raw: dir[j], bdf, message: `PASID directory entry ${dirIndex} of ${bdf} points past the host address width` });
          continue;
        }
        if (pasidBudget === 0 || pasidReads >= MAX_PASID_TABLE_READS) {
          overBudget(bdf, ctxAddr);
          return pasids;
        }
        pasidReads++;
        const table = readQwords(mem, d.PTP);
        out.pagesVisited++;
        if (table === undefined) {
          missing(`PASID table ${dirIndex} of ${bdf}`, d.PTP);
          continue;
        }
        for (let k = 0; k < 64; k++) {
          if ((table[8 * k] & 1n) === 0n) continue;
          if (pasidBudget === 0) {
            overBudget(bdf, ctxAddr);
            return pasids;
          }
          pasidBudget--;
          const q = Array.from(table.subarray(8 * k, 8 * k + 8));
          const e = decodePasidTableEntry(q);
          const entryAddr = d.PTP + k * 64;
          const pasid = dirIndex * 64 + k;
          const levels = e.PGTT === 1 ? (e.FLPM === 1 ? 5 : 4) : awToLevels(e.AW);
          pasids.push({
            pasid, present: true, fpd: e.FPD, pgtt: e.PGTT, aw: e.AW, levels, did: e.DID, slptptr: e.SLPTPTR, flptptr: e.FLPTPTR,
            flpm: e.FLPM, sre: e.SRE, raw: q, source: src(entryAddr),
          });
          if (e.reserved.some((r) => r !== 0n)) problem({ structure: 'pasid', kind: 'reserved-bits', level: 0, entryAddr, raw: q[0], bdf, did: e.DID, message: `PASID ${pasid} entry of ${bdf} has reserved bits set` });
          if (e.PGTT === 1 && e.FLPM > 1) {
            problem({ structure: 'pasid', kind: 'reserved-bits', level: 0, entryAddr, raw: q[2], bdf, did: e.DID, message: `PASID ${pasid} entry of ${bdf} has reserved FLPM ${e.FLPM} (00 = 4-level, 01 = 5-level): its first-level table cannot be walked` });
          } else if (e.PGTT === 1 && e.FLPM === 1 && input.cap !== undefined && !input.cap.FL5LP) {
            problem({ structure: 'pasid', kind: 'reserved-bits', level: 0, entryAddr, raw: q[2], bdf, did: e.DID, message: `PASID ${pasid} entry of ${bdf} selects 5-level first-level paging but CAP.FL5LP is clear` });
          }
          if ((e.PGTT === 1 ? beyondHaw(q[2], input.haw) : e.PGTT === 2 || e.PGTT === 3 ? beyondHaw(q[0], input.haw) : false)) {
            problem({ structure: 'pasid', kind: 'beyond-haw', level: 0, entryAddr, raw: e.PGTT === 1 ? q[2] : q[0], bdf, did: e.DID, message: `PASID ${pasid} entry of ${bdf}: ${e.PGTT === 1 ? 'FLPTPTR' : 'SLPTPTR'} points past the host address width (${input.haw} bits)` });
          }
        }
      }
    }
    return pasids;
  }

  walkDomains(mem, input, out, src);
  return out;
}

/** One walk per distinct (DID, table root, format): contexts and PASIDs that share it share the domain. */
function walkDomains(mem: PhysicalMemory, input: UnitTablesInput, out: UnitTables, src: (a: number) => Source): void {
  const byKey = new Map<string, Domain>();
  const want = (did: number, root: number, aw: number, levels: number, kind: Domain['kind'], bdf: string): void => {
    const key = `${kind}:${did}:${root}`;
    const existing = byKey.get(key);
    if (existing) {
      if (existing.levels !== levels) {
        out.problems.push({ structure: 'context', kind: 'reserved-bits', level: 0, entryAddr: root, raw: BigInt(aw), bdf, did, message: `${bdf} uses table 0x${root.toString(16)} (DID ${did}) with ${levels} levels, another entry with ${existing.levels}` });
      }
      return;
    }
    const opts: WalkOptions = { haw: input.haw };
    if (input.cap) { opts.sllps = input.cap.SLLPS; opts.fl1gp = input.cap.FL1GP; }
    if (input.ecap) { opts.snoopControl = input.ecap.SC; opts.deviceTlb = input.ecap.DT; }
    if (kind === 'first-level') opts.firstLevel = true;
    const domain: Domain = { did, root, kind, aw, levels, pageCount: 0, mappings: [], tablePfns: [], complete: true, mappingsKnown: true, source: src(root) };
    byKey.set(key, domain);
    if (kind === 'second-level' && (levels < 2 || levels > 6 || aw > 4)) {
      domain.complete = false;
      out.problems.push({ structure: 'context', kind: 'reserved-bits', level: 0, entryAddr: root, raw: BigInt(aw), bdf, did, message: `AW ${aw} of ${bdf} is reserved: its table cannot be walked` });
      return;
    }
    const r = walkPageTable(mem, root, levels, opts);
    out.pagesVisited += r.pagesVisited;
    domain.mappings = r.mappings;
    domain.pageCount = r.pageCount;
    domain.tablePfns = r.tablePfns;
    domain.complete = r.complete;
    for (const p of r.problems) {
      out.problems.push({ ...p, structure: 'page-table', bdf, did, source: src(p.entryAddr) });
      if (p.kind === 'missing-page') out.warnings.push({ message: `${bdf} (DID ${did}): ${p.message}`, source: src(p.entryAddr) });
    }
  };
  for (const c of out.contexts) {
    if (c.pasids === undefined) {
      if (c.tt === 0 || c.tt === 1) want(c.did, c.slptptr, c.aw, c.levels, 'second-level', c.bdf);
      continue;
    }
    for (const p of c.pasids) {
      if (p.pgtt === 2 || p.pgtt === 3) {
        if (!beyondHaw(BigInt(p.slptptr), input.haw)) want(p.did, p.slptptr, p.aw, p.levels, 'second-level', c.bdf);
      } else if (p.pgtt === 1 && p.flpm <= 1 && !beyondHaw(BigInt(p.flptptr), input.haw)) {
        want(p.did, p.flptptr, p.aw, p.levels, 'first-level', c.bdf);
      }
    }
  }
  out.domains = [...byKey.values()];
}
