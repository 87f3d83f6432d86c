/**
 * `decode --format json`: the model as the CLI contract spells it (schema/decode-model.schema.json).
 *
 * Spelling rules: addresses, sizes and raw 64-bit values are lower-case "0x…" strings without
 * padding; small counts and fields (DID, AW, levels, bus, PASID) are numbers; a value no source
 * gave is `null` (keys are always present, so `jq .units[0].rtaddr` never has to guess).
 *
 * A domain may hold tens of thousands of mappings, so `streamSnapshotJson` writes the same JSON
 * piece by piece (mappings generated lazily, chunks of ~64 KiB) instead of building one string.
 * Both go through one builder, so they cannot drift apart; the output is byte-identical to
 * `JSON.stringify(snapshotToJson(s), null, 2) + "\n"`.
 */
import type { DeviceScope, DmarStructure, DmarTable } from '../decode/dmar-types.js';
import type { FaultRecord, UnitRegisters } from '../decode/registers-types.js';
import type {
  ContextEntry, Domain, Fault, FaultExplanation, Mapping, MemoryRegion, PasidEntry, PciFunction, RootEntry, Snapshot, Unit, WalkStep,
  UnitTableProblem, Vm,
} from '../model/types.js';
import { formatBdf } from '../util/bdf.js';
import { hex, hexIdOrNull, pfnToAddr } from '../util/hex.js';
import { contextsState } from '../model/known.js';
import { mappingListOf } from '../model/mapping-list.js';
import { hexBytesFromPages, sourceToJson, TOOL, type ToolInfo } from './format.js';
import { AsciiChunks } from './json-bytes.js';
import { interruptRemappingToJson } from './ir-json.js';
import { pciConfigToJson } from './pci-config-json.js';

export const MODEL_SCHEMA_VERSION = 1;

export interface ModelJsonOptions {
  tool?: ToolInfo;
}

/** A JSON array whose items are produced only while it is written (see `streamJson`). */
export class LazyArray<T> {
  constructor(
    readonly length: number,
    readonly items: () => Iterable<T>,
    /**
     * Optional fast path: the item's JSON text at `depth` (any layout that parses to the item;
     * mappings use one line each), so large arrays of flat records need no object per item.
     */
    readonly text?: (item: T, depth: number) => string,
    /** Optional faster path still: the whole array as ASCII bytes (see json-bytes.ts), when the writer takes bytes. */
    readonly encode?: (out: AsciiChunks, depth: number) => void,
  ) {}
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined } | LazyArray<Json>;

const hexOrNull = (v: number | bigint | undefined): string | null => (v === undefined ? null : hex(v));
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

// ---------------------------------------------------------------- pieces

/** hex(pfnToAddr(pfn)) without a bigint: ×4096 appends three hex zeros (exact beyond 2^53 too). */
const pfnHexFast = (pfn: number): string => (pfn === 0 ? '0x0' : '0x' + pfn.toString(16) + '000');
const indents: string[] = [];
const indentOf = (d: number): string => (indents[d] ??= '\n' + '  '.repeat(d));

/**
 * `mappingToJson(m)` as one line of JSON: a decode of a big VM lists 65 k mappings, and one per
 * line reads like a table and halves the output (eight indented lines each were ~60 % of it).
 */
export function mappingJsonText(m: Mapping): string {
  let t = `{"iova": "${pfnHexFast(m.iovaPfn)}", "hpa": "${pfnHexFast(m.hpaPfn)}", "size": "${pfnHexFast(m.pages)}", "read": ${m.read}, "write": ${m.write}, "pageSize": ${m.pageSize}`;
  if (m.snp !== undefined) t += `, "snp": ${m.snp}`;
  if (m.tm !== undefined) t += `, "tm": ${m.tm}`;
  return t + '}';
}

export function mappingToJson(m: Mapping): { [k: string]: Json } {
  const out: { [k: string]: Json } = {
    iova: hex(pfnToAddr(m.iovaPfn)),
    hpa: hex(pfnToAddr(m.hpaPfn)),
    size: hexBytesFromPages(m.pages),
    read: m.read,
    write: m.write,
    // A size, but one of three fixed values: a number, as `translate --format json` prints it.
    pageSize: m.pageSize,
  };
  // Only some sources know SNP/TM; absent rather than null keeps 65 k mappings small.
  if (m.snp !== undefined) out.snp = m.snp;
  if (m.tm !== undefined) out.tm = m.tm;
  return out;
}

