/**
 * A fluent builder for small hand-made Snapshots, in the spirit of ESLint's RuleTester cases:
 * each test states exactly the units, contexts, domains, devices and VMs it needs.
 *
 *   snapshot()
 *     .unit(0xfed90000, (u) => u.regs({ tes: true }).context('0000:03:00.0', { did: 1, root: 0x100000 })
 *        .domain(1, 0x100000, [[0, 0x80000, 512]]))
 *     .device('0000:03:00.0', { driver: 'ppt' })
 *     .vm('vm1', ['0000:03:00.0'], { memoryBytes: 2 ** 30 })
 *     .build();
 */
import type { DeviceScope, DmarProblem, DmarStructure, DmarTable, Drhd, Rmrr } from '../../src/decode/dmar-types.js';
import type { Cap, Ecap, UnitRegisters } from '../../src/decode/registers-types.js';
import type {
  ContextEntry, Domain, Fault, Mapping, MemoryType, PasidEntry, PciFunction, PciResource, QemuMachine, Snapshot, Source, Unit, UnitTableProblem, Vm,
} from '../../src/model/types.js';
import { decodeIrte } from '../../src/decode/irte.js';
import type { InterruptRemapping } from '../../src/model/interrupt-remapping.js';
import { isPassThroughDriver } from '../../src/model/roles.js';
import { parseBdf } from '../../src/util/bdf.js';

const src = (part: string, line = 1): Source => ({ part, line });

export interface RegOptions {
  tes?: boolean;
  rtps?: boolean;
  sagaw?: number;
  nd?: number;
  sllps?: number;
  dt?: boolean;
  pt?: boolean;
  smts?: boolean;
  adms?: boolean;
  flts?: boolean;
  slts?: boolean;
  nest?: boolean;
  ttm?: number;
  rtaddr?: number;
  rtaddrReserved?: number;
  raw?: Record<string, bigint>;
}

export function makeRegisters(base: number, o: RegOptions): UnitRegisters {
  const nd = o.nd ?? 2;
  const cap: Cap = {
    raw: 0n, ND: nd, domains: 2 ** (4 + 2 * nd), AFL: false, RWBF: false, PLMR: true, PHMR: true, CM: false,
    SAGAW: o.sagaw ?? 0b0100, MGAW: 47, mgawBits: 48, ZLR: false, FRO: 0x22, SLLPS: o.sllps ?? 0b01, PSI: true, NFR: 7,
    MAMV: 9, DWD: true, DRD: true, FL1GP: false, PI: false, FL5LP: false, ECMDS: false, ESIRTPS: false, ESRTPS: false,
  };
  const ecap: Ecap = {
    raw: 0n, C: true, QI: true, DT: o.dt ?? true, IR: true, EIM: true, PT: o.pt ?? true, SC: true, IRO: 0x50, MHMV: 15,
    MTS: false, NEST: o.nest ?? false, PRS: false, ERS: false, SRS: false, NWFS: false, EAFS: false, PSS: 0, PASID: false,
    DIT: false, PDS: false, SMTS: o.smts ?? false, VCS: false, SLADS: false, SLTS: o.slts ?? false, FLTS: o.flts ?? false,
    SMPWCS: false, RPS: false, PMS: false, ADMS: o.adms ?? false, RPRIVS: false,
  };
  const tes = o.tes ?? true;
  const rtps = o.rtps ?? true;
  const rta = o.rtaddr ?? 0x10000;
  const ttm = o.ttm ?? 0;
  const reserved = o.rtaddrReserved ?? 0;
  const rtRaw = BigInt(rta) | (BigInt(ttm) << 10n) | BigInt(reserved);
  const gsts = (tes ? 0x80000000 : 0) | (rtps ? 0x40000000 : 0);
  return {
    base, raw: { ...(o.raw ?? {}) }, CAP: cap, ECAP: ecap,
    GSTS: { raw: gsts >>> 0, TES: tes, RTPS: rtps, FLS: false, AFLS: false, WBFS: false, QIES: true, IRES: false, IRTPS: false, CFIS: false },
    RTADDR: { raw: rtRaw, TTM: ttm, mode: ttm === 0 ? 'legacy' : ttm === 1 ? 'scalable' : ttm === 2 ? 'extended' : 'abort', RTA: rta, reserved },
    // No fault pending: FSTS = 0.
    FSTS: { raw: 0, PFO: false, PPF: false, AFO: false, APF: false, IQE: false, ICE: false, ITE: false, PRO: false, FRI: 0 },
    faultRecords: [],
  };
}

