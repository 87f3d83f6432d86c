/** Turns a device named on the command line into a unit + BDF of the snapshot. */
import { UsageError } from '../errors.js';
import { unitFor } from '../model/coverage.js';
import type { Snapshot, Unit } from '../model/types.js';
import { formatBdf, isBdfNotation, parseBdf, type Bdf } from '../util/bdf.js';

export function resolveDevice(snapshot: Snapshot, text: string): { unit: Unit; bdf: Bdf } {
  const segments = [...new Set(snapshot.units.map((u) => u.segment))];
  let bdf: Bdf;
  if (isBdfNotation(text)) {
    try {
      bdf = parseBdf(text, segments.length === 1 ? segments[0] : 0);
    } catch (e) {
      throw new UsageError(`--bdf: ${(e as Error).message}`);
    }
  } else {
    // A FreeBSD device name such as ppt0, from the inventory.
    const dev = snapshot.devices.find((d) => d.deviceUnit === text) ?? snapshot.units.flatMap((u) => u.contexts).find((c) => c.driverHint === text);
    if (!dev) throw new UsageError(`--bdf: ${JSON.stringify(text)} is neither a PCI address (0000:03:00.0, 3/0/8, pci0:3:0:8) nor a device name in the capture's inventory`);
    bdf = { segment: dev.segment, bus: dev.bus, devfn: dev.devfn };
  }
  if (!snapshot.units.some((u) => u.segment === bdf.segment)) throw new UsageError(`--bdf: the capture has no remapping unit for segment ${bdf.segment}`);
  // The unit the DMAR table's scopes give (model/coverage.ts, as the checks decide it); never a
  // guess among several units.
  const chosen = unitFor(snapshot, formatBdf(bdf));
  if (chosen.unit === undefined) throw new UsageError(`--bdf: ${chosen.reason}`);
  return { unit: chosen.unit, bdf };
}
