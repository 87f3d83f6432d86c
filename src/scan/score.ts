/**
 * Does a 4 KiB page look like a VT-d root table, and do the pages it points at look like context
 * tables? Pure functions over page words (a Uint32Array: qword k is words 2k (bits 31:0) and 2k+1
 * (bits 63:32), little-endian) — no I/O: the driver (scan.ts) hands pages in, and `evaluateRoot`
 * reads further pages through a callback.
 *
 * What the layouts allow (docs/vtd-formats.md §3–§6, VT-d spec §9):
 * - A root table is 256 16-byte entries. Legacy: lo = CTP | P, bits 11:1 reserved, hi reserved (0).
 *   Scalable: lo = LCTP | LP, hi = UCTP | UP, bits 11:1 of each reserved. So every qword of either
 *   layout is 0 or (pointer | 1) with bits 11:1 clear and no bit at or above the host address width.
 *   OSes zero the page first, so a non-present entry with stray bits is not accepted either.
 * - Legacy context entry (16 bytes): lo 11:4 and hi 7, 63:24 reserved; TT 11b reserved; AW 5–7
 *   reserved. Scalable context entry (32 bytes): q0 8:5, q1 63:21, q2, q3 reserved.
 * - PASID directory entry: bits 11:2 reserved. PASID table entry (64 bytes): PGTT 1–4, q0 11:10,
 *   q1 22:16, q2 11:8 and q3–q7 reserved.
 * A pointer of 0 is refused everywhere: no OS puts a translation structure at physical page 0.
 */
import { formatBusDevfn } from '../util/bdf.js';

export const PAGE_WORDS = 1024;
/** Set in `rootPageTest`'s result when an odd qword (a scalable upper half) is used. */
export const UPPER_USED = 0x1000;

/** Limit on the high word of a pointer for a host address width (pointer < 2^haw). */
export function hiLimitOf(haw: number): number {
  return 2 ** Math.max(0, Math.min(52, haw) - 32);
}

/**
 * The test run on every page of the image, so it is a tight loop that leaves at the first qword
 * that cannot belong to a root table (on data pages that is almost always the first non-zero one).
 * Returns -1 (not a root table), 0 (all zero) or the number of present halves, with UPPER_USED
 * added when an upper half is present (then only the scalable layout fits).
 */
export function rootPageTest(w: Uint32Array, at: number, hiLimit: number): number {
  let n = 0;
  let upper = 0;
  const end = at + PAGE_WORDS;
  for (let i = at; i < end; i += 8) {
    // Four qwords at once: most pages of a real image are zero or fail at their first entry.
    if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]) === 0) continue;
    for (let j = i; j < i + 8; j += 2) {
      const lo = w[j];
      const hi = w[j + 1];
      if ((lo | hi) === 0) continue;
      if ((lo & 0xfff) !== 1 || hi >= hiLimit || (lo === 1 && hi === 0)) return -1;
      n++;
      if (((j - at) & 2) !== 0) upper = UPPER_USED;
    }
  }
  return n | upper;
}

/**
 * `rootPageTest` for the sequential pass, with the zero test done on float64 views of the qwords
 * (`f` views the same bytes as `w`; `at` is a word index, a multiple of 2): half the loads. A qword
 * 0x8000000000000000 reads as -0 and passes for zero here, so a page this accepts is checked again
 * with the exact test — which only the rare accepted page pays for. Accepted pages (> 0) get the
 * exact result; a rejected page may read 0 here where the exact test says -1 (only -0 qwords).
 */
export function rootPageTestFast(f: Float64Array, w: Uint32Array, at: number, hiLimit: number): number {
  const fa = at >>> 1;
  const end = fa + 512;
  let any = false;
  for (let k = fa; k < end; k += 4) {
    if (f[k] === 0 && f[k + 1] === 0 && f[k + 2] === 0 && f[k + 3] === 0) continue;
    for (let j = 2 * k; j < 2 * k + 8; j += 2) {
      const lo = w[j];
      const hi = w[j + 1];
      if ((lo | hi) === 0) continue;
      if ((lo & 0xfff) !== 1 || hi >= hiLimit || (lo === 1 && hi === 0)) return -1;
      any = true;
    }
  }
  return any ? rootPageTest(w, at, hiLimit) : 0;
}

