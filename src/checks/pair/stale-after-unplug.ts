import { hex } from '../../util/hex.js';
import { finding, ran } from '../finding.js';
import { roles } from '../../model/roles.js';
import { ownerText, rawHex } from '../evidence.js';
import { checkMeta, type Finding } from '../types.js';
import { definePairCheck } from './types.js';

const meta = checkMeta({
  id: 'stale-after-unplug',
  defaultSeverity: 'error',
  summary: 'a context entry that survived its device leaving the inventory between the two captures',
  description: `## What it means
The function was in BEFORE's PCI inventory and is gone from AFTER's (hot-unplugged, SR-IOV VF
destroyed, driver detached and device deleted), yet its present context entry is still in AFTER's
tables — the same entry, not a new one. The I/O MMU driver did not hear about the removal
(FreeBSD before r305497 had no PCI add/remove hooks; see docs/background.md).

## Why it matters
The next device to appear at that requester ID (a re-created VF, a new card in the slot) inherits
the old translation. When it pointed at a VM's domain (severity \`critical\`), a device meant for
the host or for another VM can DMA into that VM's memory.

## How to fix / where to look
Clear the entry when the device goes away (the driver's remove path, or the I/O MMU's PCI
removal hook) and invalidate the context cache for that source-id. \`dmarsift analyze AFTER\`
reports the same entry as \`stale-context\`; this check says it was left behind by the event.

Inputs: tables and PCI inventory in both captures.`,
  needs: ['tables', 'inventory'],
  messages: {
    entryIntoVmDomain: (d: { bdf: string; did: number; owner: string }) =>
      `${d.bdf} left the PCI inventory but its context entry (DID ${d.did}) still points at the domain of ${d.owner}: a device appearing at this address would DMA into that memory; clear the entry on removal.`,
    entrySurvived: (d: { bdf: string; did: number }) =>
      `${d.bdf} left the PCI inventory but its context entry (DID ${d.did}) survived the removal: clear it when the device goes away.`,
  },
  example: { before: 'vf-destroy-before', after: 'vf-destroy-after' },
});

export const staleAfterUnplug = definePairCheck({
  meta,
  run(before, after, diff) {
    const out: Finding[] = [];
    if (!before.inventoryKnown || !after.inventoryKnown) return ran(out);
    const rb = roles(before);
    const ra = roles(after);
    for (const left of diff.devices.left) {
      for (const { unit, ctx } of ra.presentContexts.get(left.bdf) ?? []) {
        const earlier = rb.presentContexts.get(left.bdf)?.find((c) => c.unit.registerBase === unit.registerBase);
        if (!earlier) continue; // a new entry for an absent function is stale-context's business
        const uses = ra.usesByBdf.get(left.bdf)?.filter((u) => u.unit === unit) ?? [];
        const vm = uses.map((u) => (u.domainKey ? ra.domains.get(u.domainKey) : undefined)).find((d) => d?.isVm === true);
        const wasVm = (rb.usesByBdf.get(left.bdf) ?? []).map((u) => (u.domainKey ? rb.domains.get(u.domainKey) : undefined)).find((d) => d?.isVm === true);
        const owner = vm ?? wasVm;
        out.push(finding(meta, {
          ...(owner !== undefined
            ? { messageId: 'entryIntoVmDomain', data: { bdf: left.bdf, did: ctx.did, owner: ownerText(owner) } } as const
            : { messageId: 'entrySurvived', data: { bdf: left.bdf, did: ctx.did } } as const),
          severity: owner !== undefined ? 'critical' : 'error',
          severityReason: 'the surviving entry points at a VM domain',
          unit, bdf: left.bdf, did: ctx.did, source: ctx.source,
          evidence: {
            driverBefore: left.before?.driver ?? null,
            slptptr: hex(ctx.slptptr),
            tt: ctx.tt ?? null,
            rawBefore: rawHex(earlier.ctx.raw),
            rawAfter: rawHex(ctx.raw),
            unchanged: earlier.ctx.raw.length === ctx.raw.length && earlier.ctx.raw.every((q, i) => q === ctx.raw[i]),
          },
        }));
      }
    }
    return ran(out);
  },
});