export interface ContextOptions {
  did?: number;
  root?: number;
  tt?: number;
  aw?: number;
  present?: boolean;
  hint?: string;
  raw?: bigint[];
}

export interface PasidOptions {
  pasid?: number;
  pgtt: number;
  did: number;
  slptptr?: number;
  flptptr?: number;
  aw?: number;
}

/** [iovaPfn, hpaPfn, pages, write?] */
export type MapSpec = [number, number, number, boolean?];

export class UnitBuilder {
  readonly unit: Unit;
  private line = 1;

  constructor(base: number, segment = 0) {
    this.unit = { segment, registerBase: base, rootEntries: [], contexts: [], domains: [], tableProblems: [] };
  }

  /** Registers (CAP/ECAP/GSTS/RTADDR) and the derived unit facts. */
  regs(o: RegOptions = {}): this {
    const r = makeRegisters(this.unit.registerBase, o);
    this.unit.registers = r;
    this.unit.translationEnabled = r.GSTS!.TES;
    this.unit.rootTablePointerSet = r.GSTS!.RTPS;
    if (this.unit.rootTable === undefined && r.GSTS!.RTPS) this.unit.rootTable = r.RTADDR!.RTA;
    return this;
  }

  /** GSTS facts without a register dump (as debugfs/dmardump would give them). */
  state(tes: boolean | undefined, rtps?: boolean): this {
    this.unit.translationEnabled = tes;
    this.unit.rootTablePointerSet = rtps;
    return this;
  }

  rootTable(addr: number): this {
    this.unit.rootTable = addr;
    this.unit.rootTableSource = src('regs');
    return this;
  }

  rootEntry(bus: number, contextTable: number): this {
    this.unit.rootEntries.push({ bus, lo: BigInt(contextTable) | 1n, hi: 0n, lowerContextTable: contextTable, source: src('mem', 0) });
    return this;
  }

  context(bdf: string, o: ContextOptions = {}): this {
    const b = parseBdf(bdf);
    const did = o.did ?? 1;
    const root = o.root ?? 0;
    const tt = o.tt ?? 0;
    const aw = o.aw ?? 2;
    const present = o.present ?? true;
    const lo = BigInt(root) | (BigInt(tt) << 2n) | (present ? 1n : 0n);
    const hi = BigInt(Math.max(aw, 0)) | (BigInt(did) << 8n);
    const c: ContextEntry = {
      bdf, segment: b.segment, bus: b.bus, devfn: b.devfn, present, fpd: false, tt, aw, levels: aw < 0 ? 0 : aw + 2, did,
      slptptr: root, raw: o.raw ?? [lo, hi], source: src('tables.txt', this.line++),
    };
    if (o.hint !== undefined) c.driverHint = o.hint;
    this.unit.contexts.push(c);
    return this;
  }

