/**
 * Pair checks: rules over two captures of one machine (before and after an event). Like the
 * single-capture checks they have metadata and one pure function; they see both snapshots and
 * the structural diff, and find what neither capture shows alone.
 */
import type { SnapshotDiff } from '../../model/diff.js';
import type { Snapshot } from '../../model/types.js';
import type { CheckMeta, CheckResult, MessageSet, OptionSet, OptionValues } from '../types.js';

export interface PairCheck<M extends MessageSet = MessageSet, O extends OptionSet = OptionSet> {
  meta: CheckMeta<M, O>;
  run(before: Snapshot, after: Snapshot, diff: SnapshotDiff, options: OptionValues<O>): CheckResult;
}

export function definePairCheck<M extends MessageSet, O extends OptionSet>(check: PairCheck<M, O>): PairCheck<M, O> {
  return check;
}
