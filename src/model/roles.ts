/**
 * The roles of devices, domains and units in one snapshot, decided once and shared by the checks,
 * the reports' pictures and the CLI (pure functions of the Snapshot): which functions are
 * pass-through, which are assigned to a VM, which domains belong to VMs and which to the host,
 * and which unit covers a BDF (coverage.ts). Judgement — what is wrong with them — stays in the
 * checks.
 *
 * Terms follow docs/cli-contract.md ("Check ids"): a pass-through device has driver ppt, vfio-pci,
 * pciback or pci-stub; it is assigned when a running VM's command line names it (bhyve
 * `-s …,passthru,…`, QEMU `-device vfio-pci,host=…`; or, without VM data, when it has a present
 * context entry); a VM domain is one an assigned device uses; a host domain is used only by other
 * devices. A vfio-pci device no running VM names is idle, not assigned (Linux leaves it in its own,
 * empty DMA domain).
 */
import { formatBdf, isBdfNotation, parseBdf } from '../util/bdf.js';
import { coverage as coverageOfBdf, unitFor, type Coverage, type CoverageIndex } from './coverage.js';
import { unreadableContextTable } from './known.js';
import type { ContextEntry, Domain, Mapping, PciFunction, Snapshot, Source, Unit, UnreadableTable, Vm } from './types.js';
import { MappingList, mappingListOf } from './mapping-list.js';

export type { Coverage } from './coverage.js';

/**
 * Drivers that hand a function to VMs: FreeBSD ppt(4) (also as its unit name, `ppt0`), Linux
 * vfio-pci and pci-stub (`pci_stub` is the module's name, which lspci -k prints beside the
 * driver's), Xen's pciback (xen-pciback). Names compare without case and surrounding blanks.
 */
const PASS_THROUGH_DRIVERS: readonly string[] = ['ppt', 'vfio-pci', 'pciback', 'xen-pciback', 'pci-stub', 'pci_stub'];

/** True for a driver (or a FreeBSD unit name such as `ppt0`) that hands the function to VMs. */
export function isPassThroughDriver(name: string | undefined): boolean {
  if (name === undefined) return false;
  const n = name.trim().toLowerCase();
  return PASS_THROUGH_DRIVERS.includes(n) || /^ppt\d+$/.test(n);
}

