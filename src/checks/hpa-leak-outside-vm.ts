import type { Vm } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding } from './finding.js';
import { byDomain, knownMappings, ownerText, pagesText, pfnHex, roles } from './roles.js';
import type { Check, CheckMeta, EvidenceValue, Finding } from './types.js';

const GiB = 2 ** 30;
/** bhyve: libvmmapi vm_open() sets lowmem_limit = 3 GiB; vm_setup_memory() puts the rest at 4 GiB. */
export const BHYVE_LOWMEM_LIMIT = 3 * GiB;
/** QEMU q35 (pc_q35_init): RAM ≥ 0xb0000000 is split at 2 GiB, smaller RAM sits wholly below 4 GiB. */
export const Q35_SPLIT_THRESHOLD = 0xb0000000;
export const Q35_LOWMEM = 2 * GiB;
const FOUR_GIB = 4 * GiB;

/** Guest-physical RAM ranges [startPfn, endPfn) of a VM, or undefined when the layout is unknown. */
export function guestLayout(vm: Vm): [number, number][] | undefined {
  const mem = vm.memoryBytes;
  if (mem === undefined) return undefined;
  let low: number;
  if (vm.hypervisor === 'bhyve') low = Math.min(mem, BHYVE_LOWMEM_LIMIT);
  else if (vm.hypervisor === 'qemu') low = mem >= Q35_SPLIT_THRESHOLD ? Q35_LOWMEM : mem;
  else return undefined;
  const high = mem - low;
  const ranges: [number, number][] = [[0, Math.ceil(low / 4096)]];
  if (high > 0) ranges.push([FOUR_GIB / 4096, (FOUR_GIB + high) / 4096]);
  return ranges;
}

const meta: CheckMeta = {
  id: 'hpa-leak-outside-vm',
  defaultSeverity: 'error',
  summary: "a VM domain maps IOVAs outside the VM's guest-physical layout, or more memory than the VM was given",
  description: `## What it means
A domain used by a VM's device maps guest-physical addresses (IOVAs) where the VM has no RAM, or
maps more pages in total than the VM's \`-m\` size.

## Why it matters
Every such mapping points at host memory the VM was not given: leftovers of an earlier VM, or pages
the hypervisor mapped by mistake — host data the guest's device can read or overwrite.

## How to fix / where to look
Compare the VM's command line with the domain's mappings (\`dmarsift decode\`); restart the VM and
check the hypervisor's map/unmap of guest memory.

Guest layouts used:
- bhyve: [0, lowmem) and [4 GiB, 4 GiB + (memsize − lowmem)), lowmem = min(memsize, 3 GiB)
  (libvmmapi: \`lowmem_limit\` defaults to 3 GiB in \`vm_open\`, \`vm_setup_memory\` puts the rest
  above 4 GiB).
- QEMU: the q35 machine is assumed: RAM of 0xb0000000 (2.75 GiB) or more is split at 2 GiB, the rest
  above 4 GiB; smaller RAM lies wholly below. (i440fx splits at 3 GiB for RAM ≥ 3.5 GiB: a
  pc-machine VM can show false positives between 2 and 3 GiB.) VFIO also maps other assigned
  devices' BARs for peer-to-peer DMA outside RAM: check hits against the VMs' BARs.
- Other hypervisors: only the total is checked.

A VM whose memory size the command line does not give gets one \`info\`. Inputs: tables, mappings,
vms.`,
  needs: ['tables', 'mappings', 'vms'],
};

export const hpaLeakOutsideVm: Check = {
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const noSize = new Set<string>();
    for (const info of r.vmDomains().sort(byDomain)) {
      if (!info.domain.mappingsKnown || info.vms.size !== 1) continue;
      const name = [...info.vms][0];
      const vm = r.vmByName.get(name);
      const bdf = [...info.assignedUsers].sort()[0];
      if (vm === undefined || vm.memoryBytes === undefined) {
        if (!noSize.has(name)) {
          noSize.add(name);
          out.push(finding(meta, {
            message: `VM ${name}'s memory size is not on its command line in the capture, so its domain's mappings cannot be checked against its layout.`,
            severity: 'info', severityReason: 'VM memory size unknown', unit: info.unit, bdf, did: info.domain.did, source: vm?.source,
            evidence: { vm: name },
          }));
        }
        continue;
      }
      const ms = knownMappings(info.domain);
      const layout = guestLayout(vm);
      if (layout !== undefined) {
        let outside = 0;
        const examples: EvidenceValue[] = [];
        // Indexed loops over typed arrays: this runs once per mapping, mostly before the JIT has
        // optimized it, where for-of, destructuring and doubles in plain arrays allocate per step.
        const ls = Float64Array.from(layout, (r) => r[0]);
        const le = Float64Array.from(layout, (r) => r[1]);
        for (let i = 0; i < ms.length; i++) {
          const m = ms[i];
          const a = m.iovaPfn;
          const b = a + m.pages;
          // Pages of [iova, iova + pages) not inside any layout range.
          let inside = 0;
          for (let j = 0; j < ls.length; j++) {
            const lo = a > ls[j] ? a : ls[j];
            const hi = b < le[j] ? b : le[j];
            if (hi > lo) inside += hi - lo;
          }
          const o = m.pages - inside;
          if (o <= 0) continue;
          outside += o;
          if (examples.length < 8) examples.push({ iova: pfnHex(m.iovaPfn), hpa: pfnHex(m.hpaPfn), size: hex(m.pages * 4096), write: m.write });
        }
        if (outside > 0) {
          out.push(finding(meta, {
            message: `The domain of ${ownerText(info)} (DID ${info.domain.did}) maps ${pagesText(outside)} at guest addresses where the ${vm.hypervisor} VM has no RAM (memory ${pagesText(vm.memoryBytes / 4096)}; first at ${String((examples[0] as { iova: string }).iova)}): those pages are host memory the VM was not given; restart the VM and check the hypervisor's unmap path.`,
            unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
            evidence: {
              vm: name, hypervisor: vm.hypervisor, memory: hex(vm.memoryBytes), outsidePages: outside,
              layout: layout.map(([a, b]) => ({ start: pfnHex(a), end: pfnHex(b) })), examples,
            },
          }));
        }
      }
      let total = 0;
      for (let i = 0; i < ms.length; i++) total += ms[i].pages;
      const given = Math.ceil(vm.memoryBytes / 4096);
      if (total > given) {
        out.push(finding(meta, {
          message: `The domain of ${ownerText(info)} (DID ${info.domain.did}) maps ${pagesText(total)}, more than the ${pagesText(given)} the VM was given: the excess is host memory the VM can reach; restart the VM and check the hypervisor's mappings.`,
          unit: info.unit, bdf, did: info.domain.did, source: info.domain.source,
          evidence: { vm: name, hypervisor: vm.hypervisor, memory: hex(vm.memoryBytes), mappedPages: total, givenPages: given },
        }));
      }
    }
    return out;
  },
};
