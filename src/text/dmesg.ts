/**
 * Linux kernel log lines about DMA remapping (dmesg, journalctl -k, /var/log/kern.log).
 *
 * A line is looked at from its `DMAR:` / `dmar:` tag on, so `[    0.004000] ` timestamps, syslog
 * prefixes (`Nov 25 03:31:00 host kernel: `) and log-level markers are all skipped the same way.
 * e820 lines belong to src/text/memory-map.ts and are ignored here, as are other subsystems' lines.
 *
 * Recognised (drivers/iommu/intel/dmar.c, iommu.c; all kernel versions seen):
 * - `DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a`
 *   (3.x/4.x: `dmar: IOMMU 0: reg_base_addr …`, name `dmar0`) → UnitContribution with the raw
 *   VER/CAP/ECAP values in `registers.raw`; the model builder decodes them (buildUnitRegisters).
 * - `DMAR: Host address width 39`, `DMAR: DRHD base: 0x… flags: 0x…`, `DMAR: RMRR base: 0x… end: 0x…`
 *   → `parseDmesgDetails` only (Contribution has no field for them).
 * - Faults, every spelling of dmar_fault_do_one:
 *     5.15+: `[DMA Read NO_PASID] Request device [01:00.0] fault addr 0xbadd000 [fault reason 0x06] …`
 *            `[DMA Write PASID 0x1] Request device …`
 *     5.14:  the same with `[0x01:0x00.0]`
 *     4.x–5.13: `[DMA Read] Request device [01:00.0] PASID ffffffff fault addr badd000 [fault reason 06] …`
 *     3.x–4.x: `[DMA Write] Request device [00:02.0] fault addr 7fbf000 [fault reason 05] …`
 *     2.6:   `DMAR:[DMA Read] Request device [01:00.0] fault addr 7fbf000 ` + next line `DMAR:[fault reason 05] …`
 *   Before 5.14 the reason was printed with `%02d`: DECIMAL, without 0x. With 0x it is hex.
 *   Addresses are hex with or without 0x. PASID ffffffff (-1) means "no PASID".
 *   `[INTR-REMAP]` faults (interrupt remapping) are not DMA faults and are skipped.
 * - The CONFIG_DMAR_DEBUG dump after a fault (iommu.c dmar_fault_dump_ptes / pgtable_walk) is
 *   attached to the fault it follows as `dumped`.
 *
 * Level numbering of the dump: `pte level: L` prints Linux's walk level, which IS the VT-d level
 * (leaf 4 KiB table = 1, a 3-level table's root = 3), so `dumped.levels[].level` is L unchanged.
 * `page table not present at level N` (kernels since the 2024 fix, also in 6.1 stable) prints
 * N = L − 1 after the non-present level-L entry, i.e. the level of the table that does not exist;
 * the note names the VT-d level of the missing entry, N + 1. The older `PTE not present at level L`
 * names the entry's own level L (and was also printed for a large-page leaf, without its value).
 */
