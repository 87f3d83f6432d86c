/**
 * Baselines (`analyze --baseline FILE`): an earlier report of the same captures — analyze JSON (one
 * capture or a fleet) or SARIF — whose findings are known. Findings matched by fingerprint
 * (fingerprint.ts) are `unchanged`, the others `new`, and the baseline's findings this run no
 * longer has are `absent`. Only new findings count for `--fail-on`, so a CI job fails on what a
 * change brought, not again on everything it failed on yesterday.
 *
 * Captures are paired by label (the path as given, or below a `--recursive` root: a fleet's
 * nightly captures keep their labels when the root directory is renamed by date). A run of one
 * capture against a baseline of one capture pairs them whatever their paths: yesterday's capture of
 * the host against today's.
 */
import { readSmallFile } from '../capture/read.js';
import type { Finding, Severity } from '../checks/types.js';
import { InputError } from '../errors.js';
import { FINGERPRINT_KEY } from './fingerprint.js';

/** A baseline report above this size is refused (a fleet of 10,000 captures' JSON fits). */
const BASELINE_LIMIT = 1 << 30;

/** What a report keeps of a finding: enough to match it and to name it when it is absent. */
export type BaselineFinding = Pick<Finding, 'check' | 'severity' | 'message' | 'messageId' | 'unit' | 'bdf' | 'vm'> & { fingerprint: string };

export interface Baseline {
  file: string;
  kind: 'json' | 'sarif';
  captures: { key: string; findings: BaselineFinding[] }[];
}

type J = Record<string, unknown>;

const isObject = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const SEVERITY = new Set(['critical', 'error', 'warning', 'info']);

/** Read a baseline report: analyze JSON (one capture or a fleet) or SARIF, with fingerprints. */
export function readBaseline(file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(readSmallFile(file, BASELINE_LIMIT, 'the baseline')).toString('utf8'));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not JSON: ${(e as Error).message}`, { file });
  }
  const fail = (message: string): never => {
    throw new InputError(message, { file });
  };
  if (!isObject(doc)) return fail('expected a dmarsift analyze report (JSON or SARIF) as the baseline');
  let b: Baseline;
  if (Array.isArray(doc.runs) && typeof doc.version === 'string') b = { file, kind: 'sarif', captures: doc.runs.map((run, i) => sarifRun(run, i, fail)) };
  else if (doc.kind === 'fleet' && Array.isArray(doc.captures)) b = { file, kind: 'json', captures: doc.captures.map((c, i) => jsonReport(c, `captures[${i}]`, fail)) };
  else if (Array.isArray(doc.findings) && isObject(doc.capture)) b = { file, kind: 'json', captures: [jsonReport(doc, 'the report', fail)] };
  else return fail('expected a dmarsift analyze report (JSON or SARIF) as the baseline');
  return b;
}

function noFingerprint(where: string, fail: (m: string) => never): never {
  return fail(`${where}: a finding without a fingerprint (a report of an older dmarsift, or not dmarsift's): make the baseline again with this version`);
}

function jsonReport(r: unknown, where: string, fail: (m: string) => never): Baseline['captures'][number] {
  if (!isObject(r) || !isObject(r.capture)) return fail(`${where}: expected a capture's report`);
  const key = str(r.label) ?? str(r.capture.path) ?? '';
  const list = Array.isArray(r.findings) ? r.findings : [];
  const findings = list.map((f, i): BaselineFinding => {
    if (!isObject(f)) return fail(`${where}.findings[${i}]: expected a finding`);
    const fingerprint = str(f.fingerprint);
    if (fingerprint === undefined) return noFingerprint(`${where}.findings[${i}]`, fail);
    return baselineFinding(fingerprint, f.check, f.severity, f.message, f);
  });
  return { key, findings };
}

function sarifRun(run: unknown, i: number, fail: (m: string) => never): Baseline['captures'][number] {
  if (!isObject(run)) return fail(`runs[${i}]: expected a run`);
  const props = isObject(run.properties) ? run.properties : {};
  const key = str(props.label) ?? str(props.capture) ?? '';
  const results = Array.isArray(run.results) ? run.results : [];
  const findings = results.filter((r) => !(isObject(r) && r.baselineState === 'absent')).map((r, j): BaselineFinding => {
    if (!isObject(r)) return fail(`runs[${i}].results[${j}]: expected a result`);
    const fp = isObject(r.partialFingerprints) ? str(r.partialFingerprints[FINGERPRINT_KEY]) : undefined;
    if (fp === undefined) return noFingerprint(`runs[${i}].results[${j}]`, fail);
    const p = isObject(r.properties) ? r.properties : {};
    const message = isObject(r.message) ? r.message.text : undefined;
    return baselineFinding(fp, r.ruleId, p.severity ?? (r.level === 'note' ? 'info' : r.level), message, p);
  });
  return { key, findings };
}

function baselineFinding(fingerprint: string, check: unknown, severity: unknown, message: unknown, f: J): BaselineFinding {
  const out: BaselineFinding = {
    fingerprint,
    check: str(check) ?? '(unknown check)',
    severity: typeof severity === 'string' && SEVERITY.has(severity) ? (severity as Severity) : 'info',
    message: str(message) ?? '',
  };
  for (const k of ['messageId', 'unit', 'bdf', 'vm'] as const) {
    const v = str(f[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The baseline's findings for the capture labelled `key` (`alone`: the run has one capture). */
export function baselineFor(b: Baseline, key: string, alone: boolean): BaselineFinding[] {
  if (alone && b.captures.length === 1) return b.captures[0].findings;
  return b.captures.filter((c) => c.key === key).flatMap((c) => c.findings);
}

/**
 * Mark each finding `unchanged` (its fingerprint is in the baseline) or `new`; returns the
 * baseline's findings this run does not have (absent). Fingerprints are matched one for one.
 */
export function compareWithBaseline(findings: readonly Finding[], base: readonly BaselineFinding[]): BaselineFinding[] {
  const left = new Map<string, BaselineFinding[]>();
  for (const b of base) left.set(b.fingerprint, [...(left.get(b.fingerprint) ?? []), b]);
  for (const f of findings) {
    const same = f.fingerprint !== undefined ? left.get(f.fingerprint) : undefined;
    if (same !== undefined && same.length > 0) {
      same.shift();
      f.baselineState = 'unchanged';
    } else {
      f.baselineState = 'new';
    }
  }
  return [...left.values()].flat();
}
