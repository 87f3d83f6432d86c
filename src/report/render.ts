/**
 * One capture's report in any `analyze` format, from the input every reporter takes. Reporters are
 * loaded on demand: a CI job asking for SARIF does not pay for the table renderer.
 */
import type { Severity } from '../checks/types.js';
import type { AnalyzeReportInput } from './format.js';

export type AnalyzeFormat = 'table' | 'json' | 'markdown' | 'sarif' | 'junit' | 'html';

export interface RenderOptions {
  /** Absolute base for links to docs/checks/<id>.md (SARIF helpUri, Markdown and HTML links). */
  docsUri?: string;
  /** JUnit: the threshold a check's findings fail it at. */
  failOn: Severity | 'none';
  /** Table: colours and width. */
  color?: boolean;
  width?: number;
}

export async function renderReport(format: AnalyzeFormat, input: AnalyzeReportInput, opts: RenderOptions): Promise<string> {
  const docs = opts.docsUri !== undefined ? { docsBaseUri: opts.docsUri } : {};
  switch (format) {
    case 'json':
      return (await import('./findings-json.js')).renderFindingsJson(input);
    case 'markdown':
      return (await import('./markdown.js')).renderMarkdown(input, docs);
    case 'sarif':
      return (await import('./sarif.js')).renderSarif(input, docs);
    case 'html': {
      const { renderHtml } = await import('./html/html.js');
      return renderHtml({ ...input, ...(input.baseline !== undefined ? { absent: input.baseline.absent.map(absentAsFinding) } : {}) }, docs);
    }
    case 'junit':
      return (await import('./junit.js')).findingsToJunit(input, { failOn: opts.failOn });
    case 'table':
      return (await import('./table.js')).renderFindingsTable(input, { color: opts.color ?? false, width: opts.width ?? 80 });
  }
}

/** A baseline's finding as the HTML report lists absent ones. */
export function absentAsFinding(b: NonNullable<AnalyzeReportInput['baseline']>['absent'][number]): AnalyzeReportInput['findings'][number] {
  return {
    check: b.check, severity: b.severity, message: b.message, evidence: {}, fingerprint: b.fingerprint,
    ...(b.bdf !== undefined ? { bdf: b.bdf } : {}), ...(b.unit !== undefined ? { unit: b.unit } : {}), ...(b.vm !== undefined ? { vm: b.vm } : {}),
  };
}
