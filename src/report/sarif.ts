/**
 * `analyze --format sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, VS Code).
 *
 * - One rule per known check (CheckMeta), in the given order; a finding of an unknown check
 *   still gets a rule (id only) so every `ruleIndex` is valid.
 * - Levels: critical/error → error, warning → warning, info → note; the exact severity is kept
 *   in `properties.severity` (SARIF has no "critical").
 * - Location: the capture part the finding came from, with `startLine` for text parts and
 *   `byteOffset` for binary ones; a finding without a source points at the capture itself, because
 *   dashboards drop results without a location. The unit and BDF go into `logicalLocations`.
 * - Paths: given `showPath` (the CLI), every path is the one the user gave, relative to the working
 *   directory (uriBaseId CWD) — where a CI job runs, so a code-scanning dashboard resolves it in the
 *   repository — or absolute. Without it (a library caller), a part path is the model's, relative
 *   to the capture (uriBaseId CAPTURE), and the capture path is relative to the working directory.
 *   Every relative artifact location has its uriBaseId, described in `originalUriBaseIds`; an
 *   absolute path is a file: URI, which SARIF allows no uriBaseId for. The bases carry no `uri`:
 *   a report may travel to a public ticket, and this machine's directories are nobody's business.
 * - `helpUri` must be an absolute URI in SARIF; it is written only when `docsBaseUri` is given.
 *   The relative docs/checks/<id>.md link is always in `help.markdown`.
 * - Triage: `partialFingerprints` holds the finding's fingerprint (src/triage/fingerprint.ts) under
 *   FINGERPRINT_KEY; a suppressed finding carries `suppressions` (external, accepted, with the
 *   reason as `justification`); with a baseline each result has its `baselineState`, and the
 *   baseline's findings that are gone are listed in the run's `properties.absent`, not as results:
 *   a dashboard that knows no `baselineState` (GitHub's documented subset has none) would show an
 *   `absent` result as an open alert. A suppression that matched nothing or has expired is a tool
 *   notification.
 * - A fleet (several captures) is one run per capture (findingsToSarifRun), each with its own
 *   `automationDetails.id` (`dmarsift/<label>/`), since code scanning takes one run per category.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckMeta, Finding } from '../checks/types.js';
import type { Source } from '../model/types.js';
import { FINGERPRINT_KEY } from '../triage/fingerprint.js';
import { suppressionProblem } from '../triage/suppressions.js';
import {
  checkDocPath, PROJECT_URI, sarifLevel, snapshotCounts, sortFindings, TOOL, type AnalyzeReportInput,
} from './format.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  /** Absolute base for `helpUri` (e.g. a repository's blob URL ending in '/'); omitted when absent. */
  docsBaseUri?: string;
  /** `tool.driver.informationUri`; default PROJECT_URI. */
  informationUri?: string;
}

/** A part path as a URI reference: relative paths percent-encoded per segment; absolute → file URL. */
export function partUri(p: string): string {
  if (isAbsolute(p)) return pathToFileURL(p).href;
  return p.split(/[\\/]/).map(encodeURIComponent).join('/');
}

function ruleFor(meta: CheckMeta, opts: SarifOptions): Record<string, unknown> {
  const doc = checkDocPath(meta.id);
  const rule: Record<string, unknown> = {
    id: meta.id,
    name: meta.id.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.description },
    help: {
      text: `${meta.description}\n\nSee ${doc}.`,
      markdown: `${meta.description}\n\nSee [${doc}](${doc}).`,
    },
    defaultConfiguration: { level: sarifLevel(meta.defaultSeverity) },
    properties: { defaultSeverity: meta.defaultSeverity, needs: [...meta.needs], tags: ['security', 'iommu', 'vt-d'] },
  };
  if (opts.docsBaseUri) rule.helpUri = new URL(doc, opts.docsBaseUri).href;
  return rule;
}

const CWD = 'CWD';
const CAPTURE = 'CAPTURE';

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