const ptr = (lo: number, hi: number): number => hi * 4294967296 + ((lo & 0xfffff000) >>> 0);

// ─── Context tables ────────────────────────────────────────────────────────────────────────────

export interface ContextUseSummary {
  devfn: number;
  /** Legacy: SLPTPTR (TT 0/1); scalable: PASID directory pointer. */
  table: number;
  did: number;
  /** Legacy TT; -1 in scalable mode. */
  tt: number;
  /** Scalable: PDTS. */
  pdts: number;
}

export interface ContextTableTest {
  present: number;
  /** Entries no well-formed table holds (reserved bits, TT 11b, AW 5–7, stray bits in a non-present entry). */
  invalid: number;
  entries: ContextUseSummary[];
}

/** 256 legacy context entries (§4). */
export function legacyContextTest(w: Uint32Array, at: number, hiLimit: number): ContextTableTest {
  const out: ContextTableTest = { present: 0, invalid: 0, entries: [] };
  for (let devfn = 0; devfn < 256; devfn++) {
    const i = at + devfn * 4;
    const lo = w[i], lo2 = w[i + 1], hi = w[i + 2], hi2 = w[i + 3];
    if ((lo | lo2 | hi | hi2) === 0) continue;
    if ((lo & 1) === 0) { out.invalid++; continue; }
    const tt = (lo >>> 2) & 3;
    const aw = hi & 7;
    const slpt = ptr(lo, lo2);
    if ((lo & 0xff0) !== 0 || tt === 3 || aw > 4 || (hi & 0xff000080) !== 0 || hi2 !== 0 || lo2 >= hiLimit || (tt !== 2 && slpt === 0)) {
      out.invalid++;
      continue;
    }
    out.present++;
    out.entries.push({ devfn, table: tt === 2 ? 0 : slpt, did: (hi >>> 8) & 0xffff, tt, pdts: 0 });
  }
  return out;
}

/** 128 scalable-mode context entries of one half (§5.1); `half` is 0 or 0x80. */
export function scalableContextTest(w: Uint32Array, at: number, hiLimit: number, half: number): ContextTableTest {
  const out: ContextTableTest = { present: 0, invalid: 0, entries: [] };
  for (let k = 0; k < 128; k++) {
    const i = at + k * 8;
    let any = 0;
    for (let j = 0; j < 8; j++) any |= w[i + j];
    if (any === 0) continue;
    const q0lo = w[i], q0hi = w[i + 1], q1lo = w[i + 2], q1hi = w[i + 3];
    if ((q0lo & 1) === 0) { out.invalid++; continue; }
    const dir = ptr(q0lo, q0hi);
    if ((q0lo & 0x1e0) !== 0 || q0hi >= hiLimit || dir === 0 || (q1lo & 0xffe00000) !== 0 || q1hi !== 0 || (w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]) !== 0) {
      out.invalid++;
      continue;
    }
    out.present++;
    out.entries.push({ devfn: half + k, table: dir, did: -1, tt: -1, pdts: (q0lo >>> 9) & 7 });
  }
  return out;
}

// ─── What context entries point at (the deeper check) ──────────────────────────────────────────

export interface PageTest {
  present: number;
  invalid: number;
  /** Pointers of present entries (PASID tables of a directory), at most 8. */
  next: number[];
}

/**
 * A second-level paging-structure page (§6.1) of unknown level: every entry is 0 or has R or W set
 * and no address bit at or above the host address width.
 */
function secondLevelPageTest(w: Uint32Array, at: number, hiLimit: number): PageTest {
  const out: PageTest = { present: 0, invalid: 0, next: [] };
  for (let i = at; i < at + PAGE_WORDS; i += 2) {
    const lo = w[i], hi = w[i + 1];
    if ((lo | hi) === 0) continue;
    if ((lo & 3) === 0 || (hi & 0xfffff) >= hiLimit) out.invalid++;
    else out.present++;
  }
  return out;
}

