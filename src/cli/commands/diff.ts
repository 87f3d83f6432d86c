import { runPairChecks } from '../../checks/pair/run.js';
import { nothingCheckable, runChecksWithStatus, selectChecks } from '../../checks/run.js';
import type { Finding } from '../../checks/types.js';
import { diffSnapshots } from '../../model/diff.js';
import type { DiffReportInput } from '../../report/diff.js';
import { loadFromArgv, showPathFor, useColor, withOutput } from '../common.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { reachesThreshold, type FailOn } from './analyze.js';
import * as report from '../../report/diff.js';

/** A finding's identity across two captures (message text may mention counts that differ). */
function findingKey(f: Finding): string {
  return [f.check, f.severity, f.unit ?? '', f.bdf ?? '', f.did ?? ''].join('|');
}

export async function run(argv: Record<string, unknown>): Promise<number> {
  const failOn = (argv['fail-on'] ?? 'error') as FailOn;
  const before = loadFromArgv(argv, 'before');
  const after = loadFromArgv(argv, 'after');
  const diff = diffSnapshots(before, after);
  // Like analyze: a pair check whose inputs either capture lacks has that status, not a finding.
  const pair = runPairChecks(before, after, diff);
  const findings = pair.findings;
  // Single-capture findings that appear or disappear: "what did the event break / fix".
  const ra = runChecksWithStatus(before);
  const rb = runChecksWithStatus(after);
  const fa = ra.findings;
  const fb = rb.findings;
  const ka = new Set(fa.map(findingKey));
  const kb = new Set(fb.map(findingKey));
  const introduced = fb.filter((f) => !ka.has(findingKey(f)));
  const resolved = fa.filter((f) => !kb.has(findingKey(f)));
  const showPath = { before: showPathFor(argv, before, 'before'), after: showPathFor(argv, after, 'after') };
  const input: DiffReportInput = { before, after, diff, findings, statuses: pair.statuses, introduced, resolved, showPath };
  const out = openOutput(argv.output as string | undefined);
  withOutput(out, () => {
    if (argv.format === 'json') out.write(report.renderDiffJson(input));
    else if (argv.format === 'markdown') out.write(report.renderDiffMarkdown(input));
    else out.write(report.renderDiffTable(input, { color: useColor(argv, out) }));
  });
  // As analyze: a capture nothing could examine makes the comparison meaningless (exit 2, one line each).
  const all = selectChecks({});
  const nothing = [['BEFORE', nothingCheckable(before, ra, all)], ['AFTER', nothingCheckable(after, rb, all)]].filter(([, w]) => w !== undefined);
  if (nothing.length > 0) {
    process.stderr.write(nothing.map(([side, why]) => `dmarsift: ${side}: ${why}\n`).join(''));
    return EXIT_ERROR;
  }
  return reachesThreshold([...findings, ...introduced], failOn) ? EXIT_FINDINGS : EXIT_OK;
}