/** Normalize any BDF notation to `SSSS:BB:DD.F`; undefined when it is no BDF. */
export function normBdf(text: string): string | undefined {
  try {
    return formatBdf(parseBdf(text));
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** A domain is identified by its unit and (kind, DID, table root). */
export function domainKey(unit: Unit, kind: Domain['kind'], did: number, root: number): string {
  return `${unit.segment}:${unit.registerBase}:${kind}:${did}:${root}`;
}

/** How a present context entry (or one of its PASID entries) translates requests. */
export interface ContextUse {
  unit: Unit;
  ctx: ContextEntry;
  /** PASID when the use comes from a scalable-mode PASID entry. */
  pasid?: number;
  /** 'pass-through' = TT 10b / PGTT 100b: no table, IOVA = HPA. */
  type: 'translated' | 'pass-through' | 'blocked' | 'reserved';
  /** The domain translated through (undefined for pass-through etc.). */
  domain?: Domain;
  domainKey?: string;
  did: number;
  root?: number;
  /** Raw value of the entry that decides this (context qword 0, or PASID qword 0). */
  raw?: bigint;
  source: Source;
}

export interface DomainInfo {
  key: string;
  unit: Unit;
  domain: Domain;
  /** BDFs translated through it (present contexts / PASIDs). */
  users: Set<string>;
  /** Users that are assigned devices. */
  assignedUsers: Set<string>;
  /** Users that are neither assigned, pass-through nor stale (functions the inventory has, with host drivers). */
  hostUsers: Set<string>;
  /** VM names of the assigned users (empty when VM data is absent). */
  vms: Set<string>;
  isVm: boolean;
  isHost: boolean;
}

export interface Assignment {
  bdf: string;
  /** VM name, when VM data names it. */
  vm?: string;
  why: 'vm-cmdline' | 'present-context';
}

/** Everything derived once; build with `roles(snapshot)` (memoized per snapshot object). */
export interface Roles {
  snapshot: Snapshot;
  devices: Map<string, PciFunction>;
  /** BDF → the units whose context tables hold a present entry for it. */
  presentContexts: Map<string, { unit: Unit; ctx: ContextEntry }[]>;
  /** Every context entry (present or not) with a driver hint, by BDF. */
  hints: Map<string, string>;
  passThrough: Set<string>;
  assigned: Map<string, Assignment>;
  vmByName: Map<string, Vm>;
  uses: ContextUse[];
  usesByBdf: Map<string, ContextUse[]>;
  domains: Map<string, DomainInfo>;
  isPassThrough(bdf: string): boolean;
  isAssigned(bdf: string): boolean;
  vmDomains(): DomainInfo[];
  hostDomains(): DomainInfo[];
  coverage(bdf: string): Coverage;
  /** The one unit whose tables decide `bdf`'s DMA (coverage.ts unitFor), or why there is none. */
  unitFor(bdf: string): ReturnType<typeof unitFor>;
  unitByBase(base: number): Unit | undefined;
  /**
   * The units that may hold `bdf`'s context entry but whose table for it could not be read: there
   * the device's entry is unknown, not absent (empty when every unit that may hold it was read).
   */
  unknownEntry(bdf: string): { unit: Unit; table: UnreadableTable }[];
}

const cache = new WeakMap<Snapshot, Roles>();

export function roles(snapshot: Snapshot): Roles {
  const hit = cache.get(snapshot);
  if (hit) return hit;
  const r = buildRoles(snapshot);
  cache.set(snapshot, r);
  return r;
}

function buildRoles(snapshot: Snapshot): Roles {
  const devices = new Map<string, PciFunction>();
  for (const d of snapshot.devices) devices.set(d.bdf, d);

  const presentContexts = new Map<string, { unit: Unit; ctx: ContextEntry }[]>();
  const hints = new Map<string, string>();
  for (const unit of snapshot.units) {
    for (const ctx of unit.contexts) {
      if (ctx.driverHint !== undefined && !hints.has(ctx.bdf)) hints.set(ctx.bdf, ctx.driverHint);
      if (!ctx.present) continue;
      const list = presentContexts.get(ctx.bdf) ?? [];
      list.push({ unit, ctx });
      presentContexts.set(ctx.bdf, list);
    }
  }

  const passThrough = new Set<string>();
  for (const d of snapshot.devices) if (d.passThrough || isPassThroughDriver(d.driver) || isPassThroughDriver(d.deviceUnit)) passThrough.add(d.bdf);
  for (const [bdf, hint] of hints) if (isPassThroughDriver(hint)) passThrough.add(bdf);

  const vmByName = new Map<string, Vm>();
  for (const vm of snapshot.vms) vmByName.set(vm.name, vm);
  const assigned = new Map<string, Assignment>();
  if (snapshot.vmsKnown) {
    for (const d of snapshot.devices) if (d.vm !== undefined) assigned.set(d.bdf, { bdf: d.bdf, vm: d.vm, why: 'vm-cmdline' });
    for (const vm of snapshot.vms) {
      for (const p of vm.passthru) {
        const bdf = normBdf(p) ?? snapshot.devices.find((d) => d.deviceUnit === p)?.bdf;
        if (bdf !== undefined && !assigned.has(bdf)) assigned.set(bdf, { bdf, vm: vm.name, why: 'vm-cmdline' });
      }
    }
  } else {
    for (const bdf of passThrough) if (presentContexts.has(bdf)) assigned.set(bdf, { bdf, why: 'present-context' });
  }

  // Context uses and domains.
  const domains = new Map<string, DomainInfo>();
  const domainIndex = new Map<string, Domain>();
  for (const unit of snapshot.units) {
    for (const d of unit.domains) domainIndex.set(domainKey(unit, d.kind, d.did, d.root), d);
  }
  const getDomain = (unit: Unit, kind: Domain['kind'], did: number, root: number, aw: number, levels: number): { key: string; domain: Domain } => {
    const key = domainKey(unit, kind, did, root);
    let domain = domainIndex.get(key);
    if (!domain) {
      // The model had no walk for it: a placeholder whose mappings are unknown.
      domain = { did, root, kind, aw, levels, pageCount: 0, mappings: [], tablePfns: [], complete: false, mappingsKnown: false };
      domainIndex.set(key, domain);
    }
    return { key, domain };
  };
  const uses: ContextUse[] = [];
  for (const unit of snapshot.units) {
    for (const ctx of unit.contexts) {
      if (!ctx.present) continue;
      if (ctx.pasids === undefined) {
        const tt = ctx.tt ?? 0;
        const base = { unit, ctx, did: ctx.did, raw: ctx.raw[0], source: ctx.source };
        if (tt === 0 || tt === 1) {
          const { key, domain } = getDomain(unit, 'second-level', ctx.did, ctx.slptptr, ctx.aw, ctx.levels);
          uses.push({ ...base, type: 'translated', domain, domainKey: key, root: ctx.slptptr });
        } else if (tt === 2) uses.push({ ...base, type: 'pass-through' });
        else uses.push({ ...base, type: 'reserved' });
        continue;
      }
      for (const p of ctx.pasids) {
        if (!p.present) continue;
        const base = { unit, ctx, pasid: p.pasid, did: p.did, raw: p.raw[0], source: p.source };
        if (p.pgtt === 2 || p.pgtt === 3) {
          const { key, domain } = getDomain(unit, 'second-level', p.did, p.slptptr, p.aw, p.levels);
          uses.push({ ...base, type: 'translated', domain, domainKey: key, root: p.slptptr });
        } else if (p.pgtt === 1) {
          const { key, domain } = getDomain(unit, 'first-level', p.did, p.flptptr, p.aw, p.levels);
          uses.push({ ...base, type: 'translated', domain, domainKey: key, root: p.flptptr });
        } else if (p.pgtt === 4) uses.push({ ...base, type: 'pass-through' });
        else uses.push({ ...base, type: 'reserved' });
      }
    }
  }
  // A present entry of a function the inventory lacks (or dmardump prints as `(absent)`) belongs to
  // no host driver: it is stale (stale-context reports it), so it makes no domain a host domain.
  const stale = (bdf: string): boolean =>
    hints.get(bdf)?.toLowerCase() === 'absent' || (snapshot.inventoryKnown && !devices.has(bdf));
  const usesByBdf = new Map<string, ContextUse[]>();
  for (const u of uses) {
    const list = usesByBdf.get(u.ctx.bdf) ?? [];
    list.push(u);
    usesByBdf.set(u.ctx.bdf, list);
    if (u.domain === undefined || u.domainKey === undefined) continue;
    let info = domains.get(u.domainKey);
    if (!info) {
      info = { key: u.domainKey, unit: u.unit, domain: u.domain, users: new Set(), assignedUsers: new Set(), hostUsers: new Set(), vms: new Set(), isVm: false, isHost: false };
      domains.set(u.domainKey, info);
    }
    const bdf = u.ctx.bdf;
    info.users.add(bdf);
    const a = assigned.get(bdf);
    if (a) {
      info.assignedUsers.add(bdf);
      if (a.vm !== undefined) info.vms.add(a.vm);
    } else if (!passThrough.has(bdf) && !stale(bdf)) info.hostUsers.add(bdf);
  }
  // Domains nobody uses (walked from a stray table) are neither VM nor host: they stay out.
  for (const info of domains.values()) {
    info.isVm = info.assignedUsers.size > 0;
    info.isHost = !info.isVm && info.hostUsers.size > 0;
  }

  const unitByBase = (base: number): Unit | undefined => snapshot.units.find((u) => u.registerBase === base);
  const index: CoverageIndex = { devices, presentHolders: new Map([...presentContexts].map(([bdf, list]) => [bdf, [...new Set(list.map((x) => x.unit))]])) };
  const coverageCache = new Map<string, Coverage>();
  const coverageOf = (bdf: string): Coverage => {
    let c = coverageCache.get(bdf);
    if (!c) {
      c = coverageOfBdf(snapshot, bdf, index);
      coverageCache.set(bdf, c);
    }
    return c;
  };
  const unknownEntry = (bdf: string): { unit: Unit; table: UnreadableTable }[] => {
    if (!isBdfNotation(bdf)) return [];
    const b = parseBdf(bdf);
    const cov = coverageOf(bdf);
    const units = cov.status === 'covered' ? [unitByBase(cov.unit)] : cov.status === 'unknown' && cov.candidates.length > 0 ? cov.candidates.map(unitByBase) : snapshot.units.filter((u) => u.segment === b.segment);
    const out: { unit: Unit; table: UnreadableTable }[] = [];
    for (const unit of units) {
      if (unit === undefined) continue;
      const table = unreadableContextTable(unit, b.bus, b.devfn);
      if (table !== undefined) out.push({ unit, table });
    }
    return out;
  };

  return {
    snapshot, devices, presentContexts, hints, passThrough, assigned, vmByName, uses, usesByBdf, domains,
    isPassThrough: (bdf) => passThrough.has(bdf),
    isAssigned: (bdf) => assigned.has(bdf),
    vmDomains: () => [...domains.values()].filter((d) => d.isVm),
    hostDomains: () => [...domains.values()].filter((d) => d.isHost),
    unitByBase,
    coverage: coverageOf,
    unitFor: (bdf) => unitFor(snapshot, bdf, index),
    unknownEntry,
  };
}

/** Stable order of domain infos (unit base, DID, root). */
export function byDomain(a: DomainInfo, b: DomainInfo): number {
  return a.unit.segment - b.unit.segment || a.unit.registerBase - b.unit.registerBase || a.domain.did - b.domain.did || a.domain.root - b.domain.root;
}

/** Mappings of a domain that the capture actually knows (empty when the tables were not captured). */
export function knownMappings(d: Domain): Mapping[] {
  return d.mappingsKnown ? d.mappings : [];
}

const NO_MAPPINGS = new MappingList(1);

/** knownMappings as columns (model/mapping-list.ts): what the checks that read every mapping use. */
export function knownMappingList(d: Domain): MappingList {
  return d.mappingsKnown ? mappingListOf(d) : NO_MAPPINGS;
}
