/**
 * A check is a module like a typescript-eslint rule: `meta` (id, severity, docs, needs, messages,
 * options, example sample) and one function of the snapshot that returns a status and findings.
 * Checks never read files and never print. Adding one is one file and one line in index.ts.
 */
import type { Snapshot, Source } from '../model/types.js';

export type Severity = 'critical' | 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'error', 'warning', 'info'];
export function severityRank(s: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s); // critical 4 … info 1
}

/** What a check needs from the capture; when absent the check's status says so (run.ts). */
export type CheckInput =
  | 'dmar' // the ACPI DMAR table
  | 'registers' // GSTS/RTADDR or an equivalent (debugfs/dmardump) per unit
  | 'tables' // root/context tables (memory image or text dump)
  | 'mappings' // page-table walks (memory image or domain_translation_struct)
  | 'inventory' // PCI device list with drivers
  | 'vms' // VM command lines
  | 'memory-map' // host memory map
  | 'interrupt-remapping' // the IR table's entries (memory image at IRTA, or debugfs ir_translation_struct)
  | 'pci-config'; // configuration space of the PCI functions (sysfs config, lspci -xxxx, pciconf -r)

export type EvidenceValue = string | number | boolean | null | EvidenceValue[] | { [key: string]: EvidenceValue };

export interface Finding {
  check: string;
  severity: Severity;
  message: string;
  /** Which of its check's `meta.messages` the message is (absent only on findings made by hand). */
  messageId?: string;
  /** Register base of the unit, "0x…". */
  unit?: string;
  bdf?: string;
  did?: number;
  source?: Source;
  /** Why the severity differs from the check's default, when it does. */
  severityReason?: string;
  evidence: { [key: string]: EvidenceValue };
  /** The VM the finding concerns, where one is known (set after the run: src/triage/fingerprint.ts). */
  vm?: string;
  /** Identity of the finding that survives a reboot (src/triage/fingerprint.ts). */
  fingerprint?: string;
  /** An accepted finding: the suppression that matched it (src/triage/suppressions.ts). */
  suppressed?: { reason: string; expires?: string };
  /** Against a baseline (`--baseline`): already there, or new (src/triage/baseline.ts). */
  baselineState?: 'new' | 'unchanged';
}

/**
 * A check's messages, like typescript-eslint's `meta.messages`: each finding names the variant it
 * is (`messageId`), so tests and consumers match the variant, not its words. A message is fixed
 * text, or a function of the finding's data.
 */
export type MessageTemplate = string | ((data: never) => string);
export type MessageSet = Record<string, MessageTemplate>;
/** The data a message takes (undefined for fixed text). */
export type MessageData<T extends MessageTemplate> = T extends (data: infer D) => string ? D : undefined;

/**
 * A per-check option: a threshold the check judges by, described JSON-schema-like so a
 * configuration (issue 16) can set it and the docs generator can list it.
 */
export interface OptionSpec {
  type: 'integer' | 'number' | 'boolean' | 'string';
  default: number | boolean | string;
  /** What it changes, in a sentence or two (Markdown). */
  description: string;
  /** Bounds of a number (inclusive). */
  minimum?: number;
  maximum?: number;
}
export type OptionSet = Record<string, OptionSpec>;
/** Options with no entry: the type of a check without options. */
export type NoOptions = Record<never, OptionSpec>;
export type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['type'] extends 'string' ? string : number;
export type OptionValues<O extends OptionSet> = { readonly [K in keyof O]: OptionValue<O[K]> };

/**
 * The bundled sample a check's docs page takes its example from (and that tests hold to finding
 * something): `sample` for a capture check, `before`/`after` for a pair check (samples/ names).
 */
export type CheckExample = { sample: string } | { before: string; after: string };

export interface CheckMeta<M extends MessageSet = MessageSet, O extends OptionSet = OptionSet> {
  id: string;
  defaultSeverity: Severity;
  /** One line for `dmarsift checks`. */
  summary: string;
  /** What it means, why it matters, how to fix or where to look (Markdown). */
  description: string;
  needs: CheckInput[];
  /**
   * Inputs from `needs` the check can do without (it still says something useful, documented in
   * its description). When only these are missing the check runs and its status is `partial`,
   * naming what to add; when any other need is missing it does not run (`not-applicable`).
   */
  optional?: CheckInput[];
  /** Every message a finding of this check can carry, by id. */
  messages: M;
  /** Thresholds the check judges by, with their defaults (`run` gets the values). */
  options?: O;
  /** The sample that shows a finding of this check (docs example; tests hold it to one). */
  example?: CheckExample;
}

/**
 * Whether a check could examine the capture (see src/checks/run.ts): `ran` fully, `partial` (on
 * what there is), or `not-applicable` (a needed input missing or unreadable: no verdict).
 */
export type CheckStatus = 'ran' | 'partial' | 'not-applicable';

/**
 * What a check returns, like chipsec's module results: its status, what it could not examine
 * (sentences; empty when it ran fully), and its findings. `partial`: it judged the rest of the
 * capture; `not-applicable`: nothing was left to judge (and it has no findings). The runner
 * combines the status with what it knows from the check's `needs` (the worse status wins).
 */
export interface CheckResult {
  status: CheckStatus;
  reasons: string[];
  findings: Finding[];
}

export interface Check<M extends MessageSet = MessageSet, O extends OptionSet = OptionSet> {
  meta: CheckMeta<M, O>;
  /** Judge the snapshot; `options` holds every option of `meta.options` (defaults filled in). */
  run(snapshot: Snapshot, options: OptionValues<O>): CheckResult;
}

/** Identity helpers that let TypeScript infer a check's messages and options from its meta. */
export function checkMeta<M extends MessageSet, O extends OptionSet = NoOptions>(meta: CheckMeta<M, O>): CheckMeta<M, O> {
  return meta;
}
export function defineCheck<M extends MessageSet, O extends OptionSet>(check: Check<M, O>): Check<M, O> {
  return check;
}
