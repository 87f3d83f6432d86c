/**
 * Walks a second-level (or first-level, IA-32e style) page table through a PhysicalMemory and
 * coalesces the leaves into Mapping ranges as it goes — never one object per 4 KiB page.
 *
 * The hot loop reads each 4 KiB table page once as an Int32Array (entry i = words 2i, 2i+1) and
 * works in page frame numbers, so it stays on small integers. Leaf pages are read ahead, up to
 * LEAF_BATCH_PAGES at a time, with `readPages` (one positioned read per run of pages that follow
 * each other in the file) — the same pages the walk would read one by one, never more. Everything the hardware would
 * refuse (reserved bits, pointers past the host address width, superpages the unit does not
 * support) is recorded as a TableProblem with the entry's physical address and raw value, and the
 * entry is not followed: a damaged capture still decodes as far as it goes.
 */
import type { PhysicalMemory } from '../image/types.js';
import { MappingCoalescer } from './coalesce.js';
import { attachMappingList } from './mapping-list.js';
import { LEAF_BATCH_PAGES, LEAF_RECORDS, leafRunScanner, type LeafRunScanner } from './leaf-run.js';
import type { Mapping, PageSize } from './types.js';
import { MAX_PROBLEMS_PER_WALK, PfnSet, WalkBudget } from './walk-budget.js';

export { MAX_MAPPINGS_PER_UNIT, MAX_PROBLEMS_PER_WALK, PfnSet, WALK_EXTRA_READS, WALK_REREAD_FACTOR, WalkBudget } from './walk-budget.js';

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
// The pointer field of a paging entry (bits 51:12), as the fault bits of one whose target is unusable.
const PTR_LO = 0xfffff000 | 0;
const PTR_HI = 0xfffff;

export function walkPageTable(mem: PhysicalMemory, root: number, levels: number, opts: WalkOptions): WalkResult {
  const w = new TableWalker(mem, levels, opts);
  if (root % 4096 !== 0) {
    w.problems.push({ kind: 'reserved-bits', level: 0, entryAddr: root, raw: BigInt(root), entry: [BigInt(root)], faultBits: [BigInt(root % 4096)], target: root, atRoot: true, message: `table root 0x${root.toString(16)} is not 4 KiB aligned` });
    return { mappings: [], pageCount: 0, tablePfns: w.tablePfns, problems: w.problems, complete: false, pagesVisited: 0 };
  }
  w.walk(root, levels, 0, true, true, root, 0, 0);
  return w.result(root);
}

/**
 * One walk's state. The steps are methods over explicit fields; the leaf loop (`leafPage`) is one
 * method on purpose (see there).
 */
class TableWalker {
  readonly problems: TableProblem[] = [];
  readonly tablePfns: number[] = [];
  private readonly coalescer = new MappingCoalescer();
  private readonly seen = new PfnSet();
  private readonly onPath: number[] = [];
  private readonly maxRevisits: number;
  private readonly budget: WalkBudget;
  private readonly first: boolean;
  /** Address bits at or above HAW in the high word (bits 19:0 are address bits 51:32), and in the low word for HAW < 32. */
  private readonly hawHiMask: number;
  private readonly hawLoMask: number;
  /** Leaf bits that make a PTE reserved: address bits at or above HAW, SNP/TM when the unit lacks them (second level). */
  private readonly leafBadLo: number;
  private readonly leafBadHi: number;
  /** Pages below 2^(HAW − 12): a WebAssembly run may carry across the low word but stops before the host address width. */
  private readonly maxPfn: number;
  /** The WebAssembly leaf loop, when it is there and the host address width lets it (HAW ≥ 32). */
  private readonly scanner: LeafRunScanner | undefined;
  /** The WebAssembly loop may be building a mapping (finishLeaves before the coalescer gets another). */
  private leafOpen = false;
  private revisits = 0;
  private complete = true;
  private pagesVisited = 0;
  private budgetReported = false;
  private unrecorded = 0;

  // One page buffer per level: a walk at level L only descends to L-1, so a level's buffer is
  // never overwritten while its entries are still being read. No allocation per table page.
  // Int32 words: V8 keeps them in machine registers (uint32 above 2^30 would be heap numbers);
  // every use below is a bit operation, and `>>> 0` where the unsigned value matters.
  private readonly pageWords: Int32Array[] = [];
  private readonly pageBytes: Uint8Array[] = [];