/** Where a run's paths are relative to, and how a part path becomes an artifact location. */
interface Locator {
  part(part: string): ArtifactLocation;
  /** The capture itself (the path the user gave; '' when only options named parts). */
  capture(): ArtifactLocation;
  /** `originalUriBaseIds`: every base a location uses. */
  bases: Record<string, unknown>;
}

/** `p` relative to base `id`, or a file: URI when absolute (SARIF: no uriBaseId on an absolute URI). */
function located(p: string, id: string): ArtifactLocation {
  if (isAbsolute(p)) return { uri: partUri(p) };
  return { uri: p === '' ? '.' : partUri(p), uriBaseId: id };
}

function locator(capturePath: string, show: ((part: string) => string) | undefined): Locator {
  const cwd = { description: { text: 'The working directory dmarsift ran in: paths are as the user gave them on the command line.' } };
  if (show) return { part: (p) => located(show(p), CWD), capture: () => located(capturePath, CWD), bases: { [CWD]: cwd } };
  return {
    part: (p) => located(p, CAPTURE),
    capture: () => located(capturePath, CWD),
    bases: {
      [CAPTURE]: {
        description: {
          text: `The capture ${capturePath}: its directory (the directory holding it for a single-file capture). Parts named by an option are relative to the working directory.`,
        },
      },
      [CWD]: cwd,
    },
  };
}

/**
 * A model Source as a SARIF physicalLocation: line for text parts, byte offset for binary ones. A
 * source that is an option, not a file (`--rtaddr`), is located at the capture itself.
 */
function physicalLocationOf(src: Source, loc: Locator): Record<string, unknown> {
  if (src.part.startsWith('--')) return { artifactLocation: loc.capture() };
  const out: Record<string, unknown> = { artifactLocation: loc.part(src.part) };
  if (src.line !== undefined && src.line >= 1) out.region = { startLine: src.line };
  else if (src.offset !== undefined) out.region = { byteOffset: src.offset };
  return out;
}

function resultFor(f: Finding, ruleIndex: number, loc: Locator): Record<string, unknown> {
  const physicalLocation = f.source ? physicalLocationOf(f.source, loc) : { artifactLocation: loc.capture() };

  const location: Record<string, unknown> = { physicalLocation };
  const logical: Record<string, unknown>[] = [];
  if (f.unit !== undefined) logical.push({ name: f.unit, kind: 'module', fullyQualifiedName: `unit ${f.unit}` });
  if (f.bdf !== undefined) logical.push({ name: f.bdf, kind: 'object', fullyQualifiedName: f.unit !== undefined ? `unit ${f.unit}/${f.bdf}` : f.bdf });
  if (logical.length) location.logicalLocations = logical;

  const properties: Record<string, unknown> = { severity: f.severity, evidence: f.evidence };
  if (f.unit !== undefined) properties.unit = f.unit;
  if (f.bdf !== undefined) properties.bdf = f.bdf;
  if (f.did !== undefined) properties.did = f.did;
  if (f.severityReason !== undefined) properties.severityReason = f.severityReason;
  if (f.messageId !== undefined) properties.messageId = f.messageId;
  if (f.vm !== undefined) properties.vm = f.vm;

  return {
    ruleId: f.check,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: f.message },
    locations: [location],
    // Lets dashboards and baselines follow one problem across captures of the same machine.
    ...(f.fingerprint !== undefined ? { partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint } } : {}),
    ...(f.suppressed !== undefined ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppressed.reason }] } : {}),
    ...(f.baselineState !== undefined ? { baselineState: f.baselineState } : {}),
    properties,
  };
}

/** Suppressions that matched nothing or have expired: warnings about the configuration. */
function suppressionNotifications(input: AnalyzeReportInput): Record<string, unknown>[] {
  return (input.suppressions ?? []).flatMap((st) => {
    const text = suppressionProblem(st);
    return text === undefined ? [] : [{ level: 'warning', message: { text }, properties: { suppression: { ...st.suppression }, state: st.state, matched: st.matched } }];
  });
}

