/**
 * Walks a second-level (or first-level, IA-32e style) page table through a PhysicalMemory and
 * coalesces the leaves into Mapping ranges as it goes — never one object per 4 KiB page.
 *
 * The hot loop reads each 4 KiB table page once as an Int32Array (entry i = words 2i, 2i+1) and
 * works in page frame numbers, so it stays on small integers. Everything the hardware would
 * refuse (reserved bits, pointers past the host address width, superpages the unit does not
 * support) is recorded as a TableProblem with the entry's physical address and raw value, and the
 * entry is not followed: a damaged capture still decodes as far as it goes.
 */
import type { PhysicalMemory } from '../image/types.js';
import { MappingCoalescer } from './coalesce.js';
import { leafRunScanner } from './leaf-run.js';
import type { Mapping, PageSize } from './types.js';

export type TableProblemKind =
  | 'reserved-bits'
  | 'beyond-haw'
  | 'missing-page'
  | 'cycle'
  | 'shared-table'
  | 'superpage-unsupported'
  | 'levels-mismatch'
  | 'budget';

export interface TableProblem {
  kind: TableProblemKind;
  /** VT-d level of the entry (1 = PTE … 5 = PML5E); 0 for root, context and PASID entries. */
  level: number;
  /**
   * Physical address of the entry at fault: the entry holding the bad bits, or the entry that
   * points at a page that is missing, on its own path (cycle) or shared.
   */
  entryAddr: number;
  /** Qword 0 of that entry (kept for schemaVersion 1 readers; `entry` has every qword). */
  raw: bigint;
  /** Every qword of the entry, lowest first: one for a paging entry, two (root, legacy context) to eight (PASID). */
  entry: bigint[];
  /**
   * The bits at fault, per qword of `entry` (the entry's own bits, masked): reserved bits that are
   * set, address bits at or above the host address width, a field whose value the unit refuses
   * (AW, PS, FLPM), or — for an entry whose target cannot be followed (missing, cycle, shared,
   * levels that disagree) — its pointer or levels field.
   */
  faultBits: bigint[];
  /** The address the entry points at, when the problem is about that target (missing-page, cycle, shared-table, levels-mismatch). */
  target?: number;
  /**
   * Set by the walker when the entry at fault is the one that points at the table root (a
   * context or PASID entry, which the walker never sees): the caller names that entry.
   */
  atRoot?: boolean;
  message: string;
}

export interface WalkOptions {
  /** Host address width in bits (DMAR HAW); pointers with bits at or above it are reserved. */
  haw: number;
  /** CAP.SLLPS (bit 0: 2 MiB, bit 1: 1 GiB); undefined when no register snapshot says. */
  sllps?: number;
  /** ECAP.SC (SNP allowed) and ECAP.DT (TM allowed); undefined = unknown, not checked. */
  snoopControl?: boolean;
  deviceTlb?: boolean;
  /** First-level (IA-32e) format instead of second-level. */
  firstLevel?: boolean;
  /** CAP.FL1GP for first-level 1 GiB pages; undefined = unknown. */
  fl1gp?: boolean;
  /** Bound on table pages read more than once within this walk (shared sub-tables); default: none beyond `budget`. */
  maxRevisits?: number;
  /**
   * The work bound shared by every walk of one unit (see WalkBudget). A walk without one gets its
   * own, so a single call is bounded the same way.
   */
  budget?: WalkBudget;
  /** Extend leaf runs in JavaScript even where the WebAssembly loop is available (tests compare the two). */
  portableLeafLoop?: boolean;
}

export interface WalkResult {
  mappings: Mapping[];
  pageCount: number;
  /** PFNs of every table page read, root included, in visiting order (unique). */
  tablePfns: number[];
  problems: TableProblem[];
  /** False when a table page was missing from the image or the walk was cut short. */
  complete: boolean;
  /** Table pages read (the work bound tests use). */
  pagesVisited: number;
}

const TWO_POW_32 = 4294967296;
/**
 * 4 KiB pages covered by one entry at levels 1–4, as small integers: `512 ** (level − 1)` is a
 * heap number, and arithmetic on one gives heap numbers (even 0) in code not yet optimized, which
 * made every Mapping store its IOVA boxed (see MappingCoalescer). Level 5 spans 2^36 pages.
 */