function pasidToJson(p: PasidEntry): Json {
  return {
    pasid: p.pasid,
    present: p.present,
    fpd: p.fpd,
    pgtt: p.pgtt,
    did: p.did,
    aw: p.aw,
    levels: p.levels,
    slptptr: hex(p.slptptr),
    flptptr: hex(p.flptptr),
    flpm: p.flpm,
    sre: p.sre,
    raw: p.raw.map((q) => hex(q)),
    source: sourceToJson(p.source),
  };
}

function contextToJson(c: ContextEntry): Json {
  return {
    bdf: c.bdf,
    segment: c.segment,
    bus: c.bus,
    devfn: c.devfn,
    present: c.present,
    fpd: c.fpd,
    tt: orNull(c.tt),
    did: c.did,
    // aw < 0: the source did not say (dmardump text prints no AW) — null, never a made-up number.
    aw: c.aw < 0 ? null : c.aw,
    levels: c.aw < 0 ? null : c.levels,
    slptptr: hex(c.slptptr),
    raw: c.raw.map((q) => hex(q)),
    pasidDirPtr: hexOrNull(c.pasidDirPtr),
    pdts: orNull(c.pdts),
    ridPasid: orNull(c.ridPasid),
    pasids: c.pasids ? c.pasids.map(pasidToJson) : null,
    driverHint: orNull(c.driverHint),
    source: sourceToJson(c.source),
  };
}

function domainToJson(d: Domain, lazy: boolean): Json {
  // The columns, not the objects: a big VM's 65 k–1 M mappings are written as bytes from them.
  const list = mappingListOf(d);
  const mappings: Json = lazy
    ? (new LazyArray<Mapping>(list.length, () => list.toArray(), mappingJsonText, (out, depth) => out.mappings(list, depth)) as unknown as Json)
    : list.toArray().map(mappingToJson);
  return {
    did: d.did,
    root: hex(d.root),
    kind: d.kind,
    aw: d.aw < 0 ? null : d.aw,
    levels: d.aw < 0 ? null : d.levels,
    pageCount: d.pageCount,
    mappedBytes: hexBytesFromPages(d.pageCount),
    complete: d.complete,
    mappingsKnown: d.mappingsKnown,
    tablePages: d.tablePfns.length,
    source: sourceToJson(d.source),
    mappings,
  };
}

function rootEntryToJson(r: RootEntry): Json {
  return {
    bus: r.bus,
    lo: hex(r.lo),
    hi: hex(r.hi),
    lowerContextTable: hexOrNull(r.lowerContextTable),
    upperContextTable: hexOrNull(r.upperContextTable),
    source: sourceToJson(r.source),
  };
}

function tableProblemToJson(p: UnitTableProblem): Json {
  return {
    structure: p.structure,
    kind: p.kind,
    level: p.level,
    entryAddr: hex(p.entryAddr),
    raw: hex(p.raw),
    entry: p.entry.map((q) => hex(q)),
    faultBits: p.faultBits.map((q) => hex(q)),
    target: hexOrNull(p.target),
    message: p.message,
    bdf: orNull(p.bdf),
    did: orNull(p.did),
    source: sourceToJson(p.source),
  };
}

/**
 * A decoded register: `raw` and every bigint become "0x…"; small fields stay numbers/booleans.
 * Field names are the spec's (as in registers-types.ts).
 */
function registerFields(r: object): Json {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'raw') out.raw = hex(v as number | bigint);
    else if (typeof v === 'bigint') out[k] = hex(v);
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
  }
  return out;
}

function faultRecordToJson(f: FaultRecord, segment: number): Json {
  return {
    index: f.index,
    lo: hex(f.lo),
    hi: hex(f.hi),
    F: f.F,
    FI: hex(pfnToAddr(f.FIpfn)),
    SID: f.SID,
    bdf: formatBdf({ segment, bus: f.bus, devfn: f.devfn }),
    FR: f.FR,
    reason: f.reason,
    type: f.type,
    PP: f.PP,
    PV: f.PV,
    EXE: f.EXE,
    PRIV: f.PRIV,
    AT: f.AT,
  };
}

