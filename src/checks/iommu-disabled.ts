import type { Unit } from '../model/types.js';
import { protectedRegions, regionText, unitDmaMode } from '../model/dma.js';
import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'iommu-disabled',
  defaultSeverity: 'critical',
  summary: 'a unit covering an assigned device has translation off (GSTS.TES = 0) or no root table',
  description: `## What it means
The remapping unit that covers a device handed to a VM does not translate: GSTS.TES is 0, or no
root table is latched (GSTS.RTPS = 0 / no root-table address). DMA from the device reaches host
memory untranslated.

## Why it matters
The guest programs its device with guest-physical addresses; without translation those land on
the same host-physical addresses, in memory that belongs to the host or other VMs (FreeBSD
r304858: bhyve enabled the I/O MMU only when pass-through devices were configured at vmm.ko load).

## How to fix / where to look
Enable the I/O MMU before starting VMs with pass-through devices (FreeBSD: \`hw.vmm.force_iommu=1\`
before r304858; Linux: \`intel_iommu=on\`). Check \`dmesg\` for DMAR initialisation errors.

Inputs: registers (required). Uses the DMAR table to find the covering unit, and VM command lines to
know which devices are assigned; without VM data a pass-through device is only reported (as
\`error\`) when every unit that may cover it is off. Without registers the check cannot tell.`,
  needs: ['registers'],
  messages: {
    unitOff: (d: { bdf: string; vm?: string; unit: Unit }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} is a pass-through device but remapping unit ${hex(d.unit.registerBase)} that covers it has ${off(d.unit)}: ${fate(d.unit)}; enable the I/O MMU before starting the VM.`,
  },
  example: { sample: 'iommu-not-enabled' },
});

/** Why the unit does not isolate DMA, from the decision translate makes too (model/dma.ts). */
function off(u: Unit): string | undefined {
  const mode = unitDmaMode(u);
  if (mode.kind === 'untranslated') return 'translation off (GSTS.TES = 0)';
  // An RTADDR.TTM the unit does not support faults every request (dma.ts): nothing reaches memory.
  if (mode.kind === 'faults' && mode.cause === 'no-root-table') return 'no root table latched (GSTS.RTPS = 0)';
  return undefined;
}

/** What becomes of the device's DMA, in the words translate uses. */
function fate(u: Unit): string {
  const mode = unitDmaMode(u);
  if (mode.kind === 'faults') return 'no translation structure isolates its DMA (the unit faults it, or passes it on implementations that ignore RTPS)';
  const regions = protectedRegions(u);
  return `its DMA reaches host memory untranslated${regions.length > 0 ? ` (except ${regions.map(regionText).join(' and ')}, which the unit blocks)` : ''}`;
}

export const iommuDisabled = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const candidates = new Set<string>([...r.assigned.keys()]);
    if (!snapshot.vmsKnown) for (const bdf of r.passThrough) candidates.add(bdf);
    for (const bdf of [...candidates].sort()) {
      const cov = r.coverage(bdf);
      let units: Unit[];
      if (cov.status === 'covered') units = [r.unitByBase(cov.unit)].filter((u): u is Unit => u !== undefined);
      else if (cov.status === 'unknown') units = cov.candidates.map((b) => r.unitByBase(b)).filter((u): u is Unit => u !== undefined);
      else continue; // no covering unit: ppt-unmapped reports it
      if (units.length === 0 || !units.every((u) => off(u) !== undefined)) continue;
      const u = units[0];
      const a = r.assigned.get(bdf);
      out.push(finding(meta, {
        messageId: 'unitOff', data: { bdf, vm: a?.vm, unit: u },
        severity: a ? 'critical' : 'error',
        severityReason: 'no VM command lines in the capture: the device is pass-through but not known to be in a VM',
        unit: u, bdf,
        evidence: {
          units: units.map((x) => hex(x.registerBase)),
          translationEnabled: u.translationEnabled ?? null,
          rootTablePointerSet: u.rootTablePointerSet ?? null,
          gsts: u.registers?.GSTS !== undefined ? hex(u.registers.GSTS.raw) : undefined,
          coverage: cov.status,
          vm: a?.vm,
          protectedRegions: protectedRegions(u).length > 0 ? protectedRegions(u).map((r) => ({ region: r.name, start: hex(r.start), end: hex(r.end) })) : undefined,
        },
      }));
    }
    return ran(out);
  },
});