  // Leaf pages: one at word 0 of `pageWords[1]`, and the read-ahead batch at word 1024·(s + 1) —
  // in the WebAssembly loop's memory when it is there, so nothing is copied.
  private readonly batchBytes: Uint8Array;
  private readonly batchAddrs = new Float64Array(LEAF_BATCH_PAGES);
  private readonly batchPresent = new Uint8Array(LEAF_BATCH_PAGES);
  /** Index, in the level-2 table `batchTable`, of the entry that points at each batch page. */
  private readonly batchEntry = new Int16Array(LEAF_BATCH_PAGES);
  private batchCount = 0;
  private batchNext = 0;
  private batchTable = -1;
  /** Entries of `batchTable` before this one were all considered for reading ahead. */
  private batchScanned = 0;

  constructor(private readonly mem: PhysicalMemory, private readonly levels: number, private readonly opts: WalkOptions) {
    this.maxRevisits = opts.maxRevisits ?? Number.MAX_SAFE_INTEGER;
    this.budget = opts.budget ?? new WalkBudget();
    this.first = opts.firstLevel === true;
    this.hawHiMask = opts.haw >= 52 ? 0 : (0xfffff & ~((1 << Math.max(0, opts.haw - 32)) - 1)) >>> 0;
    this.hawLoMask = opts.haw >= 32 ? 0 : (~((1 << opts.haw) - 1) & 0xfffff000) >>> 0;
    this.leafBadLo = this.hawLoMask | (!this.first && opts.snoopControl === false ? 0x800 : 0);
    this.leafBadHi = this.hawHiMask | (!this.first && opts.deviceTlb === false ? 0x40000000 : 0);
    this.maxPfn = 2 ** (Math.min(52, opts.haw) - 12);
    const scanner = opts.portableLeafLoop === true ? undefined : leafRunScanner();
    this.scanner = scanner !== undefined && this.hawLoMask === 0 ? scanner : undefined;
    this.scanner?.resetLeaves(this.first ? 1 : 0, this.leafBadLo, this.leafBadHi, this.maxPfn, this.scanner.recordsAt, LEAF_RECORDS);
    const leafWords = scanner !== undefined ? scanner.words : new Int32Array(PAGE_WORDS * (1 + LEAF_BATCH_PAGES));
    this.pageWords[1] = leafWords;
    this.pageBytes[1] = new Uint8Array(leafWords.buffer, leafWords.byteOffset, 4096);
    this.batchBytes = new Uint8Array(leafWords.buffer, leafWords.byteOffset + 4096, 4096 * LEAF_BATCH_PAGES);
  }

  result(root: number): WalkResult {
    this.finishLeaves();
    this.budget.mappings += this.coalescer.list.length;
    if (this.unrecorded > 0) {
      this.problems.push({ kind: 'budget', level: 0, entryAddr: root, raw: 0n, entry: [0n], faultBits: [0n], atRoot: true, message: `${this.unrecorded} more problems in this table are not listed one by one` });
    }
    // The mappings stay columns until something asks for the objects (model/mapping-list.ts).
    return attachMappingList({ mappings: [], pageCount: this.coalescer.pageCount, tablePfns: this.tablePfns, problems: this.problems, complete: this.complete, pagesVisited: this.pagesVisited }, this.coalescer.list);
  }

  /**
   * Record a problem of the paging entry at `entryAddr` (words lo, hi) whose bits `faultLo`,
   * `faultHi` are at fault. `atRoot` means the entry pointing at the root (a context or PASID
   * entry), which the caller names.
   */
  private problem(kind: TableProblemKind, level: number, entryAddr: number, lo: number, hi: number, message: string, faultLo: number, faultHi: number, target?: number, atRoot = false): void {
    if (this.problems.length >= MAX_PROBLEMS_PER_WALK && kind !== 'budget') {
      this.unrecorded++;
      return;
    }
    const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const p: TableProblem = { kind, level, entryAddr, raw, entry: [raw], faultBits: [(BigInt(faultHi >>> 0) << 32n) | BigInt(faultLo >>> 0)], message };
    if (target !== undefined) p.target = target;
    if (atRoot) p.atRoot = true;
    this.problems.push(p);
  }