function registersToJson(r: UnitRegisters, segment: number): Json {
  const raw: { [k: string]: Json } = {};
  for (const name of Object.keys(r.raw).sort()) raw[name] = hex(r.raw[name]);
  return {
    base: hex(r.base),
    raw,
    VER: r.VER ? `${r.VER.major}.${r.VER.minor}` : null,
    CAP: r.CAP ? registerFields(r.CAP) : null,
    ECAP: r.ECAP ? registerFields(r.ECAP) : null,
    GSTS: r.GSTS ? registerFields(r.GSTS) : null,
    RTADDR: r.RTADDR
      ? { raw: hex(r.RTADDR.raw), TTM: r.RTADDR.TTM, mode: r.RTADDR.mode, RTA: hex(r.RTADDR.RTA), reserved: r.RTADDR.reserved }
      : null,
    FSTS: r.FSTS ? registerFields(r.FSTS) : null,
    faultRecords: r.faultRecords.map((f) => faultRecordToJson(f, segment)),
  };
}

function unitToJson(u: Unit, lazy: boolean): Json {
  const v = u.version ?? u.registers?.VER;
  const g = u.registers?.GSTS;
  return {
    name: orNull(u.name ?? u.registers?.name),
    segment: u.segment,
    registerBase: hex(u.registerBase),
    version: v ? `${v.major}.${v.minor}` : null,
    translationEnabled: orNull(u.translationEnabled),
    rootTablePointerSet: orNull(u.rootTablePointerSet),
    gsts: g
      ? { raw: hex(g.raw), TES: g.TES, RTPS: g.RTPS, FLS: g.FLS, AFLS: g.AFLS, WBFS: g.WBFS, QIES: g.QIES, IRES: g.IRES, IRTPS: g.IRTPS, CFIS: g.CFIS }
      : null,
    rtaddr: hexOrNull(u.rootTable),
    rtaddrSource: sourceToJson(u.rootTableSource),
    // The model's mode wins (it is what the tables were decoded as); RTADDR may add 'abort'.
    mode: u.mode ?? u.registers?.RTADDR?.mode ?? null,
    drhd: u.drhd ? structureToJson(u.drhd) : null,
    registers: u.registers ? registersToJson(u.registers, u.segment) : null,
    rootEntries: u.rootEntries.map(rootEntryToJson),
    contexts: u.contexts.map(contextToJson),
    domains: u.domains.map((d) => domainToJson(d, lazy)),
    tableProblems: u.tableProblems.map(tableProblemToJson),
    // Unknown is not absent: what the capture tells of the context entries, and what it names but lacks.
    contextsKnown: contextsState(u),
    unreadableTables: (u.unreadableTables ?? []).map((t) => ({
      structure: t.structure, addr: hex(t.addr), bus: orNull(t.bus), devfns: t.devfns ? [...t.devfns] : null, bdf: orNull(t.bdf), message: t.message,
    })),
    interruptRemapping: interruptRemappingToJson(u),
  };
}

function scopeToJson(sc: DeviceScope, segment: number | undefined): Json {
  return {
    type: sc.type,
    typeName: sc.typeName,
    flags: sc.flags,
    enumerationId: sc.enumerationId,
    startBus: sc.startBus,
    path: sc.path.map((p) => ({ device: p.device, function: p.function })),
    bdf: sc.resolved ? formatBdf({ segment: segment ?? 0, bus: sc.resolved.bus, devfn: sc.resolved.devfn }) : null,
    offset: hex(sc.offset),
  };
}

function structureToJson(st: DmarStructure): Json {
  const base = { kind: st.kind, type: st.type, length: st.length, offset: hex(st.offset) };
  switch (st.kind) {
    case 'DRHD':
      return {
        ...base, flags: st.flags, includePciAll: st.includePciAll, size: st.size, segment: st.segment,
        registerBase: hex(st.registerBase), scopes: st.scopes.map((s) => scopeToJson(s, st.segment)),
      };
    case 'RMRR':
      return { ...base, segment: st.segment, base: hex(st.base), limit: hex(st.limit), scopes: st.scopes.map((s) => scopeToJson(s, st.segment)) };
    case 'ATSR':
      return { ...base, flags: st.flags, allPorts: st.allPorts, segment: st.segment, scopes: st.scopes.map((s) => scopeToJson(s, st.segment)) };
    case 'RHSA':
      return { ...base, registerBase: hex(st.registerBase), proximityDomain: st.proximityDomain };
    case 'ANDD':
      return { ...base, deviceNumber: st.deviceNumber, objectName: st.objectName };
    case 'SATC':
      return { ...base, flags: st.flags, atcRequired: st.atcRequired, segment: st.segment, scopes: st.scopes.map((s) => scopeToJson(s, st.segment)) };
    case 'SIDP':
      return { ...base, segment: st.segment, scopes: st.scopes.map((s) => scopeToJson(s, st.segment)) };
    case 'unknown':
      return { ...base, bytes: Buffer.from(st.raw).toString('hex') };
  }
}

