import type { Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { roles } from '../model/roles.js';
import { indicesText, unitsCoveringAssigned } from './ir-units.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

interface UnverifiedData { unit: Unit; indices: number[]; assigned: string[] }

const meta = checkMeta({
  id: 'irte-unverified-source',
  defaultSeverity: 'error',
  summary: 'a present remapped IRTE with SVT = 00b (no source check) on a unit covering an assigned device',
  description: `## What it means
A present interrupt remapping table entry in remapped format has SVT (Source Validation Type,
bits 83:82) = 00b: the unit does not check which requester uses it. Any device behind the unit
that writes an MSI naming this entry's handle gets its vector delivered to its destination.

## Why it matters
Source validation is what ties an IRTE to the device it was set up for (SVT = 01b: SID with SQ;
10b: a bus range). Without it, a device handed to a VM — whose MSI address and data the guest
controls, or that the guest can make DMA to 0xFEEx_xxxx — can use the host's entry: it raises the
host's vector on the host's CPU (interrupt injection), needing only the handle, an index into a
table of at most 65,536 entries. Linux sets SVT on every entry it writes (\`set_irte_sid\`,
\`set_msi_sid\`); an entry without it is left by firmware, another OS, or a driver bug.

Only remapped entries are judged: a posted entry (IM = 1) posts into a VM's posted-interrupt
descriptor rather than raising a host vector.

## How to fix / where to look
Find who wrote the entry: its vector and destination usually name the interrupt (\`/proc/interrupts\`
on Linux). Reprogram it with the requester's source-id, or clear it if unused.

Inputs: interrupt-remapping (the IR table from the memory image or debugfs \`ir_translation_struct\`);
VM command lines tell which devices are assigned. Entries on table pages the capture lacks are
unknown (the check is partial).`,
  needs: ['interrupt-remapping'],
  messages: {
    unverified: (d: UnverifiedData) =>
      `Remapping unit ${hex(d.unit.registerBase)} has ${d.indices.length} present remapped IRTE${d.indices.length === 1 ? '' : 's'} that verif${d.indices.length === 1 ? 'ies' : 'y'} no source (SVT = 00b; index ${indicesText(d.indices)}), and it covers assigned ${d.assigned.join(', ')}: the guest can use ${d.indices.length === 1 ? 'that entry' : 'those entries'} to raise host vectors on host CPUs; program SVT/SID for the requester, or clear unused entries.`,
  },
  example: { sample: 'irte-unverified-source' },
});

export const irteUnverifiedSource = defineCheck({
  meta,
  run(snapshot) {
    const covering = unitsCoveringAssigned(roles(snapshot));
    const out: Finding[] = [];
    const reasons: string[] = [];
    for (const [unit, assigned] of covering) {
      const ir = unit.interruptRemapping;
      // IR off: the table is not used (ir-off-with-assigned says so).
      if (ir === undefined || ir.enabled === false) continue;
      if (ir.entrySources.length === 0) {
        reasons.push(`the interrupt remapping table of unit ${hex(unit.registerBase)} is not in the capture`);
        continue;
      }
      const bad = ir.irtes.filter((e) => e.irte.mode === 'remapped' && e.irte.SVT === 0);
      if (bad.length === 0) continue;
      const entries: EvidenceValue[] = bad.slice(0, 16).map((e) => ({
        index: e.index,
        vector: e.irte.mode === 'remapped' ? e.irte.V : null,
        apicId: e.irte.mode === 'remapped' ? e.irte.apicId : null,
        raw: [hex(e.lo), hex(e.hi)],
      }));
      out.push(finding(meta, {
        messageId: 'unverified', data: { unit, indices: bad.map((e) => e.index), assigned },
        unit, bdf: assigned[0], source: bad[0].source,
        evidence: { count: bad.length, entries, assigned },
      }));
    }
    return ranInPart(reasons, out);
  },
});
