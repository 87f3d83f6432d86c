/**
 * ACPI DMAR table decoder (docs/vtd-formats.md §1). Pure: bytes in, DmarTable out.
 *
 * Only the 48-byte header can make the decode fail (InputError): a wrong signature or fewer than
 * 48 bytes. Everything after it is decoded as far as it can be and every irregularity becomes a
 * DmarProblem with the byte offset in the table (the `dmar-integrity` check reports them).
 * The walk is bounded by the captured bytes, never by a Length field, so a hostile table that
 * claims 4 GiB costs no more than the bytes actually present.
 */
import { Parser } from 'binary-parser';
import { InputError } from '../errors.js';
import type {
  Andd, Atsr, DeviceScope, DmarProblem, DmarStructure, DmarTable, Drhd, Rhsa, Rmrr, Satc, Sidp, UnknownStructure,
} from './dmar-types.js';
import { hex } from '../util/hex.js';

const DMAR_HEADER_SIZE = 48;

/** Fixed size of each known structure type (bytes before the device scopes / name). */
const STRUCTURE_FIXED_SIZE: Record<number, number> = { 0: 16, 1: 24, 2: 8, 3: 20, 4: 8, 5: 8, 6: 8 };
export const STRUCTURE_NAMES: Record<number, string> = { 0: 'DRHD', 1: 'RMRR', 2: 'ATSR', 3: 'RHSA', 4: 'ANDD', 5: 'SATC', 6: 'SIDP' };

const SCOPE_TYPE_NAMES: Record<number, DeviceScope['typeName']> = {
  1: 'endpoint', 2: 'bridge', 3: 'ioapic', 4: 'hpet', 5: 'acpi-namespace',
};

const MASK52 = (1n << 52n) - 1n;
const ALL_ONES64 = (1n << 64n) - 1n;

// --- binary-parser layouts; each is applied to a slice whose length was checked first ---------

interface HeaderFields {
  signature: string; length: number; revision: number; checksum: number;
  oemId: string; oemTableId: string; oemRevision: number; creatorId: string; creatorRevision: number;
  haw: number; flags: number;
}
const headerParser = new Parser()
  .endianness('little')
  .string('signature', { length: 4, encoding: 'latin1' })
  .uint32('length')
  .uint8('revision')
  .uint8('checksum')
  .string('oemId', { length: 6, encoding: 'latin1' })
  .string('oemTableId', { length: 8, encoding: 'latin1' })
  .uint32('oemRevision')
  .string('creatorId', { length: 4, encoding: 'latin1' })
  .uint32('creatorRevision')
  .uint8('haw')
  .uint8('flags');

const structHeaderParser = new Parser().endianness('little').uint16('type').uint16('length');

const drhdParser = new Parser().endianness('little').seek(4)
  .uint8('flags').uint8('size').uint16('segment').uint64('registerBase');
const rmrrParser = new Parser().endianness('little').seek(4)
  .uint16('reserved').uint16('segment').uint64('base').uint64('limit');
/** ATSR, SATC (flags u8, reserved u8, segment) and SIDP (reserved u16, segment) share a layout. */
const flagsSegmentParser = new Parser().endianness('little').seek(4)
  .uint8('flags').uint8('reserved').uint16('segment');
const rhsaParser = new Parser().endianness('little').seek(4)
  .uint32('reserved').uint64('registerBase').uint32('proximityDomain');
const anddParser = new Parser().endianness('little').seek(4)
  .array('reserved', { type: 'uint8', length: 3 }).uint8('deviceNumber');
const scopeHeaderParser = new Parser().endianness('little')
  .uint8('type').uint8('length').uint8('flags').uint8('reserved').uint8('enumerationId').uint8('startBus');

interface DrhdFields { flags: number; size: number; segment: number; registerBase: bigint }
interface RmrrFields { segment: number; base: bigint; limit: bigint }
interface FlagsSegmentFields { flags: number; segment: number }
interface RhsaFields { registerBase: bigint; proximityDomain: number }
interface AnddFields { deviceNumber: number }
interface ScopeHeaderFields { type: number; length: number; flags: number; enumerationId: number; startBus: number }


