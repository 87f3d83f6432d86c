import type { Rmrr } from '../decode/dmar-types.js';
import { hex, pfnHex } from '../util/hex.js';
import { formatBdf } from '../util/bdf.js';
import { finding, ran } from './finding.js';
import { byDomain, knownMappingList, roles } from '../model/roles.js';
import { ownerText } from './evidence.js';
import { mappingsReaching, RangeIndex } from './host-ranges.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'rmrr-in-vm-domain',
  defaultSeverity: 'warning',
  summary: 'an RMRR region mapped into a VM domain',
  description: `## What it means
A domain used by a VM's device maps host memory that an RMRR (Reserved Memory Region Reporting)
structure of the DMAR table reserves for firmware-owned DMA (USB legacy emulation, integrated
graphics stolen memory, BMC buffers).

## Why it matters
The firmware (SMM, the BMC) keeps using that memory behind the OS: the guest's device can read or
corrupt it, and devices named in an RMRR scope may need the identity map the VM cannot keep. Linux
refuses to assign RMRR-scoped devices (except USB/graphics) for this reason.

## How to fix / where to look
Do not pass through devices listed in an RMRR scope (evidence \`rmrrDevices\`, \`deviceInScope\`);
check the firmware for an option to drop the RMRR (e.g. disable USB legacy support).

Compares host addresses of the VM domain's mappings with [Base, Limit] of every RMRR.
Inputs: dmar, tables, mappings.`,
  needs: ['dmar', 'tables', 'mappings'],
  messages: {
    rmrrMapped: (d: { owner: string; did: number; rmrr: Rmrr; scoped: string[] }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps the RMRR region ${hex(d.rmrr.base)}-${hex(d.rmrr.limit)} (firmware-reserved DMA memory${d.scoped.length > 0 ? ` of ${d.scoped.join(', ')}` : ''}): the guest's device can touch memory the firmware uses; avoid passing through RMRR devices.`,
  },
  example: { sample: 'rmrr-in-vm-domain' },
});

export const rmrrInVmDomain = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const rmrrs = (snapshot.dmar?.structures ?? []).filter((s): s is Rmrr => s.kind === 'RMRR');
    if (rmrrs.length === 0) return ran([]);
    const index = new RangeIndex(rmrrs.map((x) => ({ startPfn: Math.floor(x.base / 4096), endPfn: Math.floor(x.limit / 4096) + 1, label: x })));
    const out: Finding[] = [];
    for (const info of r.vmDomains().sort(byDomain)) {
      const hits = new Map<Rmrr, { hpa: number; iova: number; pages: number }>();
      // Which mappings reach an RMRR, in one merge over the domain's host view; then those, in IOVA order.
      const ms = knownMappingList(info.domain);
      const reach = mappingsReaching(ms, index);
      // The hits by a native search of the flags: most mappings reach nothing, and a loop visiting
      // each would run cold.
      for (let i = reach.indexOf(1); i >= 0; i = reach.indexOf(1, i + 1)) {
        const hpa = ms.hpaPfn[i];
        const iova = ms.iovaPfn[i];
        index.query(hpa, hpa + ms.pages[i], (x, from, to) => {
          const h = hits.get(x);
          if (h) h.pages += to - from;
          else hits.set(x, { hpa: from, iova: iova + (from - hpa), pages: to - from });
        });
      }
      for (const [x, h] of hits) {
        const scoped = x.scopes.filter((s) => s.resolved !== undefined).map((s) => formatBdf({ segment: x.segment, bus: s.resolved!.bus, devfn: s.resolved!.devfn }));
        const inScope = [...info.assignedUsers].filter((b) => scoped.includes(b));
        out.push(finding(meta, {
          messageId: 'rmrrMapped', data: { owner: ownerText(info), did: info.domain.did, rmrr: x, scoped },
          unit: info.unit, bdf: inScope[0] ?? [...info.assignedUsers].sort()[0], did: info.domain.did, source: info.domain.source,
          evidence: {
            rmrr: { base: hex(x.base), limit: hex(x.limit), offset: hex(x.offset) }, hpa: pfnHex(h.hpa), iova: pfnHex(h.iova), size: hex(h.pages * 4096),
            rmrrDevices: scoped, deviceInScope: inScope.length > 0,
          },
        }));
      }
    }
    return ran(out);
  },
});
