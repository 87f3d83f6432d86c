/** Builds findings the same way in every check (unit as "0x…", source and reasons only when known). */
import type { Source, Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import type { CheckMeta, EvidenceValue, Finding, Severity } from './types.js';

export interface FindingInit {
  message: string;
  severity?: Severity;
  severityReason?: string;
  unit?: Unit | number;
  bdf?: string;
  did?: number;
  source?: Source;
  evidence?: { [key: string]: EvidenceValue | undefined };
}

export function finding(meta: CheckMeta, init: FindingInit): Finding {
  const f: Finding = { check: meta.id, severity: init.severity ?? meta.defaultSeverity, message: init.message, evidence: {} };
  if (init.unit !== undefined) f.unit = hex(typeof init.unit === 'number' ? init.unit : init.unit.registerBase);
  if (init.bdf !== undefined) f.bdf = init.bdf;
  if (init.did !== undefined) f.did = init.did;
  if (init.source !== undefined) f.source = init.source;
  if (init.severityReason !== undefined && f.severity !== meta.defaultSeverity) f.severityReason = init.severityReason;
  for (const [k, v] of Object.entries(init.evidence ?? {})) if (v !== undefined) f.evidence[k] = v;
  return f;
}
