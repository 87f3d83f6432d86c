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
import { exactFromHexDigits, fromHexDigits, hex } from '../util/hex.js';
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
  const r = new DmesgReader(part);
  for (const l of eachLine(input, (long) => r.w.tooLong(long))) r.line(l.text, l.no);
  return r.finish();
}

/** A fault's table dump being read (the lines after `Dump dmarN table entries for IOVA …`). */
interface OpenDump {
  /** The fault the dump belongs to; undefined when it follows none (its lines are still consumed). */
  fault: Fault | undefined;
  d: Dump;
}

/**
 * The state of one pass over a kernel log (parseDmesgDetails): what has been read so far, and the
 * two multi-line shapes that may be open — a 2.6 fault waiting for its reason line, and a dump.
 */
class DmesgReader {
  readonly w: LineWarnings;
  private readonly units: UnitContribution[] = [];
  private readonly unitByBase = new Map<number, UnitContribution>();
  private readonly faults: Fault[] = [];
  /** Unit name of a fault, from its dump's `Dump dmarN …` line. */
  private readonly faultUnitName = new Map<Fault, string>();
  private readonly drhds: DmesgDrhd[] = [];
  private readonly rmrrs: DmesgRmrr[] = [];
  private haw: number | undefined;
  private kernelLog = false;
  private dmarLines = 0;
  private recognised = 0;
  private timestamped = 0;
  private nonBlank = false;
  private lastLine = 0;
  /** 2.6 kernels print the reason on the line after the fault. */
  private awaitingReason: Fault | undefined;
  private dump: OpenDump | undefined;

  constructor(private readonly part: string) {
    this.w = new LineWarnings(part);
  }

  private warn = (message: string, line: number): void => this.w.warn(message, line);

  line(line: string, lineNo: number): void {
    this.lastLine = lineNo;
    if (!this.nonBlank && line.trim() !== '') this.nonBlank = true;
    if (TIMESTAMP_RE.test(line)) {
      this.kernelLog = true;
      this.timestamped++;
    }
    const tag = TAG_RE.exec(line);
    if (!tag) return;
    this.dmarLines++;
    const msg = line.slice(tag.index + tag[0].length).trim();
    // Counted back down in `unparsed` when the line turns out to be none of the known shapes.
    this.recognised++;
    if (this.awaitingReason && this.reasonLine(msg, lineNo)) return;
    if (this.dump && this.dumpLine(this.dump.d, msg, lineNo)) return;
    if (this.fact(msg, lineNo)) return;
    this.unparsed(msg, lineNo);
  }

  /** The line after a 2.6 fault: its `[fault reason NN]`, or a warning that it never came. */
  private reasonLine(msg: string, lineNo: number): boolean {
    const f = this.awaitingReason!;
    this.awaitingReason = undefined;
    const r = REASON_RE.exec(msg);
    if (r) {
      f.reason = parseReason(r[1], r[2], lineNo, this.warn);
      f.reasonText = r[3].trim();
      return true;
    }
    this.warn('fault line without its "[fault reason NN]" line', f.source.line ?? lineNo);
    return false;
  }

  private closeDump(): void {
    if (this.dump?.fault) this.dump.fault.dumped = this.dump.d;
    this.dump = undefined;
  }

  /** A line of an open dump; any other line closes the dump and is read as a fact (false). */
  private dumpLine(d: Dump, msg: string, lineNo: number): boolean {
    let m: RegExpExecArray | null;
    if ((m = ROOT_RE.exec(msg))) { d.root = fromHexDigits(m[1]); return true; }
    if ((m = SM_ROOT_RE.exec(msg))) { d.root = fromHexDigits(m[2]); note(d, `scalable-mode root entry hi 0x${m[1]}`); return true; }
    if ((m = CTX_RE.exec(msg))) { d.contextHi = fromHexDigits(m[1]); d.contextLo = fromHexDigits(m[2]); return true; }
    if ((m = PTE_RE.exec(msg))) {
      const level = Number(m[1]);
      if (level < 1 || level > 6) this.warn(`pte level ${level} out of range`, lineNo);
      else d.levels.push({ level, entry: fromHexDigits(m[2]) });
      return true;
    }
    if ((m = NOT_PRESENT_NEW_RE.exec(msg))) {
      const n = Number(m[1]);
      note(d, `level-${n + 1} entry not present (kernel: "page table not present at level ${n}")`);
      this.closeDump();
      return true;
    }
    if ((m = NOT_PRESENT_OLD_RE.exec(msg))) {
      const n = Number(m[1]);
      note(d, `level-${n} entry not present or a large page (kernel: "PTE not present at level ${n}")`);
      this.closeDump();
      return true;
    }
    if ((m = PASID_DIR_RE.exec(msg))) { note(d, `PASID directory entry 0x${m[1]}`); return true; }
    if ((m = PASID_ENTRY_RE.exec(msg))) { note(d, `PASID table entry[${m[1]}] 0x${m[2]}`); return true; }
    if (DUMP_STOP_RE.test(msg)) { note(d, msg); this.closeDump(); return true; }
    // Anything else ends the dump (a new fault, an unrelated DMAR line).
    this.closeDump();
    return false;
  }