  scalableContext(bdf: string, pasids: PasidOptions[], pasidDirPtr = 0x300000): this {
    const b = parseBdf(bdf);
    const entries: PasidEntry[] = pasids.map((p) => {
      const aw = p.aw ?? 2;
      const slptptr = p.slptptr ?? 0;
      const q0 = BigInt(slptptr) | (BigInt(p.pgtt) << 6n) | (BigInt(aw) << 2n) | 1n;
      return {
        pasid: p.pasid ?? 0, present: true, fpd: false, pgtt: p.pgtt, aw, levels: aw + 2, did: p.did, slptptr, flptptr: p.flptptr ?? 0,
        flpm: 0, sre: false, raw: [q0, BigInt(p.did), BigInt(p.flptptr ?? 0), 0n, 0n, 0n, 0n, 0n], source: src('tables.txt', this.line++),
      };
    });
    this.unit.mode = 'scalable';
    this.unit.contexts.push({
      bdf, segment: b.segment, bus: b.bus, devfn: b.devfn, present: true, fpd: false, aw: -1, levels: 0, did: 0, slptptr: 0,
      raw: [BigInt(pasidDirPtr) | 1n, 0n, 0n, 0n], pasidDirPtr, pdts: 0, ridPasid: 0, pasids: entries, source: src('tables.txt', this.line++),
    });
    return this;
  }

  /** A walked domain; `mappings` as [iovaPfn, hpaPfn, pages, write = true]. */
  domain(did: number, root: number, mappings: MapSpec[], o: { tablePfns?: number[]; kind?: Domain['kind']; mappingsKnown?: boolean; aw?: number } = {}): this {
    const ms: Mapping[] = mappings.map(([iovaPfn, hpaPfn, pages, write]) => ({ iovaPfn, hpaPfn, pages, read: true, write: write ?? true, pageSize: 4096 }));
    const aw = o.aw ?? 2;
    this.unit.domains.push({
      did, root, kind: o.kind ?? 'second-level', aw, levels: aw + 2, pageCount: ms.reduce((a, m) => a + m.pages, 0), mappings: ms,
      tablePfns: o.tablePfns ?? [root / 4096], complete: true, mappingsKnown: o.mappingsKnown ?? true, source: { part: 'mem', offset: root },
    });
    return this;
  }

  /**
   * Interrupt remapping as the model holds it: on by default (IRES, xAPIC, CFIS clear, a 2^16-entry
   * table at 0x2100000), with the present entries given as [index, [lo, hi]] (src/synth/ir-encode.ts).
   */
  ir(o: Partial<Omit<InterruptRemapping, 'irtes'>> & { entries?: [number, [bigint, bigint]][] } = {}): this {
    const { entries, ...rest } = o;
    const ir: InterruptRemapping = {
      supported: true, enabled: true, compatibilityFormat: false, x2apic: false, postedSupported: false, table: 0x2100000, entryCount: 65536,
      entrySources: ['memory'], unreadable: [], unreadableEntries: 0, ...rest, irtes: [],
    };
    ir.irtes = (entries ?? []).map(([index, [lo, hi]]) => ({
      index, lo, hi, irte: decodeIrte(lo, hi, { eime: ir.x2apic === true }), addr: (ir.table ?? 0) + index * 16, source: src('mem', (ir.table ?? 0) + index * 16),
    }));
    this.unit.interruptRemapping = ir;
    return this;
  }

  problem(p: Partial<UnitTableProblem> & { message: string }): this {
    const raw = p.raw ?? 0x123n;
    this.unit.tableProblems.push({ kind: 'reserved-bits', level: 1, entryAddr: 0x5000, structure: 'page-table', entry: [raw], faultBits: [0n], ...p, raw });
    return this;
  }
}

export interface DeviceOptions {
  driver?: string;
  passThrough?: boolean;
  classCode?: number;
  secondaryBus?: number;
  subordinateBus?: number;
  deviceUnit?: string;
}

export class DmarBuilder {
  readonly structures: DmarStructure[] = [];
  readonly problems: DmarProblem[] = [];
  optIn = false;

  private scope(type: number, bdf: string): DeviceScope {
    const b = parseBdf(bdf);
    return {
      type, typeName: type === 1 ? 'endpoint' : 'bridge', length: 8, flags: 0, enumerationId: 0, startBus: b.bus,
      path: [{ device: b.devfn >> 3, function: b.devfn & 7 }], resolved: { bus: b.bus, devfn: b.devfn }, offset: 0,
    };
  }

