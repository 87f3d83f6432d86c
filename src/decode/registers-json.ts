/**
 * dmarsift's own register snapshot format (docs/registers-json.md):
 *
 *   { "format": "dmarsift-registers", "version": 1,
 *     "units": [ { "name": "dmar0", "base": "0xfed90000",
 *                  "registers": { "VER": "0x10", "CAP": "0xd2008c22260206", "FRCD0": "0x…" } } ] }
 *
 * src/util/json-lines.ts reads it instead of JSON.parse so that every error names the line of the
 * offending value (and so that big integers written as JSON numbers stay exact).
 */
import { type JValue, JsonReader } from '../util/json-lines.js';
import type { RawRegisters } from './registers-types.js';
import { hex } from '../util/hex.js';

const REGISTERS_JSON_FORMAT = 'dmarsift-registers';
const REGISTERS_JSON_VERSION = 1;

export interface RegistersJsonUnit {
  name?: string;
  base: number;
  raw: RawRegisters;
  /** Line of the unit's object in the file (1-based). */
  line: number;
}

export interface RegistersJsonResult {
  units: RegistersJsonUnit[];
  warnings: { message: string; line: number }[];
}

/** The 32-bit registers (docs/vtd-formats.md §2.1); every other named register is 64 bits, FRCDn 128. */
export const REGISTERS_32BIT = new Set([
  'VER', 'GCMD', 'GSTS', 'FSTS', 'FECTL', 'FEDATA', 'FEADDR', 'FEUADDR', 'PMEN', 'PLMBASE', 'PLMLIMIT', 'ICS',
  'IECTL', 'IEDATA', 'IEADDR', 'IEUADDR', 'PRS', 'PECTL', 'PEDATA', 'PEADDR', 'PEUADDR',
]);

// --- validation ----------------------------------------------------------------------------------

const describe = (v: JValue): string =>
  v.kind === 'string' ? `the string ${JSON.stringify(v.value.length > 40 ? v.value.slice(0, 40) + '…' : v.value)}`
    : v.kind === 'number' ? `the number ${v.text}`
      : v.kind === 'literal' ? String(v.value) : `an ${v.kind}`;

/** A non-negative integer written as "0x…" (hex), a decimal string, or a JSON integer. */
function integerOf(v: JValue): bigint | undefined {
  if (v.kind === 'string') {
    const t = v.value.trim();
    if (/^0[xX][0-9a-fA-F]{1,40}$/.test(t)) return BigInt(t.toLowerCase());
    if (/^[0-9]{1,45}$/.test(t)) return BigInt(t);
    return undefined;
  }
  if (v.kind === 'number' && /^(0|[1-9]\d{0,44})$/.test(v.text)) return BigInt(v.text);
  return undefined;
}

/** Cheap sniffing: a JSON object naming our format near its start. */
export function looksLikeRegistersJson(text: string): boolean {
  const head = text.slice(0, 4096).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('{') && /"format"\s*:\s*"dmarsift-registers"/.test(head);
}