const SPAN = [0, 1, 512, 262144, 134217728];
const SPAN_L5 = 68719476736;
const PAGE_WORDS = 1024;

/**
 * A set of page frame numbers (integers below 2^53) in an open-addressed Float64Array: a
 * Set<number> boxes every PFN above 2^30 into a heap number, which showed up as a tenth of the
 * walk of a large table.
 */
export class PfnSet {
  private keys = new Float64Array(1024).fill(-1);
  private count = 0;

  /** Add `pfn`; false when it was already there. */
  add(pfn: number): boolean {
    let keys = this.keys;
    let mask = keys.length - 1;
    let h = hashPfn(pfn) & mask;
    for (;;) {
      const k = keys[h];
      if (k === pfn) return false;
      if (k === -1) break;
      h = (h + 1) & mask;
    }
    keys[h] = pfn;
    if (++this.count * 2 > keys.length) {
      const old = keys;
      keys = this.keys = new Float64Array(old.length * 2).fill(-1);
      mask = keys.length - 1;
      for (const k of old) {
        if (k === -1) continue;
        let j = hashPfn(k) & mask;
        while (keys[j] !== -1) j = (j + 1) & mask;
        keys[j] = k;
      }
    }
    return true;
  }

  has(pfn: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let h = hashPfn(pfn) & mask; ; h = (h + 1) & mask) {
      const k = keys[h];
      if (k === pfn) return true;
      if (k === -1) return false;
    }
  }

  get size(): number {
    return this.count;
  }
}

