/**
 * PCI functions' memory resources from /proc/iomem's nested entries. The kernel nests each BAR
 * (and expansion ROM) under its bridge window, named by the function, and a driver's claim of it
 * one level deeper (kernel/resource.c r_show, drivers/pci/setup-res.c):
 *
 *     fe400000-fe5fffff : PCI Bus 0000:01
 *       fe440000-fe45ffff : 0000:01:00.0
 *         fe440000-fe45ffff : vfio-pci
 *
 * Top-level entries stay the memory map's business (src/text/memory-map.ts); this reads only the
 * ones named `SSSS:BB:DD.F`, so the checks can tell an assigned device's own BARs from other MMIO.
 */
import type { PciResource } from '../model/types.js';
import { formatBdf, parseBdf } from '../util/bdf.js';
import { parseHex, toSafeNumber } from '../util/hex.js';

export interface IomemEntry {
  /** Indentation in characters (the kernel indents two spaces per level). */
  depth: number;
  startHex: string;
  endHex: string;
  name: string;
  line: number;
}

const BDF_NAME = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/i;

/** Resources named by a PCI function, each with the first claim nested directly under it. */
export function iomemPciResources(entries: readonly IomemEntry[], part: string): PciResource[] {
  const out: PciResource[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.depth === 0 || !BDF_NAME.test(e.name)) continue;
    let start: number;
    let end: number;
    try {
      start = toSafeNumber(parseHex(e.startHex));
      end = toSafeNumber(parseHex(e.endHex) + 1n);
    } catch {
      continue; // the memory-map reader already warned about this line
    }
    if (end <= start) continue;
    const bdf = formatBdf(parseBdf(e.name));
    const r: PciResource = { bdf, start, end, source: { part, line: e.line } };
    const child = entries[i + 1];
    if (child !== undefined && child.depth > e.depth && !BDF_NAME.test(child.name)) r.claimedBy = child.name;
    out.push(r);
  }
  return out;
}
