/**
 * What a VM domain's mapped host pages hit, for pictures (the HTML report's address map): each
 * mapping is cut into pieces by what lies at its host pages — the VM's own memory, its own
 * devices' BARs, pages a host domain or another VM's domain also maps, MMIO and reserved regions,
 * I/O MMU structures, the MSI window. This is the checks' judgement (roles.ts decides owners,
 * hpa-leak-mmio and hpa-leak-iommu-structures what MMIO and structures are) made available as
 * data, so a reporter only draws it.
 *
 * Work: one merge per source over the domain's shared host view (host-ranges.ts), one sweep to
 * resolve overlaps by priority, one pass over the mappings. Nothing per page; the output has at
 * most (mappings + 2 × labelled segments) pieces.
 */
import type { Rmrr } from '../decode/dmar-types.js';
import type { MappingList } from '../model/mapping-list.js';
import type { Domain, Snapshot } from '../model/types.js';
import { hostView, mappingsReaching, RangeIndex, sortOrder, unionOfSorted, unionRanges, type PageRanges } from './host-ranges.js';
import { structureIndex } from './hpa-leak-iommu-structures.js';
import { mmioIndex } from './hpa-leak-mmio.js';
import { byDomain, knownMappingList, roles, type DomainInfo, type Roles } from '../model/roles.js';
import { barIndex } from './vm-layout.js';

/** What a host range of a VM domain hits. */
export type HostClass = 'own' | 'own-device' | 'host' | 'other-vm' | 'mmio' | 'iommu' | 'msi';

/**
 * The classes from the most ordinary to the most alarming. A reporter draws them in this order
 * (the alarming ones on top where they share a pixel); the index is the piece's `cls`.
 */
export const HOST_CLASSES: readonly HostClass[] = ['own', 'own-device', 'host', 'other-vm', 'mmio', 'iommu', 'msi'];

/** Words for each class (legends, hover text). */
export const HOST_CLASS_TEXT: Record<HostClass, string> = {
  own: "the VM's own memory",
  'own-device': "the VM's own devices' BARs",
  host: 'memory a host domain maps',
  'other-vm': "another VM's memory",
  mmio: 'MMIO and reserved regions',
  iommu: 'I/O MMU structures',
  msi: 'the MSI window',
};

/**
 * Priority of the labels, lowest first; where labels overlap the highest wins. Unit registers
 * outrank the VM's own BARs (they are never a device's), which outrank other non-RAM regions
 * (a BAR lies inside the host's MMIO window): the same rules hpa-leak-mmio applies.
 */
const RANK_CLASS: readonly HostClass[] = ['own', 'host', 'other-vm', 'mmio', 'own-device', 'mmio', 'iommu', 'msi'];
const R_HOST = 1;
const R_OTHER_VM = 2;
const R_MMIO = 3;
const R_OWN_DEVICE = 4;
const R_UNIT_REGISTERS = 5;
const R_IOMMU = 6;
const R_MSI = 7;
const CLASS_INDEX = new Map(HOST_CLASSES.map((c, i) => [c, i]));
const RANK_TO_CLS = Uint8Array.from(RANK_CLASS, (c) => CLASS_INDEX.get(c)!);

/** Pieces of a domain's mappings, by host page: [start, end) host page numbers, a class, the mapping. */
export interface ClassifiedPieces {
  start: Float64Array;
  end: Float64Array;
  /** Index into HOST_CLASSES. */
  cls: Uint8Array;
  /** Index into the domain's mappings (the piece's IOVA is iovaPfn + (start − hpaPfn)). */
  mapping: Uint32Array;
  length: number;
}

/** A VM domain with its classified host pieces. */
export interface VmDomainMap {
  key: string;
  unit: number;
  segment: number;
  unitName?: string;
  did: number;
  root: number;
  kind: Domain['kind'];
  /** VM names of its assigned devices (empty without VM command lines). */
  vms: string[];
  /** Assigned devices translating through it. */
  devices: string[];
  /** False when part of the walk could not be read. */
  complete: boolean;
  mappings: MappingList;
  pieces: ClassifiedPieces;
  /** Pages per class (by HOST_CLASSES index). */
  pagesByClass: number[];
}

/** Owner of a domain as hpa-leak-shared counts owners: the host, one named VM, or the domain itself. */
function ownerKey(info: DomainInfo): string {
  if (info.isHost) return 'host';
  if (info.vms.size === 1) return `vm:${[...info.vms][0]}`;
  return `domain:${info.key}`;
}

