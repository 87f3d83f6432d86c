/**
 * Suppressions (dmarsift.config.json `suppressions`): findings a team has looked at and accepts,
 * each with its reason. A suppressed finding is not hidden — every report keeps it, marked with
 * the reason — it only stops counting for `--fail-on`. A suppression past its `expires` day
 * suppresses nothing (the finding fails the build again, as Trivy's and Semgrep's expiring
 * ignores do), and one that matched nothing is reported: both are what a team must clean up.
 */
import type { Finding } from '../checks/types.js';
import type { Suppression } from '../config/config.js';

export type SuppressionState = 'active' | 'unmatched' | 'expired';

export interface SuppressionStatus {
  suppression: Suppression;
  /** Findings it matched (an expired one: findings it would have matched). */
  matched: number;
  state: SuppressionState;
}

/** Today (UTC) as `YYYY-MM-DD`, the day `expires` is compared with. */
export function utcDay(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** A suppression holds through its `expires` day. */
export function isExpired(s: Suppression, today: string): boolean {
  return s.expires !== undefined && today > s.expires;
}

/** The suppression names this finding: its check, and every other field it gives equal. */
export function suppressionMatches(s: Suppression, f: Finding): boolean {
  return s.check === f.check && (s.bdf === undefined || s.bdf === f.bdf) && (s.unit === undefined || s.unit === f.unit) && (s.vm === undefined || s.vm === f.vm);
}

/**
 * Mark the findings the suppressions accept (the first live suppression that matches gives the
 * reason); returns, per suppression, how many findings it matched.
 */
export function applySuppressions(findings: readonly Finding[], list: readonly Suppression[], today: string): number[] {
  const matched = list.map(() => 0);
  for (const f of findings) {
    let taken = false;
    list.forEach((s, i) => {
      if (!suppressionMatches(s, f)) return;
      matched[i]++;
      if (taken || isExpired(s, today)) return;
      taken = true;
      f.suppressed = { reason: s.reason, ...(s.expires !== undefined ? { expires: s.expires } : {}) };
    });
  }
  return matched;
}

/** Each suppression's state from its matches (summed over a fleet's captures). */
export function suppressionStatuses(list: readonly Suppression[], matched: readonly number[], today: string): SuppressionStatus[] {
  return list.map((suppression, i) => ({
    suppression,
    matched: matched[i] ?? 0,
    state: isExpired(suppression, today) ? 'expired' : (matched[i] ?? 0) === 0 ? 'unmatched' : 'active',
  }));
}

/** One line for a suppression a team must look at (stderr, the table and Markdown reports). */
export function suppressionProblem(st: SuppressionStatus): string | undefined {
  const s = st.suppression;
  const what = [s.check, s.bdf, s.unit !== undefined ? `unit ${s.unit}` : undefined, s.vm !== undefined ? `VM ${s.vm}` : undefined].filter(Boolean).join(' ');
  if (st.state === 'expired') {
    return `suppression of ${what} (${s.origin}) expired on ${s.expires}${st.matched > 0 ? `: ${st.matched === 1 ? 'the finding it matched counts' : `the ${st.matched} findings it matched count`} again` : ' and matched nothing'}`;
  }
  if (st.state === 'unmatched') return `suppression of ${what} (${s.origin}) matched no finding: remove it, or correct what it names`;
  return undefined;
}

/** A finding counts for `--fail-on`: not suppressed, and (with a baseline) new. */
export function counts(f: Finding): boolean {
  return f.suppressed === undefined && f.baselineState !== 'unchanged';
}
