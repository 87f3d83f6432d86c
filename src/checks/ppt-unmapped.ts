import { fateWithoutEntry, unitDmaMode } from '../model/dma.js';
import { usesNoTables } from '../model/known.js';
import { hex } from '../util/hex.js';
import type { Snapshot } from '../model/types.js';
import { finding, ranInPart } from './finding.js';
import { faultEvidence, faultsForLackOfContext } from './fault-evidence.js';
import { roles } from '../model/roles.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'ppt-unmapped',
  defaultSeverity: 'error',
  summary: 'an assigned device with no present context entry, or that no unit covers',
  description: `## What it means
A device a VM's command line passes through has no present context entry in any unit, or no DRHD
of the DMAR table covers it at all.

## Why it matters
Without a context entry the unit blocks (or, when translation is off, passes) the device's DMA: the
guest's driver times out, or DMA is untranslated. ppt(4) takes an idle device out of the host
domain, so an idle ppt device without an entry is correct; once a VM owns it, it needs an entry
pointing at the VM's domain (FreeBSD r305485/r305497). A recorded DMA fault from the device
confirms it is DMAing without an entry: the evidence lists each fault with where a walk of the
capture's own tables stops for it (\`faultsConfirm\` when that is the root or context entry).

## How to fix / where to look
Restart the VM, or detach and re-attach the device to ppt (\`devctl clear driver -f ppt0\`,
\`devctl set driver pci0:B:S:F ppt\`); check that the DMAR table's scopes include the device.

A device whose covering unit reads no table at all — abort-DMA mode (RTADDR.TTM = 11b), or a TTM
the unit does not support, which faults every request — has no entry because none is used: it
cannot DMA (\`warning\` when a VM owns it, else \`info\`), and nothing leaks.

Severities: assigned and uncovered or without an entry → \`error\`; coverage unknown (a bridge scope
whose bus range the inventory lacks) → \`info\` saying so; an idle pass-through device (not in any VM)
that no unit covers → \`warning\`; without VM command lines, a pass-through device with no entry →
\`info\` (idle is normal), or \`error\` when a DMA fault from it is recorded.

A device whose context table the capture names but could not read (a page the memory image
lacks) is not reported: whether it has an entry is unknown, not absent; the check then runs in part
and says which devices it could not judge.

Inputs: tables (required), inventory (optional: without it pass-through devices come only from
dmardump driver hints such as \`(ppt0)\`). Uses the DMAR table, VM command lines and faults.`,
  needs: ['tables', 'inventory'],
  optional: ['inventory'],
  messages: {
    assignedUncovered: (d: { bdf: string; vm?: string; reason: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} is assigned but no remapping unit covers it (${d.reason}): its DMA is not translated; fix the DMAR table (firmware) or do not pass the device through.`,
    idleUncovered: (d: { bdf: string; reason: string }) =>
      `Pass-through device ${d.bdf} is covered by no remapping unit (${d.reason}): once given to a VM its DMA would not be translated.`,
    assignedCoverageUnknown: (d: { bdf: string; vm?: string; reason: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} is assigned and has no present context entry, and which unit covers it is unknown (${d.reason}).`,
    assignedNoEntry: (d: { bdf: string; vm?: string; unit?: number; faultNote: string; fate: string }) =>
      `${d.bdf} is passed through to VM ${d.vm ?? '?'} but has no present context entry${d.unit !== undefined ? ` in unit ${hex(d.unit)}` : ''}${d.faultNote}: ${d.fate}; restart the VM or re-attach the device to ppt.`,
    noEntryWithFaults: (d: { bdf: string }) =>
      `Pass-through device ${d.bdf} has no present context entry yet DMA faults from it are recorded: a VM is probably using it without a mapping; check the VM and re-attach the device to ppt.`,
    unitTakesNoDma: (d: { bdf: string; vm?: string; unit: number; why: string }) =>
      `${d.bdf}${d.vm ? ` (in VM ${d.vm})` : ''} cannot DMA at all: remapping unit ${hex(d.unit)} that covers it reads no table, ${d.why}. Nothing leaks, but the device does not work${d.vm ? ' in the VM' : ''}; find out why the host left the unit so (a boot or kexec cut short, a driver that failed to program RTADDR).`,
    noEntryMaybeIdle: (d: { bdf: string }) =>
      `Pass-through device ${d.bdf} has no present context entry: normal if it is idle; add the VM command lines to the capture to tell whether a VM uses it.`,
  },
  example: { sample: 'ppt-unmapped' },
});

