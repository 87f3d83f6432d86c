import { hex, pfnHex } from '../../util/hex.js';
import { finding, ran } from '../finding.js';
import { knownMappings, roles, type DomainInfo } from '../../model/roles.js';
import { pagesText } from '../evidence.js';
import { checkMeta, type Finding } from '../types.js';
import { definePairCheck } from './types.js';

/** Surviving mapping ranges listed in evidence (the count says how many there are in all). */
const MAX_RANGES = 16;

const meta = checkMeta({
  id: 'domain-survived-teardown',
  defaultSeverity: 'error',
  summary: "a VM domain still in use with its mappings after the VM was torn down or its device given back",
  description: `## What it means
In BEFORE a domain belonged to a VM (an assigned device translated through it). In AFTER the VM is
gone (its command line is no longer in the capture) or the device is no longer assigned, yet a
present context entry still translates through the same domain (same DID and table root) and the
domain still maps pages.

## Why it matters
A torn-down VM's memory goes back to the host and is reused; a device that still translates
through the old domain can DMA into whatever the host put there (bhyve frees the VM's pages and
puts them back into the host domain on destroy; a domain left behind defeats that). A device given
back to a host driver (ppt detach) must return to the host domain, not keep the VM's.

## How to fix / where to look
On VM destroy / device detach the I/O MMU driver must remove the device from the VM domain
(bhyve: \`iommu_remove_device\`, then \`iommu_add_device(host_domain, …)\`), free the domain and
invalidate the context cache and IOTLB for its DID.

Evidence lists the first ${MAX_RANGES} surviving mapping ranges (IOVA → host address) and how many
there are. Inputs: tables and page tables in both captures; VM command lines (or, without them, the
pass-through drivers in the inventory decide which devices were assigned).`,
  needs: ['tables', 'mappings'],
  messages: {
    domainSurvived: (d: { what: string; users: string[]; did: number; survived?: number }) =>
      `${d.what}, but ${d.users.join(', ')} still translate${d.users.length === 1 ? 's' : ''} through its domain (DID ${d.did}, ${d.survived !== undefined ? `${pagesText(d.survived)} of the old mappings still there` : 'mappings unknown'}): remove the device from the VM domain and free it on teardown.`,
  },
  example: { before: 'vm-teardown-before', after: 'vm-teardown-after' },
});

export const domainSurvivedTeardown = definePairCheck({
  meta,
  run(before, after, diff) {
    const rb = roles(before);
    const ra = roles(after);
    const out: Finding[] = [];
    for (const info of rb.vmDomains()) {
      const later: DomainInfo | undefined = ra.domains.get(info.key);
      if (!later || later.users.size === 0) continue;
      if (later.domain.mappingsKnown && later.domain.pageCount === 0) continue;
      const goneVms = before.vmsKnown && after.vmsKnown ? [...info.vms].filter((v) => !ra.vmByName.has(v)) : [];
      const released = [...info.assignedUsers].filter((b) => later.users.has(b) && !ra.isAssigned(b));
      if (goneVms.length === 0 && released.length === 0) continue;
      if (later.isVm && goneVms.length === 0) continue; // still a VM's domain: the device stayed assigned elsewhere
      // The same (DID, root) can be a new domain whose root page and DID were recycled: only
      // translations the old VM's domain had and the later one still has are a survival.
      let survivedPages = later.domain.pageCount;
      if (info.domain.mappingsKnown && later.domain.mappingsKnown) {
        // The diff already has what the old domain lost; a domain it does not list is unchanged.
        const change = diff.domains.find((c) => c.unit === info.unit.registerBase && c.did === info.domain.did && c.root === info.domain.root && c.kind === info.domain.kind);
        survivedPages = info.domain.pageCount - (change?.lostPages ?? 0);
        if (survivedPages === 0) continue;
      }
      const users = [...later.users].sort();
      const what = goneVms.length > 0 ? `VM ${goneVms.join(', ')} is gone` : `${released.join(', ')} is no longer assigned`;
      out.push(finding(meta, {
        messageId: 'domainSurvived', data: { what, users, did: info.domain.did, survived: later.domain.mappingsKnown ? survivedPages : undefined },
        unit: info.unit, bdf: users[0], did: info.domain.did,
        ...(later.domain.source ? { source: later.domain.source } : {}),
        evidence: {
          root: hex(info.domain.root),
          vmsBefore: [...info.vms].sort(),
          goneVms,
          released,
          usersAfter: users,
          pagesBefore: info.domain.pageCount,
          pagesAfter: later.domain.mappingsKnown ? later.domain.pageCount : null,
          survivedPages: later.domain.mappingsKnown && info.domain.mappingsKnown ? survivedPages : null,
          // What the device can still reach: the first coalesced ranges of the surviving domain.
          mappingRanges: later.domain.mappingsKnown ? later.domain.mappings.length : null,
          mappings: knownMappings(later.domain).slice(0, MAX_RANGES).map((m) => ({
            iova: pfnHex(m.iovaPfn), hpa: pfnHex(m.hpaPfn), size: hex(m.pages * 4096), read: m.read, write: m.write,
          })),
        },
      }));
    }
    return ran(out);
  },
});