  /** An IOAPIC (type 3) or HPET (type 4) scope: enumeration id, start bus and a one-hop path (its source-id). */
  private special(type: 3 | 4, enumerationId: number, bdf: string): DeviceScope {
    return { ...this.scope(1, bdf), type, typeName: type === 3 ? 'ioapic' : 'hpet', enumerationId };
  }

  drhd(base: number, o: { includePciAll?: boolean; endpoints?: string[]; bridges?: string[]; unresolved?: number; size?: number; segment?: number; ioapics?: [number, string][]; hpets?: [number, string][] } = {}): this {
    const scopes = [
      ...(o.endpoints ?? []).map((b) => this.scope(1, b)), ...(o.bridges ?? []).map((b) => this.scope(2, b)),
      ...(o.ioapics ?? []).map(([id, b]) => this.special(3, id, b)), ...(o.hpets ?? []).map(([id, b]) => this.special(4, id, b)),
    ];
    for (let i = 0; i < (o.unresolved ?? 0); i++) {
      scopes.push({ type: 2, typeName: 'bridge', length: 10, flags: 0, enumerationId: 0, startBus: 0, path: [{ device: 1, function: 0 }, { device: 0, function: 0 }], offset: 0 });
    }
    const d: Drhd = {
      kind: 'DRHD', type: 0, length: 16, offset: 48 + this.structures.length * 16, flags: o.includePciAll ? 1 : 0, includePciAll: o.includePciAll ?? false,
      size: o.size ?? 0, segment: o.segment ?? 0, registerBase: base, scopes,
    };
    this.structures.push(d);
    return this;
  }

  rmrr(base: number, limit: number, endpoints: string[] = []): this {
    const r: Rmrr = { kind: 'RMRR', type: 1, length: 24, offset: 48 + this.structures.length * 16, segment: 0, base, limit, scopes: endpoints.map((b) => this.scope(1, b)) };
    this.structures.push(r);
    return this;
  }

  problem(offset: number, message: string, severity: 'error' | 'warning'): this {
    this.problems.push({ offset, message, severity });
    return this;
  }

  optInFlag(on: boolean): this {
    this.optIn = on;
    return this;
  }

  build(): DmarTable {
    return {
      signature: 'DMAR', length: 48, revision: 1, checksum: 0, checksumOk: true, oemId: 'TEST', oemTableId: 'TEST', oemRevision: 1,
      creatorId: 'TEST', creatorRevision: 1, haw: 46, flags: (this.optIn ? 4 : 0) | 1, intrRemap: true, x2apicOptOut: false,
      dmaCtrlPlatformOptIn: this.optIn, structures: this.structures, problems: this.problems,
    };
  }
}

export class SnapshotBuilder {
  private units: UnitBuilder[] = [];
  private devices: PciFunction[] = [];
  private inventoryKnown = false;
  private vms: Vm[] = [];
  private vmsKnown = false;
  private memoryMap: Snapshot['memoryMap'] = [];
  private memoryMapKnown = false;
  private resources: PciResource[] = [];
  private dmarTable?: DmarTable;
  private faults: Fault[] = [];

  unit(base: number, fn: (u: UnitBuilder) => unknown = () => undefined, segment = 0): this {
    const u = new UnitBuilder(base, segment);
    fn(u);
    this.units.push(u);
    return this;
  }

  device(bdf: string, o: DeviceOptions = {}): this {
    const b = parseBdf(bdf);
    const pt = o.passThrough ?? isPassThroughDriver(o.driver);
    const d: PciFunction = { bdf, segment: b.segment, bus: b.bus, devfn: b.devfn, passThrough: pt, source: src('pciconf.txt', this.devices.length + 1) };
    if (o.driver !== undefined) d.driver = o.driver;
    if (o.classCode !== undefined) d.classCode = o.classCode;
    if (o.secondaryBus !== undefined) d.secondaryBus = o.secondaryBus;
    if (o.subordinateBus !== undefined) d.subordinateBus = o.subordinateBus;
    if (o.deviceUnit !== undefined) d.deviceUnit = o.deviceUnit;
    this.devices.push(d);
    this.inventoryKnown = true;
    return this;
  }