/** Parse and validate a dmarsift register JSON file. */
export function parseRegistersJson(text: string, file: string): RegistersJsonResult {
  const reader = new JsonReader(text, file);
  const fail = (message: string, line: number): never => reader.fail(message, line);
  const root = reader.document();
  const warnings: RegistersJsonResult['warnings'] = [];
  if (root.kind !== 'object') return fail(`expected a JSON object at the top level, found ${describe(root)}`, root.line);

  const field = (obj: Extract<JValue, { kind: 'object' }>, key: string, path: string): JValue | undefined => {
    const hits = obj.entries.filter((e) => e.key === key);
    if (hits.length > 1) fail(`${path}.${key} appears twice`, hits[1].value.line);
    return hits[0]?.value;
  };
  const unknownKeys = (obj: Extract<JValue, { kind: 'object' }>, known: string[], path: string) => {
    for (const e of obj.entries) {
      if (!known.includes(e.key)) warnings.push({ message: `${path}.${e.key} is not part of the format; ignored`, line: e.value.line });
    }
  };

  const format = field(root, 'format', '$');
  if (format?.kind !== 'string' || format.value !== REGISTERS_JSON_FORMAT) {
    return fail(`$.format: expected "${REGISTERS_JSON_FORMAT}", found ${format ? describe(format) : 'nothing'}`, format?.line ?? root.line);
  }
  const version = field(root, 'version', '$');
  if (version?.kind !== 'number' || version.text !== String(REGISTERS_JSON_VERSION)) {
    return fail(`$.version: expected ${REGISTERS_JSON_VERSION}, found ${version ? describe(version) : 'nothing'}`, version?.line ?? root.line);
  }
  const unitsV = field(root, 'units', '$');
  if (unitsV?.kind !== 'array') {
    return fail(`$.units: expected an array of units, found ${unitsV ? describe(unitsV) : 'nothing'}`, unitsV?.line ?? root.line);
  }
  unknownKeys(root, ['format', 'version', 'units'], '$');

  const units: RegistersJsonUnit[] = [];
  unitsV.items.forEach((u, ui) => {
    const path = `$.units[${ui}]`;
    if (u.kind !== 'object') fail(`${path}: expected a unit object, found ${describe(u)}`, u.line);
    const uo = u as Extract<JValue, { kind: 'object' }>;
    unknownKeys(uo, ['name', 'base', 'registers'], path);

    const nameV = field(uo, 'name', path);
    let name: string | undefined;
    if (nameV !== undefined) {
      if (nameV.kind !== 'string' || nameV.value.trim() === '') fail(`${path}.name: expected a non-empty string, found ${describe(nameV)}`, nameV.line);
      name = (nameV as { value: string }).value;
    }

    const baseV = field(uo, 'base', path);
    if (baseV === undefined) fail(`${path}.base: missing (the unit's register base address, e.g. "0xfed90000")`, uo.line);
    const base = integerOf(baseV!);
    if (base === undefined) fail(`${path}.base: expected a hex string like "0xfed90000", found ${describe(baseV!)}`, baseV!.line);
    if (base! > 0xf_ffff_ffff_ffffn) fail(`${path}.base: ${hex(base!)} is beyond 52 bits`, baseV!.line);
    if ((base! & 0xfffn) !== 0n) warnings.push({ message: `${path}.base: ${hex(base!)} is not 4 KiB aligned`, line: baseV!.line });

    const regsV = field(uo, 'registers', path);
    if (regsV?.kind !== 'object') {
      fail(`${path}.registers: expected an object of register values, found ${regsV ? describe(regsV) : 'nothing'}`, regsV?.line ?? uo.line);
    }
    const raw: RawRegisters = {};
    const lineOf: Record<string, number> = {};
    for (const { key, value } of (regsV as Extract<JValue, { kind: 'object' }>).entries) {
      const rpath = `${path}.registers.${key}`;
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key)) fail(`${rpath}: not a register name (letters, digits and _)`, value.line);
      const reg = key.toUpperCase();
      const n = integerOf(value);
      if (n === undefined) fail(`${rpath}: expected a hex string like "0x1f", found ${describe(value)}`, value.line);
      const frcd = /^FRCD(\d{1,3})$/.exec(reg);
      const width = frcd ? 128 : REGISTERS_32BIT.has(reg) ? 32 : 64;
      if (n! >= 1n << BigInt(width)) fail(`${rpath}: ${hex(n!)} does not fit the register's ${width} bits`, value.line);
      const names = frcd ? [`FRCD${frcd[1]}_LO`, `FRCD${frcd[1]}_HI`] : [reg];
      for (const nm of names) {
        if (raw[nm] !== undefined) fail(`${rpath}: ${nm} is given twice (first on line ${lineOf[nm]})`, value.line);
        lineOf[nm] = value.line;
      }
      if (frcd) {
        raw[names[0]] = n! & ((1n << 64n) - 1n);
        raw[names[1]] = n! >> 64n;
      } else {
        raw[reg] = n!;
      }
    }
    const unit: RegistersJsonUnit = { base: Number(base!), raw, line: uo.line };
    if (name !== undefined) unit.name = name;
    units.push(unit);
  });
  return { units, warnings };
}
