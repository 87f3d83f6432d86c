import type { MappingList } from '../model/mapping-list.js';
import type { Snapshot, Vm } from '../model/types.js';
import { hex, pfnHex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { byDomain, knownMappingList, roles, type DomainInfo } from '../model/roles.js';
import { ownerText, pagesText } from './evidence.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';
import { barIndex, guestLayout, hostRamIndex, mappingsLeaving, overlaps, subtract, type GuestLayout } from './vm-layout.js';

const meta = checkMeta({
  id: 'hpa-leak-outside-vm',
  defaultSeverity: 'error',
  summary: "a VM domain maps IOVAs outside the VM's guest-physical layout, or more memory than the VM was given",
  description: `## What it means
The domain of a VM (the domain its assigned devices translate through) maps guest-physical
addresses (IOVAs) that are not part of the VM's guest-physical layout, or maps more RAM in total
than the VM's memory size (\`-m\`).

The VM's layout is what its hypervisor puts in guest-physical space and maps for DMA:
- **RAM**, where the hypervisor and machine type put it (below):
  - bhyve: [0, lowmem) and [4 GiB, 4 GiB + memsize − lowmem), lowmem = min(memsize, 3 GiB)
    (libvmmapi \`vm_open\` / \`vm_setup_memory\`). bhyve maps nothing else into the VM's domain.
  - QEMU q35 (\`-machine q35\`, \`pc-q35-*\`): RAM of 2.75 GiB (0xb0000000) or more is split at 2 GiB,
    the rest from 4 GiB; smaller RAM lies wholly below (\`pc_q35_init\`).
  - QEMU i440fx (\`pc\`, \`pc-i440fx-*\`, QEMU's default machine): RAM of 3.5 GiB or more is split at
    3 GiB, the rest from 4 GiB; smaller RAM lies wholly below (\`pc_init1\`).
  - \`-machine max-ram-below-4g=N\` lowers the split to N; machine types 1.7 and older split
    without 1 GiB alignment (q35 at 0xb0000000, i440fx at 3.5 GiB). With \`-m …,maxmem=…,slots=…\`
    the hot-plug region above RAM (from the next 1 GiB boundary, maxmem − size + slots GiB) is RAM
    too. A QEMU line without \`-machine\` is judged against both q35 and i440fx.
  - The size is \`-m\` (a bare number is MiB; QEMU's default is 128 MiB), or the memory backend
    \`-machine memory-backend=\` or the \`-numa node,memdev=\` backends name, plus DIMMs plugged on the
    command line.
- **ROM** (QEMU): read-only mappings of host RAM in the 32-bit hole [end of low RAM, 4 GiB) — the
  firmware image QEMU maps just below 4 GiB and option-ROM BARs.
- **The VM's own devices' BARs** (QEMU/VFIO maps every assigned device's BARs into the domain at the
  guest's BAR addresses, for peer-to-peer DMA): a mapping whose host pages lie in a BAR of a device
  assigned to the same VM, per the BDF-named entries of /proc/iomem (\`fe440000-fe45ffff :
  0000:01:00.0\`).

Anything else the domain maps outside RAM is reported (its first IOVA outside the layout is named),
and so is RAM beyond the VM's size: the pages mapped, less the ROM and own-BAR pages, above the
memory size (above \`maxmem\` when memory hot-plug is enabled).

## Why it matters
Every such mapping points at host memory the VM was not given: leftovers of an earlier VM, or pages
the hypervisor mapped by mistake — host data the guest's device can read or overwrite.

## How to fix / where to look
Compare the VM's command line with the domain's mappings (\`dmarsift decode\`); restart the VM and
check the hypervisor's map/unmap of guest memory.

Other hypervisors (Xen): only the total is checked. A VM whose memory size the command line does
not give gets one \`info\`. Without /proc/iomem's device entries (read as root) a QEMU VM's own BARs
cannot be told from host memory: its pages outside the layout are then reported at \`warning\`,
saying so, and the check ran in part. Inputs: tables, mappings, vms (memory-map and the
PCI resources in it refine the ROM and BAR rules).`,
  needs: ['tables', 'mappings', 'vms'],
  messages: {
    memorySizeUnknown: (d: { vm: string }) =>
      `VM ${d.vm}'s memory size is not on its command line in the capture, so its domain's mappings cannot be checked against its layout.`,
    outsideLayout: (d: { owner: string; did: number; outside: number; hypervisor: string; givenPages: number; firstOutsidePfn: number }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${pagesText(d.outside)} at guest addresses outside the ${d.hypervisor} VM's layout (RAM ${pagesText(d.givenPages)}; first at ${pfnHex(d.firstOutsidePfn)}), neither its ROM nor its own devices' BARs: those pages are host memory the VM was not given; restart the VM and check the hypervisor's unmap path.`,
    outsideLayoutBarsUnknown: (d: { owner: string; did: number; outside: number; hypervisor: string; givenPages: number; firstOutsidePfn: number }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${pagesText(d.outside)} at guest addresses outside the ${d.hypervisor} VM's layout (RAM ${pagesText(d.givenPages)}; first at ${pfnHex(d.firstOutsidePfn)}), not its ROM; the capture's memory map names no BAR of the VM's assigned devices, so these may be their BARs (which QEMU maps for peer-to-peer DMA) or host memory the VM was not given: capture /proc/iomem as root to tell.`,
    moreThanGivenBarsUnknown: (d: { owner: string; did: number; mapped: number; allowed: number; hotPlug: boolean }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${pagesText(d.mapped - d.allowed)} more than the ${pagesText(d.allowed)} of RAM the VM ${d.hotPlug ? 'can have with memory hot-plug' : 'was given'} (${pagesText(d.mapped)} besides ROM); the capture's memory map names no BAR of the VM's assigned devices, so the excess may be their BARs or host memory the VM can reach: capture /proc/iomem as root to tell.`,
    moreThanGiven: (d: { owner: string; did: number; mapped: number; allowed: number; hotPlug: boolean }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${pagesText(d.mapped - d.allowed)} more than the ${pagesText(d.allowed)} of RAM the VM ${d.hotPlug ? 'can have with memory hot-plug' : 'was given'} (${pagesText(d.mapped)} besides ROM and its own devices' BARs): the excess is host memory the VM can reach; restart the VM and check the hypervisor's mappings.`,
  },
  example: { sample: 'hpa-leak-outside-vm' },
});

interface Judged {
  /** Pages outside RAM that are neither ROM nor own BAR, with the first runs (IOVA order). */
  outside: number;
  examples: EvidenceValue[];
  firstOutsideIovaPfn?: number;
  romPages: number;
  barPages: number;
  /** Pages that count against the VM's memory size: everything but ROM and own BARs. */
  ramLikePages: number;
}

/** Classify a VM domain's mappings against `layout` (RAM, ROM window) and the VM's own BARs. */
function judge(snapshot: Snapshot, ms: MappingList, layout: GuestLayout | undefined, bars: ReturnType<typeof barIndex>): Judged {
  const hostRam = snapshot.memoryMapKnown ? hostRamIndex(snapshot) : undefined;
  const ram = layout?.ram ?? [];
  const j: Judged = { outside: 0, examples: [], romPages: 0, barPages: 0, ramLikePages: ms.iovaSummary().pages };
  // Without a layout only BARs are sorted out of the total; without BARs either, nothing is.
  const leaving = layout === undefined && bars.size === 0 ? [] : mappingsLeaving(ms, ram);
  for (const i of leaving) {
    const a = ms.iovaPfn[i];
    const b = a + ms.pages[i];
    // IOVA runs outside RAM (all of the mapping when there is no layout: then only BARs are sorted out).
    const delta = ms.hpaPfn[i] - a;
    const write = ms.write(i);
    for (const [os, oe] of layout ? subtract(a, b, ram) : [[a, b] as [number, number]]) {
      // The VM's own devices' BARs, by host page.
      const own = overlaps(bars, os + delta, oe + delta).map(([s, e]) => [s - delta, e - delta] as [number, number]);
      for (const [s, e] of own) j.barPages += e - s;
      for (const [s, e] of subtract(os, oe, own)) {
        if (!layout) continue; // without a layout only the total counts
        let rest: [number, number][] = [[s, e]];
        const win = layout.romWindow;
        if (win !== undefined && !write) {
          // ROM: read-only, in the window, onto host RAM (when the memory map says where RAM is).
          const inWin = subtract(s, e, [[Number.NEGATIVE_INFINITY, win[0]], [win[1], Number.POSITIVE_INFINITY]]);
          const rom = hostRam === undefined ? inWin : inWin.flatMap(([x, y]) => overlaps(hostRam, x + delta, y + delta).map(([p, q]) => [p - delta, q - delta] as [number, number]));
          for (const [x, y] of rom) j.romPages += y - x;
          rest = subtract(s, e, rom);
        }
        for (const [x, y] of rest) {
          j.outside += y - x;
          if (j.firstOutsideIovaPfn === undefined || x < j.firstOutsideIovaPfn) j.firstOutsideIovaPfn = x;
          if (j.examples.length < 8) j.examples.push({ iova: pfnHex(x), hpa: pfnHex(x + delta), size: hex((y - x) * 4096), write });
        }
      }
    }
  }
  j.ramLikePages -= j.romPages + j.barPages;
  return j;
}

export const hpaLeakOutsideVm = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const noSize = new Set<string>();
    const reasons = new Set<string>();
    for (const info of r.vmDomains().sort(byDomain)) {
      if (!info.domain.mappingsKnown || info.vms.size !== 1) continue;
      const name = [...info.vms][0];
      const vm = r.vmByName.get(name);
      const bdf = [...info.assignedUsers].sort()[0];
      if (vm === undefined || vm.memoryBytes === undefined) {
        if (!noSize.has(name)) {
          noSize.add(name);
          out.push(finding(meta, {
            messageId: 'memorySizeUnknown', data: { vm: name },
            severity: 'info', severityReason: 'VM memory size unknown', unit: info.unit, bdf, did: info.domain.did, source: vm?.source,
            evidence: { vm: name },
          }));
        }
        continue;
      }
      const judged = judgeDomain(snapshot, info, vm, vmDevices(r.assigned, name), bdf);
      out.push(...judged.findings);
      if (judged.barsUnknown) reasons.add(`the capture's memory map names no BAR of VM ${name}'s assigned devices: its own BAR mappings cannot be told from host memory`);
    }
    return ranInPart([...reasons], out);
  },
});

function vmDevices(assigned: ReturnType<typeof roles>['assigned'], vm: string): Set<string> {
  const out = new Set<string>();
  for (const a of assigned.values()) if (a.vm === vm) out.add(a.bdf);
  return out;
}

/**
 * QEMU maps every assigned device's BARs into the VM's domain; where they lie on the host only the
 * memory map's BDF-named entries say (/proc/iomem read as root). Without any for the VM's devices,
 * pages outside RAM may be those BARs: the findings say so, at warning, and the check ran in part.
 * bhyve maps nothing but RAM, so there every such page is a leak, memory map or not.
 */
function judgeDomain(snapshot: Snapshot, info: DomainInfo, vm: Vm, devices: ReadonlySet<string>, bdf: string): { findings: Finding[]; barsUnknown: boolean } {
  const out: Finding[] = [];
  const layout = guestLayout(vm);
  const bars = barIndex(snapshot, devices);
  const j = judge(snapshot, knownMappingList(info.domain), layout, bars);
  // Only when the memory map names no BAR at all (no /proc/iomem, or read without root): a map that
  // names other devices' BARs but none of the VM's says the VM's devices have none there.
  const barsUnknown = vm.hypervisor === 'qemu' && devices.size > 0 && (snapshot.pciResources ?? []).length === 0;
  const unsure = barsUnknown ? { severity: 'warning' as const, severityReason: "no BAR of the VM's devices in the memory map" } : {};
  const memory = vm.memoryBytes!;
  const common = { vm: vm.name, hypervisor: vm.hypervisor, memory: hex(memory), ...(vm.qemu?.type !== undefined ? { machine: vm.qemu.type } : {}) };
  if (layout !== undefined && j.outside > 0) {
    out.push(finding(meta, {
      messageId: barsUnknown ? 'outsideLayoutBarsUnknown' : 'outsideLayout',
      ...unsure,
      data: { owner: ownerText(info), did: info.domain.did, outside: j.outside, hypervisor: vm.hypervisor, givenPages: layout.givenPages, firstOutsidePfn: j.firstOutsideIovaPfn! },
      unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
      evidence: {
        ...common, outsidePages: j.outside, firstOutside: pfnHex(j.firstOutsideIovaPfn!), rule: layout.rule,
        layout: layout.ram.map(([a, b]) => ({ start: pfnHex(a), end: pfnHex(b) })),
        ...(layout.romWindow ? { romWindow: { start: pfnHex(layout.romWindow[0]), end: pfnHex(layout.romWindow[1]) } } : {}),
        romPages: j.romPages, ownBarPages: j.barPages, examples: j.examples,
      },
    }));
  }
  const given = layout?.givenPages ?? Math.ceil(memory / 4096);
  const allowed = layout?.maxPages ?? given;
  if (j.ramLikePages > allowed) {
    out.push(finding(meta, {
      messageId: barsUnknown ? 'moreThanGivenBarsUnknown' : 'moreThanGiven',
      ...unsure,
      data: { owner: ownerText(info), did: info.domain.did, mapped: j.ramLikePages, allowed, hotPlug: allowed > given },
      unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
      evidence: { ...common, mappedPages: j.ramLikePages, givenPages: given, ...(allowed > given ? { maxPages: allowed } : {}), romPages: j.romPages, ownBarPages: j.barPages },
    }));
  }
  return { findings: out, barsUnknown: barsUnknown && out.length > 0 };
}
