/**
 * Linux intel-iommu debugfs `ir_translation_struct` (drivers/iommu/intel/debugfs.c,
 * `ir_translation_struct_show`, `ir_tbl_remap_entry_show`, `ir_tbl_posted_entry_show`; the same
 * shape from 4.20 to current trees). Two sections, separated by a `****` line:
 *
 *   Remapped Interrupt supported on IOMMU: dmar0          one block per unit with ECAP.IR
 *    IR table address:2100000                             (%llx, no 0x) — or, with GSTS.IRES clear,
 *    Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low     "Interrupt Remapping is not enabled"
 *    1     ff:00.0 00000100 30  000000000004ff00\t000001000030000d
 *   <empty line>
 *   ****
 *   <empty line>
 *   Posted Interrupt supported on IOMMU: dmar0            one block per unit with CAP.PI
 *    IR table address:2100000
 *    Entry SrcID   PDA_high PDA_low  Vct IRTE_high\t\tIRTE_low
 *    7     01:00.0 00000001 23456780 41  0000000100040100\t234567800041c001
 *
 * Rows: remapped ` %-5d %02x:%02x.%01x %08x %02x  %016llx\t%016llx` (index, SID as bus:slot.fn,
 * DST, vector, IRTE bits 127:64, bits 63:0); posted ` %-5d %02x:%02x.%01x %08x %08x %02x  %016llx\t%016llx`
 * (PDA-H, and PDA-L << 6 = descriptor address bits 31:0). The kernel lists present entries only:
 * IM = 0 in the remapped section, IM = 1 in the posted one.
 *
 * The raw halves are what counts; the printed columns are derived from them, so a row whose
 * columns disagree with its own raw halves is kept with a warning (a damaged or edited file).
 * Every line is either understood or named in a warning. Work is linear in the text; what is kept
 * is bounded: lines of at most MAX_LINE_CHARS, indices below MAX_ENTRIES_PER_UNIT (each kept once
 * per unit), at most MAX_UNITS units, at most 100 warnings (then one summary).
 */
import { InputError } from '../errors.js';
import type { Contribution, IrSection, IrTextUnit } from '../model/contribution.js';
import type { ModelWarning } from '../model/types.js';
import { formatBusDevfn } from '../util/bdf.js';
import { fromHexDigits, hex, hexDigits } from '../util/hex.js';
import { LineWarnings, textLines, type Line } from './lines.js';

/** Longer lines are no debugfs output (rows are ~60 characters): skipped with a warning. */
export const MAX_LINE_CHARS = 1024;
/** An IR table holds at most 2^16 entries (IRTA.S ≤ 15). */
export const MAX_ENTRIES_PER_UNIT = 65536;
/** More units than any platform has (Linux caps DMAR units at MAX_IO_APICS). */
export const MAX_UNITS = 1024;

export interface IrTranslationText {
  units: IrTextUnit[];
  warnings: ModelWarning[];
}

const UNIT_RE = /^(Remapped|Posted) Interrupt supported on IOMMU:\s*(\S+)\s*$/;
const TABLE_RE = /^\s*IR table address:\s*(?:0x)?([0-9a-f]{1,16})\s*$/i;
const NOT_ENABLED_RE = /^\s*Interrupt Remapping is not enabled(?:\s+on\s+(\S+))?\s*$/;
const HEADER_RE = /^\s*Entry\s+SrcID\s+(DstID|PDA_high)\b/;
const SEPARATOR = '****';
const SID = '([0-9a-f]{2}):([0-9a-f]{2})\\.([0-7])';
const H16 = '([0-9a-f]{16})';
const REMAPPED_ROW_RE = new RegExp(`^\\s*(\\d{1,6})\\s+${SID}\\s+([0-9a-f]{8})\\s+([0-9a-f]{2})\\s+${H16}\\s+${H16}\\s*$`, 'i');
const POSTED_ROW_RE = new RegExp(`^\\s*(\\d{1,6})\\s+${SID}\\s+([0-9a-f]{8})\\s+([0-9a-f]{8})\\s+([0-9a-f]{2})\\s+${H16}\\s+${H16}\\s*$`, 'i');

/** Cheap content sniff for capture discovery. */
export function looksLikeIrTranslation(text: string): boolean {
  const head = text.slice(0, 4096);
  return /^(Remapped|Posted) Interrupt supported on IOMMU:/m.test(head) || /^\s*Entry\s+SrcID\s+(DstID|PDA_high)/m.test(head);
}

