import { roles } from '../model/roles.js';
import type { ContextEntry, Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'ats-on-assigned',
  defaultSeverity: 'warning',
  summary: 'an assigned device may send translated requests (context TT = 01b, or scalable-mode DTE): the I/O MMU does not check them',
  description: `## What it means
With Address Translation Services a device asks the I/O MMU for translations, caches them in its own
device-TLB and then sends requests marked "already translated", which the unit passes on without
checking them against the tables. A legacy context entry with TT = 01b ("device-TLB") or a
scalable-mode context entry with DTE (bit 2) set allows that for the device. The ATS Enable bit
in the device's own configuration space grants nothing by itself: the context entry decides.

## Why it matters
A device given to a VM is not trusted: a malicious or compromised device (or its firmware, under
the guest's control) allowed translated requests can claim any host-physical address and reach
all of host memory, whatever the VM's page tables say.

bhyve's VT-d code (sys/amd64/vmm/intel/vtd.c) sets TT = 01b on every context entry whenever the
unit reports ECAP.DT: on such hardware every bhyve pass-through device gets this finding. That is
bhyve's design, not a misconfiguration of the host — true, worth knowing, and the reason this check
is a \`warning\` by default, not a CI failure. On Linux, VFIO devices get translated requests only
when the kernel enables ATS for them (not for untrusted devices).

## How to fix / where to look
Prefer hardware whose units do not report ECAP.DT for assigned devices, or patch vtd.c to use TT =
00b for ppt devices; on Linux check \`pci=noats\` and the device's ATS capability.

Inputs: the context entries (tables) and who is assigned. The evidence shows the device's ATS Enable
(\`atsEnable\`) when its configuration space was captured — for information only: it neither
causes nor excuses the finding.`,
  needs: ['tables'],
  messages: {
    bhyve: (d: { bdf: string; vm?: string; unit: number; how: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} may send translated requests (${d.how} in unit ${hex(d.unit)}), which the I/O MMU does not check: bhyve's vtd.c sets TT = 01b on every context when ECAP.DT is set — its design, not a misconfiguration — but a compromised device assigned this way reaches all host memory.`,
    other: (d: { bdf: string; vm?: string; unit: number; how: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} may send translated requests (${d.how} in unit ${hex(d.unit)}), which the I/O MMU does not check: a compromised device assigned this way reaches all host memory.`,
  },
  example: { sample: 'bhyve-host' },
});

/** How a present context entry lets the device send translated requests, or undefined. */
function translatedRequests(unit: Unit, ctx: ContextEntry): string | undefined {
  if (unit.mode === 'scalable' || ctx.pasids !== undefined) return ctx.dte === true ? 'scalable-mode context entry with DTE set' : undefined;
  return ctx.tt === 1 ? 'context entry TT = 01b' : undefined;
}

export const atsOnAssigned = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const [bdf, a] of [...r.assigned].sort(([x], [y]) => (x < y ? -1 : 1))) {
      for (const { unit, ctx } of r.presentContexts.get(bdf) ?? []) {
        const how = translatedRequests(unit, ctx);
        if (how === undefined) continue;
        const vm = a.vm !== undefined ? r.vmByName.get(a.vm) : undefined;
        const data = { bdf, vm: a.vm, unit: unit.registerBase, how };
        out.push(finding(meta, {
          ...(vm?.hypervisor === 'bhyve' ? { messageId: 'bhyve', data } as const : { messageId: 'other', data } as const),
          unit, bdf, did: ctx.did, source: ctx.source, evidence: { vm: a.vm, tt: ctx.tt, raw: ctx.raw.map((q) => hex(q)), atsEnable: r.devices.get(bdf)?.config?.ats?.enabled },
        }));
      }
    }
    return ran(out);
  },
});
