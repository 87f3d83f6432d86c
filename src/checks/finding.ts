/**
 * Builds findings and results the same way in every check: the message from the check's
 * `meta.messages` by id, unit as "0x…", source and reasons only when known.
 */
import type { Source, Unit } from '../model/types.js';
import { hex } from '../util/hex.js';
import type { CheckMeta, CheckResult, EvidenceValue, Finding, MessageData, MessageSet, Severity } from './types.js';

interface FindingFields {
  severity?: Severity;
  severityReason?: string;
  unit?: Unit | number;
  bdf?: string;
  did?: number;
  source?: Source;
  evidence?: { [key: string]: EvidenceValue | undefined };
}

/** A finding of message `K`: its data is required exactly when the message is a function. */
export type FindingInit<M extends MessageSet, K extends keyof M & string = keyof M & string> = K extends unknown
  ? FindingFields & { messageId: K } & (M[K] extends string ? { data?: undefined } : { data: MessageData<M[K]> })
  : never;

/** The part of a meta `finding` reads (any options). */
type MessagesOf<M extends MessageSet> = Pick<CheckMeta<M>, 'id' | 'defaultSeverity' | 'messages'>;

/** The text of message `id` of `meta` with `data`. */
export function messageText<M extends MessageSet>(meta: MessagesOf<M>, id: keyof M & string, data: unknown): string {
  const template = meta.messages[id];
  if (template === undefined) throw new Error(`${meta.id}: no message ${id}`); // a programming error, caught by the type checker
  return typeof template === 'string' ? template : (template as (d: unknown) => string)(data);
}

export function finding<M extends MessageSet, K extends keyof M & string>(meta: MessagesOf<M>, init: FindingInit<M, K>): Finding {
  const f: Finding = {
    check: meta.id, severity: init.severity ?? meta.defaultSeverity, message: messageText(meta, init.messageId, init.data), messageId: init.messageId, evidence: {},
  };
  if (init.unit !== undefined) f.unit = hex(typeof init.unit === 'number' ? init.unit : init.unit.registerBase);
  if (init.bdf !== undefined) f.bdf = init.bdf;
  if (init.did !== undefined) f.did = init.did;
  if (init.source !== undefined) f.source = init.source;
  if (init.severityReason !== undefined && f.severity !== meta.defaultSeverity) f.severityReason = init.severityReason;
  for (const [k, v] of Object.entries(init.evidence ?? {})) if (v !== undefined) f.evidence[k] = v;
  return f;
}

/** The check examined everything it needs. */
export function ran(findings: Finding[]): CheckResult {
  return { status: 'ran', reasons: [], findings };
}

/** The check judged what it could; `reasons` say what it could not (none: it ran fully). */
export function ranInPart(reasons: string[], findings: Finding[]): CheckResult {
  return reasons.length > 0 ? { status: 'partial', reasons, findings } : ran(findings);
}
