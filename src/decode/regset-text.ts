/**
 * Linux intel-iommu debugfs `iommu_regset` (docs/vtd-formats.md §8.1):
 *
 *   IOMMU: dmar0 Register Base Address: fed90000
 *   Name			Offset		Contents
 *   VER             	0x00		0x0000000000000010
 *   …
 *
 * Registers are matched by name, never by position: the list differs between kernel versions
 * (VCCAP/VCMD/VCRSP come and go, AFLOG and CCMD were dropped). Unknown names are kept as they are.
 */
import { BoundedWarnings, eachLine, NotRecognisedError, type TextInput } from '../util/lines.js';
import { REGISTERS_32BIT } from './registers-json.js';
import type { RawRegisters } from './registers-types.js';
import { fromHexDigits, hex } from '../util/hex.js';

export interface RegsetUnit {
  name: string;
  base: number;
  raw: RawRegisters;
  /** Line of the unit's `IOMMU: … Register Base Address:` header (1-based). */
  line: number;
}

export interface RegsetResult {
  units: RegsetUnit[];
  /** Lines not read, duplicates; at most MAX_LINE_WARNINGS and one summary (which has no line). */
  warnings: { message: string; line?: number }[];
}

const UNIT_RE = /^IOMMU:\s*(\S+)\s+Register Base Address:\s*(?:0x)?([0-9a-fA-F]{1,16})$/;
const INVALID_RE = /^IOMMU:\s*Invalid base address$/;
const HEADER_RE = /^Name\s+Offset\s+Contents$/;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const OFFSET_RE = /^0x([0-9a-f]{1,8})$/i;
const VALUE_RE = /^0x([0-9a-f]{1,32})$/i;

/**
 * Offsets of the registers whose place in the register file never moved between spec versions;
 * a different offset on such a line means the text is not what it claims. (VC* registers moved,
 * so they are not checked.)
 */
const FIXED_OFFSETS: Record<string, number> = {
  VER: 0x0, CAP: 0x8, ECAP: 0x10, GCMD: 0x18, GSTS: 0x1c, RTADDR: 0x20, CCMD: 0x28, FSTS: 0x34, FECTL: 0x38,
  FEDATA: 0x3c, FEADDR: 0x40, FEUADDR: 0x44, AFLOG: 0x58, PMEN: 0x64, PLMBASE: 0x68, PLMLIMIT: 0x6c,
  PHMBASE: 0x70, PHMLIMIT: 0x78, IQH: 0x80, IQT: 0x88, IQA: 0x90, ICS: 0x9c, IRTA: 0xb8,
  PQH: 0xc0, PQT: 0xc8, PQA: 0xd0, PRS: 0xdc, PECTL: 0xe0, PEDATA: 0xe4, PEADDR: 0xe8, PEUADDR: 0xec,
  MTRRCAP: 0x100, MTRRDEF: 0x108,
};

const MAX64 = (1n << 64n) - 1n;

/**
 * A line as the parser sees it: without a `#` comment (the kernel prints none; people annotate
 * copies: `GSTS 0x1c 0x0 # TES=0`) and without surrounding blanks.
 */
function content(line: string): string {
  const hash = line.indexOf('#');
  return (hash < 0 ? line : line.slice(0, hash)).trim();
}

/** Cheap content sniffing: the first non-empty line is a unit header, the invalid-base line or the column header. */
export function looksLikeIommuRegset(text: string): boolean {
  for (const l of eachLine(text.slice(0, 4096), () => {})) {
    const t = content(l.text);
    if (t === '') continue;
    return UNIT_RE.test(t) || INVALID_RE.test(t) || HEADER_RE.test(t);
  }
  return false;
}

const quote = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * Parse `iommu_regset` text. Throws InputError (line 1) when nothing in it is recognisable.
 * Every line is used or named in a warning: a register whose line cannot be read stays unknown
 * (never a guess), and a register listed twice keeps its first value with a warning when the
 * two differ.
 */
