import { decodeIqa, decodeIqercd } from '../decode/ir-registers.js';
import { decodeDescriptor, describeDescriptor, type InvalidationDescriptor } from '../decode/invalidation.js';
import type { Fsts, UnitRegisters } from '../decode/registers-types.js';
import type { Unit } from '../model/types.js';
import { formatBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

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

dmarsift decodes the descriptor at IQH (IQE) and, for ITE, the wait descriptor just before IQH and
the device-TLB invalidations it waited for, reading the ring from the memory image at IQA when the
image holds it (up to 16 descriptors, IQH and the ones before it), else from debugfs
\`invalidation_queue\`; ITE and ICE name the device from IQERCD.ITESID / ICESID (VT-d
specification, section 6.5.2 and the FSTS/IQERCD registers; Linux \`qi_check_fault\`, which
aborts the descriptors before IQH on ITE for the same reason).

## Why it matters
Invalidations that did not run leave translations cached in the IOTLB or a device's TLB: a device
can keep DMAing to pages the tables no longer map — memory the host may already have handed to
someone else.

## How to fix / where to look
The kernel log (Linux: "Invalidation Queue Error (IQE) cleared", "Invalidation Time-out Error (ITE)
cleared"); a device named by ITE/ICE with a broken ATS implementation should not be assigned with
device-TLB enabled. Reboot to get a consistent IOTLB.

Inputs: registers (FSTS, and IQH, IQA, IQERCD when captured): without any unit's FSTS the check
is not applicable, and a unit without it is skipped (partial). The queue's descriptors come from
the memory image (the ring at IQA) or debugfs \`invalidation_queue\` when captured.`,
  needs: ['registers'],
  messages: {
    iqe: (d: { unit: number; iqh: string; descriptor: string; why: string }) =>
      `Unit ${hex(d.unit)}'s invalidation queue stopped on an invalid descriptor (FSTS.IQE${d.why}) at IQH ${d.iqh}${d.descriptor}: the invalidations queued after it have not run, so cached translations may be stale and devices may still DMA to pages the tables no longer map.`,
    ite: (d: { unit: number; device: string; waited: string }) =>
      `Unit ${hex(d.unit)} reports a device-TLB invalidation time-out (FSTS.ITE)${d.device}${d.waited}: the device may still hold translations the tables no longer map, and keep DMAing through them to pages the host may already use for something else.`,
    ice: (d: { unit: number; device: string }) =>
      `Unit ${hex(d.unit)} reports an invalid device-TLB invalidation completion (FSTS.ICE)${d.device}: the device's TLB state is unknown; it may keep stale translations and keep DMAing to pages the tables no longer map.`,
  },
  example: { sample: 'invalidation-queue-error' },
});

const sidText = (segment: number, sid: number): string => formatBdf({ segment, bus: sid >> 8, devfn: sid & 0xff });

/** A descriptor of the ring and where it was read: the image's ring (IQA) wins over debugfs' copy. */
interface RingDescriptor {
  index: number;
  descriptor: InvalidationDescriptor;
  qw0: bigint;
  from: 'memory image' | 'debugfs invalidation_queue';
}

/** The ring as the capture holds it around IQH, and IQH as a descriptor index. */
function ringOf(u: Unit, iqh: bigint): { head: number; at(index: number): RingDescriptor | undefined; length?: number } {
  const w = u.queueErrorWindow;
  const dw = u.registers?.raw.IQA !== undefined ? decodeIqa(u.registers.raw.IQA).DW : u.invalidationQueue?.qwords === 4;
  const length = w?.length ?? (u.invalidationQueue && u.invalidationQueue.slots.length > 0 ? u.invalidationQueue.slots.length : undefined);
  const raw = Number(iqh >> (dw ? 5n : 4n)) & 0x7fff;
  const head = length !== undefined ? raw % length : raw;
  const mem = new Map((w?.descriptors ?? []).map((d) => [d.index, d.qw]));
  const text = new Map((u.invalidationQueue?.slots ?? []).map((sl) => [sl.index, sl.qw]));
  return {
    head,
    length,
    at(index) {
      const i = length !== undefined ? (index + length) % length : index;
      const fromMem = mem.get(i);
      const qw = fromMem ?? text.get(i);
      if (qw === undefined) return undefined;
      return { index: i, descriptor: decodeDescriptor(qw), qw0: qw[0] ?? 0n, from: fromMem !== undefined ? 'memory image' : 'debugfs invalidation_queue' };
    },
  };
}

/** IQE: the descriptor at IQH, decoded, and where it was read. */
function faultyDescriptor(u: Unit, iqh: bigint): { index: number; text: string; evidence: Record<string, EvidenceValue> } {
  const ring = ringOf(u, iqh);
  const d = ring.at(ring.head);
  if (d === undefined) return { index: ring.head, text: ` (descriptor ${ring.head}; the queue's contents are not in the capture)`, evidence: {} };
  return {
    index: ring.head,
    text: ` (descriptor ${ring.head}: ${describeDescriptor(d.descriptor)}, qw0 ${hex(d.qw0)}, from the ${d.from})`,
    evidence: { descriptor: describeDescriptor(d.descriptor), descriptorType: d.descriptor.type, qw0: hex(d.qw0), descriptorFrom: d.from },
  };
}

