import type { Roles } from '../model/roles.js';
import type { Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { roles } from '../model/roles.js';
import { assignedUnits, irOffText, irState, type IrState } from './ir-units.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

type Off = Exclude<IrState, 'on' | 'unknown'>;
interface OffData { bdf: string; vm?: string; unit: Unit; state: Off }

const where = (d: OffData): string => `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} is covered by remapping unit ${hex(d.unit.registerBase)}, which has ${irOffText(d.state)}`;
const risk = 'its MSIs reach the host\'s local APICs unremapped and unverified, so whoever controls the device can make it raise any vector on any host CPU';

const meta = checkMeta({
  id: 'ir-off-with-assigned',
  defaultSeverity: 'warning',
  summary: 'a unit covering an assigned device has interrupt remapping unsupported (ECAP.IR = 0) or off (GSTS.IRES = 0)',
  description: `## What it means
The remapping unit that covers a device handed to a VM does not remap interrupts: ECAP.IR is 0
(the unit cannot) or GSTS.IRES is 0 (the OS did not enable it). The device's MSIs (writes to
0xFEEx_xxxx) go to the local APICs as written, and nobody checks which device sent them.

## Why it matters
A guest owns its device's MSI address and data (or can make the device DMA to 0xFEEx_xxxx): it can
raise any vector on any host CPU — spurious device interrupts, IPIs, NMIs, or vectors the host
uses for its own devices. These interrupt-injection attacks are why Linux VFIO refuses to assign a
device without interrupt remapping unless \`allow_unsafe_interrupts=1\` is set.

**On bhyve this is the design, not a misconfiguration**: bhyve's VT-d code (\`vtd.c\`) writes only
SRTP, TE and WBF to GCMD and never enables interrupt remapping, so the finding appears on every
bhyve host with a pass-through device. That is why the default severity is \`warning\`: true and
worth knowing (keep untrusted guests off pass-through devices), not a CI failure. On a Linux
host (a QEMU/VFIO VM, or a vfio-pci device) the message says more: the kernel only assigns such a
device after someone set \`allow_unsafe_interrupts\` (set \`"checks": { "ir-off-with-assigned": "error" }\`
in dmarsift.config.json if that must fail CI: docs/ci.md).

## How to fix / where to look
Linux: boot without \`intremap=off\`/\`intel_iommu=…,nointremap\`, and drop
\`vfio_iommu_type1.allow_unsafe_interrupts=1\`; \`dmesg | grep -i remapping\` says whether the
kernel enabled it. bhyve: nothing to configure; assign devices only to guests you trust with
the host's interrupts.

Inputs: registers (ECAP.IR and GSTS.IRES; Linux debugfs \`ir_translation_struct\` also says when
IR is off); VM command lines tell which devices are assigned (without them, a pass-through
device with a present context entry counts). A device whose unit's IR state the capture does not
hold is not judged (the check is partial).`,
  needs: ['registers'],
  messages: {
    bhyve: (d: OffData) =>
      `${where(d)}: ${risk}. This is bhyve's design (its VT-d code, vtd.c, never enables interrupt remapping), not a misconfiguration; give the device only to a guest you trust with the host's interrupts.`,
    vfio: (d: OffData) =>
      `${where(d)}: ${risk}. Linux VFIO assigns a device without interrupt remapping only when allow_unsafe_interrupts=1 is set; enable interrupt remapping (no intremap=off) and drop that override.`,
    other: (d: OffData) =>
      `${where(d)}: ${risk}. On bhyve this is its design (vtd.c never enables interrupt remapping); elsewhere enable interrupt remapping before assigning the device.`,
  },
  example: { sample: 'ir-off-with-assigned' },
});

/** Which host the assignment is on: the VM's hypervisor, else the pass-through driver's OS. */
function hostKind(r: Roles, bdf: string, vm: string | undefined): 'bhyve' | 'vfio' | 'other' {
  const hv = vm !== undefined ? r.vmByName.get(vm)?.hypervisor : undefined;
  if (hv === 'bhyve') return 'bhyve';
  if (hv === 'qemu') return 'vfio';
  if (hv !== undefined && hv !== 'unknown') return 'other';
  const d = r.devices.get(bdf);
  const driver = (d?.driver ?? d?.deviceUnit ?? r.hints.get(bdf) ?? '').toLowerCase();
  if (driver === 'ppt' || /^ppt\d+$/.test(driver)) return 'bhyve';
  if (driver === 'vfio-pci') return 'vfio';
  return 'other';
}

export const irOffWithAssigned = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const unknown: string[] = [];
    for (const a of assignedUnits(r)) {
      if (a.units.length === 0) continue; // no covering unit: ppt-unmapped reports it
      const states = a.units.map(irState);
      if (states.includes('unknown')) {
        unknown.push(a.bdf);
        continue;
      }
      if (!states.every((s) => s === 'off' || s === 'unsupported')) continue;
      const unit = a.units[0];
      const state = states[0] as Off;
      const kind = hostKind(r, a.bdf, a.vm);
      const ir = unit.interruptRemapping;
      out.push(finding(meta, {
        messageId: kind, data: { bdf: a.bdf, vm: a.vm, unit, state },
        unit, bdf: a.bdf,
        evidence: {
          units: a.units.map((u) => hex(u.registerBase)),
          state,
          ecapIR: ir?.supported ?? null,
          gstsIRES: ir?.enabled ?? null,
          gsts: unit.registers?.GSTS !== undefined ? hex(unit.registers.GSTS.raw) : undefined,
          vm: a.vm,
          host: kind,
        },
      }));
    }
    const reasons = unknown.length > 0 ? [`the capture does not say whether interrupt remapping is on for the unit of ${unknown.join(', ')} (add the registers: ECAP and GSTS)`] : [];
    return ranInPart(reasons, out);
  },
});
