import { hex } from '../util/hex.js';
import { byDomain, drhds, knownMappings, ownerText, pfnHex, roles } from './roles.js';
import { mappingsReaching, RangeIndex } from './host-ranges.js';
import { finding } from './finding.js';
import type { Rmrr } from '../decode/dmar-types.js';
import type { Snapshot } from '../model/types.js';
import type { Check, CheckMeta, EvidenceValue, Finding } from './types.js';

export const MSI_START = 0xfee00000;
export const MSI_END = 0xfef00000; // exclusive

const meta: CheckMeta = {
  id: 'hpa-leak-mmio',
  defaultSeverity: 'error',
  summary: 'a VM domain maps remapping-unit registers, the MSI window or non-RAM the host memory map declares',
  description: `## What it means
A domain used by a device assigned to a VM maps host-physical addresses that are not RAM: a
remapping unit's register set (DRHD base, 2^size × 4 KiB), the interrupt window
0xfee00000–0xfeefffff, or a region the host's memory map declares non-RAM (reserved, ACPI, NVS,
MMIO, unusable).

## Why it matters
Device DMA to unit registers can reprogram the I/O MMU itself; DMA into the MSI window forges
interrupts (the hardware blocks translated addresses there with fault 0xE, so such a mapping is at
best useless); other MMIO is another device's registers.

## How to fix / where to look
The hypervisor mapped something other than guest RAM into the VM domain. QEMU/VFIO maps other
assigned devices' BARs for peer-to-peer DMA: such hits lie in PCI MMIO windows and are expected on
that set-up; anything else is a bug — report it with this capture.

RMRR regions (reserved in the memory map) are left to \`rmrr-in-vm-domain\`; a page inside both
a reserved region and the unit registers or MSI window is counted once, under the latter. Host domains mapping
MMIO 1:1 are normal and never reported. Inputs: tables, mappings (required),
memory-map (optional: without it only unit registers and the MSI window are checked); the DMAR table
gives register-set sizes (else one page per unit).`,
  needs: ['tables', 'mappings', 'memory-map'],
  optional: ['memory-map'],
};

interface Region { kind: string; text: string }

function mmioIndex(snapshot: Snapshot): RangeIndex<Region> {
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

export const hpaLeakMmio: Check = {
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const vmDomains = r.vmDomains().filter((d) => d.domain.mappingsKnown).sort(byDomain);
    if (vmDomains.length === 0) return [];
    const index = mmioIndex(snapshot);
    const out: Finding[] = [];
    for (const info of vmDomains) {
      const hits: { [key: string]: EvidenceValue }[] = [];
      const kinds = new Set<string>();
      let pages = 0;
      const ms = knownMappings(info.domain);
      // Which mappings reach a region, in one merge over the domain's shared host view; then the
      // evidence, in IOVA order (see hpa-leak-iommu-structures).
      const reach = mappingsReaching(ms, index);
      for (let i = 0; i < ms.length; i++) {
        if (reach[i] === 0) continue;
        const m = ms[i];
        index.query(m.hpaPfn, m.hpaPfn + m.pages, (reg, from, to) => {
          pages += to - from;
          kinds.add(reg.kind);
          if (hits.length < 16) hits.push({ region: reg.text, kind: reg.kind, hpa: pfnHex(from), iova: pfnHex(m.iovaPfn + (from - m.hpaPfn)), size: hex((to - from) * 4096), write: m.write });
        });
      }
      if (hits.length === 0) continue;
      out.push(finding(meta, {
        message: `The domain of ${ownerText(info)} (DID ${info.domain.did}) maps non-RAM host addresses (${[...kinds].sort().join(', ')}; first: ${String(hits[0].region)} at ${String(hits[0].hpa)}): the guest's device can reach host MMIO; check how the hypervisor built the VM's mappings.`,
        unit: info.unit, bdf: [...info.assignedUsers].sort()[0], did: info.domain.did, source: info.domain.source,
        evidence: { root: hex(info.domain.root), pages, hits, devices: [...info.assignedUsers].sort(), vms: [...info.vms].sort() },
      }));
    }
    return out;
  },
};