  private cutShort(level: number, fromEntry: number, lo: number, hi: number, atRoot: boolean): void {
    this.complete = false;
    if (this.budgetReported) return;
    this.budgetReported = true;
    const b = this.budget;
    const why = this.revisits > this.maxRevisits
      ? `more than ${this.maxRevisits} shared table pages`
      : b.mappingsFull
      ? `more than ${b.maxMappings} mappings in the unit's tables (a real host has far fewer; each costs memory)`
      : `${b.reads} table-page reads for ${b.limit - b.extraReads} allowed by the distinct pages present (each read at most ${1 + b.rereadFactor} times, plus ${b.extraReads}): the tables share pages as no real host's do`;
    this.problem('budget', level, fromEntry, lo, hi, `${why}; walk cut short`, 0, 0, undefined, atRoot);
  }

  /**
   * Read the table page at `addr` (level `level`, pointed at by the entry at `fromEntry`): the
   * word index of its first entry in `pageWords[level]`, or -1 when it could not be read (missing
   * from the image, or over the budget; the problem is recorded).
   */
  private readTable(addr: number, level: number, fromEntry: number, lo: number, hi: number, atRoot: boolean): number {
    let words = this.pageWords[level];
    if (words === undefined) {
      words = this.pageWords[level] = new Int32Array(PAGE_WORDS);
      this.pageBytes[level] = new Uint8Array(words.buffer);
    }
    const bytes = this.pageBytes[level];
    const slot = level === 1 ? this.batchSlot(addr, fromEntry) : -1;
    let ok: boolean;
    if (slot >= 0) ok = this.batchPresent[slot] === 1;
    else if (this.mem.readInto !== undefined) ok = this.mem.readInto(addr, bytes);
    else {
      const b = this.mem.read(addr, 4096);
      ok = b !== undefined;
      // Copy: the reader's cache may reuse the buffer while we descend.
      if (b !== undefined) bytes.set(b);
    }
    if (!this.budget.count(addr / 4096, ok)) {
      this.cutShort(level, fromEntry, lo, hi, atRoot);
      return -1;
    }
    if (!ok) {
      this.complete = false;
      this.problem('missing-page', level, fromEntry, lo, hi, `level-${level} table page 0x${addr.toString(16)} is not in the image`, lo & PTR_LO, hi & PTR_HI, addr, atRoot);
      return -1;
    }
    this.pagesVisited++;
    return slot >= 0 ? PAGE_WORDS * (slot + 1) : 0;
  }

  /**
   * The read-ahead slot holding the leaf page at `addr`, which the entry at `fromEntry` of the
   * current level-2 table points at; -1 when it was not read ahead (it is then read alone).
   * When the walk reaches an entry past those considered so far, the next batch is read.
   */
  private batchSlot(addr: number, fromEntry: number): number {
    if (this.batchTable < 0 || this.mem.readPages === undefined) return -1;
    const index = (fromEntry - this.batchTable) / 8;
    while (this.batchNext < this.batchCount && this.batchEntry[this.batchNext] < index) this.batchNext++;
    if (this.batchNext === this.batchCount && index >= this.batchScanned) this.readAhead(index, addr);
    const s = this.batchNext;
    if (s < this.batchCount && this.batchEntry[s] === index && this.batchAddrs[s] === addr) {
      this.batchNext++;
      return s;
    }
    return -1;
  }

  /**
   * Read ahead the leaf pages that entries `from`… of the current level-2 table point at, up to
   * LEAF_BATCH_PAGES: the page at `addr` entry `from` names (being read now), then only pages this
   * walk will read for the first time (not seen, not known to the budget, not twice in a batch),
   * so reading ahead reads exactly the pages the walk reads, in fewer calls. The test for an entry
   * the walk descends through is the level-2 loop's (entries).
   */
  private readAhead(from: number, addr: number): void {
    const words = this.pageWords[2];
    const first = this.first;
    const presentMask = first ? 1 : 3;
    this.batchAddrs[0] = addr;
    this.batchEntry[0] = from;
    let count = 1;
    let last = addr;
    let i = from + 1;
    for (; i < 512 && count < LEAF_BATCH_PAGES; i++) {
      const lo = words[2 * i];
      const hi = words[2 * i + 1];
      if ((lo & presentMask) === 0 || (lo & 0x80) !== 0 || (hi & this.hawHiMask) !== 0 || (lo & this.hawLoMask) !== 0) continue;
      if (!first && ((lo & 0x800) !== 0 || (hi & 0x40000000) !== 0)) continue;
      const next = ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * TWO_POW_32;
      const pfn = next / 4096;
      if (this.seen.has(pfn) || !this.budget.isNew(pfn)) continue;
      if (next <= last && this.batchAddrs.subarray(0, count).includes(next)) continue;
      if (next > last) last = next;
      this.batchAddrs[count] = next;
      this.batchEntry[count] = i;
      count++;
    }
    this.batchScanned = i;
    this.batchCount = count;
    this.batchNext = 0;
    this.mem.readPages!(this.batchAddrs, count, this.batchBytes, this.batchPresent);
  }

