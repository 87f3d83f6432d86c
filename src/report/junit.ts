/**
 * `analyze --format junit`: JUnit XML for CI systems that chart test results.
 *
 * One testsuite "dmarsift"; one testcase per known check (classname `dmarsift.<id>`, name the
 * id), in the order of the check list, then any check that produced findings but is not in the
 * list. A check fails when it has a finding at or above `failOn` (the same threshold as the exit
 * code); its `<failure>` message gives the count and the first messages, the body lists every
 * finding of that check. Findings below the threshold go to the testcase's `<system-out>`, so
 * they are visible without failing the build. Checks that did not run are `<skipped>`: those not
 * selected, and — when the runner's statuses are given — those that could not examine the capture
 * (not-applicable), with the reason as the skip message, never a pass. A check that ran on part of
 * the capture says so in its `<system-out>`.
 *
 * Only findings that count fail a check (src/triage/suppressions.ts `counts`): a suppressed finding
 * (tagged with its reason) and, with a baseline, an unchanged one go to `<system-out>`. A fleet is
 * one `<testsuite>` per capture (junitSuite, junitDocument).
 */
import { severityRank, type Finding, type Severity } from '../checks/types.js';
import { counts } from '../triage/suppressions.js';
import { plural, sortFindings, sourceLabel, TOOL, type AnalyzeReportInput, type ShowPath } from './format.js';