function hashPfn(pfn: number): number {
  const h = Math.imul((pfn >>> 0) ^ Math.floor(pfn / TWO_POW_32), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Table-page reads a unit's walks may make beyond one per distinct page present (see WalkBudget). */
export const WALK_EXTRA_READS = 512;
/** How many more times, on average, each distinct table page present may be read. */
export const WALK_REREAD_FACTOR = 1;
/** Problems one walk records one by one; past it they are counted in one `budget` problem. */
export const MAX_PROBLEMS_PER_WALK = 1024;

/**
 * The work bound of table walks: what a real host can have. A real host's page tables are trees
 * (Linux and FreeBSD never share a table page between entries or domains), so a walk reads each
 * page once. Shared pages make a DAG whose paths multiply — three pages in a fan give 512^3 paths —
 * so reads are bounded by the pages that are really there: every distinct page present in the
 * image may be read once, plus `WALK_REREAD_FACTOR` re-reads per distinct page and
 * `WALK_EXTRA_READS` more for the whole unit. A read of a page the image lacks is a re-read too,
 * so a table of pointers to nowhere cannot make unbounded problems. Leaves visited are at most
 * 512 per read, so mappings are bounded by the same figure; mappings per domain are bounded by the
 * address width anyway (each IOVA is reached by one path). One budget is shared by all the walks
 * of a unit, so many domains pointing into one shared table are bounded together.
 */
export class WalkBudget {
  /** Distinct table pages read successfully, across the walks sharing this budget. */
  private readonly distinct = new PfnSet();
  /** Table pages asked for that the image did not hold. */
  private readonly absent = new PfnSet();
  /** Table-page reads (successful or not) made so far. */
  reads = 0;
  /** Set once a read was refused. */
  exhausted = false;

  constructor(
    readonly extraReads: number = WALK_EXTRA_READS,
    readonly rereadFactor: number = WALK_REREAD_FACTOR,
  ) {}

  /** Reads allowed at this point. */
  get limit(): number {
    return this.extraReads + (1 + this.rereadFactor) * this.distinct.size;
  }

  /** Before reading `pfn`: a page never asked for always may be (the image bounds those that exist). */
  allow(pfn: number): boolean {
    if (this.reads < this.limit || (!this.distinct.has(pfn) && !this.absent.has(pfn))) return true;
    this.exhausted = true;
    return false;
  }

  /** After reading `pfn` (`present`: the image held it). False when a page that was not there went over the budget. */
  count(pfn: number, present: boolean): boolean {
    this.reads++;
    if (present) {
      this.distinct.add(pfn);
      return true;
    }
    this.absent.add(pfn);
    if (this.reads <= this.limit) return true;
    this.exhausted = true;
    return false;
  }
}

export function walkPageTable(mem: PhysicalMemory, root: number, levels: number, opts: WalkOptions): WalkResult {
  const coalescer = new MappingCoalescer();
  const problems: TableProblem[] = [];
  const seen = new PfnSet();
  const tablePfns: number[] = [];
  const onPath: number[] = [];
  const maxRevisits = opts.maxRevisits ?? Number.MAX_SAFE_INTEGER;
  const budget = opts.budget ?? new WalkBudget();
  const first = opts.firstLevel === true;
  // Address bits 51:12 are the pointer; bits at or above HAW (when < 52) are reserved.
  const hawHiMask = opts.haw >= 52 ? 0 : (0xfffff & ~((1 << Math.max(0, opts.haw - 32)) - 1)) >>> 0;
  // hi word: bits 19:0 are address bits 51:32. For HAW < 32, low-word bits too (unrealistic; handled below).
  const hawLoMask = opts.haw >= 32 ? 0 : (~((1 << opts.haw) - 1) & 0xfffff000) >>> 0;
  let revisits = 0;
  let complete = true;
  let pagesVisited = 0;
  let budgetReported = false;
  let unrecorded = 0;

  /**
   * Record a problem of the paging entry at `entryAddr` (words lo, hi) whose bits `faultLo`,
   * `faultHi` are at fault. `entryAddr === root` with `atRoot` means the entry pointing at the
   * root (a context or PASID entry), which the caller names.
   */
  const problem = (kind: TableProblemKind, level: number, entryAddr: number, lo: number, hi: number, message: string, faultLo: number, faultHi: number, target?: number, atRoot = false): void => {
    if (problems.length >= MAX_PROBLEMS_PER_WALK && kind !== 'budget') {
      unrecorded++;
      return;
    }
    const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const p: TableProblem = { kind, level, entryAddr, raw, entry: [raw], faultBits: [(BigInt(faultHi >>> 0) << 32n) | BigInt(faultLo >>> 0)], message };
    if (target !== undefined) p.target = target;
    if (atRoot) p.atRoot = true;
    problems.push(p);
  };
  // The pointer field of a paging entry (bits 51:12), as the fault bits of one whose target is unusable.
  const PTR_LO = 0xfffff000 | 0;
  const PTR_HI = 0xfffff;

  // One page buffer per level: a walk at level L only descends to L-1, so a level's buffer is
  // never overwritten while its entries are still being read. No allocation per table page.
  // Int32 words: V8 keeps them in machine registers (uint32 above 2^30 would be heap numbers);
  // every use below is a bit operation, and `>>> 0` where the unsigned value matters.
  const pageWords: Int32Array[] = [];
  const pageBytes: Uint8Array[] = [];
  // Leaf pages go straight into the WebAssembly loop's memory (see leafPage).
  const scanner = opts.portableLeafLoop === true ? undefined : leafRunScanner();
  if (scanner !== undefined) {
    pageWords[1] = scanner.words;
    pageBytes[1] = scanner.bytes;
  }
  const readTable = (addr: number, level: number, fromEntry: number, lo: number, hi: number, atRoot: boolean): Int32Array | undefined => {
    let words = pageWords[level];
    if (words === undefined) {
      words = pageWords[level] = new Int32Array(PAGE_WORDS);
      pageBytes[level] = new Uint8Array(words.buffer);
    }
    const bytes = pageBytes[level];
    let ok: boolean;
    if (mem.readInto !== undefined) ok = mem.readInto(addr, bytes);
    else {
      const b = mem.read(addr, 4096);
      ok = b !== undefined;
      // Copy: the reader's cache may reuse the buffer while we descend.
      if (b !== undefined) bytes.set(b);
    }
    if (!budget.count(addr / 4096, ok)) {
      cutShort(level, fromEntry, lo, hi, atRoot);
      return undefined;
    }
    if (!ok) {
      complete = false;
      problem('missing-page', level, fromEntry, lo, hi, `level-${level} table page 0x${addr.toString(16)} is not in the image`, lo & PTR_LO, hi & PTR_HI, addr, atRoot);
      return undefined;
    }
    pagesVisited++;
    return words;
  };

  const cutShort = (level: number, fromEntry: number, lo: number, hi: number, atRoot: boolean): void => {
    complete = false;
    if (budgetReported) return;
    budgetReported = true;
    const why = revisits > maxRevisits
      ? `more than ${maxRevisits} shared table pages`
      : `${budget.reads} table-page reads for ${budget.limit - budget.extraReads} allowed by the distinct pages present (each read at most ${1 + budget.rereadFactor} times, plus ${budget.extraReads}): the tables share pages as no real host's do`;
    problem('budget', level, fromEntry, lo, hi, `${why}; walk cut short`, 0, 0, undefined, atRoot);
  };

  const walk = (tableAddr: number, level: number, basePfn: number, parentR: boolean, parentW: boolean, fromEntry: number, fromLo: number, fromHi: number): void => {
    const pfn = tableAddr / 4096;
    const atRoot = level === levels;
    if (onPath.includes(pfn)) {
      problem('cycle', level + 1, fromEntry, fromLo, fromHi, `entry points back at table page 0x${tableAddr.toString(16)}, which is on its own walk path (a cycle)`, fromLo & PTR_LO, fromHi & PTR_HI, tableAddr);
      return;
    }
    if (!budget.allow(pfn)) {
      cutShort(level, fromEntry, fromLo, fromHi, atRoot);
      return;
    }
    if (!seen.add(pfn)) {
      if (revisits === 0 || revisits % 4096 === 0) {
        problem('shared-table', level + 1, fromEntry, fromLo, fromHi, `table page 0x${tableAddr.toString(16)} is referenced by more than one entry`, fromLo & PTR_LO, fromHi & PTR_HI, tableAddr);
      }
      if (++revisits > maxRevisits) {
        cutShort(level, fromEntry, fromLo, fromHi, atRoot);
        return;
      }
    } else {
      tablePfns.push(pfn);
    }
    const words = readTable(tableAddr, level, fromEntry, fromLo, fromHi, atRoot);
    if (words === undefined) return;
    const span = level < 5 ? SPAN[level] : SPAN_L5; // 4 KiB pages covered by one entry at this level
    onPath.push(pfn);
    if (level === 1) leafPage(words, tableAddr, basePfn, parentR, parentW);
    else {
      for (let i = 0; i < 512; i++) {
        const lo = words[2 * i];
        const hi = words[2 * i + 1];
        const present = first ? (lo & 1) !== 0 : (lo & 3) !== 0;
        if (!present) continue;
        const entryAddr = tableAddr + i * 8;
        const r = parentR && (first ? true : (lo & 1) !== 0);
        const w = parentW && (lo & 2) !== 0;
        const ps = (lo & 0x80) !== 0;
        const iovaPfn = basePfn + i * span;
        if ((hi & hawHiMask) !== 0 || (lo & hawLoMask) !== 0) {
          problem('beyond-haw', level, entryAddr, lo, hi, `address bits at or above the host address width (${opts.haw}) are set`, lo & hawLoMask, hi & hawHiMask);
          continue;
        }
        if (ps) {
          if (!superpageOk(level, entryAddr, lo, hi)) continue;
          const pageSize: PageSize = level === 2 ? 2097152 : 1073741824;
          // First level: bit 12 of a 2 MiB / 1 GiB leaf is PAT, not an address bit (§6.2).
          const hpaPfn = ((first ? lo & ~0x1fff : lo) >>> 12) + (hi & 0xfffff) * 1048576;
          coalescer.add(iovaPfn, hpaPfn, span, r, w, pageSize, !first && (lo & 0x800) !== 0, !first && (hi & 0x40000000) !== 0);
          continue;
        }
        if (!first && ((lo & 0x800) !== 0 || (hi & 0x40000000) !== 0)) {
          problem('reserved-bits', level, entryAddr, lo, hi, 'reserved bit 11 or 62 set in a non-leaf entry', lo & 0x800, hi & 0x40000000);
          continue;
        }
        const next = (lo & 0xfffff000) >>> 0;
        walk(next + (hi & 0xfffff) * TWO_POW_32, level - 1, iovaPfn, r, w, entryAddr, lo, hi);
      }
    }
    onPath.pop();
  };

  /** PS=1 at `level`: legal only at PDE (2 MiB) / PDPE (1 GiB) the unit supports, aligned. */
  const superpageOk = (level: number, entryAddr: number, lo: number, hi: number): boolean => {
    if (level > 3) {
      problem('reserved-bits', level, entryAddr, lo, hi, `PS (bit 7) set at level ${level}, where it is reserved`, 0x80, 0);
      return false;
    }
    const size = level === 2 ? '2 MiB' : '1 GiB';
    if (first) {
      if (level === 3 && opts.fl1gp === false) {
        problem('superpage-unsupported', level, entryAddr, lo, hi, '1 GiB first-level page but CAP.FL1GP is clear', 0x80, 0);
        return false;
      }
    } else if (opts.sllps !== undefined && (opts.sllps & (level === 2 ? 1 : 2)) === 0) {
      problem('superpage-unsupported', level, entryAddr, lo, hi, `${size} page but CAP.SLLPS does not offer it`, 0x80, 0);
      return false;
    }
    const lowMask = level === 2 ? 0x1ff000 : 0x3ffff000;
    const lowMaskFl = level === 2 ? 0x1fe000 : 0x3fffe000; // first level: bit 12 is PAT in large leaves
    if ((lo & (first ? lowMaskFl : lowMask)) !== 0) {
      problem('reserved-bits', level, entryAddr, lo, hi, `${size} page address is not ${size}-aligned (reserved low address bits set)`, lo & (first ? lowMaskFl : lowMask), 0);
      return false;
    }
    if (!first && leafFeatureReserved(lo, hi)) {
      problem('reserved-bits', level, entryAddr, lo, hi, leafFeatureMessage(lo, hi), lo & leafBadLo, hi & leafBadHi);
      return false;
    }
    return true;
  };

  const leafFeatureReserved = (lo: number, hi: number): boolean =>
    (opts.snoopControl === false && (lo & 0x800) !== 0) || (opts.deviceTlb === false && (hi & 0x40000000) !== 0);
  const leafFeatureMessage = (lo: number, _hi: number): string =>
    opts.snoopControl === false && (lo & 0x800) !== 0
      ? 'SNP (bit 11) set but ECAP.SC is clear (reserved)'
      : 'TM (bit 62) set but ECAP.DT is clear (reserved)';

  // Leaf bits that make a PTE reserved: address bits at or above HAW, and SNP/TM when the unit
  // says they are not supported (second level only).
  const leafBadLo = hawLoMask | (!first && opts.snoopControl === false ? 0x800 : 0);
  const leafBadHi = hawHiMask | (!first && opts.deviceTlb === false ? 0x40000000 : 0);

  // Pages below 2^(HAW − 12): a WebAssembly run may carry across the low word (a 64-bit add) but
  // must stop before the address reaches the host address width.
  const maxPfn = 2 ** (Math.min(52, opts.haw) - 12);
  const runEnd = scanner !== undefined && hawLoMask === 0 ? scanner.runEnd : undefined;

  /**
   * The hot loop: 512 PTEs. A present, valid PTE starts a run, and the run extends over the
   * following PTEs as long as each is the previous one plus 4 KiB, bit for bit — in WebAssembly
   * two 64-bit compares at a time (leaf-run.wat), or in JavaScript two 32-bit compares per PTE
   * (same flags, same high word, no carry out of the low word). Each run
   * goes to the coalescer, which joins runs that continue each other (across the breaks this
   * strict test makes, and across table pages), so the mappings are exactly those of a
   * per-PTE comparison of address and permissions.
   */
  const leafPage = (words: Int32Array, tableAddr: number, basePfn: number, parentR: boolean, parentW: boolean): void => {
    const parentMask = (parentR ? 1 : 0) | (parentW ? 2 : 0);
    // Locals, not captured variables, in the loop.
    const fl = first;
    const presentMask = fl ? 1 : 3;
    const badLo = leafBadLo;
    const badHi = leafBadHi;
    const lowMask = hawLoMask;
    let i = 0;
    while (i < 512) {
      const lo = words[2 * i];
      if ((lo & presentMask) === 0) {
        i++;
        continue;
      }
      const hi = words[2 * i + 1];
      if ((lo & badLo) !== 0 || (hi & badHi) !== 0) {
        if ((hi & hawHiMask) !== 0 || (lo & hawLoMask) !== 0) problem('beyond-haw', 1, tableAddr + i * 8, lo, hi, `page address bits at or above the host address width (${opts.haw}) are set`, lo & hawLoMask, hi & hawHiMask);
        else problem('reserved-bits', 1, tableAddr + i * 8, lo, hi, leafFeatureMessage(lo, hi), lo & badLo, hi & badHi);
        i++;
        continue;
      }
      // R (bit 0; implied by P at first level), W (bit 1), SNP (bit 11 → 4), TM (bit 62 → 8).
      const b = fl ? (1 | (lo & 2)) & parentMask : (lo & 3 & parentMask) | ((lo >>> 9) & 4) | ((hi >>> 27) & 8);
      const hpa = (lo >>> 12) + (hi & 0xfffff) * 1048576;
      // k: word index of the next PTE. The run may not carry out of the low word (the coalescer
      // joins what follows), so it ends after `room` more PTEs at most: lo + 4096·room ≤ 2^32 − 1.
      let k = 2 * i + 2;
      let exp = lo;
      if (runEnd !== undefined) {
        // The page is in the WebAssembly memory (readTable put it there): 64-bit compares, two at a time.
        const room = maxPfn - 1 - hpa;
        k = 2 * runEnd(0, i, room < 511 - i ? i + 1 + room : 512);
      } else if (lowMask === 0) {
        const room = ((0xffffffff - (lo >>> 0)) / 4096) | 0;
        const limit = room < 512 ? Math.min(1024, k + 2 * room) : 1024;
        exp = (lo + 4096) | 0;
        // Four PTEs per test while four remain: the loop condition is most of the work per PTE.
        while (
          k + 8 <= limit &&
          words[k] === exp && words[k + 1] === hi &&
          words[k + 2] === ((exp + 4096) | 0) && words[k + 3] === hi &&
          words[k + 4] === ((exp + 8192) | 0) && words[k + 5] === hi &&
          words[k + 6] === ((exp + 12288) | 0) && words[k + 7] === hi
        ) {
          exp = (exp + 16384) | 0;
          k += 8;
        }
        while (k < limit && words[k] === exp && words[k + 1] === hi) {
          exp = (exp + 4096) | 0;
          k += 2;
        }
      } else {
        while (k < 1024 && (exp < -4096 || exp >= 0)) {
          exp = (exp + 4096) | 0;
          if (words[k] !== exp || words[k + 1] !== hi || (exp & lowMask) !== 0) break;
          k += 2;
        }
      }
      const j = k >> 1;
      coalescer.add(basePfn + i, hpa, j - i, (b & 1) !== 0, (b & 2) !== 0, 4096, (b & 4) !== 0, (b & 8) !== 0);
      i = j;
    }
  };

  if (root % 4096 !== 0) {
    problems.push({ kind: 'reserved-bits', level: 0, entryAddr: root, raw: BigInt(root), entry: [BigInt(root)], faultBits: [BigInt(root % 4096)], target: root, atRoot: true, message: `table root 0x${root.toString(16)} is not 4 KiB aligned` });
    return { mappings: [], pageCount: 0, tablePfns, problems, complete: false, pagesVisited };
  }
  walk(root, levels, 0, true, true, root, 0, 0);
  if (unrecorded > 0) {
    problems.push({ kind: 'budget', level: 0, entryAddr: root, raw: 0n, entry: [0n], faultBits: [0n], atRoot: true, message: `${unrecorded} more problems in this table are not listed one by one` });
  }
  return { mappings: coalescer.mappings, pageCount: coalescer.pageCount, tablePfns, problems, complete, pagesVisited };
}
