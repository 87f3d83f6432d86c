/**
 * Per remapping unit, who translates through what: devices → context entries (and PASID entries)
 * → domains → VMs, with the roles roles.ts decides (VM domain, host domain, assigned device).
 * Data for pictures (the HTML report's unit diagram); no judgement (that stays with the checks).
 */
import { domainKey, roles, type ContextUse } from './roles.js';
import type { ContextEntry, ContextMode, Domain, Snapshot } from './types.js';

export interface TopologyDevice {
  bdf: string;
  /** FreeBSD unit (`ppt0`) or the inventory's device name. */
  name?: string;
  driver?: string;
  passThrough: boolean;
  /** The VM it is assigned to, when VM data names one. */
  vm?: string;
  assigned: boolean;
  /** False for a present entry of a function the inventory lacks (stale) or dmardump prints `(absent)`. */
  inInventory: boolean;
}

export interface TopologyUse {
  bdf: string;
  type: ContextUse['type'];
  did: number;
  pasid?: number;
  /** Legacy TT, or scalable PGTT (with `pasid`). */
  tt?: number;
  pgtt?: number;
  /** Key of the domain translated through (TopologyDomain.key). */
  domain?: string;
}

export type DomainRole = 'vm' | 'host' | 'unused';

export interface TopologyDomain {
  key: string;
  did: number;
  root: number;
  kind: Domain['kind'];
  /** 4 KiB pages mapped; meaningless when !mappingsKnown. */
  pageCount: number;
  mappingsKnown: boolean;
  role: DomainRole;
  vms: string[];
}

export interface UnitTopology {
  registerBase: number;
  segment: number;
  name?: string;
  mode?: ContextMode;
  translationEnabled?: boolean;
  /** Devices with a present entry on this unit, and pass-through devices it covers that have none. */
  devices: TopologyDevice[];
  uses: TopologyUse[];
  domains: TopologyDomain[];
  vms: { name: string; hypervisor: string; memoryBytes?: number }[];
}

/** One UnitTopology per unit, in the snapshot's unit order. */
export function unitTopologies(snapshot: Snapshot): UnitTopology[] {
  const r = roles(snapshot);
  return snapshot.units.map((unit): UnitTopology => {
    const deviceOf = (bdf: string): TopologyDevice => {
      const d = r.devices.get(bdf);
      const a = r.assigned.get(bdf);
      const hint = r.hints.get(bdf);
      const out: TopologyDevice = {
        bdf, passThrough: r.isPassThrough(bdf), assigned: a !== undefined,
        inInventory: hint?.toLowerCase() !== 'absent' && (!snapshot.inventoryKnown || d !== undefined),
      };
      const name = d?.deviceUnit ?? (d?.deviceName !== undefined ? `${d.vendorName !== undefined ? d.vendorName + ' ' : ''}${d.deviceName}` : undefined) ?? (hint !== undefined && hint.toLowerCase() !== 'absent' ? hint : undefined);
      if (name !== undefined) out.name = name;
      const driver = d?.driver ?? undefined;
      if (driver !== undefined) out.driver = driver;
      if (a?.vm !== undefined) out.vm = a.vm;
      return out;
    };

    // PGTT by PASID, per context entry (a context may hold thousands of PASID entries).
    const pgttOf = new Map<ContextEntry, Map<number, number>>();
    const pgtt = (ctx: ContextEntry, pasid: number): number | undefined => {
      let m = pgttOf.get(ctx);
      if (m === undefined) pgttOf.set(ctx, (m = new Map((ctx.pasids ?? []).map((p) => [p.pasid, p.pgtt]))));
      return m.get(pasid);
    };
    const uses: TopologyUse[] = [];
    const bdfs: string[] = [];
    const seen = new Set<string>();
    for (const u of r.uses) {
      if (u.unit !== unit) continue;
      const use: TopologyUse = { bdf: u.ctx.bdf, type: u.type, did: u.did };
      if (u.pasid !== undefined) {
        use.pasid = u.pasid;
        const g = pgtt(u.ctx, u.pasid);
        if (g !== undefined) use.pgtt = g;
      } else if (u.ctx.tt !== undefined) use.tt = u.ctx.tt;
      if (u.domainKey !== undefined) use.domain = u.domainKey;
      uses.push(use);
      if (!seen.has(u.ctx.bdf)) {
        seen.add(u.ctx.bdf);
        bdfs.push(u.ctx.bdf);
      }
    }
    // Pass-through and assigned devices this unit covers but that have no entry anywhere.
    for (const bdf of [...new Set([...r.passThrough, ...r.assigned.keys()])].sort()) {
      if (seen.has(bdf) || r.presentContexts.has(bdf)) continue;
      const cov = r.coverage(bdf);
      if (cov.status === 'covered' && cov.unit === unit.registerBase) {
        seen.add(bdf);
        bdfs.push(bdf);
      }
    }

    const domains: TopologyDomain[] = [];
    const known = new Set<string>();
    const addDomain = (d: Domain): void => {
      const key = domainKey(unit, d.kind, d.did, d.root);
      if (known.has(key)) return;
      known.add(key);
      const info = r.domains.get(key);
      domains.push({
        key, did: d.did, root: d.root, kind: d.kind, pageCount: d.pageCount, mappingsKnown: d.mappingsKnown,
        role: info?.isVm ? 'vm' : info?.isHost ? 'host' : 'unused', vms: info ? [...info.vms].sort() : [],
      });
    };
    for (const info of r.domains.values()) if (info.unit === unit) addDomain(info.domain);
    for (const d of unit.domains) addDomain(d);

    const vmNames = new Set<string>();
    for (const d of domains) for (const v of d.vms) vmNames.add(v);
    for (const bdf of bdfs) {
      const v = r.assigned.get(bdf)?.vm;
      if (v !== undefined) vmNames.add(v);
    }
    const vms = [...vmNames].sort().map((name) => {
      const vm = r.vmByName.get(name);
      return { name, hypervisor: vm?.hypervisor ?? 'unknown', ...(vm?.memoryBytes !== undefined ? { memoryBytes: vm.memoryBytes } : {}) };
    });

    const t: UnitTopology = { registerBase: unit.registerBase, segment: unit.segment, devices: bdfs.map(deviceOf), uses, domains, vms };
    if (unit.name !== undefined) t.name = unit.name;
    if (unit.mode !== undefined) t.mode = unit.mode;
    if (unit.translationEnabled !== undefined) t.translationEnabled = unit.translationEnabled;
    return t;
  });
}
