/**
 * A check is a module like a typescript-eslint rule: `meta` and one function of the snapshot.
 * Checks never read files and never print.
 */
import type { Snapshot, Source } from '../model/types.js';

export type Severity = 'critical' | 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'error', 'warning', 'info'];
export function severityRank(s: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s); // critical 4 … info 1
}

/** What a check needs from the capture; when absent the runner emits one `info` saying so. */
export type CheckInput =
  | 'dmar' // the ACPI DMAR table
  | 'registers' // GSTS/RTADDR or an equivalent (debugfs/dmardump) per unit
  | 'tables' // root/context tables (memory image or text dump)
  | 'mappings' // page-table walks (memory image or domain_translation_struct)
  | 'inventory' // PCI device list with drivers
  | 'vms' // VM command lines
  | 'memory-map'; // host memory map

export type EvidenceValue = string | number | boolean | null | EvidenceValue[] | { [key: string]: EvidenceValue };

export interface Finding {
  check: string;
  severity: Severity;
  message: string;
  /** Register base of the unit, "0x…". */
  unit?: string;
  bdf?: string;
  did?: number;
  source?: Source;
  /** Why the severity differs from the check's default, when it does. */
  severityReason?: string;
  evidence: { [key: string]: EvidenceValue };
}

export interface CheckMeta {
  id: string;
  defaultSeverity: Severity;
  /** One line for `dmarsift checks`. */
  summary: string;
  /** What it means, why it matters, how to fix or where to look (Markdown). */
  description: string;
  needs: CheckInput[];
  /**
   * Inputs from `needs` the check can do without (it still says something useful, documented in
   * its description). When only these are missing the runner runs the check and adds one `info`
   * saying what to add for full coverage; when any other need is missing it only adds that info.
   */
  optional?: CheckInput[];
}

/**
 * Whether a check could examine the capture (see src/checks/run.ts): `ran` fully, `partial` (on
 * what there is), or `not-applicable` (a needed input missing or unreadable: no verdict).
 */
export type CheckStatus = 'ran' | 'partial' | 'not-applicable';

/**
 * What a check could not examine in a snapshot beyond what its `needs` say — e.g. devices whose
 * context tables could not be read, or domains whose page tables are unknown. `partial`: it judged
 * the rest; `not-applicable`: nothing was left to judge. The runner combines it with what it knows
 * from the check's inputs (the worse status wins).
 */
export interface CheckLimit {
  status: Exclude<CheckStatus, 'ran'>;
  /** What could not be examined, in sentences. */
  reasons: string[];
}

export interface Check {
  meta: CheckMeta;
  run(snapshot: Snapshot): Finding[];
  /** Optional: what this check cannot examine in `snapshot` (undefined: everything it needs is known). */
  unexamined?(snapshot: Snapshot): CheckLimit | undefined;
}
