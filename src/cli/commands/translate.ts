import { openCapture } from '../../capture/load.js';
import { UsageError } from '../../errors.js';
import { translate, type Access } from '../../model/translate.js';
import { renderTranslation, translationToJson } from '../../report/translate.js';
import { parseIntLiteral } from '../../util/hex.js';
import { captureOptionsFrom } from '../capture-options.js';
import { useColor, withOutput, withPathsAsGiven } from '../common.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { resolveDevice } from '../resolve-bdf.js';

export async function run(argv: Record<string, unknown>): Promise<number> {
  let iova: bigint;
  try {
    iova = parseIntLiteral(String(argv.iova));
  } catch {
    throw new UsageError(`--iova: not an address: ${JSON.stringify(argv.iova)} (use 0x… or decimal)`);
  }
  if (iova >= 1n << 64n) throw new UsageError('--iova: wider than 64 bits');
  const access = (argv.access ?? 'read') as Access;
  const cap = withPathsAsGiven(argv, () => openCapture(String(argv.capture ?? ''), captureOptionsFrom(argv)));
  try {
    const { unit, bdf } = resolveDevice(cap.snapshot, String(argv.bdf));
    const pasid = argv.pasid === undefined ? undefined : Number(argv.pasid);
    if (pasid !== undefined && (!Number.isInteger(pasid) || pasid < 0 || pasid >= 1 << 20)) throw new UsageError('--pasid: a number from 0 to 0xfffff');
    const result = translate(cap.memory, { unit, bdf, iova, pasid, access, haw: cap.snapshot.haw });
    const out = openOutput(argv.output as string | undefined);
    withOutput(out, () => {
      const input = { unit, bdf, iova, pasid, access };
      if (argv.format === 'json') out.write(JSON.stringify(translationToJson(input, result), null, 2) + '\n');
      else out.write(renderTranslation(input, result, { color: useColor(argv, out) }));
    });
    // 1: the request does not land (a fault, or blocked without one).
    return result.fault || result.blocked !== undefined ? EXIT_FINDINGS : EXIT_OK;
  } finally {
    cap.close();
  }
}
