import { openCapture, type OpenCapture } from '../../capture/load.js';
import { decodeMsi } from '../../decode/msi.js';
import { UsageError } from '../../errors.js';
import { translate, type Access } from '../../model/translate.js';
import { translateMsi } from '../../model/translate-msi.js';
import { renderTranslation, translationToJson } from '../../report/translate.js';
import { msiTranslationToJson, renderMsiTranslation } from '../../report/translate-msi.js';
import { parseIntLiteral } from '../../util/hex.js';
import { captureOptionsFrom } from '../capture-options.js';
import { useColor, withOutput, withPathsAsGiven } from '../common.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { resolveDevice } from '../resolve-bdf.js';

export async function run(argv: Record<string, unknown>): Promise<number> {
  if ((argv.iova === undefined) === (argv.msi === undefined)) throw new UsageError('give one of --iova ADDR (a DMA request) and --msi ADDR:DATA (an interrupt)');
  return argv.msi !== undefined ? runMsi(argv) : runIova(argv);
}

function literal(option: string, text: string, what: string): bigint {
  try {
    return parseIntLiteral(text);
  } catch {
    throw new UsageError(`${option}: not ${what}: ${JSON.stringify(text)} (use 0x… or decimal)`);
  }
}

function withCapture(argv: Record<string, unknown>, body: (cap: OpenCapture) => number): number {
  const cap = withPathsAsGiven(argv, () => openCapture(String(argv.capture ?? ''), captureOptionsFrom(argv)));
  try {
    return body(cap);
  } finally {
    cap.close();
  }
}

function runIova(argv: Record<string, unknown>): number {
  const iova = literal('--iova', String(argv.iova), 'an address');
  if (iova >= 1n << 64n) throw new UsageError('--iova: wider than 64 bits');
  const access = (argv.access ?? 'read') as Access;
  return withCapture(argv, (cap) => {
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
  });
}

/** `--msi ADDR:DATA`: the address and data word the device writes. */
function parseMsiOption(text: string): ReturnType<typeof decodeMsi> {
  const m = /^([^:]+):([^:]+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--msi: expected ADDR:DATA (e.g. 0xfee002d0:0x0), got ${JSON.stringify(text)}`);
  const address = literal('--msi', m[1], 'an address');
  const data = literal('--msi', m[2], 'a data word');
  if (data >= 1n << 32n) throw new UsageError(`--msi: data ${m[2]} is wider than 32 bits`);
  try {
    return decodeMsi(address, Number(data));
  } catch (e) {
    throw new UsageError(`--msi: ${(e as Error).message}: a write there is DMA, not an interrupt (use --iova)`);
  }
}

function runMsi(argv: Record<string, unknown>): number {
  if (argv.pasid !== undefined) throw new UsageError('--pasid applies to --iova, not to --msi');
  const msi = parseMsiOption(String(argv.msi));
  return withCapture(argv, (cap) => {
    const { unit, bdf } = resolveDevice(cap.snapshot, String(argv.bdf));
    const memPart = cap.snapshot.capture.parts.find((p) => p.kind === 'memory')?.path;
    const t = translateMsi({ unit, bdf, msi, ...(cap.memory !== undefined && memPart !== undefined ? { memory: { mem: cap.memory, part: memPart } } : {}) });
    const out = openOutput(argv.output as string | undefined);
    withOutput(out, () => {
      const input = { unit, bdf, msi };
      if (argv.format === 'json') out.write(JSON.stringify(msiTranslationToJson(input, t), null, 2) + '\n');
      else out.write(renderMsiTranslation(input, t, { color: useColor(argv, out) }));
    });
    // 1: the hardware blocks the interrupt (an interrupt-remapping fault).
    return t.result.outcome === 'fault' ? EXIT_FINDINGS : EXIT_OK;
  });
}
