import { checks } from '../../checks/index.js';
import { pairChecks } from '../../checks/pair/index.js';
import { nothingCheckable, REQUIRABLE_KINDS, runChecksWithStatus, selectChecks, unmetRequirements, type RequirableKind } from '../../checks/run.js';
import { severityRank, type Finding, type Severity } from '../../checks/types.js';
import { UsageError } from '../../errors.js';
import type { AnalyzeReportInput } from '../../report/format.js';
import { loadFromArgv, showPathFor, useColor, withOutput } from '../common.js';
import { outputWidth } from '../width.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { mark } from '../timing.js';

export type FailOn = Severity | 'none';

/** True when a finding reaches the --fail-on threshold (the exit code and JUnit failures agree). */
export function reachesThreshold(findings: readonly Finding[], failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  const floor = severityRank(failOn);
  return findings.some((f) => severityRank(f.severity) >= floor);
}

/** `--check a,b --check c` → [a, b, c]. */
export function idList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** An absolute http(s)/file URL for the repository root (docs/checks/<id>.md is resolved against it). */
function docsBase(v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  const text = String(v);
  try {
    const u = new URL(text.endsWith('/') ? text : text + '/');
    return u.href;
  } catch {
    throw new UsageError(`--docs-uri: not an absolute URL: ${text}`);
  }
}

/**
 * `dmarsift checks` lists the pair checks too; asked for here, they are not unknown — they need
 * two captures. (Skipping one is fine: analyze never runs it.)
 */
function refusePairChecks(only: string[] | undefined): void {
  const pair = (only ?? []).filter((id) => pairChecks.some((c) => c.meta.id === id));
  if (pair.length === 0) return;
  const them = pair.length === 1 ? `${pair[0]} compares two captures: it runs` : `${pair.join(', ')} compare two captures: they run`;
  throw new UsageError(`--check: ${them} under \`dmarsift diff BEFORE AFTER\`, not analyze`);
}

/** `--require registers,memory --require pci` → the part kinds, each one the contract names. */
export function requiredKinds(v: unknown): RequirableKind[] {
  const list = idList(v) ?? [];
  const bad = list.filter((k) => !(REQUIRABLE_KINDS as readonly string[]).includes(k));
  if (bad.length > 0) throw new UsageError(`--require: unknown part kind${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (kinds: ${REQUIRABLE_KINDS.join(', ')})`);
  return [...new Set(list)] as RequirableKind[];
}

export async function run(argv: Record<string, unknown>): Promise<number> {
  const failOn = (argv['fail-on'] ?? 'error') as FailOn;
  const only = idList(argv.check);
  const skip = idList(argv.skip)?.filter((id) => !pairChecks.some((c) => c.meta.id === id));
  refusePairChecks(only);
  const required = requiredKinds(argv.require);
  const snapshot = loadFromArgv(argv);
  const choice = { ...(only ? { only } : {}), ...(skip ? { skip } : {}) };
  const selected = selectChecks(choice);
  const result = runChecksWithStatus(snapshot, choice);
  const findings = result.findings;
  mark('checks run');
  const ran = selected.map((c) => c.meta.id);
  const input: AnalyzeReportInput = { snapshot, findings, checks: checks.map((c) => c.meta), ran, statuses: result.statuses, showPath: showPathFor(argv, snapshot) };
  const docsUri = docsBase(argv['docs-uri'] ?? process.env.DMARSIFT_DOCS_URI);
  const out = openOutput(argv.output as string | undefined);
  // Reporters load on demand: a CI job asking for SARIF does not pay for the table renderer.
  const format = String(argv.format ?? 'table');
  let text: string;
  switch (format) {
    case 'json':
      text = (await import('../../report/findings-json.js')).renderFindingsJson(input);
      break;
    case 'markdown':
      text = (await import('../../report/markdown.js')).renderMarkdown(input, docsUri ? { docsBaseUri: docsUri } : {});
      break;
    case 'sarif':
      text = (await import('../../report/sarif.js')).renderSarif(input, docsUri ? { docsBaseUri: docsUri } : {});
      break;
    case 'html':
      text = (await import('../../report/html/html.js')).renderHtml(input, docsUri ? { docsBaseUri: docsUri } : {});
      break;
    case 'junit':
      text = (await import('../../report/junit.js')).findingsToJunit(input, { failOn });
      break;
    default:
      text = (await import('../../report/table.js')).renderFindingsTable(input, { color: useColor(argv, out), width: outputWidth(out) });
  }
  mark('report rendered');
  withOutput(out, () => out.write(text.endsWith('\n') ? text : text + '\n'));
  mark('written');
  // A CI gate must not pass on a capture nothing could examine, nor on one that lacks a part it
  // demands: the report is written (it says what was not checked), then exit 2 with one line.
  const unmet = unmetRequirements(snapshot, required);
  const nothing = nothingCheckable(snapshot, result, selected);
  if (unmet.length > 0 || nothing !== undefined) {
    process.stderr.write(`dmarsift: ${[...unmet, ...(nothing !== undefined ? [nothing] : [])].join('\ndmarsift: ')}\n`);
    return EXIT_ERROR;
  }
  return reachesThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
}
