import type { Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import { unitsCoveringAssigned } from './ir-units.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

interface CompatData { unit: Unit; assigned: string[]; eimeKnown: boolean }

const who = (d: CompatData): string =>
  d.assigned.length > 0 ? `any device behind it — including assigned ${d.assigned.join(', ')} —` : 'any device behind it';

const meta = checkMeta({
  id: 'ir-compat-allowed',
  defaultSeverity: 'error',
  summary: 'interrupt remapping is on but compatibility-format interrupts pass unremapped (GSTS.CFIS = 1, IRTA.EIME = 0)',
  description: `## What it means
The unit remaps interrupts (GSTS.IRES = 1) in xAPIC mode (IRTA.EIME = 0) and lets
compatibility-format interrupts through (GSTS.CFIS = 1, set by GCMD.CFI). An MSI in the old
format (address bit 4 clear) is not looked up in the interrupt remapping table: it is delivered
as written, with no source check (VT-d 5.1.4, "Interrupt Remapping and Interrupt Posting"). With
EIME set compatibility-format interrupts are blocked whatever CFIS says, so the check needs EIME
clear.

## Why it matters
Interrupt remapping protects only interrupts that use the remappable format. With CFIS set a
device can bypass it by writing a compatibility-format MSI: any vector on any CPU, exactly the
injection interrupt remapping is there to stop. Linux clears CFI when it enables remapping and
warns "Compatibility-format IRQs enabled despite intr remapping; you are vulnerable to IRQ
injection" if the bit stays set.

Severity: \`error\` when the unit covers an assigned device; \`warning\` otherwise (only host
devices can use the path). When IRTA was not captured, EIME is unknown: the finding says so.

## How to fix / where to look
The OS or the firmware set GCMD.CFI, or the unit ignored CFI being cleared (Linux clears it when
it enables remapping and warns as above when CFIS stays set: look in \`dmesg\`). Clear CFI, or
enable x2APIC mode (EIME), which blocks compatibility-format interrupts.

Inputs: registers (GSTS.IRES and CFIS; IRTA for EIME).`,
  needs: ['registers'],
  messages: {
    compatPasses: (d: CompatData) =>
      `Remapping unit ${hex(d.unit.registerBase)} remaps interrupts but lets compatibility-format interrupts through unremapped (GSTS.CFIS = 1${d.eimeKnown ? ', IRTA.EIME = 0' : '; IRTA not captured, so this holds if EIME is clear, as it is in xAPIC mode'}): ${who(d)} can bypass interrupt remapping with a compatibility-format MSI and raise any vector on any CPU; clear GCMD.CFI or enable x2APIC mode (EIME).`,
  },
  example: { sample: 'ir-compat-allowed' },
});

export const irCompatAllowed = defineCheck({
  meta,
  run(snapshot) {
    const covering = unitsCoveringAssigned(roles(snapshot));
    const out: Finding[] = [];
    for (const unit of snapshot.units) {
      const ir = unit.interruptRemapping;
      // EIME set blocks compatibility format whatever CFIS says (VT-d 5.1.4).
      if (ir?.enabled !== true || ir.compatibilityFormat !== true || ir.x2apic === true) continue;
      const assigned = covering.get(unit) ?? [];
      const eimeKnown = ir.x2apic === false;
      out.push(finding(meta, {
        messageId: 'compatPasses', data: { unit, assigned, eimeKnown },
        severity: assigned.length > 0 ? 'error' : 'warning',
        severityReason: 'the unit covers no assigned device',
        unit, bdf: assigned[0],
        evidence: {
          gsts: unit.registers?.GSTS !== undefined ? hex(unit.registers.GSTS.raw) : undefined,
          irta: ir.irta !== undefined ? hex(unit.registers?.raw.IRTA ?? 0n) : null,
          eime: ir.x2apic ?? null,
          assigned,
        },
      }));
    }
    return ran(out);
  },
});