/** PASID directory entries (§5.2) in the first `entries` qwords of a page. */
function pasidDirTest(w: Uint32Array, at: number, hiLimit: number, entries: number): PageTest {
  const out: PageTest = { present: 0, invalid: 0, next: [] };
  for (let k = 0; k < Math.min(512, entries); k++) {
    const lo = w[at + 2 * k], hi = w[at + 2 * k + 1];
    if ((lo | hi) === 0) continue;
    const p = ptr(lo, hi);
    if ((lo & 1) === 0 || (lo & 0xffc) !== 0 || hi >= hiLimit || p === 0) { out.invalid++; continue; }
    out.present++;
    if (out.next.length < 8) out.next.push(p);
  }
  return out;
}

export interface PasidTableTest extends PageTest {
  /** Present entries by PGTT (1 first-level, 2 second-level, 3 nested, 4 pass-through). */
  byPgtt: [number, number, number, number];
  /** Page-table roots of present entries (SLPTPTR or FLPTPTR), at most 8, with their format. */
  roots: { addr: number; firstLevel: boolean }[];
}

/** 64 PASID table entries of 512 bits (§5.3). */
export function pasidTableTest(w: Uint32Array, at: number, hiLimit: number): PasidTableTest {
  const out: PasidTableTest = { present: 0, invalid: 0, next: [], byPgtt: [0, 0, 0, 0], roots: [] };
  for (let k = 0; k < 64; k++) {
    const i = at + k * 16;
    let any = 0;
    for (let j = 0; j < 16; j++) any |= w[i + j];
    if (any === 0) continue;
    const q0lo = w[i], q0hi = w[i + 1], q1lo = w[i + 2], q2lo = w[i + 4], q2hi = w[i + 5];
    const pgtt = (q0lo >>> 6) & 7;
    let rest = 0;
    for (let j = 6; j < 16; j++) rest |= w[i + j];
    const bad =
      (q0lo & 1) === 0 || pgtt === 0 || pgtt > 4 || (q0lo & 0xc00) !== 0 || (q1lo & 0x7f0000) !== 0 || (q2lo & 0xf00) !== 0 || rest !== 0 ||
      q0hi >= hiLimit || q2hi >= hiLimit || (pgtt === 1 && ((q2lo >>> 2) & 3) > 1) ||
      (pgtt === 1 && ptr(q2lo, q2hi) === 0) || ((pgtt === 2 || pgtt === 3) && ptr(q0lo, q0hi) === 0);
    if (bad) { out.invalid++; continue; }
    out.present++;
    out.byPgtt[pgtt - 1]++;
    if (out.roots.length < 8 && pgtt !== 4) out.roots.push(pgtt === 1 ? { addr: ptr(q2lo, q2hi), firstLevel: true } : { addr: ptr(q0lo, q0hi), firstLevel: false });
  }
  return out;
}

// ─── One candidate, both layouts ───────────────────────────────────────────────────────────────

export type Layout = 'legacy' | 'scalable';

export interface RootCandidate {
  /** Physical address of the root table page. */
  root: number;
  layout: Layout;
  /** What RTADDR would hold: the address with TTM (bits 11:10) = 01 for scalable mode. */
  rtaddr: number;
  /** 0–1: how well the page and what it points at fit the layout (see `confidenceOf`). */
  confidence: number;
  /** Present root entries (halves in scalable mode) and the buses they belong to. */
  rootEntries: number;
  buses: number[];
  contextTables: { pointers: number; inImage: number; valid: number; empty: number };
  /** Present, well-formed context entries in the valid context tables. */
  contextEntries: number;
  /** Distinct DIDs (legacy) of those entries; in scalable mode DIDs live in PASID entries. */
  dids: number;
  /** The first functions with entries, `BB:DD.F`. */
  devices: string[];
  /** Structures one level further down: second-level table roots (legacy) or PASID directories and tables (scalable). */
  deep: { checked: number; valid: number; presentEntries: number };
  /** Scalable: present PASID entries by type. */
  pasidEntries?: { firstLevel: number; secondLevel: number; nested: number; passThrough: number };
  /**
   * Structures pointed at that lie in bytes the image declares but lost (a dump cut short): neither
   * valid nor invalid — unknown — so they are left out of `confidence`, and a candidate with a
   * lost context table is not ranked as found (scan lists it as unverified).
   */
  lost: { contextTables: number; deep: number };
  /** Why the confidence is below 1. */
  problems: string[];
}

