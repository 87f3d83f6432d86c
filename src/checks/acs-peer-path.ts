import { isolationGroups } from '../model/isolation.js';
import { roles } from '../model/roles.js';
import { finding, ranInPart } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'acs-peer-path',
  defaultSeverity: 'error',
  summary: 'an assigned device shares an isolation group (no ACS between them) with a function the host or another VM owns',
  description: `## What it means
Behind a PCIe switch or bridge, or inside a multi-function device, a request from one function can
reach a sibling directly, without ever going up to the I/O MMU — unless Access Control Services
(ACS) on the ports in between redirect it upstream. dmarsift computes the isolation groups from the
captured configuration space the way Linux's \`pci_device_group\` forms IOMMU groups: a bridge
without ACS (source validation, request and completion redirect, upstream forwarding) on its path
to the root puts everything below it in one group; the functions of a multi-function device without
ACS share one; ACS bits a port does not implement count as satisfied, and a single-function
endpoint needs none. This finding names an assigned device whose group also holds a function that
the host (or another VM) owns.

## Why it matters
The I/O MMU never sees peer-to-peer requests: the VM's device can read and write the other
function's BARs (and, with a compromised device, anything that function can reach). Linux's VFIO
refuses to assign a device unless every endpoint of its group is bound to vfio-pci; bhyve does not
look.

## How to fix / where to look
Pass the whole group to the same VM, move the device to a slot below a root or downstream port with
ACS, or enable ACS on the ports (firmware setting; Linux enables it when the port implements it).
Compare with \`/sys/kernel/iommu_groups\` on a Linux host.

Bridges in the group are not counted (they own no DMA of their own). Without configuration space
(part kind pci-config) the check does not run; with only the 64-byte headers (a capture taken
without root) the groups of the devices below are unknown and the check runs in part.

Inputs: configuration space, PCI inventory (drivers), VM command lines (who owns what).`,
  needs: ['pci-config', 'inventory'],
  messages: {
    hostPeer: (d: { bdf: string; vm?: string; peers: string; via: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} shares an isolation group with ${d.peers}, which the host owns: ${d.via}, so their requests can reach each other without the I/O MMU; assign the whole group or isolate it with ACS.`,
    otherVmPeer: (d: { bdf: string; vm?: string; peers: string; via: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} shares an isolation group with ${d.peers}, assigned to another VM: ${d.via}, so the two VMs' devices can reach each other without the I/O MMU.`,
  },
  example: { sample: 'acs-peer-path' },
});

export const acsPeerPath = defineCheck({
  meta,
  run(snapshot) {
    const g = isolationGroups(snapshot);
    const r = roles(snapshot);
    const out: Finding[] = [];
    const reasons: string[] = [];
    const isBridge = (bdf: string): boolean => (r.devices.get(bdf)?.config?.header.headerType ?? 0) !== 0;
    for (const [bdf, a] of [...r.assigned].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const why = g.unknown.get(bdf);
      if (why !== undefined) {
        reasons.push(`the isolation group of ${bdf} is unknown: ${why}`);
        continue;
      }
      const key = g.groupOf.get(bdf);
      if (key === undefined) continue; // not in devices[]: nothing known of its path
      const peers = (g.members.get(key) ?? []).filter((p) => p !== bdf && !isBridge(p));
      const host = peers.filter((p) => !r.isPassThrough(p) && !r.isAssigned(p));
      const otherVm = peers.filter((p) => r.isAssigned(p) && r.assigned.get(p)?.vm !== a.vm);
      const via = key.startsWith('slot ') ? `the functions of multi-function device ${key.slice(5)} have no ACS between them` : key === bdf ? 'they are functions of one device without ACS' : `no ACS on the path through ${key}`;
      const source = r.devices.get(bdf)?.configSource ?? r.devices.get(bdf)?.source;
      const evidence = { group: key, members: g.members.get(key) ?? [], vm: a.vm };
      if (host.length > 0) out.push(finding(meta, { messageId: 'hostPeer', data: { bdf, vm: a.vm, peers: host.join(', '), via }, bdf, source, evidence }));
      else if (otherVm.length > 0) out.push(finding(meta, { messageId: 'otherVmPeer', data: { bdf, vm: a.vm, peers: otherVm.join(', '), via }, bdf, source, evidence }));
    }
    return ranInPart(reasons, out);
  },
});
