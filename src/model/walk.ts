/**
 * Walks a second-level (or first-level, IA-32e style) page table through a PhysicalMemory and
 * coalesces the leaves into Mapping ranges as it goes — never one object per 4 KiB page.
 *
 * The hot loop reads each 4 KiB table page once as a Uint32Array (entry i = words 2i, 2i+1) and
 * works in page frame numbers, so it stays on small integers. Everything the hardware would
 * refuse (reserved bits, pointers past the host address width, superpages the unit does not
 * support) is recorded as a TableProblem with the entry's physical address and raw value, and the
 * entry is not followed: a damaged capture still decodes as far as it goes.
 */
import type { PhysicalMemory } from '../image/types.js';
import { MappingCoalescer } from './coalesce.js';
import type { Mapping, PageSize } from './types.js';

export type TableProblemKind =
  | 'reserved-bits'
  | 'beyond-haw'
  | 'missing-page'
  | 'cycle'
  | 'shared-table'
  | 'superpage-unsupported'
  | 'budget';

export interface TableProblem {
  kind: TableProblemKind;
  /** VT-d level of the entry (1 = PTE … 5 = PML5E). */
  level: number;
  /** Physical address of the offending entry (or of the missing page). */
  entryAddr: number;
  raw: bigint;
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
  /** Bound on table pages read more than once (shared sub-tables); keeps hostile tables fast. */
  maxRevisits?: number;
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
const PAGE_WORDS = 1024;

export function walkPageTable(mem: PhysicalMemory, root: number, levels: number, opts: WalkOptions): WalkResult {
  const coalescer = new MappingCoalescer();
  const problems: TableProblem[] = [];
  const seen = new Set<number>();
  const tablePfns: number[] = [];
  const onPath: number[] = [];
  const maxRevisits = opts.maxRevisits ?? 65536;
  const first = opts.firstLevel === true;
  // Address bits 51:12 are the pointer; bits at or above HAW (when < 52) are reserved.
  const hawHiMask = opts.haw >= 52 ? 0 : (0xfffff & ~((1 << Math.max(0, opts.haw - 32)) - 1)) >>> 0;
  // hi word: bits 19:0 are address bits 51:32. For HAW < 32, low-word bits too (unrealistic; handled below).
  const hawLoMask = opts.haw >= 32 ? 0 : (~((1 << opts.haw) - 1) & 0xfffff000) >>> 0;
  let revisits = 0;
  let complete = true;
  let pagesVisited = 0;
  let budgetReported = false;

  const problem = (kind: TableProblemKind, level: number, entryAddr: number, lo: number, hi: number, message: string): void => {
    problems.push({ kind, level, entryAddr, raw: (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), message });
  };

  // One page buffer per level: a walk at level L only descends to L-1, so a level's buffer is
  // never overwritten while its entries are still being read. No allocation per table page.
  const pageBufs: Uint32Array[] = [];
  const readTable = (addr: number, level: number, fromEntry: number, lo: number, hi: number): Uint32Array | undefined => {
    let words = pageBufs[level];
    if (words === undefined) words = pageBufs[level] = new Uint32Array(PAGE_WORDS);
    const bytes = new Uint8Array(words.buffer);
    let ok: boolean;
    if (mem.readInto !== undefined) ok = mem.readInto(addr, bytes);
    else {
      const b = mem.read(addr, 4096);
      ok = b !== undefined;
      // Copy: the reader's cache may reuse the buffer while we descend.
      if (b !== undefined) bytes.set(b);
    }
    if (!ok) {
      complete = false;
      problem('missing-page', level, fromEntry, lo, hi, `level-${level} table page 0x${addr.toString(16)} is not in the image`);
      return undefined;
    }
    pagesVisited++;
    return words;
  };

  const walk = (tableAddr: number, level: number, basePfn: number, parentR: boolean, parentW: boolean, fromEntry: number, fromLo: number, fromHi: number): void => {
    const pfn = tableAddr / 4096;
    if (onPath.includes(pfn)) {
      problem('cycle', level + 1, fromEntry, fromLo, fromHi, `entry points back at table page 0x${tableAddr.toString(16)}, which is on its own walk path (a cycle)`);
      return;
    }
    if (seen.has(pfn)) {
      if (revisits === 0 || revisits % 4096 === 0) {
        problem('shared-table', level + 1, fromEntry, fromLo, fromHi, `table page 0x${tableAddr.toString(16)} is referenced by more than one entry`);
      }
      if (++revisits > maxRevisits) {
        complete = false;
        if (!budgetReported) {
          budgetReported = true;
          problem('budget', level, fromEntry, fromLo, fromHi, `more than ${maxRevisits} shared table pages: walk cut short`);
        }
        return;
      }
    } else {
      seen.add(pfn);
      tablePfns.push(pfn);
    }
    const words = readTable(tableAddr, level, fromEntry, fromLo, fromHi);
    if (words === undefined) return;
    const span = 512 ** (level - 1); // 4 KiB pages covered by one entry at this level
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
          problem('beyond-haw', level, entryAddr, lo, hi, `address bits at or above the host address width (${opts.haw}) are set`);
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
          problem('reserved-bits', level, entryAddr, lo, hi, 'reserved bit 11 or 62 set in a non-leaf entry');
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
      problem('reserved-bits', level, entryAddr, lo, hi, `PS (bit 7) set at level ${level}, where it is reserved`);
      return false;
    }
    const size = level === 2 ? '2 MiB' : '1 GiB';
    if (first) {
      if (level === 3 && opts.fl1gp === false) {
        problem('superpage-unsupported', level, entryAddr, lo, hi, '1 GiB first-level page but CAP.FL1GP is clear');
        return false;
      }
    } else if (opts.sllps !== undefined && (opts.sllps & (level === 2 ? 1 : 2)) === 0) {
      problem('superpage-unsupported', level, entryAddr, lo, hi, `${size} page but CAP.SLLPS does not offer it`);
      return false;
    }
    const lowMask = level === 2 ? 0x1ff000 : 0x3ffff000;
    const lowMaskFl = level === 2 ? 0x1fe000 : 0x3fffe000; // first level: bit 12 is PAT in large leaves
    if ((lo & (first ? lowMaskFl : lowMask)) !== 0) {
      problem('reserved-bits', level, entryAddr, lo, hi, `${size} page address is not ${size}-aligned (reserved low address bits set)`);
      return false;
    }
    if (!first && leafFeatureReserved(lo, hi)) {
      problem('reserved-bits', level, entryAddr, lo, hi, leafFeatureMessage(lo, hi));
      return false;
    }
    return true;
  };