/** The union of some domains' host footprints (any permission), sorted and disjoint. */
function footprintUnion(domains: readonly DomainInfo[]): PageRanges {
  const lists: PageRanges[] = domains.map((d) => {
    const v = hostView(knownMappingList(d.domain));
    return { start: v.sortedStart, end: v.sortedEnd, tag: new Uint32Array(0), length: v.sortedStart.length };
  });
  return unionOfSorted(lists);
}

/** Growable labelled intervals [start, end) with a rank. */
class Labels {
  s = new Float64Array(64);
  e = new Float64Array(64);
  r = new Uint8Array(64);
  n = 0;

  add(start: number, end: number, rank: number): void {
    if (end <= start) return;
    if (this.n === this.s.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.s = grow(this.s, (k) => new Float64Array(k));
      this.e = grow(this.e, (k) => new Float64Array(k));
      this.r = grow(this.r, (k) => new Uint8Array(k));
    }
    this.s[this.n] = start;
    this.e[this.n] = end;
    this.r[this.n] = rank;
    this.n++;
  }
}

/** Intervals of two sorted disjoint lists that overlap, added with `rank`. */
function addIntersection(a: PageRanges, b: PageRanges, rank: number, out: Labels): void {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a.start[i], b.start[j]);
    const hi = Math.min(a.end[i], b.end[j]);
    if (hi > lo) out.add(lo, hi, rank);
    if (a.end[i] <= b.end[j]) i++;
    else j++;
  }
}

/**
 * Resolve overlapping labels into sorted disjoint segments, each with the highest rank present:
 * one sweep over the starts and ends in order (two native sorts, no comparator).
 */
function paint(l: Labels): { start: Float64Array; end: Float64Array; rank: Uint8Array; length: number } {
  const n = l.n;
  const s = l.s.subarray(0, n);
  const e = l.e.subarray(0, n);
  const byStart = sortOrder(s, e, n);
  const byEnd = sortOrder(e, e, n);
  const outS = new Float64Array(2 * n);
  const outE = new Float64Array(2 * n);
  const outR = new Uint8Array(2 * n);
  let k = 0;
  const counts = new Int32Array(RANK_CLASS.length);
  let top = 0;
  let prev = 0;
  let i = 0;
  let j = 0;
  while (i < n || j < n) {
    const next = Math.min(i < n ? s[byStart[i]] : Infinity, j < n ? e[byEnd[j]] : Infinity);
    if (top > 0 && next > prev) {
      if (k > 0 && outE[k - 1] === prev && outR[k - 1] === top) outE[k - 1] = next;
      else {
        outS[k] = prev;
        outE[k] = next;
        outR[k] = top;
        k++;
      }
    }
    while (j < n && e[byEnd[j]] === next) counts[l.r[byEnd[j++]]]--;
    while (i < n && s[byStart[i]] === next) counts[l.r[byStart[i++]]]++;
    prev = next;
    top = 0;
    for (let r = counts.length - 1; r > 0; r--) {
      if (counts[r] > 0) {
        top = r;
        break;
      }
    }
  }
  return { start: outS.subarray(0, k), end: outE.subarray(0, k), rank: outR.subarray(0, k), length: k };
}

/** Shared per snapshot: the indexes every VM domain is matched against. */
interface Sources {
  r: Roles;
  mmio: ReturnType<typeof mmioIndex>;
  rmrr: RangeIndex<Rmrr>;
  structures: ReturnType<typeof structureIndex>;
  host: PageRanges;
}

function sources(snapshot: Snapshot): Sources {
  const r = roles(snapshot);
  const rmrrs = (snapshot.dmar?.structures ?? []).filter((x): x is Rmrr => x.kind === 'RMRR');
  return {
    r,
    mmio: mmioIndex(snapshot),
    rmrr: new RangeIndex(rmrrs.map((x) => ({ startPfn: Math.floor(x.base / 4096), endPfn: Math.floor(x.limit / 4096) + 1, label: x }))),
    structures: structureIndex(snapshot),
    host: footprintUnion(r.hostDomains().filter((d) => d.domain.mappingsKnown)),
  };
}