export const pptUnmapped = defineCheck({
  meta,
  run(snapshot) {
    // What the unit does with DMA from a device without an entry: the same decision translate makes
    // (model/dma.ts) — untranslated with translation off (iommu-disabled says so), else blocked.
    const dmaFate = (base: number | undefined): string => fateWithoutEntry(base === undefined ? undefined : snapshot.units.find((x) => x.registerBase === base));
    const r = roles(snapshot);
    const out: Finding[] = [];
    const candidates = new Set<string>([...r.passThrough, ...r.assigned.keys()]);
    for (const bdf of [...candidates].sort()) {
      if (r.presentContexts.has(bdf)) continue;
      const a = r.assigned.get(bdf);
      const cov = r.coverage(bdf);
      // An entry in a table the capture could not read is unknown, not absent (see unexamined).
      if (cov.status !== 'none' && r.unknownEntry(bdf).length > 0) continue;
      const faults = snapshot.faults.filter((f) => f.bdf === bdf);
      const evidence = {
        coverage: cov.status,
        coveringUnit: cov.status === 'covered' ? hex(cov.unit) : undefined,
        candidateUnits: cov.status === 'unknown' ? cov.candidates.map((c) => hex(c)) : undefined,
        vm: a?.vm,
        driver: r.devices.get(bdf)?.driver ?? r.hints.get(bdf),
        faults: faults.length > 0 ? faults.slice(0, 8).map(faultEvidence) : undefined,
        // A fault the capture's own tables reproduce at the root or context entry: the device DMAs with no translation set up.
        faultsConfirm: faults.length > 0 ? faults.some(faultsForLackOfContext) : undefined,
      };
      const faultNote = faults.length > 0 ? ` (${faults.length} recorded DMA fault${faults.length > 1 ? 's' : ''} from it confirm it is DMAing)` : '';
      const unit = cov.status === 'covered' ? cov.unit : undefined;
      const source = r.devices.get(bdf)?.source;
      if (cov.status === 'none') {
        out.push(finding(meta, {
          ...(a
            ? { messageId: 'assignedUncovered', data: { bdf, vm: a.vm, reason: cov.reason } } as const
            : { messageId: 'idleUncovered', data: { bdf, reason: cov.reason } } as const),
          severity: a ? 'error' : 'warning',
          severityReason: 'the device is not in a VM now',
          bdf, source, evidence,
        }));
        continue;
      }
      if (cov.status === 'unknown' && a) {
        out.push(finding(meta, {
          messageId: 'assignedCoverageUnknown', data: { bdf, vm: a.vm, reason: cov.reason },
          severity: 'info',
          severityReason: 'coverage unknown: bridge bus ranges are not in the capture',
          bdf, source, evidence,
        }));
        continue;
      }
      const covering = unit === undefined ? undefined : snapshot.units.find((x) => x.registerBase === unit);
      if (unit !== undefined && covering !== undefined && usesNoTables(covering)) {
        // Abort-DMA mode or an unsupported RTADDR.TTM: not a missing entry, a unit that takes no DMA.
        const mode = unitDmaMode(covering);
        const why = mode.kind === 'blocked' ? 'being in abort-DMA mode (RTADDR.TTM = 11b): it blocks every DMA request' : mode.kind === 'faults' ? `and faults every DMA request (${mode.why})` : '';
        out.push(finding(meta, {
          messageId: 'unitTakesNoDma', data: { bdf, vm: a?.vm, unit, why },
          severity: a && snapshot.vmsKnown ? 'warning' : 'info',
          severityReason: a && snapshot.vmsKnown ? 'the unit blocks the device\'s DMA: no exposure, a device that cannot work' : 'the device is not known to be in a VM, and its unit takes no DMA',
          unit, bdf, source, evidence: { ...evidence, rtaddr: covering.registers?.RTADDR !== undefined ? hex(covering.registers.RTADDR.raw) : undefined },
        }));
        continue;
      }
      if (a && snapshot.vmsKnown) {
        out.push(finding(meta, {
          messageId: 'assignedNoEntry', data: { bdf, vm: a.vm, unit, faultNote, fate: dmaFate(unit) },
          unit, bdf, source, evidence,
        }));
        continue;
      }
      if (!snapshot.vmsKnown) {
        out.push(finding(meta, {
          messageId: faults.length > 0 ? 'noEntryWithFaults' : 'noEntryMaybeIdle', data: { bdf },
          severity: faults.length > 0 ? 'error' : 'info',
          severityReason: faults.length > 0 ? undefined : 'no VM command lines: an idle pass-through device without an entry is normal',
          unit, bdf, source, evidence,
        }));
      }
      // VM data present and no VM names it: an idle ppt device without an entry is correct.
    }
    return ranInPart(unexamined(snapshot), out);
  },
});

/** Pass-through devices whose entry is in a table the capture could not read: unknown, not absent. */
function unexamined(snapshot: Snapshot): string[] {
  const r = roles(snapshot);
  return [...new Set<string>([...r.passThrough, ...r.assigned.keys()])]
    .filter((bdf) => !r.presentContexts.has(bdf) && r.coverage(bdf).status !== 'none')
    .sort()
    .flatMap((bdf) => r.unknownEntry(bdf).slice(0, 1).map(({ unit, table }) => `whether ${bdf} has a context entry in unit ${hex(unit.registerBase)} is unknown: ${table.message}`));
}