  /** Mark the inventory as present even with no devices (or absent, with `false`). */
  inventory(known = true): this {
    this.inventoryKnown = known;
    return this;
  }

  vm(name: string, passthru: string[], o: { memoryBytes?: number; hypervisor?: Vm['hypervisor']; qemu?: QemuMachine } = {}): this {
    const vm: Vm = { name, hypervisor: o.hypervisor ?? (o.qemu ? 'qemu' : 'bhyve'), passthru, source: src('vms.txt', this.vms.length + 1) };
    if (o.memoryBytes !== undefined) vm.memoryBytes = o.memoryBytes;
    if (o.qemu !== undefined) vm.qemu = o.qemu;
    this.vms.push(vm);
    this.vmsKnown = true;
    return this;
  }

  /** VM command lines captured, but no VM running. */
  noVms(): this {
    this.vmsKnown = true;
    return this;
  }

  memory(start: number, end: number, type: MemoryType, name: string = type): this {
    this.memoryMap.push({ start, end, type, name, source: src('iomem', this.memoryMap.length + 1) });
    this.memoryMapKnown = true;
    return this;
  }

  /** A PCI function's BAR as /proc/iomem nests it: [start, end) bytes, and the driver's claim. */
  resource(bdf: string, start: number, end: number, claimedBy?: string): this {
    this.resources.push({ bdf, start, end, ...(claimedBy !== undefined ? { claimedBy } : {}), source: src('iomem', 100 + this.resources.length) });
    return this;
  }

  dmar(fn: (d: DmarBuilder) => unknown = () => undefined): this {
    const d = new DmarBuilder();
    fn(d);
    this.dmarTable = d.build();
    return this;
  }

  fault(bdf: string, o: { iovaPfn?: number; reason?: number; unit?: number } = {}): this {
    this.faults.push({
      bdf, iovaPfn: o.iovaPfn ?? 0x1000, iovaOffset: 0, reason: o.reason ?? 2, reasonText: 'context entry not present', type: 'read',
      ...(o.unit !== undefined ? { unit: o.unit } : {}), source: src('dmesg', this.faults.length + 1),
    });
    return this;
  }

  build(): Snapshot {
    const devices = this.devices.map((d) => ({ ...d }));
    for (const vm of this.vms) {
      for (const bdf of vm.passthru) {
        const d = devices.find((x) => x.bdf === bdf);
        if (d) d.vm = vm.name;
      }
    }
    const s: Snapshot = {
      haw: 46, capture: { path: 'test', parts: [] }, units: this.units.map((u) => u.unit), devices, inventoryKnown: this.inventoryKnown,
      vms: this.vms, vmsKnown: this.vmsKnown, memoryMap: [...this.memoryMap].sort((a, b) => a.start - b.start), memoryMapKnown: this.memoryMapKnown,
      faults: this.faults, warnings: [],
    };
    if (this.dmarTable) s.dmar = this.dmarTable;
    if (this.resources.length > 0) s.pciResources = this.resources;
    return s;
  }
}

export function snapshot(): SnapshotBuilder {
  return new SnapshotBuilder();
}

/** (severity, bdf) pairs of a check's findings, sorted, for exact-set assertions. */
export function summary(findings: { check: string; severity: string; bdf?: string }[]): string[] {
  return findings.map((f) => `${f.check} ${f.severity} ${f.bdf ?? '-'}`).sort();
}

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;
/** Pages in n GiB / MiB. */
export const gibPages = (n: number): number => (n * GiB) / 4096;
export const mibPages = (n: number): number => (n * MiB) / 4096;
