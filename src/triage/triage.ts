/**
 * One capture's analysis as `analyze` does it, for one capture or each of a fleet: run the selected
 * checks with the configured options, give findings the configured severities, their VM and
 * fingerprint, then mark what the suppressions accept and what the baseline already had.
 * Everything after the run is bookkeeping on the findings: no check judges differently.
 */
import { runChecksWithStatus, selectChecks, type CheckStatusReport } from '../checks/run.js';
import type { Check, Finding, Severity } from '../checks/types.js';
import type { Config, Suppression } from '../config/config.js';
import type { Snapshot } from '../model/types.js';
import { compareWithBaseline, type BaselineFinding } from './baseline.js';
import { assignFingerprints } from './fingerprint.js';
import { applySuppressions } from './suppressions.js';

/** What a run is told besides the snapshot; plain data, so a worker thread can be given it. */
export interface TriageSettings {
  only?: string[];
  skip?: string[];
  /** Option values by check id (the configuration's). */
  options?: Record<string, Record<string, number | boolean | string>>;
  /** The severity every finding of a check gets (the configuration's). */
  severities?: Record<string, Severity>;
  /** Where the severities were set (said in each changed finding's severityReason). */
  configFile?: string;
  suppressions?: Suppression[];
  /** `YYYY-MM-DD` (UTC): suppressions past their `expires` day suppress nothing. */
  today: string;
}

export interface Triaged {
  findings: Finding[];
  statuses: CheckStatusReport[];
  selected: Check[];
  /** Per suppression of the settings: findings it matched in this capture. */
  suppressionMatches: number[];
  /** With a baseline: its findings this capture no longer has. */
  absent?: BaselineFinding[];
}

/**
 * The run's selection and settings from the command line's `--check`/`--skip` and a configuration:
 * a check the configuration turns `off` is skipped unless `--check` names it.
 */
export function settingsFrom(config: Config | undefined, only: string[] | undefined, skip: string[] | undefined, today: string): TriageSettings {
  const s: TriageSettings = { today };
  if (only !== undefined) s.only = only;
  const off = Object.entries(config?.checks ?? {}).filter(([id, c]) => c.level === 'off' && !(only ?? []).includes(id)).map(([id]) => id);
  if (skip !== undefined || off.length > 0) s.skip = [...new Set([...(skip ?? []), ...off])];
  if (config === undefined) return s;
  s.configFile = config.file;
  const options = Object.entries(config.checks).filter(([, c]) => c.options !== undefined);
  if (options.length > 0) s.options = Object.fromEntries(options.map(([id, c]) => [id, c.options!]));
  const severities = Object.entries(config.checks).filter(([, c]) => c.level !== undefined && c.level !== 'off');
  if (severities.length > 0) s.severities = Object.fromEntries(severities.map(([id, c]) => [id, c.level as Severity]));
  if (config.suppressions.length > 0) s.suppressions = config.suppressions;
  return s;
}

/** Run and mark one capture's findings (`baseline`: the baseline's findings for it, when there is one). */
export function triage(snapshot: Snapshot, s: TriageSettings, baseline?: readonly BaselineFinding[]): Triaged {
  const choice = { ...(s.only ? { only: s.only } : {}), ...(s.skip ? { skip: s.skip } : {}), ...(s.options ? { options: s.options } : {}) };
  const selected = selectChecks(choice);
  const result = runChecksWithStatus(snapshot, choice);
  const findings = result.findings;
  for (const f of findings) {
    const sev = s.severities?.[f.check];
    if (sev === undefined || sev === f.severity) continue;
    f.severityReason = `${s.configFile ?? 'the configuration'} sets ${f.check} to ${sev}${f.severityReason !== undefined ? `; the check said ${f.severity}: ${f.severityReason}` : ` (the check said ${f.severity})`}`;
    f.severity = sev;
  }
  assignFingerprints(snapshot, findings);
  const suppressionMatches = applySuppressions(findings, s.suppressions ?? [], s.today);
  const out: Triaged = { findings, statuses: result.statuses, selected, suppressionMatches };
  if (baseline !== undefined) out.absent = compareWithBaseline(findings, baseline);
  return out;
}