export interface EvaluateOptions {
  hiLimit: number;
  /** Read one 4 KiB page as words (copied or not), or undefined when it is not in the image. */
  readPage: (addr: number) => Uint32Array | undefined;
  /** Bound on the pages read below the root (context tables + deeper structures). */
  maxReads?: number;
  /** Is a page `readPage` cannot give one the image declares but lost (cut short)? Default: never. */
  isLost?: (addr: number) => boolean;
}

/**
 * confidence = (valid context tables / distinct context-table pointers not lost)
 *            × (1 − 2^−entries)           — one entry is weak evidence, eight are near certain
 *            × (½ + ½ · deep valid / deep checked)   (¾ when nothing deeper could be checked)
 * Structures in lost bytes (`lost`) count neither way: what they held is unknown.
 */
function confidenceOf(c: Pick<RootCandidate, 'contextTables' | 'contextEntries' | 'deep'> & { lost?: RootCandidate['lost'] }): number {
  const { valid } = c.contextTables;
  const pointers = c.contextTables.pointers - (c.lost?.contextTables ?? 0);
  if (pointers <= 0) return 0;
  const base = valid / pointers;
  const support = 1 - 0.5 ** c.contextEntries;
  const deep = c.deep.checked === 0 ? 0.75 : 0.5 + (0.5 * c.deep.valid) / c.deep.checked;
  return Math.round(base * support * deep * 1000) / 1000;
}