/** How many descriptors before the wait descriptor are looked at for the device-TLB invalidations it waited for. */
const ITE_LOOKBACK = 14;

/**
 * ITE: IQH is already past the wait descriptor that timed out (IQH − 1); the device-TLB
 * invalidations it waited for are the ones before it, back to the previous wait descriptor.
 */
function timedOut(u: Unit, iqh: bigint): { text: string; evidence: Record<string, EvidenceValue> } {
  const ring = ringOf(u, iqh);
  const wait = ring.at(ring.head - 1);
  if (wait === undefined) return { text: `; IQH ${hex(iqh)} is past the wait descriptor that timed out (the queue's contents are not in the capture)`, evidence: {} };
  if (wait.descriptor.kind !== 'wait') return { text: `; the descriptor before IQH (${wait.index}, ${describeDescriptor(wait.descriptor)}) is not the wait descriptor the spec puts there`, evidence: { waitIndex: wait.index, beforeIqh: describeDescriptor(wait.descriptor) } };
  const waited: RingDescriptor[] = [];
  for (let k = 2; k <= ITE_LOOKBACK + 1 && (ring.length === undefined || k < ring.length); k++) {
    const d = ring.at(ring.head - k);
    if (d === undefined || d.descriptor.kind === 'wait') break;
    if (d.descriptor.kind === 'device-tlb' || d.descriptor.kind === 'pasid-device-tlb') waited.push(d);
  }
  const list = waited.map((d) => `${describeDescriptor(d.descriptor)} (descriptor ${d.index})`);
  return {
    text: `; IQH ${hex(iqh)} is past the wait descriptor ${wait.index} (from the ${wait.from}), which waited for ${list.length > 0 ? list.join(', ') : 'no device-TLB invalidation the capture shows'}`,
    evidence: { waitIndex: wait.index, descriptorFrom: wait.from, deviceTlbInvalidations: waited.map((d) => ({ index: d.index, descriptor: describeDescriptor(d.descriptor) })) },
  };
}

/** The findings of one unit whose FSTS was captured. */
function unitFindings(u: Unit, regs: UnitRegisters, fsts: Fsts): Finding[] {
  const out: Finding[] = [];
  const unit = u.registerBase;
  const iqh = regs.raw.IQH;
  const iqercd = regs.raw.IQERCD !== undefined ? decodeIqercd(regs.raw.IQERCD) : undefined;
  const evidence = { FSTS: hex(fsts.raw), IQH: iqh !== undefined ? hex(iqh) : undefined, IQT: regs.raw.IQT !== undefined ? hex(regs.raw.IQT) : undefined, IQA: regs.raw.IQA !== undefined ? hex(regs.raw.IQA) : undefined, IQERCD: iqercd ? hex(iqercd.raw) : undefined };
  if (fsts.IQE) {
    const at = iqh !== undefined ? faultyDescriptor(u, iqh) : undefined;
    out.push(finding(meta, {
      messageId: 'iqe',
      data: { unit, iqh: iqh !== undefined ? hex(iqh) : '(not captured)', descriptor: at?.text ?? '', why: iqercd ? `: ${iqercd.iqeiName}` : '' },
      unit, evidence: { ...evidence, IQEI: iqercd?.IQEI, descriptorIndex: at?.index, ...at?.evidence },
    }));
  }
  if (fsts.ITE) {
    const t = iqh !== undefined ? timedOut(u, iqh) : { text: '', evidence: {} };
    const bdf = iqercd ? sidText(u.segment, iqercd.ITESID) : undefined;
    out.push(finding(meta, {
      messageId: 'ite',
      data: { unit, device: bdf !== undefined ? ` from ${bdf} (IQERCD.ITESID)` : ' (IQERCD not captured: the device is unknown)', waited: t.text },
      unit, ...(bdf !== undefined ? { bdf } : {}), evidence: { ...evidence, ...t.evidence },
    }));
  }
  if (fsts.ICE) {
    const bdf = iqercd ? sidText(u.segment, iqercd.ICESID) : undefined;
    out.push(finding(meta, {
      messageId: 'ice',
      data: { unit, device: bdf !== undefined ? ` from ${bdf} (IQERCD.ICESID)` : ' (IQERCD not captured: the device is unknown)' },
      unit, ...(bdf !== undefined ? { bdf } : {}), evidence,
    }));
  }
  return out;
}

export const invalidationQueueError = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    const reasons: string[] = [];
    let judged = 0;
    for (const u of snapshot.units) {
      const regs = u.registers;
      const fsts = regs?.FSTS;
      if (regs === undefined || fsts === undefined) {
        reasons.push(`unit ${u.baseUnknown ? '(base unknown)' : hex(u.registerBase)}: FSTS is not in the capture (Linux debugfs iommu_regset, or \`--registers FILE\`)`);
        continue;
      }
      judged++;
      out.push(...unitFindings(u, regs, fsts));
    }
    // No unit's FSTS: nothing was judged, which is no verdict.
    if (judged === 0) return { status: 'not-applicable', reasons: reasons.length > 0 ? reasons : ['no remapping unit in the capture'], findings: [] };
    return ranInPart(reasons, out);
  },
});
