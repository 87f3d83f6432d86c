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
import { InputError } from '../errors.js';
import type { RawRegisters } from './registers-types.js';

export interface RegsetUnit {
  name: string;
  base: number;
  raw: RawRegisters;
  /** Line of the unit's `IOMMU: … Register Base Address:` header (1-based). */
  line: number;
}

export interface RegsetResult {
  units: RegsetUnit[];
  warnings: { message: string; line: number }[];
}

const UNIT_RE = /^IOMMU:\s*(\S+)\s+Register Base Address:\s*(?:0x)?([0-9a-fA-F]{1,16})\s*$/;
const INVALID_RE = /^IOMMU:\s*Invalid base address\s*$/;
const HEADER_RE = /^Name\s+Offset\s+Contents\s*$/;
const REG_RE = /^([A-Za-z][A-Za-z0-9_]*)\s+0x([0-9a-fA-F]{1,8})\s+0x([0-9a-fA-F]{1,32})\s*$/;

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

function splitLines(text: string): string[] {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.split(/\r?\n|\r/);
}

/** Cheap content sniffing: the first non-empty line is a unit header, the invalid-base line or the column header. */
export function looksLikeIommuRegset(text: string): boolean {
  for (const raw of splitLines(text.slice(0, 4096))) {
    const l = raw.trim();
    if (l === '') continue;
    return UNIT_RE.test(l) || INVALID_RE.test(l) || HEADER_RE.test(l);
  }
  return false;
}

/** Parse `iommu_regset` text. Throws InputError (line 1) when nothing in it is recognisable. */
export function parseIommuRegset(text: string, file: string): RegsetResult {
  const lines = splitLines(text);
  const units: RegsetUnit[] = [];
  const warnings: RegsetResult['warnings'] = [];
  let cur: RegsetUnit | undefined;
  let recognised = 0;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const l = lines[i].trim();
    if (l === '') continue;
    let m: RegExpExecArray | null;
    if ((m = UNIT_RE.exec(l))) {
      recognised++;
      const base = parseInt(m[2], 16);
      cur = { name: m[1], base, raw: {}, line: lineNo };
      if (!Number.isSafeInteger(base) || base > 0xf_ffff_ffff_ffff) {
        warnings.push({ message: `unit ${m[1]}: register base 0x${m[2]} is beyond 52 bits; unit skipped`, line: lineNo });
        cur = undefined;
        continue;
      }
      units.push(cur);
      continue;
    }
    if (INVALID_RE.test(l)) {
      // The kernel prints this for a unit whose base is 0 and stops the whole file there.
      recognised++;
      warnings.push({ message: 'the kernel reported a unit with an invalid (zero) register base; its registers are not in the file', line: lineNo });
      cur = undefined;
      continue;
    }
    if (HEADER_RE.test(l)) {
      recognised++;
      continue;
    }
    if ((m = REG_RE.exec(l))) {
      recognised++;
      const name = m[1].toUpperCase();
      if (!cur) {
        warnings.push({ message: `register line for ${name} outside any unit (no "IOMMU: … Register Base Address:" line before it); ignored`, line: lineNo });
        continue;
      }
      const offset = parseInt(m[2], 16);
      const value = BigInt('0x' + m[3]);
      if (value > MAX64) {
        warnings.push({ message: `${cur.name} ${name}: value 0x${m[3]} is wider than 64 bits; ignored`, line: lineNo });
        continue;
      }
      const expected = FIXED_OFFSETS[name];
      if (expected !== undefined && expected !== offset) {
        warnings.push({ message: `${cur.name} ${name}: printed at offset 0x${offset.toString(16)}, but the register is at 0x${expected.toString(16)}`, line: lineNo });
      }
      if (cur.raw[name] !== undefined) {
        warnings.push({ message: `${cur.name} ${name}: listed twice; keeping the first value`, line: lineNo });
        continue;
      }
      cur.raw[name] = value;
      continue;
    }
    warnings.push({ message: `not an iommu_regset line: ${JSON.stringify(l.length > 80 ? l.slice(0, 80) + '…' : l)}`, line: lineNo });
  }

  if (recognised === 0) {
    throw new InputError('not a debugfs iommu_regset file: expected "IOMMU: <name> Register Base Address: <hex>" and register lines', { file, line: 1 });
  }
  return { units, warnings };
}
