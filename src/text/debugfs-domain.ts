/**
 * Linux intel-iommu debugfs `domain_translation_struct` (docs/vtd-formats.md §8.1; debugfs.c
 * pgtable_walk_level / dump_page_info), in both layouts:
 *
 * - Older kernels (≤ 6.1 and the like): one file for all devices. Per device
 *   `Device <dev_name> @0x<pgd>`, header `IOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE`, rows with
 *   always five entry columns (entries below a large-page leaf print as zero), an empty line. Linux 6.1
 *   heads each block with the first device of the IOMMU group, so one table can appear several times.
 * - Newer kernels: one file per device (`<BDF>/domain_translation_struct`) or per PASID
 *   (`<BDF>/<pasid>/domain_translation_struct`): `Device SSSS:BB:DD.F with pasid <hex> @0x<pgd>` or
 *   `Device SSSS:BB:DD.F @0x<pgd>`, a padded header, and rows that stop at the leaf: 3 entry columns
 *   = 1 GiB leaf, 4 = 2 MiB, 5 = 4 KiB.
 *
 * Row: `0x%013lx |\t` IOVA>>12, then the raw entries from PML5E down, `0x%016llx`, TAB separated.
 * Column k (0-based) is level 5−k. Zero columns at the top mean a table with fewer levels; the leaf
 * is the last non-zero column (the kernel resets entries below a leaf to zero). A leaf above level 1
 * must have PS (bit 7) set; a row whose last column is a non-leaf is a cut-off row and is skipped.
 *
 * Output: one DomainContribution per table root (`@0x…`); the join to context entries is by that
 * address and is the model builder's. Repeated blocks of one root collapse into the first, with a
 * warning only when their mappings differ. `tablePfns` holds the root and every table page a
 * non-leaf entry in the rows points to.
 *
 * Hot loop: lines are split once; each entry is read with two parseInt calls on 8-digit halves.
 */
