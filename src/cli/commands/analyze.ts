import { checks } from '../../checks/index.js';
import { runChecks, selectChecks } from '../../checks/run.js';
import { severityRank, type Finding, type Severity } from '../../checks/types.js';
import { UsageError } from '../../errors.js';
import type { AnalyzeReportInput } from '../../report/format.js';
import { loadFromArgv, useColor, withOutput } from '../common.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
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

export async function run(argv: Record<string, unknown>): Promise<number> {
  const failOn = (argv['fail-on'] ?? 'error') as FailOn;
  const only = idList(argv.check);
  const skip = idList(argv.skip);
  const snapshot = loadFromArgv(argv);
  const choice = { ...(only ? { only } : {}), ...(skip ? { skip } : {}) };
  const findings = runChecks(snapshot, choice);
  mark('checks run');
  const ran = selectChecks(choice).map((c) => c.meta.id);
  const input: AnalyzeReportInput = { snapshot, findings, checks: checks.map((c) => c.meta), ran };
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
      text = (await import('../../report/table.js')).renderFindingsTable(input, { color: useColor(argv, out), width: out.isTTY ? Math.max(80, process.stdout.columns ?? 80) : 80 });
  }
  mark('report rendered');
  withOutput(out, () => out.write(text.endsWith('\n') ? text : text + '\n'));
  mark('written');
  return reachesThreshold(findings, failOn) ? EXIT_FINDINGS : EXIT_OK;
}
