/**
 * Derived facts every check shares, computed once per snapshot (pure functions of the Snapshot):
 * which functions are pass-through, which are assigned to a VM, which domains belong to VMs and
 * which to the host, which unit covers a BDF, and mapping ranges as sorted typed arrays.
 *
 * Terms follow cli-contract.md ("Check ids"): a pass-through device has driver ppt, vfio-pci,
 * pciback or pci-stub; it is assigned when a VM's command line names it (or, without VM data, when
 * it has a present context entry); a VM domain is one an assigned device uses; a host domain is
 * used only by other devices.
 */
import type { Drhd, DeviceScope } from '../decode/dmar-types.js';
import type { ContextEntry, Domain, Mapping, PciFunction, Snapshot, Source, Unit, Vm } from '../model/types.js';
import { formatBdf, parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';

export const PASS_THROUGH_DRIVERS: readonly string[] = ['ppt', 'vfio-pci', 'pciback', 'xen-pciback', 'pci-stub'];

/** True for a driver (or a FreeBSD unit name such as `ppt0`) that hands the function to VMs. */
export function isPassThroughDriver(name: string | undefined): boolean {
  if (name === undefined) return false;
  const n = name.trim().toLowerCase();
  return PASS_THROUGH_DRIVERS.some((d) => n === d || (d === 'ppt' && /^ppt\d+$/.test(n)));
}

/** Normalize any BDF notation to `SSSS:BB:DD.F`; undefined when it is no BDF. */
export function normBdf(text: string): string | undefined {
  try {
    const b = parseBdf(text);
    return b === undefined ? undefined : formatBdf(b);
  } catch {
    return undefined;
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

export type Coverage =
  | { status: 'covered'; unit: number; drhd?: Drhd; how: 'endpoint' | 'bridge' | 'include-all' | 'context-table' }
  | { status: 'unknown'; candidates: number[]; reason: string }
  | { status: 'none'; reason: string };

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
  unitByBase(base: number): Unit | undefined;
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
  const coverageCache = new Map<string, Coverage>();

  return {
    snapshot, devices, presentContexts, hints, passThrough, assigned, vmByName, uses, usesByBdf, domains,
    isPassThrough: (bdf) => passThrough.has(bdf),
    isAssigned: (bdf) => assigned.has(bdf),
    vmDomains: () => [...domains.values()].filter((d) => d.isVm),
    hostDomains: () => [...domains.values()].filter((d) => d.isHost),
    unitByBase,
    coverage: (bdf) => {
      let c = coverageCache.get(bdf);
      if (!c) {
        c = computeCoverage(snapshot, devices, presentContexts, bdf);
        coverageCache.set(bdf, c);
      }
      return c;
    },
  };
}

/** The DRHD structures of the DMAR table (empty without one). */
export function drhds(snapshot: Snapshot): Drhd[] {
  return (snapshot.dmar?.structures ?? []).filter((s): s is Drhd => s.kind === 'DRHD');
}

/** Does a scope match (bus, devfn)? 'yes', 'no', or 'unknown' (bridge range or path unresolved). */
function scopeMatches(scope: DeviceScope, bus: number, devfn: number, devices: Map<string, PciFunction>, segment: number): 'yes' | 'no' | 'unknown' {
  if (scope.type !== 1 && scope.type !== 2) return 'no';
  if (scope.resolved === undefined) return 'unknown';
  const r = scope.resolved;
  if (r.bus === bus && r.devfn === devfn) return 'yes';
  if (scope.type === 1) return 'no';
  // A bridge scope covers the bridge and every bus behind it (secondary..subordinate).
  const bridge = devices.get(formatBdf({ segment, bus: r.bus, devfn: r.devfn }));
  if (bridge?.secondaryBus !== undefined && bridge.subordinateBus !== undefined) {
    return bus >= bridge.secondaryBus && bus <= bridge.subordinateBus ? 'yes' : 'no';
  }
  // Buses behind a bridge are always numbered above the bridge's own bus.
  if (bus <= r.bus) return 'no';
  return 'unknown';
}

function computeCoverage(snapshot: Snapshot, devices: Map<string, PciFunction>, present: Map<string, { unit: Unit; ctx: ContextEntry }[]>, bdf: string): Coverage {
  const b = parseBdf(bdf);
  if (b === undefined) return { status: 'unknown', candidates: [], reason: `${bdf} is no PCI address` };
  const all = drhds(snapshot).filter((d) => d.segment === b.segment);
  if (snapshot.dmar === undefined) {
    const holder = present.get(bdf)?.[0];
    if (holder) return { status: 'covered', unit: holder.unit.registerBase, how: 'context-table' };
    const units = snapshot.units.filter((u) => u.segment === b.segment).map((u) => u.registerBase);
    return { status: 'unknown', candidates: units, reason: 'no DMAR table in the capture to tell which unit covers it' };
  }
  const unknown: number[] = [];
  for (const d of all) {
    if (d.includePciAll) continue;
    for (const s of d.scopes) {
      const m = scopeMatches(s, b.bus, b.devfn, devices, b.segment);
      if (m === 'yes') return { status: 'covered', unit: d.registerBase, drhd: d, how: s.type === 1 ? 'endpoint' : 'bridge' };
      if (m === 'unknown' && !unknown.includes(d.registerBase)) unknown.push(d.registerBase);
    }
  }
  const catchAll = all.find((d) => d.includePciAll);
  if (unknown.length > 0) {
    const candidates = catchAll ? [...unknown, catchAll.registerBase] : unknown;
    return {
      status: 'unknown', candidates,
      reason: `a DRHD scope names a bridge (or a path) whose bus range the inventory does not give; add bridge bus ranges (pciconf -lv with -b, or lspci -Dnnk -vv) to tell whether ${bdf} lies behind it`,
    };
  }
  if (catchAll) return { status: 'covered', unit: catchAll.registerBase, drhd: catchAll, how: 'include-all' };
  return { status: 'none', reason: `no DRHD of segment ${b.segment} lists ${bdf} in its scope and none has INCLUDE_PCI_ALL` };
}

// ---------------------------------------------------------------------------------------------
// Page ranges as sorted typed arrays.

/** Disjoint or overlapping [start, end) page ranges, sorted by start, with an owner tag per range. */
export interface PageRanges {
  start: Float64Array;
  end: Float64Array;
  /** Index into whatever the caller keeps (a domain list, a structure list). */
  tag: Uint32Array;
  length: number;
}

/** Ranges past these bounds take the comparator sort (2^41 pages = the 2^53 bytes of a 52-bit HAW). */
const KEY_START_LIMIT = 2 ** 41;
const KEY_INDEX_BITS = 23;

/**
 * The order of ranges [start[i], end[i]) by start, ties by end, as a permutation of 0..n-1.
 * Tens of thousands of host ranges are sorted natively: each becomes one 64-bit key, start in the
 * top 41 bits and its index in the low 23, written through a Uint32Array view (no BigInt per
 * range) and sorted without a comparator. A comparator sort calls back into JS a million times
 * for 65 k ranges, mostly before the JIT has optimized anything in a one-shot CLI run.
 */
export function sortOrder(start: Float64Array, end: Float64Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const keys = n < 2 ** KEY_INDEX_BITS ? new BigUint64Array(n) : undefined;
  const w = keys === undefined ? undefined : new Uint32Array(keys.buffer);
  let fits = w !== undefined;
  // Two passes over the ranges and one native sort: in a one-shot run each pass costs ~2 ms per
  // 65 k ranges before the JIT catches up, so range checks ride along in the first.
  for (let i = 0; i < n && fits; i++) {
    const s = start[i];
    fits = s >= 0 && s < KEY_START_LIMIT && Math.floor(s) === s;
    const hi = Math.floor(s / 512);
    w![2 * i] = ((s - hi * 512) * 2 ** KEY_INDEX_BITS + i) >>> 0;
    w![2 * i + 1] = hi;
  }
  if (!fits) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort((a, b) => start[a] - start[b] || end[a] - end[b]);
  }
  keys!.sort();
  const mask = 2 ** KEY_INDEX_BITS - 1;
  for (let i = 0; i < n; i++) {
    const j0 = w![2 * i] & mask;
    order[i] = j0;
    // Equal starts come out by index: put them in order of end (runs of equal starts are short).
    if (i === 0 || start[order[i - 1]] !== start[j0] || end[order[i - 1]] <= end[j0]) continue;
    let j = i;
    while (j > 0 && start[order[j - 1]] === start[j0] && end[order[j - 1]] > end[j0]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = j0;
  }
  return order;
}

/** Sort ranges by start (ties by end) without creating per-range objects. */
export function sortRanges(start: Float64Array, end: Float64Array, tag: Uint32Array, n: number): PageRanges {
  const idx = sortOrder(start, end, n);
  const s = new Float64Array(n);
  const e = new Float64Array(n);
  const t = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    s[i] = start[j];
    e[i] = end[j];
    t[i] = tag[j];
  }
  return { start: s, end: e, tag: t, length: n };
}

/**
 * Host page ranges of some mappings ([hpaPfn, hpaPfn + pages)), sorted by host page.
 * `filter` picks mappings (e.g. writable ones); `tagOf` tags each range.
 */
export function hostRanges(list: { mappings: Mapping[]; tag: number }[], filter: (m: Mapping) => boolean = () => true): PageRanges {
  let n = 0;
  for (const { mappings } of list) n += mappings.length;
  const s = new Float64Array(n);
  const e = new Float64Array(n);
  const t = new Uint32Array(n);
  let k = 0;
  // Indexed loops: one pass over every mapping, run once per CLI call (see sortOrder).
  for (let li = 0; li < list.length; li++) {
    const { mappings, tag } = list[li];
    for (let i = 0; i < mappings.length; i++) {
      const m = mappings[i];
      if (!filter(m)) continue;
      s[k] = m.hpaPfn;
      e[k] = m.hpaPfn + m.pages;
      t[k] = tag;
      k++;
    }
  }
  return sortRanges(s, e, t, k);
}

/** Merge sorted ranges into their union (tags dropped: the result is one owner's footprint). */
export function unionRanges(r: PageRanges): PageRanges {
  const s = new Float64Array(r.length);
  const e = new Float64Array(r.length);
  let k = -1;
  for (let i = 0; i < r.length; i++) {
    if (k >= 0 && r.start[i] <= e[k]) {
      if (r.end[i] > e[k]) e[k] = r.end[i];
    } else {
      k++;
      s[k] = r.start[i];
      e[k] = r.end[i];
    }
  }
  const n = k + 1;
  return { start: s.subarray(0, n), end: e.subarray(0, n), tag: new Uint32Array(n), length: n };
}

/** Index of the first range whose end is above `pfn` in ranges sorted by start with non-decreasing end. */
export function firstEndingAfter(r: PageRanges, pfn: number): number {
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r.end[mid] <= pfn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Collects labelled ranges for a RangeIndex in growable typed arrays, one label id per range: an
 * index of a big VM's scattered page-table pages holds tens of thousands of ranges and one label.
 */
export class RangeIndexBuilder<L> {
  start = new Float64Array(64);
  end = new Float64Array(64);
  label = new Uint32Array(64);
  length = 0;
  readonly labels: L[] = [];
  private readonly ids = new Map<L, number>();

  /** The id of `label` (added on first use). */
  labelId(label: L): number {
    let id = this.ids.get(label);
    if (id === undefined) {
      id = this.labels.push(label) - 1;
      this.ids.set(label, id);
    }
    return id;
  }

  add(startPfn: number, endPfn: number, labelId: number): void {
    if (this.length === this.start.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start, (n) => new Float64Array(n));
      this.end = grow(this.end, (n) => new Float64Array(n));
      this.label = grow(this.label, (n) => new Uint32Array(n));
    }
    this.start[this.length] = startPfn;
    this.end[this.length] = endPfn;
    this.label[this.length] = labelId;
    this.length++;
  }
}

/**
 * A static set of labelled host ranges (I/O MMU structures, MMIO windows) that mapping runs are
 * tested against: sorted by start; `maxEnd` is the running maximum of ends so a binary search
 * finds the first range that can overlap even when ranges nest.
 */
export class RangeIndex<L> {
  private readonly s: Float64Array;
  private readonly e: Float64Array;
  private readonly maxEnd: Float64Array;
  private readonly labelOf: Uint32Array;
  private readonly labels: L[];

  constructor(from: { startPfn: number; endPfn: number; label: L }[] | RangeIndexBuilder<L>) {
    let b: RangeIndexBuilder<L>;
    if (from instanceof RangeIndexBuilder) b = from;
    else {
      b = new RangeIndexBuilder<L>();
      for (const x of from) b.add(x.startPfn, x.endPfn, b.labelId(x.label));
    }
    const n = b.length;
    const { start, end, label } = b;
    // Most callers add their ranges in order already (one domain's sorted table pages): check
    // that in one pass before paying for a comparator sort.
    let inOrder = true;
    for (let i = 1; i < n && inOrder; i++) inOrder = start[i - 1] < start[i] || (start[i - 1] === start[i] && end[i - 1] <= end[i]);
    let order: Uint32Array;
    if (inOrder) {
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    } else order = sortOrder(start, end, n);
    this.s = new Float64Array(n);
    this.e = new Float64Array(n);
    this.maxEnd = new Float64Array(n);
    this.labelOf = new Uint32Array(n);
    this.labels = b.labels;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const j = order[i];
      this.s[i] = start[j];
      this.e[i] = end[j];
      this.labelOf[i] = label[j];
      if (end[j] > max) max = end[j];
      this.maxEnd[i] = max;
    }
  }

  get size(): number {
    return this.s.length;
  }

  /**
   * Does any range overlap [startPfn, endPfn)? The checks ask this first for each of a domain's
   * (tens of thousands of) mappings, so the common miss allocates no callback.
   */
  overlaps(startPfn: number, endPfn: number): boolean {
    const n = this.s.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxEnd[mid] <= startPfn) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n && this.s[i] < endPfn; i++) if (this.e[i] > startPfn) return true;
    return false;
  }

  /**
   * Set hit[i] = 1 for each range [start[i], end[i]) that overlaps one of the index, given the
   * ranges' order by start (sortOrder): one merge, as PageIndex.markOverlaps.
   */
  markOverlaps(start: Float64Array, end: Float64Array, order: Uint32Array, hit: Uint8Array): void {
    const n = this.s.length;
    let j = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const s = start[i];
      // maxEnd never decreases, and neither do the starts taken in order: j only moves forward.
      while (j < n && this.maxEnd[j] <= s) j++;
      if (j === n) return;
      for (let r = j; r < n && this.s[r] < end[i]; r++) {
        if (this.e[r] > s) {
          hit[i] = 1;
          break;
        }
      }
    }
  }

  /** Calls `hit` for every range overlapping [startPfn, endPfn) with the overlap. */
  query(startPfn: number, endPfn: number, hit: (label: L, fromPfn: number, toPfn: number) => void): void {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxEnd[mid] <= startPfn) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.s.length && this.s[i] < endPfn; i++) {
      if (this.e[i] <= startPfn) continue;
      hit(this.labels[this.labelOf[i]], Math.max(startPfn, this.s[i]), Math.min(endPfn, this.e[i]));
    }
  }
}