  walk(tableAddr: number, level: number, basePfn: number, parentR: boolean, parentW: boolean, fromEntry: number, fromLo: number, fromHi: number): void {
    const pfn = tableAddr / 4096;
    const atRoot = level === this.levels;
    if (this.onPath.includes(pfn)) {
      this.problem('cycle', level + 1, fromEntry, fromLo, fromHi, `entry points back at table page 0x${tableAddr.toString(16)}, which is on its own walk path (a cycle)`, fromLo & PTR_LO, fromHi & PTR_HI, tableAddr);
      return;
    }
    if (!this.budget.allow(pfn) || !this.budget.allowMappings(this.coalescer.list.length)) {
      this.cutShort(level, fromEntry, fromLo, fromHi, atRoot);
      return;
    }
    if (!this.seen.add(pfn)) {
      if (this.revisits === 0 || this.revisits % 4096 === 0) {
        this.problem('shared-table', level + 1, fromEntry, fromLo, fromHi, `table page 0x${tableAddr.toString(16)} is referenced by more than one entry`, fromLo & PTR_LO, fromHi & PTR_HI, tableAddr);
      }
      if (++this.revisits > this.maxRevisits) {
        this.cutShort(level, fromEntry, fromLo, fromHi, atRoot);
        return;
      }
    } else {
      this.tablePfns.push(pfn);
    }
    const w0 = this.readTable(tableAddr, level, fromEntry, fromLo, fromHi, atRoot);
    if (w0 < 0) return;
    this.onPath.push(pfn);
    if (level === 1) this.leafPage(this.pageWords[1], w0, tableAddr, basePfn, parentR, parentW);
    else {
      if (level === 2) {
        // A new level-2 table: its leaf pages are read ahead from its first entry on.
        this.batchTable = tableAddr;
        this.batchCount = this.batchNext = this.batchScanned = 0;
      }
      this.entries(this.pageWords[level], tableAddr, level, basePfn, parentR, parentW);
    }
    this.onPath.pop();
  }