function dmarToJson(d: DmarTable): Json {
  return {
    signature: d.signature,
    length: d.length,
    revision: d.revision,
    checksum: d.checksum,
    checksumOk: d.checksumOk,
    oemId: d.oemId,
    oemTableId: d.oemTableId,
    oemRevision: d.oemRevision,
    creatorId: d.creatorId,
    creatorRevision: d.creatorRevision,
    haw: d.haw,
    flags: d.flags,
    intrRemap: d.intrRemap,
    x2apicOptOut: d.x2apicOptOut,
    dmaCtrlPlatformOptIn: d.dmaCtrlPlatformOptIn,
    structures: d.structures.map(structureToJson),
    problems: d.problems.map((p) => ({ offset: hex(p.offset), message: p.message, severity: p.severity })),
  };
}

function deviceToJson(d: PciFunction): Json {
  return {
    bdf: d.bdf,
    driver: orNull(d.driver),
    deviceUnit: orNull(d.deviceUnit),
    vendor: hexIdOrNull(d.vendorId),
    device: hexIdOrNull(d.deviceId),
    vendorName: orNull(d.vendorName),
    deviceName: orNull(d.deviceName),
    class: hexIdOrNull(d.classCode),
    passThrough: d.passThrough,
    vm: orNull(d.vm),
    numVfs: orNull(d.numVfs),
    physfn: orNull(d.physfn),
    secondaryBus: orNull(d.secondaryBus),
    subordinateBus: orNull(d.subordinateBus),
    source: sourceToJson(d.source),
    ...(d.config !== undefined ? { config: pciConfigToJson(d.config, d.configSource) } : {}),
  };
}

function vmToJson(v: Vm): Json {
  return { name: v.name, hypervisor: v.hypervisor, passthru: [...v.passthru], memoryBytes: hexOrNull(v.memoryBytes), source: sourceToJson(v.source) };
}

function regionToJson(r: MemoryRegion): Json {
  return { start: hex(r.start), end: hex(r.end), type: r.type, name: r.name, source: sourceToJson(r.source) };
}

function faultToJson(f: Fault): Json {
  const d = f.dumped;
  return {
    unit: hexIdOrNull(f.unit),
    bdf: f.bdf,
    iova: hex(pfnToAddr(f.iovaPfn) + BigInt(f.iovaOffset)),
    reason: f.reason,
    reasonText: f.reasonText,
    reasonName: orNull(f.reasonName),
    type: f.type,
    pasid: orNull(f.pasid),
    dumped: d
      ? {
          root: hexOrNull(d.root),
          contextLo: hexOrNull(d.contextLo),
          contextHi: hexOrNull(d.contextHi),
          levels: d.levels.map((l) => ({ level: l.level, entry: hex(l.entry) })),
          note: orNull(d.note),
        }
      : null,
    explanation: f.explanation ? explanationToJson(f.explanation) : null,
    source: sourceToJson(f.source),
  };
}

function explanationToJson(e: FaultExplanation): Json {
  const step = (s: WalkStep): Json => ({ structure: s.structure, level: orNull(s.level), table: hex(s.table), index: s.index, entry: s.entry.map((q) => hex(q)) });
  return {
    method: e.method,
    text: e.text,
    steps: (e.steps ?? []).map(step),
    stoppedAt: e.stoppedAt ? step(e.stoppedAt) : null,
    code: orNull(e.code),
    reason: orNull(e.reason),
    agrees: orNull(e.agrees),
    hpa: hexOrNull(e.hpa),
    dump: e.dump ? { compared: e.dump.compared, matching: e.dump.matching, mismatches: [...e.dump.mismatches] } : null,
  };
}

function buildModel(s: Snapshot, lazy: boolean, opts: ModelJsonOptions): Json {
  const tool = opts.tool ?? TOOL;
  return {
    schemaVersion: MODEL_SCHEMA_VERSION,
    tool: { name: tool.name, version: tool.version },
    capture: {
      path: s.capture.path,
      parts: s.capture.parts.map((p) => ({
        kind: p.kind, path: p.path, format: orNull(p.format), unit: hexIdOrNull(p.unit), note: orNull(p.note),
      })),
    },
    haw: s.haw,
    dmar: s.dmar ? dmarToJson(s.dmar) : null,
    units: s.units.map((u) => unitToJson(u, lazy)),
    inventoryKnown: s.inventoryKnown,
    devices: s.devices.map(deviceToJson),
    vmsKnown: s.vmsKnown,
    vms: s.vms.map(vmToJson),
    memoryMapKnown: s.memoryMapKnown,
    memoryMap: s.memoryMap.map(regionToJson),
    faults: s.faults.map(faultToJson),
    warnings: s.warnings.map((w) => ({ message: w.message, source: sourceToJson(w.source) })),
  };
}