/** ACPI pads its ASCII ids with spaces (or NULs); the padding is not part of the id. */
function trimId(s: string): string {
  return s.replace(/[\0 ]+$/, '');
}

/**
 * Resolve a device scope's path to the bus/devfn of its final hop. `secondaryBusOf(bus, devfn)`
 * returns the secondary bus number of the bridge at bus/devfn (from the PCI inventory or config
 * space); undefined when unknown, which makes the whole path unresolvable.
 */
export function resolveScopePath(
  scope: Pick<DeviceScope, 'startBus' | 'path'>,
  secondaryBusOf: (bus: number, devfn: number) => number | undefined,
): { bus: number; devfn: number } | undefined {
  if (scope.path.length === 0) return undefined;
  let bus = scope.startBus;
  for (let i = 0; i < scope.path.length; i++) {
    const { device, function: fn } = scope.path[i];
    if (device > 31 || fn > 7) return undefined;
    const devfn = (device << 3) | fn;
    if (i === scope.path.length - 1) return { bus, devfn };
    const next = secondaryBusOf(bus, devfn);
    if (next === undefined || !Number.isInteger(next) || next < 0 || next > 255) return undefined;
    bus = next;
  }
  return undefined;
}

/** Decode an ACPI DMAR table. `file` names the part in errors. */
export function decodeDmar(bytes: Uint8Array, file?: string): DmarTable {
  const where = (offset: number) => (file !== undefined ? { file, offset } : { offset });
  if (bytes.length < 4) {
    throw new InputError(`not an ACPI DMAR table (only ${bytes.length} bytes; the header needs ${DMAR_HEADER_SIZE})`, where(0));
  }
  const sig = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (sig !== 'DMAR') {
    throw new InputError(`not an ACPI DMAR table (signature ${JSON.stringify(sig)}, expected "DMAR")`, where(0));
  }
  if (bytes.length < DMAR_HEADER_SIZE) {
    throw new InputError(
      `DMAR table truncated: ${bytes.length} bytes, the ACPI header and DMAR fixed part need ${DMAR_HEADER_SIZE}`,
      where(bytes.length),
    );
  }

  const problems: DmarProblem[] = [];
  const problem = (offset: number, message: string, severity: DmarProblem['severity'] = 'error') => {
    problems.push({ offset, message, severity });
  };

  const h = headerParser.parse(bytes.subarray(0, DMAR_HEADER_SIZE)) as HeaderFields;

  // How many bytes belong to the table: Length, clipped to what was captured.
  let end: number;
  let checksumOk: boolean;
  if (h.length < DMAR_HEADER_SIZE) {
    problem(4, `Length field ${h.length} is below the ${DMAR_HEADER_SIZE}-byte header; decoding the ${bytes.length} captured bytes`);
    end = bytes.length;
    checksumOk = false;
  } else if (h.length > bytes.length) {
    problem(4, `Length field says ${h.length} bytes but only ${bytes.length} were captured: the table is truncated and its checksum cannot be verified`);
    end = bytes.length;
    checksumOk = false;
  } else {
    end = h.length;
    let sum = 0;
    for (let i = 0; i < end; i++) sum = (sum + bytes[i]) & 0xff;
    checksumOk = sum === 0;
    if (!checksumOk) problem(9, `checksum is ${hex(h.checksum)}, table sums to ${hex(sum)} (must be 0 mod 256)`);
  }

  const hawField = h.haw;
  if (hawField < 11) {
    problem(36, `Host Address Width field ${hawField} (${hawField + 1} bits) is below 11: Linux rejects the table ("Invalid DMAR haw")`);
  }
  if ((h.flags & 0xf8) !== 0) problem(37, `reserved flag bits 7:3 set (flags ${hex(h.flags)})`, 'warning');

  const structures: DmarStructure[] = [];
  let pos = DMAR_HEADER_SIZE;
  while (pos < end) {
    const left = end - pos;
    if (left < 4) {
      problem(pos, `${left} byte(s) left at the end of the table, too few for a structure header`);
      break;
    }
    const sh = structHeaderParser.parse(bytes.subarray(pos, pos + 4)) as { type: number; length: number };
    const name = STRUCTURE_NAMES[sh.type] ?? `type ${sh.type}`;
    if (sh.length === 0) {
      problem(pos, `${name} structure has Length 0; the rest of the table cannot be walked`);
      break;
    }
    if (sh.length > left) {
      problem(pos, `${name} structure of ${sh.length} bytes runs past the end of the table (${left} bytes left)`);
      break;
    }
    const fixed = STRUCTURE_FIXED_SIZE[sh.type];
    if (fixed !== undefined && sh.length < fixed) {
      problem(pos, `${name} structure Length ${sh.length} is below its fixed size ${fixed}; skipped`);
      pos += sh.length;
      continue;
    }
    const body = bytes.subarray(pos, pos + sh.length);
    const s = decodeStructure(sh.type, sh.length, pos, body, problem);
    structures.push(s);
    pos += sh.length;
  }

  crossChecks(structures, problem);

  return {
    signature: h.signature,
    length: h.length,
    revision: h.revision,
    checksum: h.checksum,
    checksumOk,
    oemId: trimId(h.oemId),
    oemTableId: trimId(h.oemTableId),
    oemRevision: h.oemRevision,
    creatorId: trimId(h.creatorId),
    creatorRevision: h.creatorRevision,
    haw: hawField + 1,
    flags: h.flags,
    intrRemap: (h.flags & 1) !== 0,
    x2apicOptOut: (h.flags & 2) !== 0,
    dmaCtrlPlatformOptIn: (h.flags & 4) !== 0,
    structures,
    problems: problems.sort((a, b) => a.offset - b.offset),
  };
}

