import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'dmar-integrity',
  defaultSeverity: 'error',
  summary: 'DMAR table checksum or length wrong, structures overlapping or truncated',
  description: `## What it means
The ACPI DMAR table is malformed: checksum or length wrong, structures truncated, overlapping or of
impossible size, or irregular (warnings: unusable fields the OS tolerates).

## Why it matters
Operating systems reject a broken DMAR table (no I/O MMU at all) or, worse, parse what they can and
leave units or scopes out: devices end up uncovered and DMA untranslated.

## How to fix / where to look
Update the firmware; compare with \`acpidump -t -n DMAR\` / \`iasl -d\`. The offset in evidence is
the byte offset in the table. Problems the decoder marks as errors are \`error\`, irregularities
\`warning\`. Inputs: dmar.`,
  needs: ['dmar'],
  messages: {
    problem: (d: { offset: number; message: string }) => `DMAR table at byte ${hex(d.offset)}: ${d.message}.`.replace(/\.\.$/, '.'),
  },
  example: { sample: 'dmar-integrity' },
});

export const dmarIntegrity = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    for (const p of snapshot.dmar?.problems ?? []) {
      out.push(finding(meta, {
        messageId: 'problem', data: p,
        severity: p.severity === 'error' ? 'error' : 'warning',
        severityReason: 'irregular but usable',
        source: { part: snapshot.capture.parts.find((x) => x.kind === 'dmar')?.path ?? 'dmar', offset: p.offset },
        evidence: { offset: hex(p.offset), problem: p.message },
      }));
    }
    return ran(out);
  },
});
