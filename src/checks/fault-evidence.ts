/** A recorded DMA fault as check evidence: what was recorded, and what the capture's tables say about it. */
import { sourceText } from '../model/source.js';
import type { Fault } from '../model/types.js';
import { hex } from '../util/hex.js';
import type { EvidenceValue } from './types.js';

export function faultEvidence(f: Fault): { [key: string]: EvidenceValue } {
  const e = f.explanation;
  const out: { [key: string]: EvidenceValue } = {
    iova: hex((BigInt(f.iovaPfn) << 12n) + BigInt(f.iovaOffset)),
    reason: hex(f.reason),
    reasonName: f.reasonName ?? f.reasonText,
    type: f.type,
    recordedIn: sourceText(f.source),
  };
  if (f.unit !== undefined) out.unit = hex(f.unit);
  if (f.pasid !== undefined) out.pasid = f.pasid;
  if (e) {
    out.walk = e.text;
    if (e.stoppedAt) out.walkStoppedAt = e.stoppedAt.structure === 'page-table' ? `level-${e.stoppedAt.level} entry` : `${e.stoppedAt.structure} entry`;
    if (e.agrees !== undefined) out.walkAgrees = e.agrees;
  }
  return out;
}

/** True when the capture's tables fault the request at the root or context entry (no translation set up at all). */
export function faultsForLackOfContext(f: Fault): boolean {
  const s = f.explanation?.stoppedAt?.structure;
  return s === 'root' || s === 'context';
}
