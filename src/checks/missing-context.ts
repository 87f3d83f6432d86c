import { hex } from '../util/hex.js';
import type { PciFunction, Snapshot } from '../model/types.js';
import { finding, ranInPart } from './finding.js';
import { roles } from '../model/roles.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'missing-context',
  defaultSeverity: 'warning',
  summary: "a host-driver function with no present entry where the unit's other host-driver functions have entries",
  description: `## What it means
A function bound to a host driver has no present context entry, although the unit that covers it
has entries for its other host-driver functions.

## Why it matters
Its DMA is blocked (faults) or, on some set-ups, the driver silently fails. Typical causes: the
device was given back from ppt(4) without being put back in the host domain (FreeBSD r305485), it
was hot-added, or it is an SR-IOV VF created after the tables were built (r305497).

## How to fix / where to look
Re-attach the driver (\`devctl detach/attach\`, or unbind/bind on Linux); check the I/O MMU driver
sees PCI add events. \`dmarsift diff\` against an earlier capture shows when it disappeared.

Counted as host-driver functions: inventory entries with a driver that is not a pass-through driver
(\`none\` counts as no driver), excluding PCI bridges (class 06xx), which many hosts never give
entries. Only functions whose covering unit is known are judged, and only where that unit's
context table could be read (an unreadable table is unknown, not absent: the check then runs in
part). Inputs: tables, inventory (and
the DMAR table for coverage, else the unit holding the other entries is assumed).`,
  needs: ['tables', 'inventory'],
  messages: {
    noEntryAmongPeers: (d: { bdf: string; driver?: string; unit: number; peers: number }) =>
      `${d.bdf} (${d.driver}) has no present context entry in unit ${hex(d.unit)} although ${d.peers} other host-driver function${d.peers > 1 ? 's' : ''} under it ha${d.peers > 1 ? 've' : 's'} one: its DMA is blocked; re-attach its driver.`,
  },
  example: { sample: 'missing-context' },
});

function isHostDriver(d: PciFunction): boolean {
  if (d.passThrough || d.driver === undefined || d.driver === '' || d.driver === 'none') return false;
  if (d.classCode !== undefined && d.classCode >>> 16 === 0x06) return false; // bridges
  return true;
}

export const missingContext = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const byUnit = new Map<number, { withEntry: PciFunction[]; without: PciFunction[] }>();
    for (const d of snapshot.devices) {
      if (!isHostDriver(d) || r.isPassThrough(d.bdf) || r.isAssigned(d.bdf)) continue;
      const unit = r.unitFor(d.bdf).unit?.registerBase;
      if (unit === undefined) continue;
      const holder = r.presentContexts.get(d.bdf)?.[0];
      // An entry in a table the capture could not read is unknown, not absent (see unexamined).
      if (holder === undefined && r.unknownEntry(d.bdf).length > 0) continue;
      const g = byUnit.get(unit) ?? { withEntry: [], without: [] };
      (holder !== undefined ? g.withEntry : g.without).push(d);
      byUnit.set(unit, g);
    }
    for (const [unit, g] of [...byUnit].sort((a, b) => a[0] - b[0])) {
      if (g.withEntry.length === 0) continue;
      for (const d of g.without) {
        out.push(finding(meta, {
          messageId: 'noEntryAmongPeers', data: { bdf: d.bdf, driver: d.driver, unit, peers: g.withEntry.length },
          unit, bdf: d.bdf, source: d.source,
          evidence: { driver: d.driver, peersWithEntries: g.withEntry.slice(0, 8).map((x) => x.bdf), physfn: d.physfn },
        }));
      }
    }
    return ranInPart(unexamined(snapshot), out);
  },
});

/** Host functions whose entry is in a table the capture could not read: unknown, not absent. */
function unexamined(snapshot: Snapshot): string[] {
  const r = roles(snapshot);
  return snapshot.devices
    .filter((d) => isHostDriver(d) && !r.isPassThrough(d.bdf) && !r.isAssigned(d.bdf) && !r.presentContexts.has(d.bdf))
    .flatMap((d) => r.unknownEntry(d.bdf).slice(0, 1).map(({ unit, table }) => `whether ${d.bdf} has a context entry in unit ${hex(unit.registerBase)} is unknown: ${table.message}`));
}
