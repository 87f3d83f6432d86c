import { catalog } from '../../checks/catalog.js';
import { checkListJson } from '../../report/check-docs.js';
import { colorSeverity, wrapText } from '../../report/format.js';
import { useColor, withOutput } from '../common.js';
import { outputWidth } from '../width.js';
import { EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';

export async function run(argv: Record<string, unknown>): Promise<number> {
  const out = openOutput(argv.output as string | undefined);
  withOutput(out, () => {
    if (argv.format === 'json') {
      out.write(JSON.stringify(checkListJson(catalog), null, 2) + '\n');
      return;
    }
    const color = useColor(argv, out);
    const idWidth = Math.max(...catalog.map((c) => c.meta.id.length));
    const sevWidth = 8;
    const width = outputWidth(out);
    // Beside the id and severity when that leaves the summary 30 columns; else below them, indented.
    const beside = width - idWidth - sevWidth - 4 >= 30;
    const indent = beside ? ' '.repeat(idWidth + sevWidth + 4) : '    ';
    const summaryWidth = width - indent.length;
    const lines: string[] = [];
    for (const { meta, scope } of catalog) {
      if (scope === 'pair' && !lines.includes('')) lines.push('', ...wrapText('dmarsift diff BEFORE AFTER also runs:', width));
      const wrapped = wrapText(meta.summary, summaryWidth);
      const sev = colorSeverity(meta.defaultSeverity, beside ? meta.defaultSeverity.padEnd(sevWidth) : meta.defaultSeverity, color);
      if (beside) lines.push(`${meta.id.padEnd(idWidth)}  ${sev}  ${wrapped.shift() ?? ''}`);
      else lines.push(`${meta.id}  ${sev}`);
      for (const more of wrapped) lines.push(`${indent}${more}`);
    }
    lines.push('', ...wrapText(`${catalog.length} checks. Each has a page in docs/checks/<id>.md; \`dmarsift checks --format json\` gives the full descriptions.`, width));
    out.write(lines.join('\n') + '\n');
  });
  return EXIT_OK;
}
