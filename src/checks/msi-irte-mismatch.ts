import { IR_FAULT, remapInterrupt, type IrteLookup } from '../decode/ir-remap.js';
import type { MsiCapability } from '../decode/pci-config.js';
import { decodeMsi } from '../decode/msi.js';
import { irteState, type InterruptRemapping } from '../model/interrupt-remapping.js';
import type { Source } from '../model/types.js';
import { roles } from '../model/roles.js';
import { parseBdf, sourceId } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'msi-irte-mismatch',
  defaultSeverity: 'error',
  summary: 'an assigned device\'s MSI names an IRTE that is not present, is beyond the table or belongs to another requester; or it uses compatibility format while IR is on',
  description: `## What it means
With interrupt remapping on, a device's MSI in remappable format carries a handle (and subhandle)
that names an interrupt-remapping table entry (IRTE). dmarsift reads the MSI address and data
programmed in the device's MSI capability (configuration space) and looks the entry up in the
unit's IR table as the hardware would (VT-d §5.1.4): an entry that is not present (fault 0x22),
an index beyond the table (0x21), or an entry whose source-id names another function (0x26) means
the device's interrupts are blocked — or, if the entry is later filled for someone else, that it
raises another device's vectors. With several MSI vectors enabled (Multiple Message Enable) the
device writes the vector number into the data's low bits, so with SHV set vector i names IRTE
handle + i: every one of them is looked up. An MSI still in compatibility format while IR is on is blocked
(EIME set or CFIS clear, fault 0x25) or bypasses remapping altogether (CFIS set).

## Why it matters
A VM whose device interrupts are blocked hangs waiting for them; an IRTE shared with another
requester lets the device inject interrupts meant for others. After a VM is torn down, an MSI that
still names a freed entry shows tables that were not updated.

## How to fix / where to look
Compare \`/proc/interrupts\` and the IR table (\`ir_translation_struct\`) with the device's MSI
(\`lspci -vv\`: "Address: … Data: …"); restart the VM or rebind the device so the OS programs both
again. MSI-X tables live in the device's BAR memory and are not in the capture: only the MSI
capability is judged.

Inputs: configuration space (the MSI capability), the IR table.`,
  needs: ['pci-config', 'interrupt-remapping'],
  messages: {
    irteFault: (d: { bdf: string; vm?: string; index: number; unit: number; code: number; reason: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} has MSI enabled in remappable format naming IRTE ${d.index} of unit ${hex(d.unit)}, which the unit refuses (fault ${hex(d.code)}: ${d.reason}): the device's interrupts are blocked, or reach another requester's entry.`,
    compatibilityWithIr: (d: { bdf: string; vm?: string; unit: number; passes: boolean }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} has MSI enabled in compatibility format while interrupt remapping is on in unit ${hex(d.unit)}: ${d.passes ? 'CFIS is set, so its interrupts bypass remapping (any vector, any CPU)' : 'the unit blocks it (fault 0x25), so the device raises no interrupt'}.`,
  },
  example: { sample: 'msi-irte-mismatch' },
});

/**
 * Every IRTE the function's enabled MSI vectors name. With Multiple Message Enable > 0 the function
 * puts the vector number in the low MME bits of the Message Data (PCI Local Bus 3.0 §6.8.1.3/6.8.1.9);
 * in remappable format with SHV set those bits are the subhandle, so vector i names handle + i
 * (VT-d §5.1.2.2; Linux allocates the block of IRTEs for multi-MSI this way). Without SHV they all
 * name the handle. Each distinct entry the unit refuses is one finding.
 */