  /** The 512 entries of a non-leaf table: superpages become mappings, pointers are walked. */
  private entries(words: Int32Array, tableAddr: number, level: number, basePfn: number, parentR: boolean, parentW: boolean): void {
    const first = this.first;
    const span = level < 5 ? SPAN[level] : SPAN_L5; // 4 KiB pages covered by one entry at this level
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
      if ((hi & this.hawHiMask) !== 0 || (lo & this.hawLoMask) !== 0) {
        this.problem('beyond-haw', level, entryAddr, lo, hi, `address bits at or above the host address width (${this.opts.haw}) are set`, lo & this.hawLoMask, hi & this.hawHiMask);
        continue;
      }
      if (ps) {
        if (!this.superpageOk(level, entryAddr, lo, hi)) continue;
        const pageSize: PageSize = level === 2 ? 2097152 : 1073741824;
        // First level: bit 12 of a 2 MiB / 1 GiB leaf is PAT, not an address bit (§6.2).
        const hpaPfn = ((first ? lo & ~0x1fff : lo) >>> 12) + (hi & 0xfffff) * 1048576;
        const n = this.superpageRun(words, i, lo, hi, level);
        this.finishLeaves();
        this.coalescer.add(iovaPfn, hpaPfn, span * n, r, w, pageSize, !first && (lo & 0x800) !== 0, !first && (hi & 0x40000000) !== 0);
        i += n - 1;
        continue;
      }
      if (!first && ((lo & 0x800) !== 0 || (hi & 0x40000000) !== 0)) {
        this.problem('reserved-bits', level, entryAddr, lo, hi, 'reserved bit 11 or 62 set in a non-leaf entry', lo & 0x800, hi & 0x40000000);
        continue;
      }
      // (readAhead picks the entries that get here: keep the two tests alike.)
      const next = (lo & 0xfffff000) >>> 0;
      this.walk(next + (hi & 0xfffff) * TWO_POW_32, level - 1, iovaPfn, r, w, entryAddr, lo, hi);
    }
  }

  /**
   * How many superpage entries from index `i` (words lo, hi; valid) map one after the other: each
   * the previous plus the page size, bit for bit, with no carry out of the low word. Those pass
   * every test the first passed (same flags, same high word, same alignment), so the run is one
   * call to the coalescer — a 64 GiB VM in 2 MiB pages is 32 768 entries, handled before the JIT
   * has optimized this loop.
   */
  private superpageRun(words: Int32Array, i: number, lo: number, hi: number, level: number): number {
    if (this.hawLoMask !== 0) return 1;
    const step = level === 2 ? 0x200000 : 0x40000000;
    const room = Math.floor((0xffffffff - (lo >>> 0)) / step);
    const end = Math.min(512, i + 1 + room);
    let k = i + 1;
    while (k < end && words[2 * k + 1] === hi && words[2 * k] === ((lo + (k - i) * step) | 0)) k++;
    return k - i;
  }

  /** PS=1 at `level`: legal only at PDE (2 MiB) / PDPE (1 GiB) the unit supports, aligned. */
  private superpageOk(level: number, entryAddr: number, lo: number, hi: number): boolean {
    const first = this.first;
    const opts = this.opts;
    if (level > 3) {
      this.problem('reserved-bits', level, entryAddr, lo, hi, `PS (bit 7) set at level ${level}, where it is reserved`, 0x80, 0);
      return false;
    }
    const size = level === 2 ? '2 MiB' : '1 GiB';
    if (first) {
      if (level === 3 && opts.fl1gp === false) {
        this.problem('superpage-unsupported', level, entryAddr, lo, hi, '1 GiB first-level page but CAP.FL1GP is clear', 0x80, 0);
        return false;
      }
    } else if (opts.sllps !== undefined && (opts.sllps & (level === 2 ? 1 : 2)) === 0) {
      this.problem('superpage-unsupported', level, entryAddr, lo, hi, `${size} page but CAP.SLLPS does not offer it`, 0x80, 0);
      return false;
    }
    const lowMask = level === 2 ? 0x1ff000 : 0x3ffff000;
    const lowMaskFl = level === 2 ? 0x1fe000 : 0x3fffe000; // first level: bit 12 is PAT in large leaves
    if ((lo & (first ? lowMaskFl : lowMask)) !== 0) {
      this.problem('reserved-bits', level, entryAddr, lo, hi, `${size} page address is not ${size}-aligned (reserved low address bits set)`, lo & (first ? lowMaskFl : lowMask), 0);
      return false;
    }
    if (!first && this.leafFeatureReserved(lo, hi)) {
      this.problem('reserved-bits', level, entryAddr, lo, hi, this.leafFeatureMessage(lo, hi), lo & this.leafBadLo, hi & this.leafBadHi);
      return false;
    }
    return true;
  }

  private leafFeatureReserved(lo: number, hi: number): boolean {
    return (this.opts.snoopControl === false && (lo & 0x800) !== 0) || (this.opts.deviceTlb === false && (hi & 0x40000000) !== 0);
  }

  private leafFeatureMessage(lo: number, _hi: number): string {
    return this.opts.snoopControl === false && (lo & 0x800) !== 0
      ? 'SNP (bit 11) set but ECAP.SC is clear (reserved)'
      : 'TM (bit 62) set but ECAP.DT is clear (reserved)';
  }

  /**
   * The hot loop: the 512 PTEs of the leaf page at word `w0` of `words`. A present, valid PTE
   * starts a run, and the run extends over the following PTEs as long as each is the previous
   * one plus 4 KiB, bit for bit — in WebAssembly two 64-bit compares at a time (leaf-run.wat), or
   * in JavaScript two 32-bit compares per PTE (same flags, same high word, no carry out of the
   * low word). Each run goes to the coalescer, which joins runs that continue each other (across
   * the breaks this strict test makes, and across table pages), so the mappings are exactly those
   * of a per-PTE comparison of address and permissions.
   *
   * It stays one function: its three ways of extending a run share the run's start and flags in
   * locals, and V8 keeps those in registers only within one function (a helper per way measured
   * slower on the benchmark's 16.8 M PTEs; see the README's Performance section).
   */
  private leafPage(words: Int32Array, w0: number, tableAddr: number, basePfn: number, parentR: boolean, parentW: boolean): void {
    const parentMask = (parentR ? 1 : 0) | (parentW ? 2 : 0);
    if (this.scanner !== undefined) {
      this.scanLeaves(this.scanner, words, w0, tableAddr, basePfn, parentMask);
      return;
    }
    // Locals, not fields, in the loop.
    const fl = this.first;
    const presentMask = fl ? 1 : 3;
    const badLo = this.leafBadLo;
    const badHi = this.leafBadHi;
    const lowMask = this.hawLoMask;
    const coalescer = this.coalescer;
    const end = w0 + 1024;
    let i = 0;
    while (i < 512) {
      const lo = words[w0 + 2 * i];
      if ((lo & presentMask) === 0) {
        i++;
        continue;
      }
      const hi = words[w0 + 2 * i + 1];
      if ((lo & badLo) !== 0 || (hi & badHi) !== 0) {
        this.leafProblem(tableAddr + i * 8, lo, hi);
        i++;
        continue;
      }
      // R (bit 0; implied by P at first level), W (bit 1), SNP (bit 11 → 4), TM (bit 62 → 8).
      const b = fl ? (1 | (lo & 2)) & parentMask : (lo & 3 & parentMask) | ((lo >>> 9) & 4) | ((hi >>> 27) & 8);
      const hpa = (lo >>> 12) + (hi & 0xfffff) * 1048576;
      // k: word index of the next PTE. The run may not carry out of the low word (the coalescer
      // joins what follows), so it ends after `room` more PTEs at most: lo + 4096·room ≤ 2^32 − 1.
      let k = w0 + 2 * i + 2;
      let exp = lo;
      if (lowMask === 0) {
        const room = ((0xffffffff - (lo >>> 0)) / 4096) | 0;
        const limit = room < 512 ? Math.min(end, k + 2 * room) : end;
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
        while (k < end && (exp < -4096 || exp >= 0)) {
          exp = (exp + 4096) | 0;
          if (words[k] !== exp || words[k + 1] !== hi || (exp & lowMask) !== 0) break;
          k += 2;
        }
      }
      const j = (k - w0) >> 1;
      coalescer.addRun(basePfn + i, hpa, j - i, b, 4096);
      i = j;
    }
  }

  /**
   * The leaf page at word `w0` through the WebAssembly loop (leaf-run.wat): it joins the PTEs into
   * mappings itself, carrying the one being built to the next page, and stops only for a PTE with
   * reserved bits (recorded here, as the JavaScript loop records it) or when its records are full.
   */
  private scanLeaves(scanner: LeafRunScanner, words: Int32Array, w0: number, tableAddr: number, basePfn: number, parentMask: number): void {
    let i = 0;
    for (;;) {
      const r = scanner.leafScan(w0 * 4, i, basePfn, parentMask);
      if (r === 512) break;
      if (r >= 1024) {
        this.takeRecords(scanner);
        i = r - 1024;
        continue;
      }
      this.leafProblem(tableAddr + r * 8, words[w0 + 2 * r], words[w0 + 2 * r + 1]);
      i = r + 1;
    }
    this.leafOpen = true;
  }

  /** The mappings the WebAssembly loop finished, to the coalescer. */
  private takeRecords(scanner: LeafRunScanner): void {
    this.coalescer.addColumns(scanner.recordIova, scanner.recordHpa, scanner.recordPages, scanner.recordFlags, scanner.records(), scanner.takePages());
    scanner.clearRecords();
  }

  /** The mapping the WebAssembly loop is building, finished and taken (before the coalescer gets a superpage, and at the end). */
  private finishLeaves(): void {
    const scanner = this.scanner;
    if (!this.leafOpen || scanner === undefined) return;
    if (scanner.records() >= LEAF_RECORDS) this.takeRecords(scanner);
    scanner.finishLeaves();
    this.takeRecords(scanner);
    this.leafOpen = false;
  }

  /** A PTE with reserved bits set: beyond the host address width, or SNP/TM the unit lacks. */
  private leafProblem(entryAddr: number, lo: number, hi: number): void {
    if ((hi & this.hawHiMask) !== 0 || (lo & this.hawLoMask) !== 0) {
      this.problem('beyond-haw', 1, entryAddr, lo, hi, `page address bits at or above the host address width (${this.opts.haw}) are set`, lo & this.hawLoMask, hi & this.hawHiMask);
    } else this.problem('reserved-bits', 1, entryAddr, lo, hi, this.leafFeatureMessage(lo, hi), lo & this.leafBadLo, hi & this.leafBadHi);
  }
}
