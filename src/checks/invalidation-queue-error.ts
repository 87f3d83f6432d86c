import { decodeIqa, decodeIqercd } from '../decode/ir-registers.js';
import { decodeDescriptor } from '../decode/invalidation.js';
import type { Unit } from '../model/types.js';
import { formatBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'invalidation-queue-error',
  defaultSeverity: 'error',
  summary: 'the invalidation queue stopped on an error (FSTS.IQE, ITE or ICE): cached translations may be stale',
  description: `## What it means
The invalidation queue (IQA/IQH/IQT) is how the OS tells the unit to forget cached translations
after it changes the tables. The unit's fault status register says the queue stopped:
- **IQE** (invalidation queue error): the descriptor at IQH is malformed or could not be fetched;
  IQERCD.IQEI says why (invalid tail pointer, fetch error, invalid type, reserved field set, wrong
  width). The queue does not advance until software clears IQE.
- **ITE** (invalidation time-out error): a device-TLB invalidation sent to a device was not
  completed in time; IQH has already moved past the wait descriptor that follows it, and the
  device is IQERCD.ITESID.
- **ICE** (invalidation completion error): a device answered a device-TLB invalidation with an
  invalid completion; the device is IQERCD.ICESID.

dmarsift names the descriptor at IQH (decoded from debugfs \`invalidation_queue\` when captured) and
the device the error names (VT-d specification, section 6.5.2 and the FSTS/IQERCD registers; Linux
\`qi_check_fault\`).

## Why it matters
Invalidations that did not run leave translations cached in the IOTLB or a device's TLB: a device
can keep DMAing to pages the tables no longer map — memory the host may already have handed to
someone else.

## How to fix / where to look
The kernel log (Linux: "Invalidation Queue Error (IQE) cleared", "Invalidation Time-out Error (ITE)
cleared"); a device named by ITE/ICE with a broken ATS implementation should not be assigned with
device-TLB enabled. Reboot to get a consistent IOTLB.

Inputs: registers (FSTS, and IQH, IQA, IQERCD when captured); the queue's descriptors from debugfs
\`invalidation_queue\` are used when present.`,
  needs: ['registers'],
  messages: {
    iqe: (d: { unit: number; iqh: string; descriptor: string; why: string }) =>
      `Unit ${hex(d.unit)}'s invalidation queue stopped on an invalid descriptor (FSTS.IQE${d.why}) at IQH ${d.iqh}${d.descriptor}: the invalidations queued after it have not run, so cached translations may be stale and devices may still DMA to pages the tables no longer map.`,
    ite: (d: { unit: number; device: string }) =>
      `Unit ${hex(d.unit)} reports a device-TLB invalidation time-out (FSTS.ITE)${d.device}: the device may still hold translations the tables no longer have, and keep DMAing through them.`,
    ice: (d: { unit: number; device: string }) =>
      `Unit ${hex(d.unit)} reports an invalid device-TLB invalidation completion (FSTS.ICE)${d.device}: the device's TLB state is unknown; it may keep stale translations.`,
  },
  example: { sample: 'invalidation-queue-error' },
});

const sidText = (segment: number, sid: number): string => formatBdf({ segment, bus: sid >> 8, devfn: sid & 0xff });

/** The descriptor at IQH, from debugfs' copy of the ring when the capture holds it. */
function descriptorAt(u: Unit, iqh: bigint): { index: number; text: string } {
  const dw = u.registers?.raw.IQA !== undefined ? decodeIqa(u.registers.raw.IQA).DW : u.invalidationQueue?.qwords === 4;
  const index = Number(iqh >> (dw ? 5n : 4n)) & 0x7fff;
  const slot = u.invalidationQueue?.slots.find((s) => s.index === index);
  if (slot === undefined) return { index, text: ` (descriptor ${index}; the queue's contents are not in the capture)` };
  const d = decodeDescriptor(slot.qw);
  return { index, text: ` (descriptor ${index}: ${d.kind}${d.DID !== undefined ? ` DID ${d.DID}` : ''}, qw0 ${hex(slot.qw[0] ?? 0n)})` };
}

export const invalidationQueueError = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    const reasons: string[] = [];
    for (const u of snapshot.units) {
      const regs = u.registers;
      const fsts = regs?.FSTS;
      if (regs === undefined || fsts === undefined) {
        reasons.push(`unit ${u.baseUnknown ? '(base unknown)' : hex(u.registerBase)}: FSTS is not in the capture`);
        continue;
      }
      const unit = u.registerBase;
      const iqercd = regs.raw.IQERCD !== undefined ? decodeIqercd(regs.raw.IQERCD) : undefined;
      const evidence = { FSTS: hex(fsts.raw), IQH: regs.raw.IQH !== undefined ? hex(regs.raw.IQH) : undefined, IQT: regs.raw.IQT !== undefined ? hex(regs.raw.IQT) : undefined, IQERCD: iqercd ? hex(iqercd.raw) : undefined };
      if (fsts.IQE) {
        const at = regs.raw.IQH !== undefined ? descriptorAt(u, regs.raw.IQH) : undefined;
        out.push(finding(meta, {
          messageId: 'iqe',
          data: { unit, iqh: regs.raw.IQH !== undefined ? hex(regs.raw.IQH) : '(not captured)', descriptor: at?.text ?? '', why: iqercd ? `: ${iqercd.iqeiName}` : '' },
          unit, evidence: { ...evidence, descriptorIndex: at?.index },
        }));
      }
      if (fsts.ITE) {
        out.push(finding(meta, { messageId: 'ite', data: { unit, device: iqercd ? ` from ${sidText(u.segment, iqercd.ITESID)} (IQERCD.ITESID)` : ' (IQERCD not captured: the device is unknown)' }, unit, ...(iqercd ? { bdf: sidText(u.segment, iqercd.ITESID) } : {}), evidence }));
      }
      if (fsts.ICE) {
        out.push(finding(meta, { messageId: 'ice', data: { unit, device: iqercd ? ` from ${sidText(u.segment, iqercd.ICESID)} (IQERCD.ICESID)` : ' (IQERCD not captured: the device is unknown)' }, unit, ...(iqercd ? { bdf: sidText(u.segment, iqercd.ICESID) } : {}), evidence }));
      }
    }
    return ranInPart(reasons, out);
  },
});
