import { hex } from '../util/hex.js';
import { parseBdf } from '../util/bdf.js';
import { faultEvidence } from './fault-evidence.js';
import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import { ownerText, rawHex } from './evidence.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'stale-context',
  defaultSeverity: 'error',
  summary: 'a present context entry for a function the inventory does not have (hot-unplugged, VF destroyed)',
  description: `## What it means
A unit's context table holds a present entry for a PCI function that is not in the capture's PCI
inventory (or that dmardump printed as \`(absent)\`): the device was hot-unplugged or its SR-IOV VF
destroyed, and the entry was never cleared (FreeBSD r305497 added the PCI add/remove hooks).

## Why it matters
Whatever appears next at that requester ID (a hot-added card, a re-created VF) inherits the old
translation — when that is a VM's domain, a host device can DMA into the VM's memory, or a device
meant for one VM starts in another. Severity is \`critical\` when the entry points at a VM domain.

## How to fix / where to look
Clear the entry (detach/re-attach the driver; on FreeBSD make sure the I/O MMU hooks see PCI
add/remove events). Compare \`pciconf -lv\` with the tables; \`dmarsift diff\` shows when it appeared.

A present entry on a bridge's secondary bus at devfn 0 with no such function is reported at \`info\`:
it may be the DMA alias of a PCIe-to-PCI bridge, which Linux programs on purpose.

Inputs: tables (required), inventory (optional: without it only entries that dmardump marks
\`(absent)\` are found).`,
  needs: ['tables', 'inventory'],
  optional: ['inventory'],
  messages: {
    staleIntoVmDomain: (d: { bdf: string; did: number; owner: string; why: string }) =>
      `${d.bdf} has a present context entry (DID ${d.did}) pointing at the domain of ${d.owner}, but ${d.why}: a device appearing at this address would DMA into the VM's memory; clear the entry.`,
    staleEntry: (d: { bdf: string; did: number; why: string }) =>
      `${d.bdf} has a present context entry (DID ${d.did}) but ${d.why} (hot-unplugged or VF destroyed): clear the stale entry before a new device appears at this address.`,
  },
  example: { sample: 'dmardump-absent' },
});

export const staleContext = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const faultsOf = (bdf: string) => snapshot.faults.filter((f) => f.bdf === bdf);
    const bridgeSecondaries = new Set<string>();
    for (const d of snapshot.devices) {
      if (d.secondaryBus !== undefined) bridgeSecondaries.add(`${d.segment}:${d.secondaryBus}`);
    }
    for (const unit of snapshot.units) {
      for (const ctx of unit.contexts) {
        if (!ctx.present) continue;
        const absentHint = ctx.driverHint?.toLowerCase() === 'absent';
        const missing = snapshot.inventoryKnown && !r.devices.has(ctx.bdf);
        if (!absentHint && !missing) continue;
        const uses = r.usesByBdf.get(ctx.bdf)?.filter((u) => u.unit === unit) ?? [];
        const vmDomains = uses.map((u) => (u.domainKey !== undefined ? r.domains.get(u.domainKey) : undefined)).filter((d) => d?.isVm === true);
        const b = parseBdf(ctx.bdf);
        const alias = b.devfn === 0 && bridgeSecondaries.has(`${b.segment}:${b.bus}`) && !absentHint;
        const vm = vmDomains[0];
        const why = absentHint ? 'dmardump marks the function absent' : 'the PCI inventory has no such function';
        out.push(finding(meta, {
          ...(vm !== undefined
            ? { messageId: 'staleIntoVmDomain', data: { bdf: ctx.bdf, did: ctx.did, owner: ownerText(vm), why } } as const
            : { messageId: 'staleEntry', data: { bdf: ctx.bdf, did: ctx.did, why } } as const),
          severity: alias ? 'info' : vm !== undefined ? 'critical' : 'error',
          severityReason: alias
            ? 'devfn 0 on a bridge secondary bus: possibly a PCIe-to-PCI bridge DMA alias'
            : 'the entry points at a VM domain',
          unit, bdf: ctx.bdf, did: ctx.did, source: ctx.source,
          evidence: {
            raw: rawHex(ctx.raw), driverHint: ctx.driverHint, slptptr: hex(ctx.slptptr), tt: ctx.tt,
            // DMA faults recorded from the missing function: something used the entry's requester ID.
            faults: faultsOf(ctx.bdf).length > 0 ? faultsOf(ctx.bdf).slice(0, 8).map(faultEvidence) : undefined,
            vmDomain: vm !== undefined ? { did: vm.domain.did, root: hex(vm.domain.root), users: [...vm.assignedUsers].sort(), vms: [...vm.vms].sort() } : undefined,
          },
        }));
      }
    }
    return ran(out);
  },
});