import { InputError } from '../errors.js';
import { MappingCoalescer } from '../model/coalesce.js';
import { attachMappingList } from '../model/mapping-list.js';
import type { Contribution, DomainContribution, UnitContribution } from '../model/contribution.js';
import type { PageSize } from '../model/types.js';
import { type Bdf, formatBdf, isBdfNotation, parseBdf } from '../util/bdf.js';
import { eachLine, excerpt, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';
import { exactFromHexDigits, hex, hexDigits } from '../util/hex.js';

const DEVICE_RE = /^Device\s+(\S+)\s+(?:with pasid\s+([0-9a-f]{1,5})\s+)?@0x([0-9a-f]{1,16})\s*$/i;
const DISABLED_RE = /^DMA Remapping is not enabled on\s+(\S+)\s*$/;
const ENTRY_RE = /^0x[0-9a-fA-F]{16}$/;
const PFN_RE = /^0x[0-9a-fA-F]{1,13}$/;
const TWO_POW_20 = 0x10_0000;
const PAGE_SIZES: Record<number, PageSize> = { 1: 4096, 2: 2097152, 3: 1073741824 };

/** Cheap content sniff: a `Device … @0x…` line or the column header near the start. */
export function looksLikeDebugfsDomain(text: string): boolean {
  const head = text.slice(0, 4096);
  // [ \t], not \s: with /m a \s run would cross line ends (quadratic on a head of blank lines).
  return /^Device \S+ (?:with pasid [0-9a-f]+ )?@0x[0-9a-f]+[ \t\r]*$/m.test(head) || /^IOVA_PFN[ \t]+PML5E[ \t]+PML4E/m.test(head);
}

interface BlockState {
  d: DomainContribution;
  coalescer: MappingCoalescer;
  tables: Set<number>;
  /** Previous row's entries per column (hi/lo halves), to add table pages only when they change. */
  prevHi: number[];
  prevLo: number[];
  lastPfn: number;
  line: number;
}

export function parseDebugfsDomain(input: TextInput, part: string): Contribution {
  const w = new LineWarnings(part);
  const warn = (message: string, line: number): void => w.warn(message, line);

  const domains: DomainContribution[] = [];
  const byRoot = new Map<number, DomainContribution>();
  /** Table pages of each kept domain, as a set (repeated blocks add theirs without a linear search). */
  const tablesOf = new Map<DomainContribution, Set<number>>();
  const units: UnitContribution[] = [];
  let recognised = false;
  let cur: BlockState | undefined;
  let orphanRows = 0;
  let orphanFirst = 0;
  let nonBlank = false;
  /** After a `Device … @0x…` line whose table address was rejected, until the next header. */
  let inRejectedBlock = false;

  const finish = (): void => {
    if (!cur) return;
    const d = cur.d;
    attachMappingList(d, cur.coalescer.list);
    d.pageCount = cur.coalescer.pageCount;
    d.tablePfns = [...cur.tables];
    const prev = byRoot.get(d.root);
    if (!prev) {
      byRoot.set(d.root, d);
      tablesOf.set(d, cur.tables);
      domains.push(d);
    } else if (!sameMappings(prev, d)) {
      warn(`table ${hex(d.root)} dumped again with different mappings (${prev.pageCount} pages from line ${prev.source.line}, ${d.pageCount} here); keeping the first`, d.source.line ?? 0);
    } else {
      const seen = tablesOf.get(prev)!;
      for (const p of d.tablePfns) {
        if (seen.has(p)) continue;
        seen.add(p);
        prev.tablePfns.push(p);
      }
    }
    cur = undefined;
  };

  for (const { text: line, no: lineNo } of eachLine(input, (l) => w.tooLong(l))) {
    // Rows first: they are nearly all of the file.
    if (line.startsWith('0x')) {
      nonBlank = true;
      if (!cur) {
        // Rows of a rejected block were warned about with their header.
        if (!inRejectedBlock && orphanRows++ === 0) orphanFirst = lineNo;
        continue;
      }
      // A row that cannot be read (a file cut short, a garbled line) hides mappings: the domain is incomplete.
      if (!parseRowInto(cur, line, lineNo, warn)) cur.d.complete = false;
      continue;
    }
    const t = line.trim();
    if (t === '') continue;
    nonBlank = true;
    if (t.startsWith('IOVA_PFN')) {
      recognised = true;
      continue;
    }
    let m = DEVICE_RE.exec(t);
    if (m) {
      recognised = true;
      finish();
      const root = exactFromHexDigits(m[3]);
      inRejectedBlock = root === undefined;
      if (root === undefined) {
        // A number would round it (the model's address convention): no domain at a wrong address.
        warn(`table address 0x${m[3]} is at or above 2^53 (not a host address): this device's table and its rows skipped`, lineNo);
        continue;
      }
      if (root % 4096 !== 0) warn(`table address 0x${m[3]} is not a page address`, lineNo);
      const d: DomainContribution = { root, mappings: [], pageCount: 0, tablePfns: [], source: { part, line: lineNo } };
      let bdf: Bdf | undefined;
      try {
        // Not every device here is PCI (the name is dev_name()): only a PCI-shaped one is parsed.
        bdf = isBdfNotation(m[1]) ? parseBdf(m[1]) : undefined;
      } catch (e) {
        // A PCI-shaped name that cannot exist (bus 0x100, device 0x20, function 8): the kernel
        // prints dev_name() of a PCI device here, so this text was altered.
        if (e instanceof RangeError) throw new InputError(`PCI address cannot exist: ${e.message}`, { file: part, line: lineNo });
        throw e;
      }
      if (bdf) d.headerBdf = formatBdf(bdf);
      else warn(`device name ${JSON.stringify(m[1])} is not a PCI address`, lineNo);
      if (m[2] !== undefined) d.pasid = parseInt(m[2], 16);
      cur = {
        d, coalescer: new MappingCoalescer(), tables: new Set([Math.floor(root / 4096)]),
        prevHi: [-1, -1, -1, -1, -1], prevLo: [-1, -1, -1, -1, -1], lastPfn: -1, line: lineNo,
      };
      continue;
    }
    m = DISABLED_RE.exec(t);
    if (m) {
      recognised = true;
      finish();
      inRejectedBlock = false;
      units.push({ name: m[1], translationEnabled: false, source: { part, line: lineNo } });
      continue;
    }
    warn(`cannot parse line: ${excerpt(t, 120)}`, lineNo);
  }
  finish();

  if (!recognised) {
    if (!nonBlank) {
      // Newer kernels print nothing for a device without a present context/PASID entry.
      return { domains: [], warnings: [{ message: 'domain_translation_struct is empty (no table for this device)', source: { part, line: 1 } }] };
    }
    throw new NotRecognisedError('not a Linux domain_translation_struct: expected "Device <BDF> @0x<table>" and rows "0x<IOVA_PFN> |\t0x<entry>…"', { file: part, line: 1 });
  }
  const warnings = w.done();
  if (orphanRows > 0) {
    warnings.unshift({ message: `${orphanRows} rows before the first "Device … @0x…" line skipped (their table is unknown)`, source: { part, line: orphanFirst } });
  }
  const out: Contribution = { domains, warnings };
  if (units.length > 0) out.units = units;
  return out;
}

function sameMappings(a: DomainContribution, b: DomainContribution): boolean {
  if (a.pageCount !== b.pageCount || a.mappings.length !== b.mappings.length) return false;
  for (let i = 0; i < a.mappings.length; i++) {
    const x = a.mappings[i];
    const y = b.mappings[i];
    if (x.iovaPfn !== y.iovaPfn || x.hpaPfn !== y.hpaPfn || x.pages !== y.pages || x.read !== y.read || x.write !== y.write
      || x.pageSize !== y.pageSize || (x.snp ?? false) !== (y.snp ?? false) || (x.tm ?? false) !== (y.tm ?? false)) return false;
  }
  return true;
}

const his: number[] = [0, 0, 0, 0, 0];
const los: number[] = [0, 0, 0, 0, 0];

/** Adds the row's leaf to the block; false when the row could not be used. */
function parseRowInto(st: BlockState, line: string, lineNo: number, warn: (m: string, l: number) => void): boolean {
  const bar = line.indexOf('|');
  const pfnText = (bar < 0 ? line : line.slice(0, bar)).trim();
  if (bar < 0 || !PFN_RE.test(pfnText)) {
    warn(`cannot parse row (expected "0x<IOVA_PFN> |<TAB>0x<entry>…"): ${excerpt(line, 120)}`, lineNo);
    return false;
  }
  const iovaPfn = parseInt(pfnText.slice(2), 16);
  const fields = line.slice(bar + 1).split('\t');
  let n = 0;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k].trim();
    if (f === '') continue;
    if (n === 5 || !ENTRY_RE.test(f)) {
      warn(n === 5 ? 'more than five entry columns' : `entry ${JSON.stringify(f.slice(0, 40))} is not 0x + 16 hex digits (row cut off?)`, lineNo);
      return false;
    }
    his[n] = parseInt(f.slice(2, 10), 16);
    los[n] = parseInt(f.slice(10, 18), 16);
    n++;
  }
  if (n < 3) {
    warn(`row has ${n} entry columns, at least 3 (PML5E, PML4E, PDPE) expected`, lineNo);
    return false;
  }
  let top = -1;
  let leaf = -1;
  for (let k = 0; k < n; k++) {
    if (his[k] !== 0 || los[k] !== 0) {
      if (top < 0) top = k;
      leaf = k;
    }
  }
  if (top < 0) {
    warn('row with no non-zero entry', lineNo);
    return false;
  }
  for (let k = top; k < leaf; k++) {
    if (his[k] === 0 && los[k] === 0) {
      warn(`zero level-${5 - k} entry between non-zero entries`, lineNo);
      return false;
    }
  }
  const level = 5 - leaf;
  const lo = los[leaf];
  const hi = his[leaf];
  if (level > 3) {
    warn(`leaf at level ${level} (${level === 5 ? 'PML5E' : 'PML4E'}): no page size exists there (row cut off?)`, lineNo);
    return false;
  }
  if (level > 1 && (lo & 0x80) === 0) {
    warn(`row ends at level ${level} with a non-leaf entry (PS = 0): row cut off?`, lineNo);
    return false;
  }
  const levels = 5 - top;
  const d = st.d;
  if (d.levels === undefined) d.levels = levels;
  else if (d.levels !== levels) warn(`row starts at level ${levels}, earlier rows at level ${d.levels}`, lineNo);
  if (iovaPfn <= st.lastPfn) warn('rows not in ascending IOVA order', lineNo);

  // Table pages: the page each non-leaf entry points to (bits 51:12), only when the entry changed.
  for (let k = top; k < leaf; k++) {
    if (his[k] !== st.prevHi[k] || los[k] !== st.prevLo[k]) {
      st.prevHi[k] = his[k];
      st.prevLo[k] = los[k];
      st.tables.add((his[k] & 0xfffff) * TWO_POW_20 + (los[k] >>> 12));
    }
  }
  const pages = level === 1 ? 1 : level === 2 ? 512 : 262144;
  const hpaPfn = (hi & 0xfffff) * TWO_POW_20 + (lo >>> 12);
  if (hpaPfn % pages !== 0) warn(`level-${level} leaf ${hex(hi)}${hexDigits(lo, 8)} has reserved address bits set (not ${pages * 4} KiB aligned)`, lineNo);
  if (iovaPfn % pages !== 0) warn(`IOVA page ${hex(iovaPfn)} is not aligned to its ${pages * 4} KiB leaf`, lineNo);
  st.lastPfn = iovaPfn + pages - 1;
  st.coalescer.add(iovaPfn, hpaPfn, pages, (lo & 1) !== 0, (lo & 2) !== 0, PAGE_SIZES[level], (lo & 0x800) !== 0, (hi & 0x4000_0000) !== 0);
  return true;
}
