/**
 * Which remapping unit covers a PCI function: the one rule the checks, `translate --bdf` and the
 * fault explanations share.
 *
 * With a DMAR table the firmware's device scopes decide (VT-d 8.3.1): a DRHD covers the endpoints
 * its scope names and, through a PCI-bridge scope, every bus behind the bridge (secondary through
 * subordinate, from the inventory); a DRHD with INCLUDE_PCI_ALL covers whatever no other DRHD of
 * its segment names. A bridge whose bus range the inventory does not give leaves the answer
 * unknown, with the units it could be. Without a DMAR table, the unit whose tables hold a present
 * context entry for the function covers it; otherwise which unit does is unknown.
 */
import type { DeviceScope, Drhd } from '../decode/dmar-types.js';
import { formatBdf, isBdfNotation, parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import type { PciFunction, Snapshot, Unit } from './types.js';

export type Coverage =
  | { status: 'covered'; unit: number; drhd?: Drhd; how: 'endpoint' | 'bridge' | 'include-all' | 'context-table' }
  | { status: 'unknown'; candidates: number[]; reason: string }
  | { status: 'none'; reason: string };

/** The DRHD structures of the DMAR table (empty without one). */
export function drhds(snapshot: Snapshot): Drhd[] {
  return (snapshot.dmar?.structures ?? []).filter((s): s is Drhd => s.kind === 'DRHD');
}

/** What coverage looks up, built once per snapshot by callers that ask about many functions. */
export interface CoverageIndex {
  devices: ReadonlyMap<string, PciFunction>;
  /** BDF → the units whose tables hold a present context entry for it, in unit order. */
  presentHolders: ReadonlyMap<string, Unit[]>;
}

function coverageIndex(snapshot: Snapshot): CoverageIndex {
  const devices = new Map<string, PciFunction>();
  for (const d of snapshot.devices) devices.set(d.bdf, d);
  const presentHolders = new Map<string, Unit[]>();
  for (const unit of snapshot.units) {
    for (const ctx of unit.contexts) {
      if (!ctx.present) continue;
      const list = presentHolders.get(ctx.bdf) ?? [];
      if (!list.includes(unit)) list.push(unit);
      presentHolders.set(ctx.bdf, list);
    }
  }
  return { devices, presentHolders };
}

/** Does a scope match (bus, devfn)? 'yes', 'no', or 'unknown' (bridge range or path unresolved). */
function scopeMatches(scope: DeviceScope, bus: number, devfn: number, devices: ReadonlyMap<string, PciFunction>, segment: number): 'yes' | 'no' | 'unknown' {
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

/** Which unit covers `bdf` (an `SSSS:BB:DD.F` string). */
export function coverage(snapshot: Snapshot, bdf: string, index: CoverageIndex = coverageIndex(snapshot)): Coverage {
  if (!isBdfNotation(bdf)) return { status: 'unknown', candidates: [], reason: `${bdf} is no PCI address` };
  const b = parseBdf(bdf);
  const all = drhds(snapshot).filter((d) => d.segment === b.segment);
  if (snapshot.dmar === undefined) {
    const holder = index.presentHolders.get(bdf)?.[0];
    if (holder) return { status: 'covered', unit: holder.registerBase, how: 'context-table' };
    const units = snapshot.units.filter((u) => u.segment === b.segment).map((u) => u.registerBase);
    return { status: 'unknown', candidates: units, reason: 'no DMAR table in the capture to tell which unit covers it' };
  }
  const unknown: number[] = [];
  for (const d of all) {
    if (d.includePciAll) continue;
    for (const s of d.scopes) {
      const m = scopeMatches(s, b.bus, b.devfn, index.devices, b.segment);
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

/**
 * The one unit whose tables decide `bdf`'s DMA, for questions about one device (`translate`, a
 * recorded fault without its unit, a host function's peers): the covering unit; when coverage is
 * unknown, the one candidate whose tables hold a present entry for the device, or — without a
 * DMAR table to say otherwise — the only unit of its segment. Never a guess among several, nor a
 * lone DRHD whose bridge scope may not reach the device: then the reason says why.
 */
export function unitFor(snapshot: Snapshot, bdf: string, index: CoverageIndex = coverageIndex(snapshot)): { unit: Unit; coverage: Coverage } | { unit?: undefined; reason: string } {
  const cov = coverage(snapshot, bdf, index);
  const byBase = (base: number): Unit | undefined => snapshot.units.find((u) => u.registerBase === base);
  if (cov.status === 'none') return { reason: `no remapping unit covers ${bdf} (${cov.reason})` };
  if (cov.status === 'covered') {
    const unit = byBase(cov.unit);
    return unit !== undefined ? { unit, coverage: cov } : { reason: `${bdf} is covered by remapping unit ${hex(cov.unit)}, which the capture has nothing else of` };
  }
  const candidates = cov.candidates.map(byBase).filter((u): u is Unit => u !== undefined);
  const holders = candidates.filter((u) => index.presentHolders.get(bdf)?.includes(u));
  if (holders.length === 1) return { unit: holders[0], coverage: cov };
  if (candidates.length === 1 && snapshot.dmar === undefined) return { unit: candidates[0], coverage: cov };
  if (candidates.length === 0) return { reason: `the capture has no remapping unit that may cover ${bdf} (${cov.reason})` };
  return { reason: `which remapping unit covers ${bdf} is unknown: ${cov.reason} (it may be ${candidates.map((u) => hex(u.registerBase)).join(' or ')}${snapshot.dmar !== undefined && candidates.length === 1 ? ', or none' : ''})` };
}