type ProblemFn = (offset: number, message: string, severity?: DmarProblem['severity']) => void;

/** A 64-bit address as an exact number: bits above 51 (beyond any HAW) are dropped, with a problem. */
function address(v: bigint, offset: number, what: string, problem: ProblemFn, reportHigh: boolean): number {
  if (v > MASK52 && reportHigh) problem(offset, `${what} ${hex(v)} has bits above 51 set (beyond any host address width)`, 'warning');
  return Number(v & MASK52);
}

function decodeStructure(
  type: number, length: number, offset: number, body: Uint8Array, problem: ProblemFn,
): DmarStructure {
  switch (type) {
    case 0: {
      const f = drhdParser.parse(body.subarray(0, 16)) as DrhdFields;
      const bad = f.registerBase === 0n || f.registerBase === ALL_ONES64;
      if (bad) problem(offset + 8, `DRHD register base is ${f.registerBase === 0n ? '0' : 'all-ones'}: Linux and Xen reject the unit`);
      if ((f.flags & 0xfe) !== 0) problem(offset + 4, `DRHD reserved flag bits set (flags ${hex(f.flags)})`, 'warning');
      const drhd: Drhd = {
        kind: 'DRHD', type, length, offset,
        flags: f.flags, includePciAll: (f.flags & 1) !== 0, size: f.size, segment: f.segment,
        registerBase: address(f.registerBase, offset + 8, 'DRHD register base', problem, !bad),
        scopes: decodeScopes(body, 16, offset, 'DRHD', problem),
      };
      if (f.registerBase > MASK52) drhd.registerBaseRaw = f.registerBase;
      return drhd;
    }
    case 1: {
      const f = rmrrParser.parse(body.subarray(0, 24)) as RmrrFields;
      if ((f.base & 0xfffn) !== 0n) problem(offset + 8, `RMRR base ${hex(f.base)} is not 4 KiB aligned`, 'warning');
      if (((f.limit + 1n) & 0xfffn) !== 0n) problem(offset + 16, `RMRR end ${hex(f.limit)} + 1 is not 4 KiB aligned`, 'warning');
      if (f.limit <= f.base) problem(offset + 16, `RMRR end ${hex(f.limit)} is not above its base ${hex(f.base)}`, 'warning');
      const rmrr: Rmrr = {
        kind: 'RMRR', type, length, offset, segment: f.segment,
        base: address(f.base, offset + 8, 'RMRR base', problem, true),
        limit: address(f.limit, offset + 16, 'RMRR end', problem, true),
        scopes: decodeScopes(body, 24, offset, 'RMRR', problem),
      };
      if (f.base > MASK52) rmrr.baseRaw = f.base;
      if (f.limit > MASK52) rmrr.limitRaw = f.limit;
      if (rmrr.scopes.length === 0) problem(offset, 'RMRR has no device scope', 'warning');
      return rmrr;
    }
    case 2: {
      const { flags, segment, scopes } = flagsSegmentScopes(body, offset, 'ATSR', problem);
      const atsr: Atsr = { kind: 'ATSR', type, length, offset, flags, allPorts: (flags & 1) !== 0, segment, scopes };
      return atsr;
    }
    case 3: {
      const f = rhsaParser.parse(body.subarray(0, 20)) as RhsaFields;
      const rhsa: Rhsa = {
        kind: 'RHSA', type, length, offset,
        registerBase: address(f.registerBase, offset + 8, 'RHSA register base', problem, true),
        proximityDomain: f.proximityDomain,
      };
      if (f.registerBase > MASK52) rhsa.registerBaseRaw = f.registerBase;
      if (length > 20) problem(offset + 20, `RHSA has ${length - 20} byte(s) after its 20-byte body`, 'warning');
      return rhsa;
    }
    case 4: {
      const f = anddParser.parse(body.subarray(0, 8)) as AnddFields;
      const nameBytes = body.subarray(8);
      let nul = nameBytes.indexOf(0);
      if (nul < 0) {
        problem(offset + 8, 'ANDD object name is not NUL-terminated within the structure');
        nul = nameBytes.length;
      }
      const andd: Andd = {
        kind: 'ANDD', type, length, offset, deviceNumber: f.deviceNumber,
        objectName: String.fromCharCode(...nameBytes.subarray(0, Math.min(nul, 4096))),
      };
      return andd;
    }
    case 5: {
      const { flags, segment, scopes } = flagsSegmentScopes(body, offset, 'SATC', problem);
      const satc: Satc = { kind: 'SATC', type, length, offset, flags, atcRequired: (flags & 1) !== 0, segment, scopes };
      return satc;
    }
    case 6: {
      const { segment, scopes } = flagsSegmentScopes(body, offset, 'SIDP', problem);
      const sidp: Sidp = { kind: 'SIDP', type, length, offset, segment, scopes };
      return sidp;
    }
    default: {
      problem(offset, `unknown structure type ${type} (${length} bytes) kept undecoded`, 'warning');
      const u: UnknownStructure = { kind: 'unknown', type, length, offset, raw: body.slice() };
      return u;
    }
  }
}

