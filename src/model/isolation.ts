/**
 * Isolation groups: which PCI functions can reach each other without their requests passing the
 * I/O MMU, computed the way Linux's `pci_device_group` (drivers/iommu/iommu.c) forms IOMMU groups
 * from configuration space (docs/pci-config.md):
 *
 * - going up from a function's bus, stop at the first bridge whose whole path to the root has ACS
 *   (`pci_acs_path_enabled`); every bridge passed without it joins the function to that bridge's
 *   group — all functions below a bridge without ACS share one group;
 * - a function of a multi-function device without ACS shares the group of its slot's other
 *   functions without ACS (`get_pci_function_alias_group`);
 * - `pci_acs_enabled` (drivers/pci/pci.c) with REQ_ACS_FLAGS = SV | RR | CR | UF: conventional PCI
 *   functions and PCIe-to-PCI bridges never isolate; root and downstream ports need the flags;
 *   endpoints and upstream ports need them only in a multi-function device; a flag the ACS
 *   capability does not implement counts as enabled (`pci_acs_flags_enabled`).
 *
 * Linux's device-specific quirks (pci_dev_specific_acs_enabled) and DMA aliases are not modelled;
 * a bridge whose configuration space the capture lacks makes the answer unknown, not isolated.
 */
import type { AcsBits } from '../decode/pci-config.js';
import type { PciFunction, Snapshot } from './types.js';

/** Tri-state: a bridge or function without configuration space leaves the answer unknown. */
type Known = boolean | 'unknown';

const REQ_ACS: readonly (keyof AcsBits)[] = ['SV', 'RR', 'CR', 'UF'];

export interface IsolationGroups {
  /** BDF → its group's key (the topmost function whose group it joins, or its slot). */
  groupOf: Map<string, string>;
  /** Group key → its members (BDFs, sorted). */
  members: Map<string, string[]>;
  /** BDF → why its group could not be told (a bridge or function without configuration space). */
  unknown: Map<string, string>;
}

/** Whether `d` stops peer-to-peer by ACS (pci_acs_enabled with REQ_ACS_FLAGS). */
export function acsEnabled(d: PciFunction): Known {
  const c = d.config;
  if (c === undefined || !c.capabilitiesKnown) return 'unknown';
  if (c.pcie === undefined) return false; // conventional PCI / PCI-X: no ACS
  const flags = (): Known => {
    if (c.acs === undefined) return c.extendedKnown ? false : 'unknown';
    return REQ_ACS.every((f) => !c.acs?.capability[f] || c.acs.control[f]);
  };
  switch (c.pcie.type) {
    case 'pcie-to-pci-bridge':
    case 'pci-to-pcie-bridge':
    case 'rc-event-collector':
      return false;
    case 'root-port':
    case 'downstream-port':
      return flags();
    case 'endpoint':
    case 'upstream-port':
    case 'legacy-endpoint':
    case 'rc-integrated-endpoint':
      return c.header.multiFunction && d.physfn === undefined ? flags() : true;
    default:
      return true;
  }
}

export function isolationGroups(s: Pick<Snapshot, 'devices'>): IsolationGroups {
  // The bridge whose secondary bus is `bus` (segment-wise); none: a root bus.
  const bridgeAbove = new Map<string, PciFunction>();
  for (const d of s.devices) if (d.secondaryBus !== undefined && d.secondaryBus > d.bus) bridgeAbove.set(`${d.segment}:${d.secondaryBus}`, d);
  const above = (d: PciFunction): PciFunction | undefined => bridgeAbove.get(`${d.segment}:${d.bus}`);

  /** pci_acs_path_enabled(start, NULL): ACS on start and every bridge above it. */
  const pathEnabled = (start: PciFunction): Known => {
    let unknown = false;
    for (let p: PciFunction | undefined = start, hops = 0; p !== undefined && hops < 256; p = above(p), hops++) {
      const e = acsEnabled(p);
      if (e === false) return false;
      if (e === 'unknown') unknown = true;
    }
    return unknown ? 'unknown' : true;
  };

  const groupOf = new Map<string, string>();
  const unknown = new Map<string, string>();
  for (const d of s.devices) {
    let top = d;
    let why: string | undefined;
    for (let b = above(d), hops = 0; b !== undefined && hops < 256; b = above(b), hops++) {
      const e = pathEnabled(b);
      if (e === true) break;
      if (e === 'unknown') why ??= `bridge ${b.bdf} or one above it has no configuration space (with capabilities) in the capture`;
      top = b;
    }
    const own = acsEnabled(top);
    if (own === 'unknown') why ??= `${top.bdf} has no configuration space (with capabilities) in the capture`;
    // A multi-function device without ACS: its functions without ACS share one group.
    const slotGroup = top.config?.header.multiFunction === true && own !== true;
    const key = slotGroup ? `slot ${top.bdf.slice(0, -2)}` : top.bdf;
    groupOf.set(d.bdf, key);
    if (why !== undefined) unknown.set(d.bdf, why);
  }
  const members = new Map<string, string[]>();
  for (const [bdf, key] of groupOf) members.set(key, [...(members.get(key) ?? []), bdf]);
  for (const list of members.values()) list.sort();
  return { groupOf, members, unknown };
}