/**
 * A check that could not examine (all of) the capture is a tool notification, not a result: no
 * dashboard counts it as an alert, and its silence is not a pass. `descriptor` names the check;
 * `associatedRule` points at its rule; the location is the capture it could not examine.
 */
function statusNotifications(input: AnalyzeReportInput, index: ReadonlyMap<string, number>, loc: Locator): Record<string, unknown>[] {
  return (input.statuses ?? []).filter((st) => st.status !== 'ran').map((st) => {
    const ruleIndex = index.get(st.id);
    return {
      descriptor: { id: st.id },
      ...(ruleIndex !== undefined ? { associatedRule: { id: st.id, index: ruleIndex } } : {}),
      level: st.status === 'not-applicable' ? 'warning' : 'note',
      locations: [{ physicalLocation: { artifactLocation: loc.capture() } }],
      message: { text: st.status === 'not-applicable' ? `${st.id} could not run: ${st.reasons.join('; ')}` : `${st.id} checked part of the capture only: ${st.reasons.join('; ')}` },
      properties: { status: st.status, missing: [...st.missing], reasons: [...st.reasons] },
    };
  });
}

export function findingsToSarif(input: AnalyzeReportInput, opts: SarifOptions = {}): Record<string, unknown> {
  return { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs: [findingsToSarifRun(input, opts)] };
}

/** One capture's run (a fleet's log has one per capture). */
export function findingsToSarifRun(input: AnalyzeReportInput, opts: SarifOptions = {}): Record<string, unknown> {
  const tool = input.tool ?? TOOL;
  const rules = input.checks.map((m) => ruleFor(m, opts));
  const index = new Map(input.checks.map((m, i) => [m.id, i]));
  const findings = sortFindings(input.findings);
  for (const f of findings) {
    if (!index.has(f.check)) {
      index.set(f.check, rules.length);
      rules.push({ id: f.check, shortDescription: { text: f.check }, defaultConfiguration: { level: sarifLevel(f.severity) } });
    }
  }
  const s = input.snapshot;
  const loc = locator(s.capture.path, input.showPath);
  const notRun = input.ran ? input.checks.filter((c) => !input.ran!.includes(c.id)).map((c) => c.id) : [];
  const properties: Record<string, unknown> = { capture: s.capture.path, summary: snapshotCounts(s), checksNotRun: notRun };
  if (input.label !== undefined) properties.label = input.label;
  if (input.baseline !== undefined) properties.baseline = { file: input.baseline.file, absent: input.baseline.absent };
  return {
    ...(input.label !== undefined ? { automationDetails: { id: `dmarsift/${input.label}/` } } : {}),
    tool: {
      driver: {
        name: tool.name,
        version: tool.version,
        ...(/^\d+\.\d+\.\d+/.test(tool.version) ? { semanticVersion: tool.version } : {}),
        informationUri: opts.informationUri ?? PROJECT_URI,
        rules,
      },
    },
    originalUriBaseIds: loc.bases,
    artifacts: s.capture.parts.map((p) => ({
      location: loc.part(p.path),
      description: { text: `${p.kind}${p.format ? ` (${p.format})` : ''}${p.note ? `: ${p.note}` : ''}` },
    })),
    invocations: [
      {
        executionSuccessful: true,
        toolExecutionNotifications: [
          ...s.warnings.map((w) => ({
            level: 'warning',
            message: { text: w.message },
            ...(w.source ? { locations: [{ physicalLocation: physicalLocationOf(w.source, loc) }] } : {}),
          })),
          ...statusNotifications(input, index, loc),
          ...suppressionNotifications(input),
        ],
      },
    ],
    results: findings.map((f) => resultFor(f, index.get(f.check)!, loc)),
    properties,
  };
}

/** The SARIF log as the CLI prints it (undefined members dropped by JSON.stringify). */
export function renderSarif(input: AnalyzeReportInput, opts: SarifOptions = {}): string {
  return JSON.stringify(findingsToSarif(input, opts), null, 2) + '\n';
}
