import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'unit-disabled-with-tables',
  defaultSeverity: 'warning',
  summary: 'a unit with a programmed root table but translation off — invisible to dmardump',
  description: `## What it means
A remapping unit has a root table programmed (GSTS.RTPS = 1, or a non-zero root-table address is
known) while translation is off (GSTS.TES = 0).

## Why it matters
The tables look live (dmardump and debugfs print them) but the hardware ignores them: every device
under the unit DMAs untranslated. Typical after a failed enable, a kexec, or a driver that set the
root pointer and bailed out.

## How to fix / where to look
Check \`dmesg\` for DMAR errors at boot; on FreeBSD, whether the DMAR driver or bhyve's own I/O MMU
code owns the unit (\`hw.dmar.enable\`, \`hw.vmm.force_iommu\`). Inputs: registers.`,
  needs: ['registers'],
  messages: {
    tablesWithTranslationOff: (d: { unit: number; rootTable?: number }) =>
      `Remapping unit ${hex(d.unit)} has a root table${d.rootTable !== undefined ? ` at ${hex(d.rootTable)}` : ''} programmed but translation is off (GSTS.TES = 0): its devices DMA untranslated although the tables look live; check the boot log for DMAR errors.`,
  },
  example: { sample: 'unit-disabled-with-tables' },
});

export const unitDisabledWithTables = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    for (const u of snapshot.units) {
      if (u.translationEnabled !== false) continue;
      const programmed = u.rootTablePointerSet === true || (u.rootTable !== undefined && u.rootTable !== 0);
      if (!programmed) continue;
      out.push(finding(meta, {
        messageId: 'tablesWithTranslationOff', data: { unit: u.registerBase, rootTable: u.rootTable },
        unit: u, source: u.rootTableSource,
        evidence: {
          rootTable: u.rootTable !== undefined ? hex(u.rootTable) : undefined, rootTablePointerSet: u.rootTablePointerSet ?? null,
          gsts: u.registers?.GSTS !== undefined ? hex(u.registers.GSTS.raw) : undefined,
          rtaddr: u.registers?.RTADDR !== undefined ? hex(u.registers.RTADDR.raw) : undefined,
          presentContexts: u.contexts.filter((c) => c.present).length,
        },
      }));
    }
    return ran(out);
  },
});
