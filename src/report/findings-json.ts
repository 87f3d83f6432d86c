/**
 * `analyze --format json` (schemaVersion 1, schema/analyze-report.schema.json), exactly the shape
 * of the CLI contract. Optional finding fields (unit, bdf, did, source, severityReason) are
 * always present and `null` when the finding has none, so consumers need no existence checks.
 * Findings are in report order (most severe first, then check id, unit, BDF, DID).
 */
import type { EvidenceValue, Finding, Severity } from '../checks/types.js';
import type { BaselineFinding } from '../triage/baseline.js';
import type { SuppressionStatus } from '../triage/suppressions.js';
import { activeFindings, countBySeverity, snapshotCounts, sortFindings, sourceToJson, TOOL, type AnalyzeReportInput } from './format.js';

export const ANALYZE_SCHEMA_VERSION = 1;

export interface FindingJson {
  check: string;
  severity: Severity;
  message: string;
  /** Which of the check's `meta.messages` (null on findings made without one). */
  messageId: string | null;
  unit: string | null;
  bdf: string | null;
  did: number | null;
  source: { part: string; offset?: string; line?: number } | null;
  severityReason: string | null;
  evidence: { [key: string]: EvidenceValue };
  /** The VM the finding concerns, where known. */
  vm: string | null;
  /** Identity across captures of the host (src/triage/fingerprint.ts); null on findings made by hand. */
  fingerprint: string | null;
  /** Accepted by a suppression of the configuration: its reason (the finding does not count for --fail-on). */
  suppressed: { reason: string; expires?: string } | null;
  /** With --baseline: in the baseline already, or new (only new findings count for --fail-on); null without. */
  baselineState: 'new' | 'unchanged' | null;
}

export interface AnalyzeReportJson {
  schemaVersion: 1;
  /** The capture's name in a fleet report. */
  label?: string;
  tool: { name: string; version: string };
  capture: { path: string; parts: { kind: string; path: string }[] };
  summary: {
    units: number;
    presentContexts: number;
    domains: number;
    /** Findings by severity, suppressed ones left out. */
    findings: Record<Severity, number>;
    /** Findings a suppression accepts. */
    suppressed?: number;
  };
  findings: FindingJson[];
  warnings: { message: string; source: { part: string; offset?: string; line?: number } | null }[];
  /**
   * Per selected check, whether it could examine the capture (additive to schemaVersion 1; present
   * when the runner's statuses are known): `not-applicable` checks reported nothing, and their
   * silence is no pass.
   */
  checks?: CheckStatusJson[];
  /** With --baseline: the file, how many findings are new and unchanged, and the baseline's findings this capture no longer has. */
  baseline?: { file: string; new: number; unchanged: number; absent: BaselineFinding[] };
  /** The configured suppressions: each with what it matched, and whether it is active, matched nothing, or has expired. */
  suppressions?: SuppressionJson[];
}

/** A configured suppression (its fields as written, `origin` its `file:line`) and what became of it. */
export type SuppressionJson = SuppressionStatus['suppression'] & { state: SuppressionStatus['state']; matched: number };

export function suppressionToJson(st: SuppressionStatus): SuppressionJson {
  const { origin, ...rest } = st.suppression;
  return { ...rest, origin, state: st.state, matched: st.matched };
}

export interface CheckStatusJson {
  id: string;
  status: 'ran' | 'partial' | 'not-applicable';
  /** Inputs the capture lacks (the runner's CheckInput names). */
  missing: string[];
  /** What was missing or could not be read, in sentences. */
  reasons: string[];
}

export function findingToJson(f: Finding): FindingJson {
  return {
    check: f.check,
    severity: f.severity,
    message: f.message,
    messageId: f.messageId ?? null,
    unit: f.unit ?? null,
    bdf: f.bdf ?? null,
    did: f.did ?? null,
    source: sourceToJson(f.source),
    severityReason: f.severityReason ?? null,
    evidence: f.evidence,
    vm: f.vm ?? null,
    fingerprint: f.fingerprint ?? null,
    suppressed: f.suppressed ?? null,
    baselineState: f.baselineState ?? null,
  };
}

type JsonInput = Pick<AnalyzeReportInput, 'snapshot' | 'findings' | 'tool' | 'statuses' | 'label' | 'baseline' | 'suppressions'>;

export function findingsToJson(input: JsonInput): AnalyzeReportJson {
  const s = input.snapshot;
  const tool = input.tool ?? TOOL;
  const suppressed = input.findings.length - activeFindings(input.findings).length;
  const out: AnalyzeReportJson = {
    schemaVersion: ANALYZE_SCHEMA_VERSION,
    ...(input.label !== undefined ? { label: input.label } : {}),
    tool: { name: tool.name, version: tool.version },
    capture: { path: s.capture.path, parts: s.capture.parts.map((p) => ({ kind: p.kind, path: p.path })) },
    summary: { ...snapshotCounts(s), findings: countBySeverity(activeFindings(input.findings)), ...(suppressed > 0 ? { suppressed } : {}) },
    findings: sortFindings(input.findings).map(findingToJson),
    warnings: s.warnings.map((w) => ({ message: w.message, source: sourceToJson(w.source) })),
  };
  if (input.statuses !== undefined) out.checks = input.statuses.map((st) => ({ id: st.id, status: st.status, missing: [...st.missing], reasons: [...st.reasons] }));
  if (input.baseline !== undefined) {
    const fresh = input.findings.filter((f) => f.baselineState === 'new').length;
    out.baseline = { file: input.baseline.file, new: fresh, unchanged: input.findings.length - fresh, absent: input.baseline.absent };
  }
  if (input.suppressions !== undefined && input.suppressions.length > 0) out.suppressions = input.suppressions.map(suppressionToJson);
  return out;
}

/** The report as the text the CLI prints (two-space indent, trailing newline). */
export function renderFindingsJson(input: JsonInput): string {
  return JSON.stringify(findingsToJson(input), null, 2) + '\n';
}
