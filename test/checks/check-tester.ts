/**
 * Runs one check as the runner does (options resolved over their defaults) and returns its
 * findings, holding every finding to a message of the check's own `meta.messages` — the tests'
 * counterpart of typescript-eslint's RuleTester.
 */
import { expect } from 'vitest';
import { resolveOptions } from '../../src/checks/options.js';
import type { PairCheck } from '../../src/checks/pair/types.js';
import type { Check, CheckResult, Finding } from '../../src/checks/types.js';
import type { SnapshotDiff } from '../../src/model/diff.js';
import type { Snapshot } from '../../src/model/types.js';

function checked(meta: Check['meta'], result: CheckResult): CheckResult {
  for (const f of result.findings) {
    expect(f.check).toBe(meta.id);
    expect(Object.keys(meta.messages), `${meta.id}: messageId ${f.messageId}`).toContain(f.messageId);
  }
  if (result.status === 'not-applicable') expect(result.findings).toEqual([]);
  return result;
}

/** The check's whole result (status, reasons, findings). */
export function resultOf(check: Check, s: Snapshot, options: Record<string, unknown> = {}): CheckResult {
  return checked(check.meta, check.run(s, resolveOptions(check.meta, options)));
}

/** The check's findings. */
export function findingsOf(check: Check, s: Snapshot, options: Record<string, unknown> = {}): Finding[] {
  return resultOf(check, s, options).findings;
}

/** A pair check's findings. */
export function pairFindingsOf(check: PairCheck, before: Snapshot, after: Snapshot, diff: SnapshotDiff, options: Record<string, unknown> = {}): Finding[] {
  return checked(check.meta, check.run(before, after, diff, resolveOptions(check.meta, options))).findings;
}