/** The head ATSR, SATC and SIDP share (flags at byte 4, segment at bytes 6-7), and their device scopes from byte 8. */
function flagsSegmentScopes(body: Uint8Array, offset: number, owner: string, problem: ProblemFn): { flags: number; segment: number; scopes: DeviceScope[] } {
  const f = flagsSegmentParser.parse(body.subarray(0, 8)) as FlagsSegmentFields;
  return { flags: f.flags, segment: f.segment, scopes: decodeScopes(body, 8, offset, owner, problem) };
}

/**
 * Device scopes from `start` to the end of `body` (a structure). They must tile the remainder:
 * a scope that is too short, odd-sized or runs past the structure stops the scope walk.
 */
function decodeScopes(
  body: Uint8Array, start: number, structOffset: number, owner: string, problem: ProblemFn,
): DeviceScope[] {
  const scopes: DeviceScope[] = [];
  let p = start;
  while (p < body.length) {
    const at = structOffset + p;
    const left = body.length - p;
    if (left < 2) {
      problem(at, `${owner} device scopes do not fill the structure: ${left} byte left over`);
      break;
    }
    const len = body[p + 1];
    if (len < 8 || len % 2 !== 0) {
      problem(at, `${owner} device scope Length ${len} is invalid (must be even and at least 8)`);
      break;
    }
    if (len > left) {
      problem(at, `${owner} device scope of ${len} bytes runs past the end of its structure (${left} bytes left)`);
      break;
    }
    const sh = scopeHeaderParser.parse(body.subarray(p, p + 6)) as ScopeHeaderFields;
    const typeName = SCOPE_TYPE_NAMES[sh.type] ?? 'reserved';
    if (typeName === 'reserved') problem(at, `${owner} device scope has reserved type ${sh.type}`, 'warning');
    const path: DeviceScope['path'] = [];
    let pathOk = true;
    for (let q = p + 6; q + 1 < p + len; q += 2) {
      const device = body[q];
      const fn = body[q + 1];
      if (device > 31 || fn > 7) {
        pathOk = false;
        problem(structOffset + q, `${owner} device scope path element {${hex(device)}, ${hex(fn)}} is out of range (device ≤ 31, function ≤ 7)`, 'warning');
      }
      path.push({ device, function: fn });
    }
    const scope: DeviceScope = {
      type: sh.type, typeName, length: len, flags: sh.flags, enumerationId: sh.enumerationId,
      startBus: sh.startBus, path, offset: at,
    };
    if (pathOk && path.length === 1) scope.resolved = { bus: sh.startBus, devfn: (path[0].device << 3) | path[0].function };
    scopes.push(scope);
    p += len;
  }
  return scopes;
}