// ---------------------------------------------------------------- entry points

/** The whole model as one plain object (fine for small captures and for tests). */
export function snapshotToJson(s: Snapshot, opts: ModelJsonOptions = {}): object {
  return buildModel(s, false, opts) as object;
}

/**
 * Write the model as JSON through `write`, in chunks of about `chunkSize` characters; the text
 * parses to `snapshotToJson(s)` and is laid out as `JSON.stringify(…, null, 2) + "\n"` would,
 * except that each mapping is one line. With `writeBytes`, the mappings (most of a big model) go
 * to it as ASCII bytes instead, in order with the text: the same text, far cheaper to make.
 */
export function streamSnapshotJson(
  s: Snapshot,
  write: (chunk: string) => void,
  opts: ModelJsonOptions & { chunkSize?: number; writeBytes?: (bytes: Uint8Array) => void; portableBytes?: boolean } = {},
): void {
  streamJson(buildModel(s, true, opts), write, opts.chunkSize, opts.writeBytes, opts.portableBytes);
}

/**
 * Serialize like `JSON.stringify(value, null, 2)` (undefined object members omitted, undefined
 * array items as null), expanding LazyArrays as it goes, with output buffered into chunks.
 */
export function streamJson(value: unknown, write: (chunk: string) => void, chunkSize = 65536, writeBytes?: (bytes: Uint8Array) => void, portableBytes = false): void {
  let buf: string[] = [];
  let size = 0;
  const emit = (s: string): void => {
    buf.push(s);
    size += s.length;
    if (size >= chunkSize) {
      write(buf.join(''));
      buf = [];
      size = 0;
    }
  };
  const indent = indentOf;
  const ascii = writeBytes !== undefined ? new AsciiChunks(writeBytes, portableBytes) : undefined;

  const visit = (v: unknown, depth: number): void => {
    if (v instanceof LazyArray && v.encode !== undefined && ascii !== undefined) {
      // The text so far first, then the array's bytes.
      if (buf.length) write(buf.join(''));
      buf = [];
      size = 0;
      v.encode(ascii, depth);
      ascii.flush();
      return;
    }
    if (v instanceof LazyArray && v.text !== undefined) {
      // Flat records as text: one string per ~chunk instead of two fragments per item.
      const text = v.text;
      const sep = ',' + indent(depth + 1);
      let acc = '';
      let first = true;
      for (const item of v.items()) {
        acc += first ? '[' + indent(depth + 1) : sep;
        acc += item === undefined ? 'null' : text(item, depth + 1);
        first = false;
        if (size + acc.length >= chunkSize) {
          emit(acc); // fills the chunk (flushed by emit), exceeding it by less than one item
          acc = '';
        }
      }
      emit(first ? '[]' : acc + indent(depth) + ']');
      return;
    }
    if (v instanceof LazyArray) {
      let first = true;
      const text = v.text;
      for (const item of v.items()) {
        emit(first ? '[' + indent(depth + 1) : ',' + indent(depth + 1));
        if (text !== undefined && item !== undefined) emit(text(item, depth + 1));
        else visit(item === undefined ? null : item, depth + 1);
        first = false;
      }
      emit(first ? '[]' : indent(depth) + ']');
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return emit('[]');
      v.forEach((item, i) => {
        emit((i === 0 ? '[' : ',') + indent(depth + 1));
        visit(item === undefined ? null : item, depth + 1);
      });
      return emit(indent(depth) + ']');
    }
    if (v !== null && typeof v === 'object') {
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (item === undefined) continue;
        emit((first ? '{' : ',') + indent(depth + 1) + JSON.stringify(k) + ': ');
        visit(item, depth + 1);
        first = false;
      }
      return emit(first ? '{}' : indent(depth) + '}');
    }
    emit(JSON.stringify(v));
  };
  visit(value, 0);
  emit('\n');
  if (buf.length) write(buf.join(''));
}
