import { hex, pfnHex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { byDomain, knownMappingList, roles } from '../model/roles.js';
import { ownerText, pagesText } from './evidence.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

/** 1 GiB of identity-mapped pages in total, or 256 MiB in one contiguous run, is "large". */
const meta = checkMeta({
  id: 'hpa-leak-identity',
  defaultSeverity: 'critical',
  summary: 'a VM domain maps IOVA = HPA over a large range (as if the I/O MMU were bypassed)',
  description: `## What it means
A domain used by a device assigned to a VM maps IOVAs to the same host-physical addresses over a
large range: by default at least 1 GiB in total, or 256 MiB contiguous (options \`minTotalPages\`,
\`minRunPages\`; smaller identity pieces, such as RMRR regions, are left to \`rmrr-in-vm-domain\`).

## Why it matters
Guest-physical addresses are supposed to be translated to the VM's own memory. An identity map means
the guest's device reaches host memory by host address — the effect of FreeBSD r304858 (VMs
started before the I/O MMU was enabled, sharing the host's 1:1 domain).

## How to fix / where to look
The VM's devices are in the host's identity domain, or the hypervisor built the VM domain from
the host map. Restart the VM with the I/O MMU enabled; compare the domain with the host domain.

The host domain's own 1:1 map (bhyve maps all memory 1:1 for host devices) is normal and never
reported. Inputs: tables, mappings.`,
  needs: ['tables', 'mappings'],
  messages: {
    identityMap: (d: { owner: string; did: number; total: number; bestPages: number; bestStart: number }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${pagesText(d.total)} with IOVA = HPA (largest run ${pagesText(d.bestPages)} at ${pfnHex(d.bestStart)}): the guest's device reaches host memory by host address; restart the VM with its own translated domain.`,
  },
  options: {
    minTotalPages: {
      type: 'integer', default: 262144, minimum: 1,
      description: 'Report a VM domain that maps at least this many 4 KiB pages with IOVA = HPA in total (262144 pages = 1 GiB).',
    },
    minRunPages: {
      type: 'integer', default: 65536, minimum: 1,
      description: 'Report a VM domain with a run of at least this many contiguous IOVA = HPA pages, whatever its total (65536 pages = 256 MiB). Smaller identity pieces, such as RMRR regions, are left to `rmrr-in-vm-domain`.',
    },
  },
  example: { sample: 'hpa-leak-identity' },
});

export const hpaLeakIdentity = defineCheck({
  meta,
  run(snapshot, options) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const info of r.vmDomains().sort(byDomain)) {
      const list = knownMappingList(info.domain);
      if (list.iovaSummary().identity === 0) continue;
      const ms: { iovaPfn: number; pages: number }[] = [];
      for (let i = 0; i < list.length; i++) if (list.iovaPfn[i] === list.hpaPfn[i]) ms.push({ iovaPfn: list.iovaPfn[i], pages: list.pages[i] });
      ms.sort((a, b) => a.iovaPfn - b.iovaPfn);
      if (ms.length === 0) continue;
      let total = 0;
      let bestStart = 0;
      let bestPages = 0;
      let runStart = ms[0].iovaPfn;
      let runEnd = ms[0].iovaPfn;
      const runs: [number, number][] = [];
      for (const m of ms) {
        total += m.pages;
        if (m.iovaPfn > runEnd) {
          runs.push([runStart, runEnd]);
          runStart = m.iovaPfn;
        }
        runEnd = Math.max(runEnd, m.iovaPfn + m.pages);
      }
      runs.push([runStart, runEnd]);
      for (const [s, e] of runs) {
        if (e - s > bestPages) {
          bestPages = e - s;
          bestStart = s;
        }
      }
      if (total < options.minTotalPages && bestPages < options.minRunPages) continue;
      const user = [...info.assignedUsers].sort()[0];
      out.push(finding(meta, {
        messageId: 'identityMap', data: { owner: ownerText(info), did: info.domain.did, total, bestPages, bestStart },
        unit: info.unit, bdf: user, did: info.domain.did, source: info.domain.source,
        evidence: {
          root: hex(info.domain.root), identityPages: total, largestRun: { start: pfnHex(bestStart), size: hex(bestPages * 4096) },
          runs: runs.slice(0, 8).map(([s, e]) => ({ start: pfnHex(s), end: pfnHex(e) })), devices: [...info.assignedUsers].sort(), vms: [...info.vms].sort(),
        },
      }));
    }
    return ran(out);
  },
});
