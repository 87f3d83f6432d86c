import type { Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

const meta = checkMeta({
  id: 'unit-capability-mismatch',
  defaultSeverity: 'warning',
  summary: 'remapping units that differ in capabilities pass-through relies on (device-TLB, pass-through, SAGAW, superpages)',
  description: `## What it means
The host's remapping units differ in ECAP.DT (device-TLB), ECAP.PT (pass-through), CAP.SAGAW
(supported table depths) or CAP.SLLPS (2 MiB / 1 GiB superpages).

## Why it matters
Hypervisors and I/O MMU drivers often build one domain format for all units. On a unit lacking the
feature the entries are invalid: FreeBSD PR 229852 — on a host with two DMAR units where only one
supported device-IOTLB, pass-through broke for devices under the other.

## How to fix / where to look
Check which unit covers the device you pass through (\`dmarsift decode\`) and whether the
hypervisor version handles mixed units; BIOS updates sometimes align the units. Evidence lists each
unit's value. Inputs: registers (CAP/ECAP; units without them are skipped).`,
  needs: ['registers'],
  messages: {
    unitsDiffer: (d: { field: string; values: [Unit, string][] }) =>
      `Remapping units differ in ${d.field} (${d.values.map(([u, v]) => `${hex(u.registerBase)}: ${v}`).join(', ')}): a device passed through under the unit lacking the feature may not work (FreeBSD PR 229852).`,
  },
  example: { sample: 'unit-capability-mismatch' },
});

const FIELDS: { name: string; get: (u: Unit) => number | boolean | undefined; show: (v: number | boolean) => EvidenceValue }[] = [
  { name: 'ECAP.DT', get: (u) => u.registers?.ECAP?.DT, show: (v) => v },
  { name: 'ECAP.PT', get: (u) => u.registers?.ECAP?.PT, show: (v) => v },
  { name: 'CAP.SAGAW', get: (u) => u.registers?.CAP?.SAGAW, show: (v) => hex(v as number) },
  { name: 'CAP.SLLPS', get: (u) => u.registers?.CAP?.SLLPS, show: (v) => hex(v as number) },
];

export const unitCapabilityMismatch = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    for (const f of FIELDS) {
      const known = snapshot.units.map((u) => ({ u, v: f.get(u) })).filter((x): x is { u: Unit; v: number | boolean } => x.v !== undefined);
      if (known.length < 2) continue;
      const distinct = new Set(known.map((x) => x.v));
      if (distinct.size < 2) continue;
      out.push(finding(meta, {
        messageId: 'unitsDiffer', data: { field: f.name, values: known.map((x): [Unit, string] => [x.u, String(f.show(x.v))]) },
        unit: known[0].u,
        evidence: { field: f.name, units: known.map((x) => ({ unit: hex(x.u.registerBase), value: f.show(x.v) })) },
      }));
    }
    return ran(out);
  },
});