/**
 * Single labelled pages (every domain's page-table pages: tens of thousands, scattered) as one
 * sorted Float64Array of page numbers with a label id each. Built with one native sort, no loop
 * that coalesces or allocates per page; a query reports runs of consecutive pages of one label.
 */
export class PageIndex<L> {
  private readonly pfns: Float64Array;
  private readonly labelOf: Uint32Array;

  /** `groups`: each label with its pages (any order; a page may repeat under several labels). */
  constructor(groups: { label: L; pfns: readonly number[] }[]) {
    this.labels = groups.map((g) => g.label);
    let n = 0;
    for (const g of groups) n += g.pfns.length;
    if (groups.length === 1) {
      // One domain: a plain native sort.
      this.pfns = Float64Array.from(groups[0].pfns).sort();
      this.labelOf = new Uint32Array(n);
      return;
    }
    const raw = new Float64Array(n);
    const rawLabel = new Uint32Array(n);
    let k = 0;
    groups.forEach((g, gi) => {
      raw.set(g.pfns, k);
      rawLabel.fill(gi, k, k + g.pfns.length);
      k += g.pfns.length;
    });
    // By page, ties by label (the label ids stand in for the range ends sortOrder breaks ties by).
    const order = sortOrder(raw, Float64Array.from(rawLabel), n);
    this.pfns = new Float64Array(n);
    this.labelOf = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.pfns[i] = raw[order[i]];
      this.labelOf[i] = rawLabel[order[i]];
    }
  }

  readonly labels: L[];

  get size(): number {
    return this.pfns.length;
  }

  /** Index of the first page at or above `pfn`. */
  private lowerBound(pfn: number): number {
    const p = this.pfns;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid] < pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Is any page in [startPfn, endPfn)? */
  overlaps(startPfn: number, endPfn: number): boolean {
    const i = this.lowerBound(startPfn);
    return i < this.pfns.length && this.pfns[i] < endPfn;
  }

  /**
   * Set hit[i] = 1 for each range [start[i], end[i]) that holds a page of the index, given the
   * ranges' order by start (sortOrder). One merge with the pages instead of a binary search per
   * range: tens of thousands of mappings against tens of thousands of table pages.
   */
  markOverlaps(start: Float64Array, end: Float64Array, order: Uint32Array, hit: Uint8Array): void {
    const p = this.pfns;
    let j = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const s = start[i];
      while (j < p.length && p[j] < s) j++;
      if (j === p.length) return;
      if (p[j] < end[i]) hit[i] = 1;
    }
  }

  /**
   * Calls `hit` for every run of consecutive pages of one label inside [startPfn, endPfn), in
   * page order (a page listed under two labels is reported under each).
   */
  query(startPfn: number, endPfn: number, hit: (label: L, fromPfn: number, toPfn: number) => void): void {
    const p = this.pfns;
    const runs: { id: number; from: number; to: number }[] = [];
    const last = new Map<number, { id: number; from: number; to: number }>();
    for (let i = this.lowerBound(startPfn); i < p.length && p[i] < endPfn; i++) {
      const id = this.labelOf[i];
      const r = last.get(id);
      if (r !== undefined && r.to === p[i]) r.to = p[i] + 1;
      else if (r === undefined || r.to < p[i]) {
        const run = { id, from: p[i], to: p[i] + 1 };
        runs.push(run);
        last.set(id, run);
      } // else: the same page twice under one label
    }
    runs.sort((a, b) => a.from - b.from || a.id - b.id);
    for (const r of runs) hit(this.labels[r.id], r.from, r.to);
  }
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers for evidence.