/** Score a root-table-like page under one layout. */
export function evaluateLayout(rootWords: Uint32Array, at: number, root: number, layout: Layout, opts: EvaluateOptions): RootCandidate {
  const { hiLimit, readPage } = opts;
  const isLost = opts.isLost ?? (() => false);
  let budget = opts.maxReads ?? 1024;
  const c: RootCandidate = {
    root, layout, rtaddr: root + (layout === 'scalable' ? 0x400 : 0), confidence: 0, rootEntries: 0, buses: [],
    contextTables: { pointers: 0, inImage: 0, valid: 0, empty: 0 }, contextEntries: 0, dids: 0, devices: [],
    deep: { checked: 0, valid: 0, presentEntries: 0 }, lost: { contextTables: 0, deep: 0 }, problems: [],
  };
  /** A deeper structure's page, or undefined; a lost one is counted as such and not as checked. */
  const readDeep = (addr: number): Uint32Array | undefined | 'lost' => {
    const w = readPage(addr);
    if (w === undefined && isLost(addr)) {
      c.lost.deep++;
      return 'lost';
    }
    c.deep.checked++;
    return w;
  };
  // Distinct context tables and who points at them.
  const tables = new Map<number, { bus: number; half: number }>();
  for (let bus = 0; bus < 256; bus++) {
    let used = false;
    for (const half of layout === 'legacy' ? [0] : [0, 1]) {
      const lo = rootWords[at + bus * 4 + half * 2];
      const hi = rootWords[at + bus * 4 + half * 2 + 1];
      if ((lo & 1) === 0) continue;
      used = true;
      c.rootEntries++;
      const p = ptr(lo, hi);
      if (!tables.has(p)) tables.set(p, { bus, half: half * 0x80 });
    }
    if (used) c.buses.push(bus);
  }
  c.contextTables.pointers = tables.size;
  const dids = new Set<number>();
  const uses: { bus: number; e: ContextUseSummary }[] = [];
  let missing = 0, invalidTables = 0;
  for (const [addr, { bus, half }] of tables) {
    if (budget-- <= 0) break;
    const w = readPage(addr);
    if (w === undefined && isLost(addr)) { c.lost.contextTables++; continue; }
    if (w === undefined) { missing++; continue; }
    c.contextTables.inImage++;
    const t = layout === 'legacy' ? legacyContextTest(w, 0, hiLimit) : scalableContextTest(w, 0, hiLimit, half);
    if (t.invalid > 0) { invalidTables++; continue; }
    c.contextTables.valid++;
    if (t.present === 0) c.contextTables.empty++;
    c.contextEntries += t.present;
    for (const e of t.entries) {
      uses.push({ bus, e });
      if (e.did >= 0) dids.add(e.did);
    }
  }
  c.dids = dids.size;
  uses.sort((a, b) => a.bus - b.bus || a.e.devfn - b.e.devfn);
  c.devices = uses.slice(0, 8).map((u) => formatBusDevfn(u.bus, u.e.devfn));
  if (missing) c.problems.push(`${missing} of ${tables.size} context-table pointers lead outside the image`);
  if (c.lost.contextTables) c.problems.push(`${c.lost.contextTables} of ${tables.size} context tables are in bytes the image lost (cut short): not checked`);
  if (invalidTables) c.problems.push(`${invalidTables} pointed-at pages are not well-formed ${layout} context tables`);

  // One level further down, for at most 32 distinct structures.
  const seen = new Set<number>();
  if (layout === 'legacy') {
    for (const { e } of uses) {
      if (e.tt === 2 || seen.has(e.table) || seen.size >= 32 || budget-- <= 0) continue;
      seen.add(e.table);
      const w = readDeep(e.table);
      if (w === undefined || w === 'lost') continue;
      const t = secondLevelPageTest(w, 0, hiLimit);
      if (t.invalid === 0) c.deep.valid++;
      c.deep.presentEntries += t.present;
    }
    if (c.deep.checked > c.deep.valid) c.problems.push(`${c.deep.checked - c.deep.valid} of ${c.deep.checked} second-level table roots checked are missing or malformed`);
  } else {
    const pasids = { firstLevel: 0, secondLevel: 0, nested: 0, passThrough: 0 };
    for (const { e } of uses) {
      if (seen.has(e.table) || seen.size >= 32 || budget-- <= 0) continue;
      seen.add(e.table);
      const w = readDeep(e.table);
      if (w === undefined || w === 'lost') continue;
      const d = pasidDirTest(w, 0, hiLimit, 2 ** (e.pdts + 7));
      if (d.invalid > 0) continue;
      c.deep.valid++;
      for (const tAddr of d.next.slice(0, 4)) {
        if (budget-- <= 0) break;
        const tw = readDeep(tAddr);
        if (tw === undefined || tw === 'lost') continue;
        const t = pasidTableTest(tw, 0, hiLimit);
        if (t.invalid > 0 || t.present === 0) continue;
        c.deep.valid++;
        c.deep.presentEntries += t.present;
        pasids.firstLevel += t.byPgtt[0];
        pasids.secondLevel += t.byPgtt[1];
        pasids.nested += t.byPgtt[2];
        pasids.passThrough += t.byPgtt[3];
      }
    }
    c.pasidEntries = pasids;
    if (c.deep.checked > c.deep.valid) c.problems.push(`${c.deep.checked - c.deep.valid} of ${c.deep.checked} PASID directories/tables checked are missing, empty or malformed`);
  }
  if (c.lost.deep) c.problems.push(`${c.lost.deep} ${layout === 'legacy' ? 'second-level table roots' : 'PASID directories/tables'} are in bytes the image lost (cut short): not checked`);
  c.confidence = confidenceOf(c);
  return c;
}

/**
 * Both layouts a root-like page allows (legacy only when no upper half is used); the better one,
 * or undefined when neither leads to a single well-formed context entry nor to a context table in
 * lost bytes (which may have held some). On a tie the layout whose deeper structures hold more
 * present entries wins, then legacy (a scalable table needs PASID entries to be believed).
 */
export function evaluateRoot(rootWords: Uint32Array, at: number, root: number, test: number, opts: EvaluateOptions): RootCandidate | undefined {
  const options: RootCandidate[] = [];
  if ((test & UPPER_USED) === 0) options.push(evaluateLayout(rootWords, at, root, 'legacy', opts));
  options.push(evaluateLayout(rootWords, at, root, 'scalable', opts));
  options.sort((a, b) => b.confidence - a.confidence || b.deep.presentEntries - a.deep.presentEntries || (a.layout === 'legacy' ? -1 : 1));
  const best = options[0];
  return best.contextEntries > 0 || best.lost.contextTables > 0 ? best : undefined;
}

/** Candidates in rank order: confidence, then more context entries, then lower address. */
export function rankCandidates(list: RootCandidate[]): RootCandidate[] {
  return [...list].sort((a, b) => b.confidence - a.confidence || b.contextEntries - a.contextEntries || a.root - b.root);
}