export interface JunitOptions {
  /** Lowest severity that fails a check; 'none' never fails (as `--fail-on none`). Default 'error'. */
  failOn?: Severity | 'none';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids are what it replaces
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text safe in XML 1.0 content and attribute values: markup characters escaped, and characters
 * XML 1.0 forbids (C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF) replaced
 * by U+FFFD rather than dropped, so a reader sees that something was there.
 */
export function xmlEscape(text: string): string {
  return text
    .replace(XML_FORBIDDEN, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Attribute values normalise raw newlines/tabs to spaces; character references survive.
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function findingLine(f: Finding, show?: ShowPath): string {
  const where = [f.bdf, f.unit !== undefined ? `unit ${f.unit}` : '', f.did !== undefined ? `DID ${f.did}` : ''].filter(Boolean).join(' ');
  const src = sourceLabel(f.source, show);
  const tags = [f.suppressed !== undefined ? `[suppressed: ${f.suppressed.reason}] ` : '', f.baselineState === 'unchanged' ? '[unchanged] ' : ''].join('');
  return `${tags}[${f.severity}] ${where ? where + ': ' : ''}${f.message}${src ? ` (${src})` : ''}`;
}

/** Text content: escape markup but keep line breaks as they are (readable in CI logs). */
function textContent(lines: string[]): string {
  return lines.map((l) => xmlEscape(l).replace(/&#10;/g, '\n').replace(/&#9;/g, '\t')).join('\n');
}

/** One capture's `<testsuite>` and its counts. */
export interface JunitSuite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export function findingsToJunit(input: AnalyzeReportInput, opts: JunitOptions = {}): string {
  return junitDocument([junitSuite(input, opts, 'dmarsift')]);
}

/** The document around suites (`<testsuites>` with their summed counts). */
export function junitDocument(suites: readonly JunitSuite[]): string {
  const sum = (k: 'tests' | 'failures' | 'errors' | 'skipped'): number => suites.reduce((n, x) => n + x[k], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'dmarsift', tests: sum('tests'), failures: sum('failures'), errors: sum('errors'), skipped: sum('skipped') })}>`,
    ...suites.map((x) => x.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

/** A suite for a capture that could not be analysed: one test case in error, with why. */
export function junitErrorSuite(name: string, capture: string, message: string): JunitSuite {
  const xml = [
    `<testsuite${attrs({ name, tests: 1, failures: 0, errors: 1, skipped: 0, time: '0' })}>`,
    '  <properties>',
    `    <property${attrs({ name: 'capture', value: capture })}/>`,
    '  </properties>',
    `  <testcase${attrs({ name: 'analyze', classname: 'dmarsift.analyze', time: '0' })}>`,
    `    <error${attrs({ message, type: 'not-analysed' })}/>`,
    '  </testcase>',
    '</testsuite>',
  ].join('\n');
  return { xml, tests: 1, failures: 0, errors: 1, skipped: 0 };
}

/** One capture's suite: a test case per check. */
export function junitSuite(input: AnalyzeReportInput, opts: JunitOptions = {}, name = 'dmarsift'): JunitSuite {
  const failOn = opts.failOn ?? 'error';
  const tool = input.tool ?? TOOL;
  const byCheck = new Map<string, Finding[]>();
  for (const f of sortFindings(input.findings)) {
    const list = byCheck.get(f.check) ?? [];
    list.push(f);
    byCheck.set(f.check, list);
  }
  const ids = input.checks.map((c) => c.id);
  for (const id of byCheck.keys()) if (!ids.includes(id)) ids.push(id);
  const ran = input.ran ? new Set(input.ran) : undefined;
  const status = new Map((input.statuses ?? []).map((st) => [st.id, st]));

  let failures = 0;
  let skipped = 0;
  const cases: string[] = [];
  for (const id of ids) {
    const found = byCheck.get(id) ?? [];
    const head = `  <testcase${attrs({ name: id, classname: `dmarsift.${id}`, time: '0' })}`;
    const st = status.get(id);
    if (st?.status === 'not-applicable') {
      // Could not examine the capture: skipped with the reason, never a pass.
      skipped++;
      cases.push(`${head}>\n    <skipped${attrs({ message: `could not run: ${st.reasons.join('; ')}` })}/>\n  </testcase>`);
      continue;
    }
    // A check with findings evidently ran, whatever `ran` says.
    if (ran && !ran.has(id) && found.length === 0) {
      skipped++;
      cases.push(`${head}>\n    <skipped${attrs({ message: 'check not run' })}/>\n  </testcase>`);
      continue;
    }
    const failing = failOn === 'none' ? [] : found.filter((f) => counts(f) && severityRank(f.severity) >= severityRank(failOn));
    const passing = found.filter((f) => !failing.includes(f));
    const body: string[] = [];
    const partialLine = st?.status === 'partial' ? [`[partial] checked part of the capture only: ${st.reasons.join('; ')}`] : [];
    if (failing.length) {
      failures++;
      const first = failing.slice(0, 3).map((f) => f.message).join('; ');
      const message = `${plural(failing.length, 'finding')} at or above ${failOn}: ${first}${failing.length > 3 ? '; …' : ''}`;
      body.push(`    <failure${attrs({ message, type: failing[0].severity })}>${textContent(failing.map((f) => findingLine(f, input.showPath)))}</failure>`);
    }
    if (passing.length || partialLine.length) body.push(`    <system-out>${textContent([...partialLine, ...passing.map((f) => findingLine(f, input.showPath))])}</system-out>`);
    cases.push(body.length ? `${head}>\n${body.join('\n')}\n  </testcase>` : `${head}/>`);
  }

  const suite = {
    name,
    tests: ids.length,
    failures,
    errors: 0,
    skipped,
    time: '0',
  };
  const props = [
    `    <property${attrs({ name: 'capture', value: input.snapshot.capture.path })}/>`,
    `    <property${attrs({ name: 'tool', value: `${tool.name} ${tool.version}` })}/>`,
    `    <property${attrs({ name: 'failOn', value: failOn })}/>`,
  ];
  if (input.baseline !== undefined) props.push(`    <property${attrs({ name: 'baseline', value: input.baseline.file })}/>`);
  const xml = [`<testsuite${attrs(suite)}>`, '  <properties>', ...props, '  </properties>', ...cases, '</testsuite>'].join('\n');
  return { xml, tests: suite.tests, failures, errors: 0, skipped };
}
