/**
 * `analyze --format json` (schemaVersion 1, schema/analyze-report.schema.json), exactly the shape
 * of the CLI contract. Optional finding fields (unit, bdf, did, source, severityReason) are
 * always present and `null` when the finding has none, so consumers need no existence checks.
 * Findings are in report order (most severe first, then check id, unit, BDF, DID).
 */
import type { EvidenceValue, Finding, Severity } from '../checks/types.js';
import { countBySeverity, snapshotCounts, sortFindings, sourceToJson, TOOL, type AnalyzeReportInput } from './format.js';

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
}

export interface AnalyzeReportJson {
  schemaVersion: 1;
  tool: { name: string; version: string };
  capture: { path: string; parts: { kind: string; path: string }[] };
  summary: {
    units: number;
    presentContexts: number;
    domains: number;
    findings: Record<Severity, number>;
  };
  findings: FindingJson[];
  warnings: { message: string; source: { part: string; offset?: string; line?: number } | null }[];
  /**
   * Per selected check, whether it could examine the capture (additive to schemaVersion 1; present
   * when the runner's statuses are known): `not-applicable` checks reported nothing, and their
   * silence is no pass.
   */
  checks?: CheckStatusJson[];
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
  };
}

export function findingsToJson(input: Pick<AnalyzeReportInput, 'snapshot' | 'findings' | 'tool' | 'statuses'>): AnalyzeReportJson {
  const s = input.snapshot;
  const tool = input.tool ?? TOOL;
  const out: AnalyzeReportJson = {
    schemaVersion: ANALYZE_SCHEMA_VERSION,
    tool: { name: tool.name, version: tool.version },
    capture: { path: s.capture.path, parts: s.capture.parts.map((p) => ({ kind: p.kind, path: p.path })) },
    summary: { ...snapshotCounts(s), findings: countBySeverity(input.findings) },
    findings: sortFindings(input.findings).map(findingToJson),
    warnings: s.warnings.map((w) => ({ message: w.message, source: sourceToJson(w.source) })),
  };
  if (input.statuses !== undefined) out.checks = input.statuses.map((st) => ({ id: st.id, status: st.status, missing: [...st.missing], reasons: [...st.reasons] }));
  return out;
}

/** The report as the text the CLI prints (two-space indent, trailing newline). */
export function renderFindingsJson(input: Pick<AnalyzeReportInput, 'snapshot' | 'findings' | 'tool' | 'statuses'>): string {
  return JSON.stringify(findingsToJson(input), null, 2) + '\n';
}
