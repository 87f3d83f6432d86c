import { finding } from './finding.js';
import { hex } from '../util/hex.js';
import { rawHex, roles } from './roles.js';
import type { Check, CheckMeta, Finding } from './types.js';

const meta: CheckMeta = {
  id: 'ppt-empty-domain',
  defaultSeverity: 'warning',
  summary: 'an assigned device translated through a domain with no mappings',
  description: `## What it means
A device given to a VM translates through a domain whose page tables map nothing.

## Why it matters
Every DMA of the device faults: the guest's driver sees timeouts. Usually the hypervisor attached
the device before it mapped the guest's memory, or unmapped the memory on VM teardown while the
device stayed attached.

## How to fix / where to look
Look at the hypervisor's domain set-up (bhyve: \`vm_iommu_map\` runs when the first pass-through
device is attached). A capture taken while a VM starts can show this transiently.

Only domains whose tables the capture holds (a memory walk or debugfs domain_translation_struct)
count: a domain whose tables were not captured is not "empty". Inputs: tables, mappings.`,
  needs: ['tables', 'mappings'],
};

export const pptEmptyDomain: Check = {
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const u of r.uses) {
      if (u.type !== 'translated' || u.domain === undefined) continue;
      const a = r.assigned.get(u.ctx.bdf);
      if (!a) continue;
      const d = u.domain;
      if (!d.mappingsKnown || d.pageCount > 0 || d.mappings.length > 0) continue;
      out.push(finding(meta, {
        message: `${u.ctx.bdf}${a.vm ? ` (in VM ${a.vm})` : ''} translates through domain ${d.did} (table ${hex(d.root)}), which maps nothing: all its DMA faults; check that the hypervisor mapped the guest's memory.`,
        unit: u.unit, bdf: u.ctx.bdf, did: d.did, source: u.source,
        evidence: { root: hex(d.root), pasid: u.pasid, complete: d.complete, raw: rawHex(u.raw), vm: a.vm },
      }));
    }
    return out;
  },
};