export function parseIommuRegset(input: TextInput, file: string): RegsetResult {
  const units: RegsetUnit[] = [];
  const warnings = new BoundedWarnings<RegsetResult['warnings'][number]>((message, line) => (line === undefined ? { message } : { message, line }));
  let cur: RegsetUnit | undefined;
  /** Line of each register of the current unit, for the duplicate warning. */
  let lineOf = new Map<string, number>();
  let recognised = 0;
  const warn = (message: string, line: number): void => warnings.warn(message, line);

  for (const { text, no: lineNo } of eachLine(input, (l) => warn(`line of ${l.length} characters is no iommu_regset line: skipped`, l.no))) {
    const l = content(text);
    if (l === '') continue;
    let m: RegExpExecArray | null;
    if ((m = UNIT_RE.exec(l))) {
      recognised++;
      const base = parseInt(m[2], 16);
      cur = { name: m[1], base, raw: {}, line: lineNo };
      lineOf = new Map();
      if (!Number.isSafeInteger(base) || base > 0xf_ffff_ffff_ffff) {
        warn(`unit ${m[1]}: register base 0x${m[2]} is beyond 52 bits; unit skipped`, lineNo);
        cur = undefined;
        continue;
      }
      units.push(cur);
      continue;
    }
    if (INVALID_RE.test(l)) {
      // The kernel prints this for a unit whose base is 0 and stops the whole file there.
      recognised++;
      warn('the kernel reported a unit with an invalid (zero) register base; its registers are not in the file', lineNo);
      cur = undefined;
      continue;
    }
    if (HEADER_RE.test(l)) {
      recognised++;
      continue;
    }
    const tokens = l.split(/\s+/);
    const name = tokens[0].toUpperCase();
    // A register line: a name, then its offset (or a register we know by name, however mangled).
    if (!NAME_RE.test(tokens[0]) || (!/^0x/i.test(tokens[1] ?? '') && FIXED_OFFSETS[name] === undefined)) {
      warn(`not an iommu_regset line: ${quote(l)}`, lineNo);
      continue;
    }
    recognised++;
    const unread = (why: string): void => warn(`${cur ? `${cur.name} ` : ''}${name}: ${why}; register not read (its value stays unknown)`, lineNo);
    if (!cur) {
      warn(`register line for ${name} outside any unit (no "IOMMU: … Register Base Address:" line before it); ignored`, lineNo);
      continue;
    }
    const off = OFFSET_RE.exec(tokens[1] ?? '');
    if (tokens.length < 3) {
      unread(tokens.length === 1 ? 'no offset and no value' : 'no value after the offset');
      continue;
    }
    if (!off) {
      unread(`offset ${quote(tokens[1])} is not a hex number`);
      continue;
    }
    const v = VALUE_RE.exec(tokens[2]);
    if (!v) {
      unread(`value ${quote(tokens[2])} is not a hex number (0x and 1 to 16 hex digits)`);
      continue;
    }
    const offset = parseInt(off[1], 16);
    const value = fromHexDigits(v[1]);
    if (value > MAX64) {
      unread(`value 0x${v[1]} is wider than 64 bits`);
      continue;
    }
    if (tokens.length > 3) warn(`${cur.name} ${name}: text after the value ignored: ${quote(tokens.slice(3).join(' '))}`, lineNo);
    if (REGISTERS_32BIT.has(name) && value > 0xffff_ffffn) {
      warn(`${cur.name} ${name}: a 32-bit register, but ${hex(value)} has bits above 31 set (they are ignored)`, lineNo);
    }
    const expected = FIXED_OFFSETS[name];
    if (expected !== undefined && expected !== offset) {
      warn(`${cur.name} ${name}: printed at offset ${hex(offset)}, but the register is at ${hex(expected)}`, lineNo);
    }
    const prev = cur.raw[name];
    if (prev !== undefined) {
      if (prev !== value) {
        warn(`${cur.name} ${name}: listed twice with different values (${hex(prev)} on line ${lineOf.get(name)}, ${hex(value)} here); keeping the first`, lineNo);
      }
      continue;
    }
    cur.raw[name] = value;
    lineOf.set(name, lineNo);
  }

  if (recognised === 0) {
    throw new NotRecognisedError('not a debugfs iommu_regset file: expected "IOMMU: <name> Register Base Address: <hex>" and register lines', { file, line: 1 });
  }
  return { units, warnings: warnings.done() };
}
