/**
 * Runs the pair checks over two captures, each with a status as the capture checks have
 * (src/checks/run.ts): a check whose inputs either capture lacks is not-applicable (it is not
 * run), one that an unreadable part of an input limits is partial.
 */
import type { SnapshotDiff } from '../../model/diff.js';
import type { Snapshot } from '../../model/types.js';
import { resolveOptions } from '../options.js';
import { INPUT_HINTS, inputCoverage, judgeCheck, type CheckStatusReport, type RunOptions, type RunResult } from '../run.js';
import type { CheckInput, Finding } from '../types.js';
import { pairChecks } from './index.js';
import type { PairCheck } from './types.js';
import { pushAll } from '../../util/arrays.js';

export function runPairChecks(before: Snapshot, after: Snapshot, diff: SnapshotDiff, opts: Pick<RunOptions, 'options'> = {}, all: readonly PairCheck[] = pairChecks): RunResult {
  const options = new Map(all.map((c) => [c, resolveOptions(c.meta, opts.options?.[c.meta.id])]));
  const sides = [['BEFORE', inputCoverage(before)], ['AFTER', inputCoverage(after)]] as const;
  const findings: Finding[] = [];
  const statuses: CheckStatusReport[] = [];
  for (const check of all) {
    const lacking = (n: CheckInput): string[] => sides.filter(([, c]) => c.get(n)?.state === 'missing').map(([side]) => side);
    const optional = check.meta.optional ?? [];
    const missing = check.meta.needs.filter((n) => lacking(n).length > 0);
    const inputs = {
      missing,
      requiredMissing: missing.filter((m) => !optional.includes(m)),
      unreadable: check.meta.needs.flatMap((n) => sides.flatMap(([side, c]) => (c.get(n)?.state === 'partial' ? c.get(n)!.unreadable.map((u) => `${side}: ${u}`) : []))),
      whyMissing: check.meta.needs.flatMap((n) => sides.flatMap(([side, c]) => (c.get(n)?.state === 'missing' ? c.get(n)!.unreadable.map((u) => `${side}: ${u}`) : []))),
      addText: missing.map((m) => `${INPUT_HINTS[m]} (${lacking(m).join(' and ')})`).join('; and '),
    };
    const verdict = judgeCheck(check.meta, inputs, () => check.run(before, after, diff, options.get(check)!));
    pushAll(findings, verdict.findings);
    statuses.push(verdict.status);
  }
  return { findings, statuses };
}
