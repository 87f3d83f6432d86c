import { renderDecodeTable } from '../../report/decode-table.js';
import { streamSnapshotJson } from '../../report/model-json.js';
import { loadFromArgv, showPathFor, useColor, withOutput } from '../common.js';
import { EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { mark } from '../timing.js';

export async function run(argv: Record<string, unknown>): Promise<number> {
  const snapshot = loadFromArgv(argv);
  const out = openOutput(argv.output as string | undefined);
  withOutput(out, () => {
    if (argv.format === 'json') streamSnapshotJson(snapshot, (chunk) => out.write(chunk), { writeBytes: (bytes) => out.write(bytes) });
    else out.write(renderDecodeTable(snapshot, { color: useColor(argv, out), mappings: argv.mappings === true, showPath: showPathFor(argv, snapshot) }));
  });
  mark('written');
  return EXIT_OK;
}
