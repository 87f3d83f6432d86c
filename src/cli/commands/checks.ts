import { catalog } from '../../checks/catalog.js';
import { checkDocPath, colorSeverity, wrapText } from '../../report/format.js';
import { useColor, withOutput } from '../common.js';
import { EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';

export async function run(argv: Record<string, unknown>): Promise<number> {
  const out = openOutput(argv.output as string | undefined);
  withOutput(out, () => {
    if (argv.format === 'json') {
      const list = catalog.map(({ meta, scope }) => ({
        id: meta.id,
        scope,
        defaultSeverity: meta.defaultSeverity,
        summary: meta.summary,
        description: meta.description,
        needs: [...meta.needs],
        optional: [...(meta.optional ?? [])],
        docs: checkDocPath(meta.id),
      }));
      out.write(JSON.stringify({ schemaVersion: 1, checks: list }, null, 2) + '\n');
      return;
    }
    const color = useColor(argv, out);
    const idWidth = Math.max(...catalog.map((c) => c.meta.id.length));
    const sevWidth = 8;
    const width = out.isTTY ? Math.max(80, process.stdout.columns ?? 80) : 80;
    const summaryWidth = Math.max(30, width - idWidth - sevWidth - 4);
    const lines: string[] = [];
    for (const { meta, scope } of catalog) {
      if (scope === 'pair' && !lines.includes('')) lines.push('', 'dmarsift diff BEFORE AFTER also runs:');
      const wrapped = wrapText(meta.summary, summaryWidth);
      const sev = colorSeverity(meta.defaultSeverity, meta.defaultSeverity.padEnd(sevWidth), color);
      lines.push(`${meta.id.padEnd(idWidth)}  ${sev}  ${wrapped[0] ?? ''}`);
      for (const more of wrapped.slice(1)) lines.push(`${' '.repeat(idWidth + sevWidth + 4)}${more}`);
    }
    lines.push('', `${catalog.length} checks. Each has a page in docs/checks/<id>.md; \`dmarsift checks --format json\` gives the full descriptions.`);
    out.write(lines.join('\n') + '\n');
  });
  return EXIT_OK;
}
