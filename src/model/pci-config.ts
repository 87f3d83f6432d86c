/**
 * Configuration space on the PCI functions: each dump decoded (src/decode/pci-config.ts) and put
 * on its function in `devices[]`. A function the inventory does not list (or a capture with no
 * inventory) gets an entry from its header — vendor, device, class, bus range — so checks can
 * still see its capabilities; `inventoryKnown` stays what the inventory parts say.
 */
import { decodePciConfig } from '../decode/pci-config.js';
import { parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import type { PciConfigSpace } from './contribution.js';
import { sourceText } from './source.js';
import type { ModelWarning, PciFunction } from './types.js';

export function attachPciConfig(devices: PciFunction[], spaces: PciConfigSpace[], warnings: ModelWarning[]): void {
  const byBdf = new Map(devices.map((d) => [d.bdf, d]));
  const first = new Map<string, PciConfigSpace>();
  for (const space of spaces) {
    const kept = first.get(space.bdf);
    if (kept !== undefined) {
      // Two dumps of one function (parts in rank order): the first is used; differing bytes are said.
      if (!agree(kept.bytes, space.bytes)) {
        warnings.push({ message: `${space.bdf}: the configuration space in ${sourceText(space.source)} differs from the one in ${sourceText(kept.source)}; the first is used`, source: space.source });
      }
      continue;
    }
    first.set(space.bdf, space);
    const decoded = decodePciConfig(space.bytes);
    let dev = byBdf.get(space.bdf);
    if (dev === undefined) {
      const b = parseBdf(space.bdf);
      const h = decoded.header;
      dev = {
        bdf: space.bdf, segment: b.segment, bus: b.bus, devfn: b.devfn, passThrough: false,
        vendorId: h.vendorId, deviceId: h.deviceId, classCode: h.classCode,
        ...(h.bridge !== undefined ? { secondaryBus: h.bridge.secondary, subordinateBus: h.bridge.subordinate } : {}),
        source: space.source,
      };
      devices.push(dev);
      byBdf.set(dev.bdf, dev);
    }
    dev.config = decoded;
    dev.configSource = space.source;
    // A bridge's bus range from its header when the inventory did not give one (lspci -nnk does not).
    if (decoded.header.bridge !== undefined && dev.secondaryBus === undefined) {
      dev.secondaryBus = decoded.header.bridge.secondary;
      dev.subordinateBus = decoded.header.bridge.subordinate;
    }
    for (const w of decoded.warnings) warnings.push({ message: `${space.bdf}: configuration space at ${hex(w.offset)}: ${w.message}`, source: space.source });
  }
}

/** Whether two dumps of one function agree over the bytes both hold. */
function agree(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