/** Cut a VM domain's mappings into pieces by what their host pages hit. */
function classify(snapshot: Snapshot, info: DomainInfo, src: Sources): { pieces: ClassifiedPieces; pagesByClass: number[] } {
  const ms = knownMappingList(info.domain);
  const view = hostView(ms);
  const foot = unionRanges({ start: view.sortedStart, end: view.sortedEnd, tag: new Uint32Array(0), length: ms.length });
  const labels = new Labels();

  addIntersection(foot, src.host, R_HOST, labels);
  const owner = ownerKey(info);
  const others = src.r.vmDomains().filter((d) => d !== info && d.domain.mappingsKnown && ownerKey(d) !== owner && ![...d.vms].some((v) => info.vms.has(v)));
  if (others.length > 0) addIntersection(foot, footprintUnion(others), R_OTHER_VM, labels);

  // The VM's own devices: every device assigned to the VM(s) of the domain (as hpa-leak-mmio).
  const own = new Set<string>(info.assignedUsers);
  for (const a of src.r.assigned.values()) if (a.vm !== undefined && info.vms.has(a.vm)) own.add(a.bdf);
  const bars = barIndex(snapshot, own);
  // Which mappings reach a region, in one merge each; then the regions, only for those.
  const reach = mappingsReaching(ms, src.mmio, src.rmrr, bars);
  const structuresReach = src.structures.size > 0 ? src.structures.overlapsEach(ms) : new Uint8Array(ms.length);
  for (let i = 0; i < ms.length; i++) {
    if (reach[i] === 0 && structuresReach[i] === 0) continue;
    const a = ms.hpaPfn[i];
    const b = a + ms.pages[i];
    src.mmio.query(a, b, (reg, from, to) => labels.add(from, to, reg.kind === 'msi-window' ? R_MSI : reg.kind === 'unit-registers' ? R_UNIT_REGISTERS : R_MMIO));
    src.rmrr.query(a, b, (_x, from, to) => labels.add(from, to, R_MMIO));
    bars.query(a, b, (_x, from, to) => labels.add(from, to, R_OWN_DEVICE));
    if (structuresReach[i] !== 0) src.structures.query(a, b, (_x, from, to) => labels.add(from, to, R_IOMMU));
  }
  const p = paint(labels);

  // Each mapping in host order against the painted segments: gaps are the VM's own memory.
  const cap = ms.length + 2 * p.length;
  const out: ClassifiedPieces = { start: new Float64Array(cap), end: new Float64Array(cap), cls: new Uint8Array(cap), mapping: new Uint32Array(cap), length: 0 };
  const pagesByClass = new Array<number>(HOST_CLASSES.length).fill(0);
  const push = (s: number, e: number, cls: number, m: number): void => {
    const k = out.length++;
    out.start[k] = s;
    out.end[k] = e;
    out.cls[k] = cls;
    out.mapping[k] = m;
    pagesByClass[cls] += e - s;
  };
  for (let o = 0; o < ms.length; o++) {
    const mi = view.order[o];
    const s = view.sortedStart[o];
    const e = view.sortedEnd[o];
    // First segment ending after s (mappings may alias host pages, so no running pointer).
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p.end[mid] <= s) lo = mid + 1;
      else hi = mid;
    }
    let at = s;
    for (let k = lo; k < p.length && p.start[k] < e; k++) {
      const from = Math.max(at, p.start[k]);
      const to = Math.min(e, p.end[k]);
      if (from > at) push(at, from, 0, mi);
      push(from, to, RANK_TO_CLS[p.rank[k]], mi);
      at = to;
    }
    if (at < e) push(at, e, 0, mi);
  }
  return { pieces: out, pagesByClass };
}

/**
 * Every VM domain whose mappings the capture holds, in the checks' domain order, with its
 * mappings classified. Memoized per snapshot.
 */
export function vmDomainMaps(snapshot: Snapshot): VmDomainMap[] {
  const hit = cache.get(snapshot);
  if (hit) return hit;
  const vmDomains = roles(snapshot).vmDomains().filter((d) => d.domain.mappingsKnown);
  // The sources (the host domains' footprint above all) only when there is a VM domain to cut.
  const src = vmDomains.length > 0 ? sources(snapshot) : undefined;
  const out = src === undefined ? [] : vmDomains.sort(byDomain).map((info): VmDomainMap => {
    const { pieces, pagesByClass } = classify(snapshot, info, src);
    const m: VmDomainMap = {
      key: info.key, unit: info.unit.registerBase, segment: info.unit.segment, did: info.domain.did, root: info.domain.root, kind: info.domain.kind,
      vms: [...info.vms].sort(), devices: [...info.assignedUsers].sort(), complete: info.domain.complete, mappings: knownMappingList(info.domain), pieces, pagesByClass,
    };
    if (info.unit.name !== undefined) m.unitName = info.unit.name;
    return m;
  });
  cache.set(snapshot, out);
  return out;
}

const cache = new WeakMap<Snapshot, VmDomainMap[]>();