export function unitHex(unit: Unit): string {
  return hex(unit.registerBase);
}

/** Page number → "0x…" byte address (exact for IOVAs above 2^53). */
export function pfnHex(pfn: number): string {
  return hex(BigInt(pfn) << 12n);
}

export function rawHex(raw: bigint[] | bigint | undefined): string | string[] | null {
  if (raw === undefined) return null;
  if (typeof raw === 'bigint') return hex(raw);
  return raw.length === 0 ? null : raw.map((q) => hex(q));
}

/** Human page count: "1 GiB (262144 pages)". */
export function pagesText(pages: number): string {
  const bytes = pages * 4096;
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [size, name] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${name}`;
    }
  }
  return `${bytes} bytes`;
}

/** The owner label of a VM domain for messages: "VM vm1", "VMs a, b", or "an assigned device". */
export function ownerText(info: DomainInfo): string {
  if (info.vms.size === 1) return `VM ${[...info.vms][0]}`;
  if (info.vms.size > 1) return `VMs ${[...info.vms].sort().join(', ')}`;
  return `assigned device ${[...info.assignedUsers].sort().join(', ')}`;
}

/** Stable order of domain infos (unit base, DID, root). */
export function byDomain(a: DomainInfo, b: DomainInfo): number {
  return a.unit.segment - b.unit.segment || a.unit.registerBase - b.unit.registerBase || a.domain.did - b.domain.did || a.domain.root - b.domain.root;
}

/** Mappings of a domain that the capture actually knows (empty when the tables were not captured). */
export function knownMappings(d: Domain): Mapping[] {
  return d.mappingsKnown ? d.mappings : [];
}