import type { RawRegisters, UnitRegisters } from '../decode/registers-types.js';
import { InputError } from '../errors.js';
import type { Contribution, UnitContribution } from '../model/contribution.js';
import type { Fault, Source } from '../model/types.js';
import { formatBdf } from '../util/bdf.js';
import { eachLine, excerpt, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';

export interface DmesgDrhd { base: number; flags: number; source: Source }
export interface DmesgRmrr { base: number; end: number; source: Source }

export interface DmesgDetails {
  contribution: Contribution;
  /** `Host address width N`, when logged. */
  haw?: number;
  drhds: DmesgDrhd[];
  rmrrs: DmesgRmrr[];
  /** Lines read as one of the shapes above (unit, fault, dump, HAW, DRHD, RMRR). */
  recognised: number;
  /** Lines with a kernel-log timestamp. */
  timestamped: number;
}

type Dump = NonNullable<Fault['dumped']>;

const TAG_RE = /(?:^|[^A-Za-z0-9_-])(?:DMAR|dmar):/;
/** `[ \t]`, not `\s`: with /m a `\s` run would cross line ends (quadratic on a head of blank lines). */
const TIMESTAMP_RE = /^[ \t]*(?:<\d+>)?\[[ \t]*\d+\.\d+\]/m;

const UNIT_RE = /^(?:(dmar\d+)|IOMMU\s+(\d+)):\s*reg_base_addr\s+(?:0x)?([0-9a-f]{1,16})\s+ver\s+(\d+):(\d+)\s+cap\s+(?:0x)?([0-9a-f]{1,16})\s+ecap\s+(?:0x)?([0-9a-f]{1,16})\s*$/i;
const HAW_RE = /^Host address width (\d+)\s*$/;
const DRHD_RE = /^DRHD base: 0x([0-9a-f]{1,16}) flags: 0x([0-9a-f]+)\s*$/i;
const RMRR_RE = /^RMRR base: 0x([0-9a-f]{1,16}) end: 0x([0-9a-f]{1,16})\s*$/i;
const FAULT_RE = new RegExp(
  '^\\[(DMA Read|DMA Write)(?: NO_PASID| PASID (?:0x)?([0-9a-f]{1,8}))?\\] ' +
  'Request device \\[(?:0x)?([0-9a-f]{2,3}):(?:0x)?([0-9a-f]{2})\\.([0-9a-f])\\]' +
  '(?: PASID ([0-9a-f]{1,8}))? fault addr (?:0x)?([0-9a-f]{1,16})\\s*' +
  '(?:\\[fault reason (0x)?([0-9a-f]{1,3})\\]\\s*(.*))?$', 'i');
const REASON_RE = /^\[fault reason (0x)?([0-9a-f]{1,3})\]\s*(.*)$/i;
const DUMP_RE = /^Dump (\S+) table entries for IOVA 0x([0-9a-f]{1,16})\s*$/i;
const ROOT_RE = /^root entry: (?:0x)?([0-9a-f]{1,16})/i;
const SM_ROOT_RE = /^scalable mode root entry: hi 0x([0-9a-f]{1,16}), low 0x([0-9a-f]{1,16})/i;
const CTX_RE = /^context entry: hi 0x([0-9a-f]{1,16}), low 0x([0-9a-f]{1,16})/i;
const PTE_RE = /^pte level: (\d+), pte value: (?:0x)?([0-9a-f]{1,16})\s*$/i;
const NOT_PRESENT_NEW_RE = /^page table not present at level (\d+)\s*$/i;
const NOT_PRESENT_OLD_RE = /^PTE not present at level (\d+)\s*$/i;
const PASID_DIR_RE = /^pasid dir entry: 0x([0-9a-f]{1,16})\s*$/i;
const PASID_ENTRY_RE = /^pasid table entry\[(\d)\]: 0x([0-9a-f]{1,16})\s*$/i;
/** Dump lines that end the walk with a sentence and no value. */
const DUMP_STOP_RE = /^(?:root table is not present|context table is not present|legacy mode page table is not present|pasid directory table is not present|pasid table is not present|scalable mode page table is not present)\s*$/i;

/** Cheap content sniff: kernel-log timestamps or DMAR-tagged lines. */
export function looksLikeDmesg(text: string): boolean {
  const head = text.slice(0, 16384);
  return TIMESTAMP_RE.test(head) || /(?:^|\s)(?:DMAR|dmar): /m.test(head);
}

export function parseDmesg(input: TextInput, part: string): Contribution {
  return parseDmesgDetails(input, part).contribution;
}

/**
 * Lines that start like a fact this reader knows but do not parse as one: a warning, never a
 * silent skip (an altered `DRHD base:` or `Host address width` line).
 */
const FACT_PREFIX_RE = /^(?:Host address width|DRHD base:|RMRR base:|\S+: reg_base_addr|IOMMU \d+: reg_base_addr)/i;

export function parseDmesgDetails(input: TextInput, part: string): DmesgDetails {
  const w = new LineWarnings(part);
  const warn = (message: string, line: number): void => w.warn(message, line);
  const units: UnitContribution[] = [];
  const unitByBase = new Map<number, UnitContribution>();
  const faults: Fault[] = [];
  /** Unit name of a fault, from its dump's `Dump dmarN …` line. */
  const faultUnitName = new Map<Fault, string>();
  const drhds: DmesgDrhd[] = [];
  const rmrrs: DmesgRmrr[] = [];
  let haw: number | undefined;
  let kernelLog = false;
  let dmarLines = 0;
  let recognised = 0;
  let timestamped = 0;
  let nonBlank = false;
  let lastLine = 0;

  /** 2.6 kernels print the reason on the line after the fault. */
  let awaitingReason: Fault | undefined;
  let dump: { fault: Fault | undefined; d: Dump } | undefined;

  const closeDump = (): void => {
    if (dump?.fault) dump.fault.dumped = dump.d;
    dump = undefined;
  };
  const note = (d: Dump, s: string): void => {
    d.note = d.note === undefined ? s : `${d.note}; ${s}`;
  };

  for (const { text: line, no: lineNo } of eachLine(input, (l) => w.tooLong(l))) {
    lastLine = lineNo;
    if (!nonBlank && line.trim() !== '') nonBlank = true;
    if (TIMESTAMP_RE.test(line)) {
      kernelLog = true;
      timestamped++;
    }
    const tag = TAG_RE.exec(line);
    if (!tag) continue;
    dmarLines++;
    const msg = line.slice(tag.index + tag[0].length).trim();
    // Counted back down below when the line turns out to be none of the known shapes.
    recognised++;

    if (awaitingReason) {
      const r = REASON_RE.exec(msg);
      const f = awaitingReason;
      awaitingReason = undefined;
      if (r) {
        f.reason = parseReason(r[1], r[2], lineNo, warn);
        f.reasonText = r[3].trim();
        continue;
      }
      warn('fault line without its "[fault reason NN]" line', f.source.line ?? lineNo);
    }

    // Fault dump lines (only meaningful right after "Dump dmarN table entries …").
    if (dump) {
      const d = dump.d;
      let m: RegExpExecArray | null;
      if ((m = ROOT_RE.exec(msg))) { d.root = BigInt('0x' + m[1]); continue; }
      if ((m = SM_ROOT_RE.exec(msg))) { d.root = BigInt('0x' + m[2]); note(d, `scalable-mode root entry hi 0x${m[1]}`); continue; }
      if ((m = CTX_RE.exec(msg))) { d.contextHi = BigInt('0x' + m[1]); d.contextLo = BigInt('0x' + m[2]); continue; }
      if ((m = PTE_RE.exec(msg))) {
        const level = Number(m[1]);
        if (level < 1 || level > 6) warn(`pte level ${level} out of range`, lineNo);
        else d.levels.push({ level, entry: BigInt('0x' + m[2]) });
        continue;
      }
      if ((m = NOT_PRESENT_NEW_RE.exec(msg))) {
        const n = Number(m[1]);
        note(d, `level-${n + 1} entry not present (kernel: "page table not present at level ${n}")`);
        closeDump();
        continue;
      }
      if ((m = NOT_PRESENT_OLD_RE.exec(msg))) {
        const n = Number(m[1]);
        note(d, `level-${n} entry not present or a large page (kernel: "PTE not present at level ${n}")`);
        closeDump();
        continue;
      }
      if ((m = PASID_DIR_RE.exec(msg))) { note(d, `PASID directory entry 0x${m[1]}`); continue; }
      if ((m = PASID_ENTRY_RE.exec(msg))) { note(d, `PASID table entry[${m[1]}] 0x${m[2]}`); continue; }
      if (DUMP_STOP_RE.test(msg)) { note(d, msg); closeDump(); continue; }
      // Anything else ends the dump (a new fault, an unrelated DMAR line); handled below.
      closeDump();
    }

    let m = FAULT_RE.exec(msg);
    if (m) {
      const addr = BigInt('0x' + m[7]);
      const bus = parseInt(m[3], 16);
      const slot = parseInt(m[4], 16);
      const fn = parseInt(m[5], 16);
      if (bus > 0xff || slot > 31 || fn > 7) {
        // The kernel prints PCI_BUS_NUM/PCI_SLOT/PCI_FUNC of a 16-bit source-id: this was altered.
        const what = bus > 0xff ? `bus 0x${m[3]} (0-0xff)` : slot > 31 ? `device 0x${m[4]} (0-0x1f)` : `function ${m[5]} (0-7)`;
        throw new InputError(`fault from PCI address ${m[3]}:${m[4]}.${m[5]} that cannot exist: ${what} out of range`, { file: part, line: lineNo });
      }
      const pasidText = m[2] ?? m[6];
      const f: Fault = {
        bdf: formatBdf({ segment: 0, bus, devfn: (slot << 3) | fn }),
        iovaPfn: Number(addr >> 12n), iovaOffset: Number(addr & 0xfffn),
        reason: 0, reasonText: '', type: m[1].toLowerCase() === 'dma read' ? 'read' : 'write',
        source: { part, line: lineNo },
      };
      if (pasidText !== undefined) {
        const p = parseInt(pasidText, 16);
        if (p !== 0xffffffff) f.pasid = p; // %x of -1: no PASID
      }
      if (m[9] !== undefined) {
        f.reason = parseReason(m[8], m[9], lineNo, warn);
        f.reasonText = (m[10] ?? '').trim();
      } else {
        awaitingReason = f;
      }
      faults.push(f);
      continue;
    }
    if ((m = DUMP_RE.exec(msg))) {
      const last = faults[faults.length - 1];
      const iova = BigInt('0x' + m[2]);
      let fault: Fault | undefined = last;
      if (!last || last.dumped !== undefined || BigInt(last.iovaPfn) * 4096n + BigInt(last.iovaOffset) !== iova) {
        warn(`table dump for IOVA 0x${m[2]} follows no fault report for that address: not attached`, lineNo);
        fault = undefined;
      } else {
        faultUnitName.set(last, m[1]);
      }
      dump = { fault, d: { levels: [] } };
      continue;
    }
    if ((m = UNIT_RE.exec(msg))) {
      const name = m[1] ?? `dmar${m[2]}`;
      const base = Number(BigInt('0x' + m[3]));
      const major = Number(m[4]);
      const minor = Number(m[5]);
      const raw: RawRegisters = {
        VER: BigInt(((major & 0xf) << 4) | (minor & 0xf)), CAP: BigInt('0x' + m[6]), ECAP: BigInt('0x' + m[7]),
      };
      const prev = unitByBase.get(base);
      if (prev) {
        const pr = prev.registers!.raw;
        if (prev.name !== name || pr.CAP !== raw.CAP || pr.ECAP !== raw.ECAP || pr.VER !== raw.VER) {
          warn(`unit at 0x${base.toString(16)} logged again with different values (line ${prev.source.line}); keeping the first`, lineNo);
        }
        continue;
      }
      const registers: UnitRegisters = { base, name, raw, faultRecords: [] };
      const u: UnitContribution = { registerBase: base, name, version: { major, minor }, registers, source: { part, line: lineNo } };
      unitByBase.set(base, u);
      units.push(u);
      continue;
    }
    if ((m = HAW_RE.exec(msg))) {
      haw = Number(m[1]);
      continue;
    }
    if ((m = DRHD_RE.exec(msg))) {
      drhds.push({ base: Number(BigInt('0x' + m[1])), flags: parseInt(m[2], 16), source: { part, line: lineNo } });
      continue;
    }
    if ((m = RMRR_RE.exec(msg))) {
      rmrrs.push({ base: Number(BigInt('0x' + m[1])), end: Number(BigInt('0x' + m[2])), source: { part, line: lineNo } });
      continue;
    }
    recognised--;
    // Lines that name a fault, a unit or another fact but did not parse: say so rather than lose it.
    if (msg.includes('Request device [') && !msg.includes('INTR-REMAP')) {
      warn(`cannot parse DMA fault line: ${excerpt(msg, 160)}`, lineNo);
    } else if (msg.includes('reg_base_addr')) {
      warn(`cannot parse unit line: ${excerpt(msg, 160)}`, lineNo);
    } else if (FACT_PREFIX_RE.test(msg)) {
      warn(`cannot parse line: ${excerpt(msg, 160)}`, lineNo);
    }
  }
  closeDump();
  if (awaitingReason) warn('fault line without its "[fault reason NN]" line', awaitingReason.source.line ?? lastLine);

  if (dmarLines === 0 && !kernelLog) {
    if (!nonBlank) {
      return { contribution: { warnings: [{ message: 'kernel log is empty', source: { part, line: 1 } }] }, drhds, rmrrs, recognised, timestamped };
    }
    throw new NotRecognisedError('not a Linux kernel log: no "[ seconds.micro ]" timestamps and no "DMAR:" lines', { file: part, line: 1 });
  }
  const warnings = w.done();
  if (dmarLines === 0) warnings.push({ message: 'kernel log has no DMAR lines (intel_iommu not active, or the log was cut)', source: { part } });

  // A fault names its unit only through its dump (`Dump dmar0 …`); a log with one unit names it for all.
  const byName = new Map(units.map((u) => [u.name!, u.registerBase!]));
  for (const f of faults) {
    const n = faultUnitName.get(f);
    const base = n !== undefined ? byName.get(n) : units.length === 1 ? units[0].registerBase : undefined;
    if (base !== undefined) f.unit = base;
  }

  const contribution: Contribution = { warnings };
  if (units.length > 0) contribution.units = units;
  if (faults.length > 0) contribution.faults = faults;
  const out: DmesgDetails = { contribution, drhds, rmrrs, recognised, timestamped };
  if (haw !== undefined) out.haw = haw;
  return out;
}

/** `0x06` is hex (5.14+); `06` is decimal (`%02d` before 5.14). */
function parseReason(prefix: string | undefined, digits: string, lineNo: number, warn: (m: string, l: number) => void): number {
  if (prefix) return parseInt(digits, 16);
  if (!/^\d+$/.test(digits)) {
    warn(`fault reason ${digits} without 0x is not decimal (kernels before 5.14 print it with %02d)`, lineNo);
    return parseInt(digits, 16);
  }
  return parseInt(digits, 10);
}