  /** A line that states one fact: a fault, the start of a dump, a unit, HAW, DRHD or RMRR. */
  private fact(msg: string, lineNo: number): boolean {
    let m: RegExpExecArray | null;
    if ((m = FAULT_RE.exec(msg))) this.faultLine(m, lineNo);
    else if ((m = DUMP_RE.exec(msg))) this.dumpStart(m, lineNo);
    else if ((m = UNIT_RE.exec(msg))) this.unitLine(m, lineNo);
    else if ((m = HAW_RE.exec(msg))) this.haw = Number(m[1]);
    else if ((m = DRHD_RE.exec(msg))) this.drhdLine(m, lineNo);
    else if ((m = RMRR_RE.exec(msg))) this.rmrrLine(m, lineNo);
    else return false;
    return true;
  }

  /**
   * Matched hex digits of a host address as an exact number; at or above 2^53 a number would
   * round it (the model's address convention), so the line is rejected with a warning instead.
   */
  private address(digits: string, what: string, lineNo: number): number | undefined {
    const v = exactFromHexDigits(digits);
    if (v === undefined) this.warn(`${what} 0x${digits} is at or above 2^53 (not a host address): line skipped`, lineNo);
    return v;
  }

  private drhdLine(m: RegExpExecArray, lineNo: number): void {
    const base = this.address(m[1], 'DRHD base', lineNo);
    if (base !== undefined) this.drhds.push({ base, flags: parseInt(m[2], 16), source: { part: this.part, line: lineNo } });
  }

  private rmrrLine(m: RegExpExecArray, lineNo: number): void {
    const base = this.address(m[1], 'RMRR base', lineNo);
    const end = base === undefined ? undefined : this.address(m[2], 'RMRR end', lineNo);
    if (base !== undefined && end !== undefined) this.rmrrs.push({ base, end, source: { part: this.part, line: lineNo } });
  }

  private faultLine(m: RegExpExecArray, lineNo: number): void {
    const addr = fromHexDigits(m[7]);
    const bus = parseInt(m[3], 16);
    const slot = parseInt(m[4], 16);
    const fn = parseInt(m[5], 16);
    if (bus > 0xff || slot > 31 || fn > 7) {
      // The kernel prints PCI_BUS_NUM/PCI_SLOT/PCI_FUNC of a 16-bit source-id: this was altered.
      const what = bus > 0xff ? `bus 0x${m[3]} (0-0xff)` : slot > 31 ? `device 0x${m[4]} (0-0x1f)` : `function ${m[5]} (0-7)`;
      throw new InputError(`fault from PCI address ${m[3]}:${m[4]}.${m[5]} that cannot exist: ${what} out of range`, { file: this.part, line: lineNo });
    }
    const pasidText = m[2] ?? m[6];
    const f: Fault = {
      bdf: formatBdf({ segment: 0, bus, devfn: (slot << 3) | fn }),
      iovaPfn: Number(addr >> 12n), iovaOffset: Number(addr & 0xfffn),
      reason: 0, reasonText: '', type: m[1].toLowerCase() === 'dma read' ? 'read' : 'write',
      source: { part: this.part, line: lineNo },
    };
    if (pasidText !== undefined) {
      const p = parseInt(pasidText, 16);
      if (p !== 0xffffffff) f.pasid = p; // %x of -1: no PASID
    }
    if (m[9] !== undefined) {
      f.reason = parseReason(m[8], m[9], lineNo, this.warn);
      f.reasonText = (m[10] ?? '').trim();
    } else {
      this.awaitingReason = f;
    }
    this.faults.push(f);
  }

