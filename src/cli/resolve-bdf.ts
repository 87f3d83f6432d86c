/** Turns a device named on the command line into a unit + BDF of the snapshot. */
import { UsageError } from '../errors.js';
import type { Snapshot, Unit } from '../model/types.js';
import { parseBdf, type Bdf } from '../util/bdf.js';

export function resolveDevice(snapshot: Snapshot, text: string): { unit: Unit; bdf: Bdf } {
  const segments = [...new Set(snapshot.units.map((u) => u.segment))];
  let bdf: Bdf | undefined;
  try {
    bdf = parseBdf(text, segments.length === 1 ? segments[0] : 0);
  } catch (e) {
    throw new UsageError(`--bdf: ${(e as Error).message}`);
  }
  if (!bdf) {
    // A FreeBSD device name such as ppt0, from the inventory.
    const dev = snapshot.devices.find((d) => d.deviceUnit === text) ?? snapshot.units.flatMap((u) => u.contexts).find((c) => c.driverHint === text);
    if (!dev) throw new UsageError(`--bdf: ${JSON.stringify(text)} is neither a PCI address (0000:03:00.0, 3/0/8, pci0:3:0:8) nor a device name in the capture's inventory`);
    bdf = { segment: dev.segment, bus: dev.bus, devfn: dev.devfn };
  }
  const units = snapshot.units.filter((u) => u.segment === bdf!.segment);
  if (units.length === 0) throw new UsageError(`--bdf: the capture has no remapping unit for segment ${bdf.segment}`);
  // The unit whose tables hold the device; else the one whose scope covers it; else the only one.
  const holding = units.find((u) => u.contexts.some((c) => c.bus === bdf!.bus && c.devfn === bdf!.devfn));
  if (holding) return { unit: holding, bdf };
  const scoped = units.find((u) => u.drhd?.scopes.some((s) => s.resolved?.bus === bdf!.bus && s.resolved.devfn === bdf!.devfn));
  if (scoped) return { unit: scoped, bdf };
  const all = units.find((u) => u.drhd?.includePciAll);
  return { unit: all ?? units[0], bdf };
}
