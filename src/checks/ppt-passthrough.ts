import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import { rawHex } from './evidence.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'ppt-passthrough',
  defaultSeverity: 'critical',
  summary: 'an assigned device whose context/PASID entry is pass-through (TT = 10b / PGTT = 100b)',
  description: `## What it means
The context entry (legacy TT = 10b) or a PASID entry (scalable mode, PGTT = 100b) of a device given
to a VM is pass-through: the unit does not translate, IOVA = HPA.

## Why it matters
The guest programs guest-physical addresses; with pass-through they are used as host-physical
addresses, so the device reads and writes whatever host memory sits there — the same effect as a
disabled I/O MMU (FreeBSD r304858).

## How to fix / where to look
Pass-through entries belong to the host's identity domain (Linux \`iommu=pt\`). The device was moved
to the VM without being attached to the VM's domain: detach it from the VM, re-bind it to
vfio-pci/ppt, and check the hypervisor's log for I/O MMU attach errors.

Severity: \`critical\` for an assigned device; \`error\` for a pass-through device not in any VM
(with VM data: an idle ppt device should have no entry at all). Inputs: tables.`,
  needs: ['tables'],
  messages: {
    passThroughEntry: (d: { bdf: string; vm?: string; pasid?: number }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} has a pass-through ${d.pasid !== undefined ? `PASID ${d.pasid} entry (PGTT = 100b)` : 'context entry (TT = 10b)'}: its DMA uses guest addresses as host-physical addresses; attach it to the VM's translated domain.`,
  },
  example: { sample: 'dmardump-passthrough' },
});

export const pptPassthrough = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const u of r.uses) {
      if (u.type !== 'pass-through') continue;
      const bdf = u.ctx.bdf;
      const a = r.assigned.get(bdf);
      if (!a && !r.isPassThrough(bdf)) continue;
      out.push(finding(meta, {
        messageId: 'passThroughEntry', data: { bdf, vm: a?.vm, pasid: u.pasid },
        severity: a ? 'critical' : 'error',
        severityReason: 'the device is pass-through but not in a VM',
        unit: u.unit, bdf, did: u.did, source: u.source,
        evidence: { pasid: u.pasid, raw: rawHex(u.pasid !== undefined ? u.ctx.pasids?.find((p) => p.pasid === u.pasid)?.raw : u.ctx.raw), vm: a?.vm, tt: u.ctx.tt },
      }));
    }
    return ran(out);
  },
});
