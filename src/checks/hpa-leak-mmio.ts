import { hex, pfnHex } from '../util/hex.js';
import { byDomain, knownMappingList, roles } from '../model/roles.js';
import { drhds } from '../model/coverage.js';
import { ownerText } from './evidence.js';
import { mappingsReaching, RangeIndex } from './host-ranges.js';
import { barIndex, overlaps, subtract } from './vm-layout.js';
import { finding, ran } from './finding.js';
import type { Rmrr } from '../decode/dmar-types.js';
import type { Snapshot } from '../model/types.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

export const MSI_START = 0xfee00000;
export const MSI_END = 0xfef00000; // exclusive

const meta = checkMeta({
  id: 'hpa-leak-mmio',
  defaultSeverity: 'error',
  summary: 'a VM domain maps remapping-unit registers, the MSI window or non-RAM the host memory map declares',
  description: `## What it means
A VM domain (the domain a device assigned to a VM translates through) maps host-physical addresses
that are not RAM and not the VM's own: a remapping unit's register set (DRHD base, 2^size × 4 KiB),
the interrupt window 0xfee00000–0xfeefffff, or a region the host's memory map declares non-RAM
(reserved, ACPI, NVS, MMIO, unusable) outside the BARs of the devices assigned to that VM.

A device is *assigned* when a VM's command line gives it to the VM (bhyve \`-s …,passthru,B/S/F\`,
QEMU \`-device vfio-pci,host=…\`; without VM command lines, a pass-through device — ppt, vfio-pci —
with a present context entry). Its VM's own BARs are expected in the domain on QEMU/VFIO, which maps
every assigned device's BARs at the guest's BAR addresses so that peer-to-peer DMA between the VM's
devices works; /proc/iomem names each BAR by its function (\`fe440000-fe45ffff : 0000:01:00.0\`,
claimed by \`vfio-pci\`), which is how they are told apart from other MMIO.

## Why it matters
Device DMA to unit registers can reprogram the I/O MMU itself; DMA into the MSI window forges
interrupts (the hardware blocks translated addresses there with fault 0xE, so such a mapping is at
best useless); other MMIO is another device's registers — a host device's, or another VM's.

## How to fix / where to look
The hypervisor (or a process with /dev/mem or a second VFIO container) mapped something other than
guest RAM and the VM's own BARs into the VM domain: find who mapped it (the evidence lists the host
regions and IOVAs), stop the VM and report it with this capture.

RMRR regions (reserved in the memory map) are left to \`rmrr-in-vm-domain\`; a page inside both
a reserved region and the unit registers or MSI window is counted once, under the latter. Host domains mapping
MMIO 1:1 are normal and never reported. Without /proc/iomem's device entries an assigned device's
own BARs cannot be told from other MMIO and are reported. Inputs: tables, mappings (required),
memory-map (optional: without it only unit registers and the MSI window are checked); the DMAR table
gives register-set sizes (else one page per unit).`,
  needs: ['tables', 'mappings', 'memory-map'],
  optional: ['memory-map'],
  messages: {
    mapsMmio: (d: { owner: string; did: number; kinds: string[]; first: { [key: string]: EvidenceValue } }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps non-RAM host addresses that are not its own devices' BARs (${d.kinds.join(', ')}; first: ${String(d.first.region)} at ${String(d.first.hpa)}, IOVA ${String(d.first.iova)}): the guest's device can reach host MMIO; check how the hypervisor built the VM's mappings.`,
  },
  example: { sample: 'hpa-leak-mmio' },
});

export interface Region { kind: string; text: string }

export function mmioIndex(snapshot: Snapshot): RangeIndex<Region> {
  const items: { startPfn: number; endPfn: number; label: Region }[] = [];
  const bases = new Set<number>();
  for (const d of drhds(snapshot)) {
    bases.add(d.registerBase);
    const p = Math.floor(d.registerBase / 4096);
    items.push({ startPfn: p, endPfn: p + 2 ** d.size, label: { kind: 'unit-registers', text: `registers of remapping unit ${hex(d.registerBase)}` } });
  }
  for (const u of snapshot.units) {
    if (bases.has(u.registerBase)) continue;
    const p = Math.floor(u.registerBase / 4096);
    items.push({ startPfn: p, endPfn: p + 1, label: { kind: 'unit-registers', text: `registers of remapping unit ${hex(u.registerBase)}` } });
  }
  items.push({ startPfn: MSI_START / 4096, endPfn: MSI_END / 4096, label: { kind: 'msi-window', text: 'the MSI/interrupt window 0xfee00000-0xfeefffff' } });
  // The memory map's non-RAM regions are cut around the unit registers and the MSI window (which
  // usually lie inside a reserved region: a page is counted and named once, by its most specific
  // label) and around RMRR regions, which rmrr-in-vm-domain reports with the RMRR's device scope.
  const cut = [
    ...items.map((x) => [x.startPfn, x.endPfn] as [number, number]),
    ...(snapshot.dmar?.structures ?? [])
      .filter((x): x is Rmrr => x.kind === 'RMRR')
      .map((x) => [Math.floor(x.base / 4096), Math.floor(x.limit / 4096) + 1] as [number, number]),
  ].sort((a, b) => a[0] - b[0]);
  for (const m of snapshot.memoryMap) {
    if (m.type === 'ram') continue;
    const label = { kind: m.type, text: `${m.type} region "${m.name}" ${hex(m.start)}-${hex(m.end)}` };
    let from = Math.floor(m.start / 4096);
    const end = Math.ceil(m.end / 4096);
    for (const [rs, re] of cut) {
      if (re <= from || rs >= end) continue;
      if (rs > from) items.push({ startPfn: from, endPfn: rs, label });
      from = Math.max(from, re);
    }
    if (from < end) items.push({ startPfn: from, endPfn: end, label });
  }
  return new RangeIndex(items);
}

export const hpaLeakMmio = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const vmDomains = r.vmDomains().filter((d) => d.domain.mappingsKnown).sort(byDomain);
    if (vmDomains.length === 0) return ran([]);
    const index = mmioIndex(snapshot);
    const out: Finding[] = [];
    for (const info of vmDomains) {
      const hits: { [key: string]: EvidenceValue }[] = [];
      const kinds = new Set<string>();
      let pages = 0;
      let ownBarPages = 0;
      // The VM's own devices: every device assigned to the VM(s) of the domain (its own users
      // when the capture has no VM command lines).
      const own = new Set<string>(info.assignedUsers);
      for (const a of r.assigned.values()) if (a.vm !== undefined && info.vms.has(a.vm)) own.add(a.bdf);
      const bars = barIndex(snapshot, own);
      const ms = knownMappingList(info.domain);
      // Which mappings reach a region, in one merge over the domain's shared host view; then the
      // evidence, in IOVA order (see hpa-leak-iommu-structures).
      const reach = mappingsReaching(ms, index);
      for (let i = reach.indexOf(1); i >= 0; i = reach.indexOf(1, i + 1)) {
        const m = ms.at(i);
        index.query(m.hpaPfn, m.hpaPfn + m.pages, (reg, from, to) => {
          const ownHere = reg.kind === 'unit-registers' || reg.kind === 'msi-window' ? [] : overlaps(bars, from, to);
          for (const [s, e] of ownHere) ownBarPages += e - s;
          for (const [s, e] of subtract(from, to, ownHere)) {
            pages += e - s;
            kinds.add(reg.kind);
            if (hits.length < 16) hits.push({ region: reg.text, kind: reg.kind, hpa: pfnHex(s), iova: pfnHex(m.iovaPfn + (s - m.hpaPfn)), size: hex((e - s) * 4096), write: m.write });
          }
        });
      }
      if (hits.length === 0) continue;
      out.push(finding(meta, {
        messageId: 'mapsMmio', data: { owner: ownerText(info), did: info.domain.did, kinds: [...kinds].sort(), first: hits[0] },
        unit: info.unit, bdf: [...info.assignedUsers].sort()[0], did: info.domain.did, source: info.domain.source,
        evidence: { root: hex(info.domain.root), pages, hits, devices: [...info.assignedUsers].sort(), vms: [...info.vms].sort(), ownBarPages },
      }));
    }
    return ran(out);
  },
});