function checkVectors(c: {
  bdf: string; vm: string | undefined; msi: MsiCapability; unit: { registerBase: number; ir: InterruptRemapping };
  source: Source | undefined; evidence: Record<string, string | undefined>;
}): { findings: Finding[]; reasons: string[] } {
  const { bdf, vm, msi, source } = c;
  const { registerBase: unit, ir } = c.unit;
  const findings: Finding[] = [];
  const reasons: string[] = [];
  const lookup: IrteLookup = (index) => {
    const st = irteState(ir, index);
    return st.state === 'present' ? st.entry : st.state === 'absent' ? { lo: 0n, hi: 0n } : undefined;
  };
  const vectors = Math.max(1, msi.multipleMessageEnabled);
  const seen = new Set<number>();
  for (let v = 0; v < vectors; v++) {
    const message = decodeMsi(msi.address, ((msi.data & ~(vectors - 1)) | v) >>> 0);
    if (message.format !== 'remappable' || seen.has(message.interruptIndex)) continue;
    seen.add(message.interruptIndex);
    const result = remapInterrupt(message, lookup, {
      enabled: true, eime: ir.x2apic !== false, cfis: ir.compatibilityFormat === true,
      ...(ir.entryCount !== undefined ? { entries: ir.entryCount } : {}),
      ...(ir.postedSupported !== undefined ? { postedInterrupts: ir.postedSupported } : {}),
    }, sourceId(parseBdf(bdf)));
    if (result.outcome === 'unknown') {
      reasons.push(`${bdf}'s MSI${vectors > 1 ? ` vector ${v}` : ''} names IRTE ${result.index} of unit ${hex(unit)}, which is not in the capture`);
      continue;
    }
    if (result.outcome !== 'fault') continue;
    if (result.code !== IR_FAULT.NOT_PRESENT && result.code !== IR_FAULT.INDEX_BEYOND_TABLE && result.code !== IR_FAULT.SOURCE_ID) continue; // reserved bits: table-integrity's
    findings.push(finding(meta, {
      messageId: 'irteFault', data: { bdf, vm, index: result.index ?? message.interruptIndex, unit, code: result.code, reason: result.reason },
      unit, bdf, source, evidence: { ...c.evidence, ...(vectors > 1 ? { vector: String(v), vectorsEnabled: String(vectors) } : {}), fault: hex(result.code), detail: result.detail },
    }));
  }
  return { findings, reasons };
}

export const msiIrteMismatch = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    const reasons: string[] = [];
    for (const [bdf, a] of [...r.assigned].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const dev = r.devices.get(bdf);
      const msi = dev?.config?.msi;
      if (msi === undefined || !msi.enabled || msi.message === undefined) continue;
      const u = r.unitFor(bdf);
      const ir = u.unit?.interruptRemapping;
      if (u.unit === undefined || ir === undefined || ir.enabled === undefined) {
        reasons.push(`whether ${bdf}'s MSI is remapped is unknown: ${u.unit === undefined ? u.reason : 'the capture does not say whether its unit has IR on'}`);
        continue;
      }
      if (!ir.enabled) continue; // ir-off-with-assigned's finding
      const unit = u.unit.registerBase;
      const source = dev?.configSource ?? dev?.source;
      const evidence = { msiAddress: hex(msi.address), msiData: hex(msi.data), vm: a.vm };
      if (msi.message.format === 'compatibility') {
        // Blocked with EIME set or CFIS clear; passes with CFIS set and EIME clear (VT-d 5.1.4).
        if (ir.compatibilityFormat === undefined || (ir.compatibilityFormat && ir.x2apic === undefined)) {
          reasons.push(`${bdf}'s MSI is in compatibility format; whether unit ${hex(unit)} blocks it or lets it pass is unknown (needs GSTS.CFIS and IRTA.EIME)`);
          continue;
        }
        const passes = ir.x2apic === false && ir.compatibilityFormat === true;
        out.push(finding(meta, { messageId: 'compatibilityWithIr', data: { bdf, vm: a.vm, unit, passes }, unit, bdf, source, evidence }));
        continue;
      }
      const unitIr = { registerBase: unit, ir };
      const checked = checkVectors({ bdf, vm: a.vm, msi, unit: unitIr, source, evidence });
      out.push(...checked.findings);
      reasons.push(...checked.reasons);
    }
    return ranInPart(reasons, out);
  },
});
