import { hex } from '../util/hex.js';
import { faultEvidence } from './fault-evidence.js';
import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import { checkMeta, defineCheck, type Finding } from './types.js';
import { byCodeUnits } from '../util/compare.js';

const meta = checkMeta({
  id: 'fault-from-absent-device',
  defaultSeverity: 'info',
  summary: 'recorded DMA faults from a PCI function the inventory does not have (a stale device?)',
  description: `## What it means
A fault recording register or the kernel log holds a DMA fault whose source-id is a PCI function that
the capture's PCI inventory does not list. Something issued DMA with that requester ID: a device
that has since been hot-unplugged or a VF destroyed after the fault, a function the inventory tool
did not show, or a device using another function's requester ID (a DMA alias, phantom functions).

## Why it matters
It is a hint, not a defect by itself: when a present context entry for that function survives as
well (\`stale-context\`), a device re-appearing at the address inherits the old translation. The
evidence lists each fault and what the capture's tables say about it (where a walk stops now).

## How to fix / where to look
Compare the fault's time with the hot-plug and SR-IOV events in the kernel log; check
\`stale-context\` for the same function; take the inventory at the time of the fault.

Inputs: the PCI inventory (required: without it nothing can be absent from it, and the check is
not applicable) and the recorded faults (fault recording registers, or the kernel log; with none
there is nothing to report). \`stale-context\` and \`ppt-unmapped\` list faults in their evidence either way.`,
  needs: ['inventory'],
  messages: {
    faultsFromAbsent: (d: { bdf: string; faults: number; entryUnit?: number }) =>
      `${d.faults} DMA fault${d.faults > 1 ? 's' : ''} recorded from ${d.bdf}, which the PCI inventory does not list${d.entryUnit !== undefined ? `, and a present context entry for it survives in unit ${hex(d.entryUnit)} (see stale-context)` : ''}: a device was there when the fault happened (hot-unplugged or VF destroyed since?); check for a stale device.`,
  },
  example: { sample: 'fault-from-absent-device' },
});

export const faultFromAbsentDevice = defineCheck({
  meta,
  run(snapshot) {
    if (snapshot.faults.length === 0) return ran([]);
    const r = roles(snapshot);
    const byBdf = new Map<string, typeof snapshot.faults>();
    for (const f of snapshot.faults) {
      if (r.devices.has(f.bdf)) continue;
      byBdf.set(f.bdf, [...(byBdf.get(f.bdf) ?? []), f]);
    }
    const out: Finding[] = [];
    for (const [bdf, faults] of [...byBdf].sort((a, b) => byCodeUnits(a[0], b[0]))) {
      const entry = r.presentContexts.get(bdf)?.[0];
      const unit = faults.find((f) => f.unit !== undefined)?.unit ?? entry?.unit.registerBase;
      out.push(finding(meta, {
        messageId: 'faultsFromAbsent', data: { bdf, faults: faults.length, entryUnit: entry?.unit.registerBase },
        unit, bdf, source: faults[0].source,
        evidence: { faults: faults.slice(0, 8).map(faultEvidence), more: faults.length > 8 ? faults.length - 8 : undefined, presentContextEntry: entry !== undefined },
      }));
    }
    return ran(out);
  },
});