/** Rules that need the whole structure list. */
function crossChecks(structures: DmarStructure[], problem: ProblemFn): void {
  const drhds = structures.filter((s): s is Drhd => s.kind === 'DRHD');
  if (drhds.length === 0) problem(DMAR_HEADER_SIZE, 'the table has no DRHD (no remapping hardware unit)', 'warning');

  // Structures are grouped by ascending type (EDK header comment; Linux does not care).
  let maxType = -1;
  for (const s of structures) {
    if (s.kind === 'unknown') continue;
    if (s.type < maxType) {
      problem(s.offset, `${STRUCTURE_NAMES[s.type]} after a ${STRUCTURE_NAMES[maxType]}: structures are not in ascending type order`, 'warning');
      break;
    }
    maxType = s.type;
  }

  const allBySegment = new Map<number, Drhd>();
  for (const d of drhds) {
    if (!d.includePciAll) continue;
    const first = allBySegment.get(d.segment);
    if (first) problem(d.offset, `a second INCLUDE_PCI_ALL DRHD for segment ${d.segment} (the first is at ${hex(first.offset)})`);
    else allBySegment.set(d.segment, d);
  }
  const lastOfSegment = new Map<number, Drhd>();
  for (const d of drhds) lastOfSegment.set(d.segment, d);
  for (const [segment, d] of allBySegment) {
    const later = lastOfSegment.get(segment);
    if (later && later !== d && !later.includePciAll) problem(d.offset, `INCLUDE_PCI_ALL DRHD of segment ${segment} is not the last DRHD of its segment (another follows at ${hex(later.offset)})`, 'warning');
  }

  const seenBase = new Map<number, Drhd>();
  for (const d of drhds) {
    const prev = seenBase.get(d.registerBase);
    if (prev && d.registerBase !== 0) problem(d.offset, `DRHD register base ${hex(d.registerBase)} is also the base of the DRHD at ${hex(prev.offset)}`, 'warning');
    else seenBase.set(d.registerBase, d);
  }

  for (const s of structures) {
    if (s.kind === 'RHSA' && !seenBase.has(s.registerBase)) {
      problem(s.offset, `RHSA register base ${hex(s.registerBase)} matches no DRHD`, 'warning');
    }
  }

  // Overlapping RMRRs (Xen rejects them): sort by segment and base, sweep keeping the furthest end.
  const rmrrs = structures
    .filter((s): s is Rmrr => s.kind === 'RMRR' && s.limit >= s.base)
    .sort((a, b) => a.segment - b.segment || a.base - b.base || a.offset - b.offset);
  let reach: Rmrr | undefined;
  for (const a of rmrrs) {
    if (reach && reach.segment === a.segment && a.base <= reach.limit) {
      problem(a.offset, `RMRR ${hex(a.base)}–${hex(a.limit)} overlaps the RMRR at ${hex(reach.offset)} (${hex(reach.base)}–${hex(reach.limit)})`, 'warning');
    }
    if (!reach || reach.segment !== a.segment || a.limit > reach.limit) reach = a;
  }
}
