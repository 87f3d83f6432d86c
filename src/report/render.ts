/**
 * One capture's report in any `analyze` format, from the input every reporter takes. The two big
 * renderers (the table with cli-table3, the HTML page) are loaded on demand: a CI job asking for
 * SARIF does not pay for them. The small ones are imported with this module: as dynamic imports
 * each became a file of its own in the bundle, and node reads, compiles and links every file of a
 * run apart (~0.5 ms each; `analyze` loaded 36).
 */
import type { Severity } from '../checks/types.js';
import type { AnalyzeReportInput } from './format.js';
import { renderFindingsJson } from './findings-json.js';
import { findingsToJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';

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
      return renderFindingsJson(input);
    case 'markdown':
      return renderMarkdown(input, docs);
    case 'sarif':
      return renderSarif(input, docs);
    case 'html': {
      const { renderHtml } = await import('./html/html.js');
      return renderHtml({ ...input, ...(input.baseline !== undefined ? { absent: input.baseline.absent.map(absentAsFinding) } : {}) }, docs);
    }
    case 'junit':
      return findingsToJunit(input, { failOn: opts.failOn });
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
