import type { Snapshot } from '../model/types.js';
import { finding, ranInPart } from './finding.js';
import { hex } from '../util/hex.js';
import { mappingListOf } from '../model/mapping-list.js';
import { roles } from '../model/roles.js';
import { rawHex } from './evidence.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'ppt-empty-domain',
  defaultSeverity: 'warning',
  summary: 'an assigned device translated through a domain with no mappings',
  description: `## What it means
A device given to a VM translates through a domain whose page tables map nothing.

A device is *assigned* when a VM's command line gives it to a running VM (bhyve \`-s …,passthru,B/S/F\`
or vmrun.sh \`-p\`; QEMU \`-device vfio-pci,host=…\` or \`sysfsdev=…\`). Without VM command lines in
the capture, a pass-through device (ppt, vfio-pci, pciback, pci-stub) with a present context entry
counts as assigned.

## Why it matters
Every DMA of the device faults: the guest's driver sees timeouts. Usually the hypervisor attached
the device before it mapped the guest's memory, or unmapped the memory on VM teardown while the
device stayed attached.

## How to fix / where to look
Look at the hypervisor's domain set-up (bhyve: \`vm_iommu_map\` runs when the first pass-through
device is attached). A capture taken while a VM starts can show this transiently.

Not a finding: a device bound to vfio-pci that no running VM uses, in an empty domain — Linux's
normal idle state after a VM exits (the device is back in its own DMA domain, which vfio-pci maps
nothing into: its DMA is blocked, which is safe). With the VM command lines in the capture such a
device is not assigned; without them a vfio-pci device cannot be told from a VM's, and the finding
is \`info\`. Only domains whose tables the capture holds (a memory walk or debugfs
domain_translation_struct) count: a domain whose tables were not captured is not "empty", nor is
one whose page-table root the memory image lacks (the check runs in part and names it).
Inputs: tables, mappings (VM command lines tell assigned devices from idle ones).`,
  needs: ['tables', 'mappings'],
  messages: {
    emptyDomain: (d: { bdf: string; vm?: string; did: number; root: number }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} translates through domain ${d.did} (table ${hex(d.root)}), which maps nothing: all its DMA faults; check that the hypervisor mapped the guest's memory.`,
    maybeIdleVfio: (d: { bdf: string; did: number; root: number }) =>
      `${d.bdf} (vfio-pci) translates through domain ${d.did} (table ${hex(d.root)}), which maps nothing: that is Linux's state for a vfio-pci device no VM uses (its DMA is blocked); if a VM uses it, all its DMA faults. Add the VM command lines to the capture to tell.`,
  },
  example: { sample: 'ppt-empty-domain' },
});

export const pptEmptyDomain = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const u of r.uses) {
      if (u.type !== 'translated' || u.domain === undefined) continue;
      const a = r.assigned.get(u.ctx.bdf);
      if (!a) continue;
      const d = u.domain;
      if (!d.mappingsKnown || d.pageCount > 0 || mappingListOf(d).length > 0) continue;
      // A walk that read nothing because its pages are missing (or cut short) knows nothing: unknown, not empty.
      if (!d.complete) continue;
      const driver = r.devices.get(u.ctx.bdf)?.driver ?? r.hints.get(u.ctx.bdf);
      // Without VM command lines an idle vfio-pci device (Linux's state after its VM exited) looks
      // exactly like an assigned one in an empty domain.
      const maybeIdle = a.why === 'present-context' && driver === 'vfio-pci';
      const where = { unit: u.unit, bdf: u.ctx.bdf, did: d.did, source: u.source, evidence: { root: hex(d.root), pasid: u.pasid, complete: d.complete, raw: rawHex(u.raw), vm: a.vm, driver } };
      out.push(maybeIdle
        ? finding(meta, {
          messageId: 'maybeIdleVfio', data: { bdf: u.ctx.bdf, did: d.did, root: d.root },
          severity: 'info', severityReason: 'no VM command lines: an idle vfio-pci device sits in an empty domain', ...where,
        })
        : finding(meta, { messageId: 'emptyDomain', data: { bdf: u.ctx.bdf, vm: a.vm, did: d.did, root: d.root }, ...where }));
    }
    return ranInPart(unexamined(snapshot), out);
  },
});

/** The domains whose emptiness is unknown: their page table could not be read (unknown, not empty). */
function unexamined(snapshot: Snapshot): string[] {
  const r = roles(snapshot);
  const reasons = r.uses
    .filter((u) => u.type === 'translated' && u.domain !== undefined && r.assigned.has(u.ctx.bdf) && u.domain.mappingsKnown && !u.domain.complete && u.domain.pageCount === 0)
    .map((u) => `whether domain ${u.domain!.did} of ${u.ctx.bdf} (table ${hex(u.domain!.root)}) maps anything is unknown: its page table could not be read`);
  return [...new Set(reasons)];
}
