import { hex, pfnHex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { type DomainInfo, byDomain, roles } from '../model/roles.js';
import { mappingListOf } from '../model/mapping-list.js';
import { ownerText, pagesText } from './evidence.js';
import type { PageRanges } from './host-ranges.js';
import { sharedRuns, writableUnion } from './host-ranges.js';
import type { Snapshot } from '../model/types.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

const meta = checkMeta({
  id: 'hpa-leak-shared',
  defaultSeverity: 'critical',
  summary: 'one host page writable in domains of different owners: two VMs, or a VM domain and the host domain',
  description: `## What it means
The same host page is mapped writable in the domains of two different owners — two VMs, or a VM and
the host — or one domain is used both by a VM's device and by another VM's or a host driver's
device.

Terms: a *VM domain* is a domain a device assigned to a VM translates through (bhyve: the VM's
\`-s …,passthru\` devices; QEMU: its \`-device vfio-pci,host=…\` devices); a *host domain* is one
only host-driver devices use (bhyve's 1:1 host domain; Linux's per-group DMA domains, among them the
0–16 MiB identity map Linux gives an ISA/LPC bridge's IOMMU group for legacy ISA DMA when built with
CONFIG_INTEL_IOMMU_FLOPPY_WA).

## Why it matters
A guest's device can then write memory another VM or the host uses: a VM escape by DMA. bhyve's
host domain maps all memory 1:1 and must remove a VM's pages while the VM owns them; a page still in
both means that removal did not happen (or the VM's memory was freed and reused while still mapped).
On Linux, a VM's pages below 16 MiB stay reachable by the ISA bridge's group through that identity
map.

## How to fix / where to look
Stop the VM(s) concerned; check the hypervisor's unmap path (bhyve: \`vm_iommu_unmap\` /
\`iommu_remove_mapping\` on the host domain). Evidence lists the owners, the shared page count,
the host domains that reach the shared pages with the devices using them and whether they map them
1:1, and the first shared ranges with the domains that map them.

Owners: each named VM; all host domains together are one owner (host domains sharing pages with
each other is normal). Without VM command lines every VM domain is its own owner, and a page shared
by two VM domains is reported as \`error\` (they may belong to the same VM). Read-only sharing is
not reported. The sweep works on sorted typed arrays of coalesced ranges, never per page.
Inputs: tables, mappings.`,
  needs: ['tables', 'mappings'],
  messages: {
    domainOfTwoVms: (d: { info: DomainInfo }) =>
      `Domain ${d.info.domain.did} (table ${hex(d.info.domain.root)}) is used by devices of ${ownerText(d.info)}: each VM's device can DMA into the other's memory; give each VM its own domain.`,
    domainOfVmAndHost: (d: { info: DomainInfo }) =>
      `Domain ${d.info.domain.did} (table ${hex(d.info.domain.root)}) is used by ${ownerText(d.info)} and by host device${d.info.hostUsers.size > 1 ? 's' : ''} ${[...d.info.hostUsers].sort().join(', ')}: the host device can DMA into the VM's memory and the VM's device into whatever the host device may reach; move one of them out of the domain.`,
    pagesShared: (d: { pages: number; firstPfn: number; owner: string; did: number; where: string; withHost: boolean }) =>
      `${pagesText(d.pages)} of host memory (first at ${pfnHex(d.firstPfn)}) is writable both in the domain of ${d.owner} (DID ${d.did}) and in ${d.where}: ${d.withHost ? "those host devices can write the VM's memory and the VM's device host memory (the host domain still maps the VM's pages, or the VM maps host pages)" : 'each VM can write memory the other uses'}; stop the VM and check the hypervisor's unmap path.`,
  },
  example: { sample: 'hpa-leak-shared' },
});

interface Owner { key: string; label: string; domains: DomainInfo[]; vmNamed: boolean; host: boolean }

function firstDomainMapping(owner: Owner, pfn: number): { did: number; iova: string } | undefined {
  // Indexed loops: up to 16 scans of every mapping, in code the JIT has not optimized yet — so
  // the cheap test first, on the columns, and the W bit only for a mapping that holds the page.
  for (let di = 0; di < owner.domains.length; di++) {
    const d = owner.domains[di];
    const ms = mappingListOf(d.domain);
    const starts = ms.hpaPfn;
    const pages = ms.pages;
    for (let i = 0; i < ms.length; i++) {
      const hpa = starts[i];
      if (pfn >= hpa && pfn < hpa + pages[i] && ms.write(i)) return { did: d.domain.did, iova: pfnHex(ms.iovaPfn[i] + (pfn - hpa)) };
    }
  }
  return undefined;
}

/** A host domain that reaches some of the shared pages, and how. */
interface Reach { info: DomainInfo; pages: number; identity: boolean }

/**
 * The host domains whose writable mappings cover the shared example ranges, with the pages each
 * covers and whether it maps them 1:1 (IOVA = host address), so the reader can tell which host
 * devices can write the VM's pages and why.
 */
function hostReach(owner: Owner, ranges: readonly [number, number][]): Reach[] {
  const out: Reach[] = [];
  for (const info of owner.domains) {
    let pages = 0;
    let identity = true;
    const ms = mappingListOf(info.domain);
    for (let i = 0; i < ms.length; i++) {
      if (!ms.write(i)) continue;
      const hpa = ms.hpaPfn[i];
      for (const [from, to] of ranges) {
        const lo = Math.max(from, hpa);
        const hi = Math.min(to, hpa + ms.pages[i]);
        if (hi <= lo) continue;
        pages += hi - lo;
        if (ms.iovaPfn[i] !== hpa) identity = false;
      }
    }
    if (pages > 0) out.push({ info, pages, identity });
  }
  return out.sort((a, b) => b.pages - a.pages || a.info.domain.did - b.info.domain.did);
}

const ISA_BRIDGE = 0x0601;
const SIXTEEN_MIB_PAGES = (16 * 2 ** 20) / 4096;

/** "host domain DID 5 (0000:00:1f.0, …), which maps them 1:1 — Linux's …" */
function reachText(r: Reach, ranges: readonly [number, number][], snapshot: Snapshot): string {
  const users = [...r.info.users].sort();
  let t = `host domain DID ${r.info.domain.did} (${users.length > 4 ? `${users.slice(0, 4).join(', ')} and ${users.length - 4} more` : users.join(', ')})`;
  if (!r.identity) return t;
  t += ', which maps them 1:1';
  const isa = users.find((b) => snapshot.devices.find((d) => d.bdf === b)?.classCode !== undefined && Math.floor(snapshot.devices.find((d) => d.bdf === b)!.classCode! / 256) === ISA_BRIDGE);
  if (isa !== undefined && ranges.every(([, to]) => to <= SIXTEEN_MIB_PAGES)) {
    t += ` — the 0–16 MiB identity map Linux gives the ISA/LPC bridge ${isa} (CONFIG_INTEL_IOMMU_FLOPPY_WA, for ISA/floppy DMA), which every function of its IOMMU group shares`;
  }
  return t;
}

export const hpaLeakShared = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];

    // 1. One domain used by two owners (no page comparison needed).
    for (const info of [...r.domains.values()].sort(byDomain)) {
      if (!info.isVm) continue;
      const bdf = [...info.assignedUsers].sort()[0];
      if (info.vms.size > 1) {
        out.push(finding(meta, {
          messageId: 'domainOfTwoVms', data: { info },
          unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
          evidence: { root: hex(info.domain.root), vms: [...info.vms].sort(), devices: [...info.assignedUsers].sort() },
        }));
      }
      if (info.hostUsers.size > 0) {
        out.push(finding(meta, {
          messageId: 'domainOfVmAndHost', data: { info },
          unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
          evidence: { root: hex(info.domain.root), vms: [...info.vms].sort(), devices: [...info.assignedUsers].sort(), hostDevices: [...info.hostUsers].sort() },
        }));
      }
    }

    // 2. Pages shared between domains of different owners.
    const owners: Owner[] = [];
    const byKey = new Map<string, Owner>();
    const ownerFor = (key: string, label: string, vmNamed: boolean, host: boolean): Owner => {
      let o = byKey.get(key);
      if (!o) {
        o = { key, label, domains: [], vmNamed, host };
        byKey.set(key, o);
        owners.push(o);
      }
      return o;
    };
    for (const info of [...r.domains.values()].sort(byDomain)) {
      if (!info.domain.mappingsKnown || mappingListOf(info.domain).length === 0) continue;
      if (info.isHost) ownerFor('host', 'the host', false, true).domains.push(info);
      else if (info.isVm && info.vms.size === 1) {
        const vm = [...info.vms][0];
        ownerFor(`vm:${vm}`, `VM ${vm}`, true, false).domains.push(info);
      } else if (info.isVm && info.vms.size === 0) ownerFor(`domain:${info.key}`, ownerText(info), false, false).domains.push(info);
      // Domains of several VMs are reported above; their pages would only repeat it.
    }
    if (owners.length < 2) return ran(out);
    const unions: PageRanges[] = owners.map((o) => writableUnion(o.domains.map((d) => mappingListOf(d.domain))));
    // Each owner's union is sorted and disjoint: the pages two owners share come from one
    // two-pointer pass over their two unions, pair by pair (a handful of owners). A pass visits
    // each range once with a few comparisons — it runs once per CLI call, before the JIT has
    // optimized it — and writes nothing but the shared runs.
    const pairs: { a: number; b: number; pages: number; examples: [number, number][] }[] = [];
    for (let a = 0; a < owners.length; a++) {
      for (let b = a + 1; b < owners.length; b++) {
        const shared = sharedRuns(unions[a], unions[b], 8);
        if (shared.pages > 0) pairs.push({ a, b, ...shared });
      }
    }
    for (const p of pairs) {
      // Put the VM first (the host is never the subject).
      const [oa, ob] = owners[p.a].host ? [owners[p.b], owners[p.a]] : [owners[p.a], owners[p.b]];
      const vmDomain = oa.domains[0];
      const unnamedPair = !ob.host && (!oa.vmNamed || !ob.vmNamed);
      const examples: EvidenceValue[] = p.examples.map(([from, to]) => {
        const da = firstDomainMapping(oa, from);
        const db = firstDomainMapping(ob, from);
        return { hpa: pfnHex(from), size: hex((to - from) * 4096), [oa.label]: da ? { did: da.did, iova: da.iova } : null, [ob.label]: db ? { did: db.did, iova: db.iova } : null };
      });
      const reach = ob.host ? hostReach(ob, p.examples) : [];
      const where = ob.host && reach.length > 0
        ? `${reach.slice(0, 3).map((x) => reachText(x, p.examples, snapshot)).join('; ')}${reach.length > 3 ? `; and ${reach.length - 3} more host domains` : ''}`
        : `the domain of ${ob.label}`;
      out.push(finding(meta, {
        messageId: 'pagesShared', data: { pages: p.pages, firstPfn: p.examples[0][0], owner: oa.label, did: vmDomain.domain.did, where, withHost: ob.host },
        severity: unnamedPair ? 'error' : 'critical',
        severityReason: 'no VM command lines: the two domains may belong to the same VM',
        unit: vmDomain.unit, bdf: [...vmDomain.assignedUsers].sort()[0], did: vmDomain.domain.did, source: vmDomain.domain.source,
        evidence: {
          owners: [oa.label, ob.label], sharedPages: p.pages, sharedBytes: hex(p.pages * 4096),
          domains: { [oa.label]: oa.domains.map((d) => ({ unit: hex(d.unit.registerBase), did: d.domain.did, root: hex(d.domain.root) })), [ob.label]: ob.domains.map((d) => ({ unit: hex(d.unit.registerBase), did: d.domain.did, root: hex(d.domain.root) })) },
          ...(ob.host ? { hostDomains: reach.map((x) => ({ unit: hex(x.info.unit.registerBase), did: x.info.domain.did, root: hex(x.info.domain.root), devices: [...x.info.users].sort(), identity: x.identity, examplePages: x.pages })) } : {}),
          examples,
        },
      }));
    }
    return ran(out);
  },
});