const bits = (q: bigint, hi: number, lo: number): number => Number((q >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

/** Columns printed beside the raw halves that disagree with them (the kernel derives both from one entry). */
function columnMismatches(section: IrSection, m: RegExpExecArray, lo: bigint, hi: bigint): string[] {
  const out: string[] = [];
  const sid = bits(hi, 15, 0);
  const printedSid = `${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
  const rawSid = formatBusDevfn(sid >> 8, sid & 0xff);
  if (printedSid !== rawSid) out.push(`SrcID ${printedSid} but IRTE_high says ${rawSid}`);
  const vector = parseInt(section === 'remapped' ? m[6] : m[7], 16);
  if (vector !== bits(lo, 23, 16)) out.push(`Vct ${hexDigits(vector, 2)} but IRTE_low bits 23:16 are ${hexDigits(bits(lo, 23, 16), 2)}`);
  if (section === 'remapped') {
    const dst = parseInt(m[5], 16);
    if (dst !== bits(lo, 63, 32)) out.push(`DstID ${hexDigits(dst, 8)} but IRTE_low bits 63:32 are ${hexDigits(bits(lo, 63, 32), 8)}`);
  } else {
    const pdaH = parseInt(m[5], 16);
    const pdaL = parseInt(m[6], 16);
    if (pdaH !== bits(hi, 63, 32)) out.push(`PDA_high ${hexDigits(pdaH, 8)} but IRTE_high bits 63:32 are ${hexDigits(bits(hi, 63, 32), 8)}`);
    const rawL = (bits(lo, 63, 38) * 64) >>> 0;
    if (pdaL !== rawL) out.push(`PDA_low ${hexDigits(pdaL, 8)} but IRTE_low bits 63:38 give ${hexDigits(rawL, 8)}`);
  }
  if ((lo & 1n) === 0n) out.push('P = 0 (debugfs lists present entries only)');
  const im = bits(lo, 15, 15) === 1;
  if (im !== (section === 'posted')) out.push(`IM = ${im ? 1 : 0} in the ${section} section`);
  return out;
}

export function parseIrTranslation(text: string, part: string): IrTranslationText {
  const warn = new LineWarnings(part);
  const units = new Map<string, IrTextUnit>();
  const seenIn: Record<IrSection, Set<string>> = { remapped: new Set(), posted: new Set() };
  const indices = new Map<IrTextUnit, Set<number>>();
  let section: IrSection = 'remapped';
  let separators = 0;
  let unit: IrTextUnit | undefined;
  let header = false;

  const unitNamed = (name: string, l: Line): IrTextUnit | undefined => {
    let u = units.get(name);
    if (u === undefined) {
      if (units.size >= MAX_UNITS) {
        warn.warn(`more than ${MAX_UNITS} units: ${name} and later ones ignored`, l.no);
        return undefined;
      }
      u = { name, remappedSection: false, postedSection: false, entries: [], line: l.no };
      units.set(name, u);
      indices.set(u, new Set());
    }
    return u;
  };

  const row = (l: Line, m: RegExpExecArray, rowSection: IrSection): void => {
    if (unit === undefined) {
      warn.warn(`${rowSection} IRTE row before any "${rowSection === 'remapped' ? 'Remapped' : 'Posted'} Interrupt supported on IOMMU" line, skipped`, l.no);
      return;
    }
    if (rowSection !== section) {
      warn.warn(`${rowSection}-format row in the ${section} section of ${unit.name}, skipped`, l.no);
      return;
    }
    if (!header) warn.warn(`IRTE row of ${unit.name} before its column header`, l.no);
    const index = Number(m[1]);
    if (index >= MAX_ENTRIES_PER_UNIT) {
      warn.warn(`IRTE index ${index} of ${unit.name} is beyond any table (at most ${MAX_ENTRIES_PER_UNIT} entries), skipped`, l.no);
      return;
    }
    const seen = indices.get(unit)!;
    if (seen.has(index)) {
      warn.warn(`IRTE ${index} of ${unit.name} listed again, this row ignored`, l.no);
      return;
    }
    const hiText = rowSection === 'remapped' ? m[7] : m[8];
    const loText = rowSection === 'remapped' ? m[8] : m[9];
    const hi = fromHexDigits(hiText);
    const lo = fromHexDigits(loText);
    const mismatch = columnMismatches(rowSection, m, lo, hi);
    if (mismatch.length > 0) warn.warn(`IRTE ${index} of ${unit.name}: ${mismatch.join('; ')} (the raw halves are used)`, l.no);
    seen.add(index);
    unit.entries.push({ index, section: rowSection, lo, hi, line: l.no });
  };

  for (const l of textLines(text)) {
    if (l.text.length > MAX_LINE_CHARS) {
      warn.warn(`line of ${l.text.length} characters is no ir_translation_struct line (at most ${MAX_LINE_CHARS}), skipped`, l.no);
      continue;
    }
    const t = l.text;
    if (t.trim() === '') continue;

    let m = UNIT_RE.exec(t);
    if (m) {
      const s: IrSection = m[1] === 'Remapped' ? 'remapped' : 'posted';
      if (s !== section) {
        warn.warn(`"${m[1]} Interrupt supported" line in the ${section} section (the file's sections are out of order)`, l.no);
        section = s;
      }
      unit = unitNamed(m[2], l);
      header = false;
      if (unit === undefined) continue;
      if (seenIn[s].has(unit.name)) warn.warn(`${unit.name} listed twice in the ${s} section`, l.no);
      seenIn[s].add(unit.name);
      if (s === 'remapped') unit.remappedSection = true;
      else unit.postedSection = true;
      continue;
    }

    if (t.trim() === SEPARATOR) {
      separators++;
      if (separators > 1) warn.warn('a second "****" separator (two files joined?)', l.no);
      section = 'posted';
      unit = undefined;
      header = false;
      continue;
    }

    m = TABLE_RE.exec(t);
    if (m) {
      if (unit === undefined) {
        warn.warn('"IR table address" line before any unit line, skipped', l.no);
        continue;
      }
      const addr = fromHexDigits(m[1]);
      if (addr >= 1n << 52n || (addr & 0xfffn) !== 0n) {
        warn.warn(`IR table address 0x${m[1]} of ${unit.name} is no page address below 2^52, ignored`, l.no);
        continue;
      }
      const a = Number(addr);
      if (unit.tableAddress !== undefined && unit.tableAddress !== a) {
        warn.warn(`${unit.name}: IR table address ${hex(a)} here, ${hex(unit.tableAddress)} earlier (the first is kept)`, l.no);
      } else {
        unit.tableAddress = a;
      }
      if (section === 'remapped') unit.enabled = true;
      continue;
    }

    m = NOT_ENABLED_RE.exec(t);
    if (m) {
      if (unit === undefined) {
        warn.warn('"Interrupt Remapping is not enabled" before any unit line, skipped', l.no);
        continue;
      }
      if (m[1] !== undefined && m[1] !== unit.name) warn.warn(`"not enabled" line names ${m[1]} inside the block of ${unit.name}`, l.no);
      // In the posted section this means the unit has no IR table at all; in the remapped one, GSTS.IRES = 0.
      if (section === 'remapped' || unit.enabled === undefined) unit.enabled = false;
      continue;
    }

    m = HEADER_RE.exec(t);
    if (m) {
      const headerSection: IrSection = m[1] === 'DstID' ? 'remapped' : 'posted';
      if (headerSection !== section) warn.warn(`${headerSection}-format column header in the ${section} section`, l.no);
      if (unit === undefined) warn.warn('column header before any unit line', l.no);
      header = true;
      continue;
    }

    m = REMAPPED_ROW_RE.exec(t);
    if (m) {
      row(l, m, 'remapped');
      continue;
    }
    m = POSTED_ROW_RE.exec(t);
    if (m) {
      row(l, m, 'posted');
      continue;
    }
    warn.unrecognised('ir_translation_struct output', l);
  }

  return { units: [...units.values()], warnings: warn.done() };
}

/**
 * The dump as a Contribution: one unit per block, by the kernel's name (dmar0), for the model to
 * merge with the unit's registers and memory image (src/model/interrupt-remapping.ts). A dump of a
 * host with no interrupt-remapping unit is the separator alone: no unit, no error.
 */
export function irTranslationContribution(text: string, part: string): Contribution {
  const r = parseIrTranslation(text, part);
  if (r.units.length === 0 && text.replace(/\*{4}/, '').trim() !== '') {
    throw new InputError('does not look like ir_translation_struct (debugfs: "Remapped Interrupt supported on IOMMU: <name>")', { file: part, line: 1 });
  }
  return { units: r.units.map((u) => ({ name: u.name, irTable: u, source: { part, line: u.line } })), warnings: r.warnings };
}