  /** `Dump dmarN table entries for IOVA 0x…`: attached to the fault just read when it is that IOVA's. */
  private dumpStart(m: RegExpExecArray, lineNo: number): void {
    const last = this.faults[this.faults.length - 1];
    const iova = fromHexDigits(m[2]);
    let fault: Fault | undefined = last;
    if (!last || last.dumped !== undefined || BigInt(last.iovaPfn) * 4096n + BigInt(last.iovaOffset) !== iova) {
      this.warn(`table dump for IOVA 0x${m[2]} follows no fault report for that address: not attached`, lineNo);
      fault = undefined;
    } else {
      this.faultUnitName.set(last, m[1]);
    }
    this.dump = { fault, d: { levels: [] } };
  }

  private unitLine(m: RegExpExecArray, lineNo: number): void {
    const name = m[1] ?? `dmar${m[2]}`;
    const base = this.address(m[3], `unit ${name}: register base`, lineNo);
    if (base === undefined) return;
    const major = Number(m[4]);
    const minor = Number(m[5]);
    const raw: RawRegisters = {
      VER: BigInt(((major & 0xf) << 4) | (minor & 0xf)), CAP: fromHexDigits(m[6]), ECAP: fromHexDigits(m[7]),
    };
    const prev = this.unitByBase.get(base);
    if (prev) {
      const pr = prev.registers!.raw;
      if (prev.name !== name || pr.CAP !== raw.CAP || pr.ECAP !== raw.ECAP || pr.VER !== raw.VER) {
        this.warn(`unit at ${hex(base)} logged again with different values (line ${prev.source.line}); keeping the first`, lineNo);
      }
      return;
    }
    const registers: UnitRegisters = { base, name, raw, faultRecords: [] };
    const u: UnitContribution = { registerBase: base, name, version: { major, minor }, registers, source: { part: this.part, line: lineNo } };
    this.unitByBase.set(base, u);
    this.units.push(u);
  }

  /** A DMAR line of no known shape: a warning when it names a fault, a unit or another fact. */
  private unparsed(msg: string, lineNo: number): void {
    this.recognised--;
    if (msg.includes('Request device [') && !msg.includes('INTR-REMAP')) {
      this.warn(`cannot parse DMA fault line: ${excerpt(msg, 160)}`, lineNo);
    } else if (msg.includes('reg_base_addr')) {
      this.warn(`cannot parse unit line: ${excerpt(msg, 160)}`, lineNo);
    } else if (FACT_PREFIX_RE.test(msg)) {
      this.warn(`cannot parse line: ${excerpt(msg, 160)}`, lineNo);
    }
  }

  /** After the last line: close what is open, judge whether this was a kernel log, name faults' units. */
  finish(): DmesgDetails {
    const { part, drhds, rmrrs, recognised, timestamped, units, faults } = this;
    this.closeDump();
    if (this.awaitingReason) this.warn('fault line without its "[fault reason NN]" line', this.awaitingReason.source.line ?? this.lastLine);

    if (this.dmarLines === 0 && !this.kernelLog) {
      if (!this.nonBlank) {
        return { contribution: { warnings: [{ message: 'kernel log is empty', source: { part, line: 1 } }] }, drhds, rmrrs, recognised, timestamped };
      }
      throw new NotRecognisedError('not a Linux kernel log: no "[ seconds.micro ]" timestamps and no "DMAR:" lines', { file: part, line: 1 });
    }
    const warnings = this.w.done();
    if (this.dmarLines === 0) warnings.push({ message: 'kernel log has no DMAR lines (intel_iommu not active, or the log was cut)', source: { part } });

    // A fault names its unit only through its dump (`Dump dmar0 …`); a log with one unit names it for all.
    const byName = new Map(units.map((u) => [u.name!, u.registerBase!]));
    for (const f of faults) {
      const n = this.faultUnitName.get(f);
      const base = n !== undefined ? byName.get(n) : units.length === 1 ? units[0].registerBase : undefined;
      if (base !== undefined) f.unit = base;
    }

    const contribution: Contribution = { warnings };
    if (units.length > 0) contribution.units = units;
    if (faults.length > 0) contribution.faults = faults;
    const out: DmesgDetails = { contribution, drhds, rmrrs, recognised, timestamped };
    if (this.haw !== undefined) out.haw = this.haw;
    return out;
  }
}

function note(d: Dump, s: string): void {
  d.note = d.note === undefined ? s : `${d.note}; ${s}`;
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