  const leafFeatureReserved = (lo: number, hi: number): boolean =>
    (opts.snoopControl === false && (lo & 0x800) !== 0) || (opts.deviceTlb === false && (hi & 0x40000000) !== 0);
  const leafFeatureMessage = (lo: number, hi: number): string =>
    opts.snoopControl === false && (lo & 0x800) !== 0
      ? 'SNP (bit 11) set but ECAP.SC is clear (reserved)'
      : 'TM (bit 62) set but ECAP.DT is clear (reserved)';

  // Leaf bits that make a PTE reserved: address bits at or above HAW, and SNP/TM when the unit
  // says they are not supported (second level only).
  const leafBadLo = hawLoMask | (!first && opts.snoopControl === false ? 0x800 : 0);
  const leafBadHi = hawHiMask | (!first && opts.deviceTlb === false ? 0x40000000 : 0);

  /**
   * The hot loop: 512 PTEs, coalesced into runs before they reach the coalescer. Run state is
   * (start IOVA, start HPA, length, permission/feature bits); a PTE extends the run when it is the
   * next index, its HPA is the next page and its bits are equal.
   */
  const leafPage = (words: Uint32Array, tableAddr: number, basePfn: number, parentR: boolean, parentW: boolean): void => {
    const parentMask = (parentR ? 1 : 0) | (parentW ? 2 : 0);
    const presentMask = first ? 1 : 3;
    let runI = -1; // index of the run's first PTE, -1 = no run
    let runHpa = 0;
    let runLen = 0;
    let runBits = 0;
    for (let i = 0; i < 512; i++) {
      const lo = words[2 * i];
      if ((lo & presentMask) === 0) continue;
      const hi = words[2 * i + 1];
      if ((lo & leafBadLo) !== 0 || (hi & leafBadHi) !== 0) {
        if (runLen > 0) {
          coalescer.add(basePfn + runI, runHpa, runLen, (runBits & 1) !== 0, (runBits & 2) !== 0, 4096, (runBits & 4) !== 0, (runBits & 8) !== 0);
          runLen = 0;
        }
        if ((hi & hawHiMask) !== 0 || (lo & hawLoMask) !== 0) problem('beyond-haw', 1, tableAddr + i * 8, lo, hi, `page address bits at or above the host address width (${opts.haw}) are set`);
        else problem('reserved-bits', 1, tableAddr + i * 8, lo, hi, leafFeatureMessage(lo, hi));
        continue;
      }
      // R (bit 0; implied by P at first level), W (bit 1), SNP (bit 11 → 4), TM (bit 62 → 8).
      const b = first ? (1 | (lo & 2)) & parentMask : (lo & 3 & parentMask) | ((lo >>> 9) & 4) | ((hi >>> 27) & 8);
      const hpa = (lo >>> 12) + (hi & 0xfffff) * 1048576;
      if (runLen > 0 && i === runI + runLen && hpa === runHpa + runLen && b === runBits) {
        runLen++;
        continue;
      }
      if (runLen > 0) coalescer.add(basePfn + runI, runHpa, runLen, (runBits & 1) !== 0, (runBits & 2) !== 0, 4096, (runBits & 4) !== 0, (runBits & 8) !== 0);
      runI = i;
      runHpa = hpa;
      runLen = 1;
      runBits = b;
    }
    if (runLen > 0) coalescer.add(basePfn + runI, runHpa, runLen, (runBits & 1) !== 0, (runBits & 2) !== 0, 4096, (runBits & 4) !== 0, (runBits & 8) !== 0);
  };

  if (root % 4096 !== 0) {
    problems.push({ kind: 'reserved-bits', level: levels, entryAddr: root, raw: BigInt(root), message: `table root 0x${root.toString(16)} is not 4 KiB aligned` });
    return { mappings: [], pageCount: 0, tablePfns, problems, complete: false, pagesVisited };
  }
  walk(root, levels, 0, true, true, root, 0, 0);
  return { mappings: coalescer.mappings, pageCount: coalescer.pageCount, tablePfns, problems, complete, pagesVisited };
}
