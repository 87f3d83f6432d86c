import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverParts } from '../../capture/discover.js';
import { loadCapture } from '../../capture/load.js';
import { readSmallFile } from '../../capture/read.js';
import { decodeDmar } from '../../decode/dmar.js';
import { InputError, UsageError } from '../../errors.js';
import { openMemoryImage } from '../../image/open.js';
import { renderDecodeTable } from '../../report/decode-table.js';
import { snapshotToJson } from '../../report/model-json.js';
import { candidateToJson, renderOneCandidate, renderScan, scanToJson } from '../../report/scan.js';
import { scanImageParallel, scoreAt } from '../../scan/scan.js';
import { parseIntLiteral, toSafeNumber } from '../../util/hex.js';
import { useColor, withOutput } from '../common.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { mib, stderrProgress } from '../progress.js';

function num(v: unknown, opt: string): number | undefined {
  if (v === undefined) return undefined;
  try {
    return toSafeNumber(parseIntLiteral(String(v)));
  } catch {
    throw new UsageError(`--${opt}: not a number: ${JSON.stringify(v)}`);
  }
}

/** IMAGE is a memory image file, or a capture directory holding one (its DMAR gives the HAW). */
function resolveImage(target: string): { image: string; haw?: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new InputError('no such file or directory', { file: target });
  }
  if (!st.isDirectory()) return { image: target };
  const parts = discoverParts(target, {});
  const mem = parts.filter((p) => p.kind === 'memory');
  if (mem.length !== 1) throw new InputError(mem.length === 0 ? 'the capture holds no memory image to scan' : `the capture holds ${mem.length} memory images: give one as IMAGE`, { file: target });
  const dmar = parts.find((p) => p.kind === 'dmar');
  const haw = dmar ? decodeDmar(readSmallFile(dmar.absPath, 1 << 20, 'DMAR table'), dmar.path).haw : undefined;
  return { image: mem[0].absPath, ...(haw !== undefined ? { haw } : {}) };
}

export async function run(argv: Record<string, unknown>): Promise<number> {
  const target = String(argv.image ?? '');
  const { image, haw: dmarHaw } = resolveImage(target);
  const hawOpt = num(argv.haw, 'haw');
  if (hawOpt !== undefined && (hawOpt < 12 || hawOpt > 52)) throw new UsageError('--haw: a host address width from 12 to 52');
  const haw = hawOpt ?? dmarHaw ?? 52;
  const base = num(argv.base, 'base');
  const chunk = num(argv.chunk, 'chunk');
  if (chunk !== undefined && (chunk < 65536 || chunk > 1 << 30 || chunk % 4096 !== 0)) throw new UsageError('--chunk: a multiple of 4096 from 64 KiB to 1 GiB');
  const jobsOpt = num(argv.jobs, 'jobs');
  if (jobsOpt !== undefined && (jobsOpt < 1 || jobsOpt > 64)) throw new UsageError('--jobs: a number of passes from 1 to 64');
  // Past four the page cache's copy bandwidth, not the CPU, is the limit.
  const jobs = jobsOpt ?? Math.min(4, os.availableParallelism());
  const limit = num(argv.limit, 'limit') ?? 10;
  const rtaddr = num(argv.rtaddr, 'rtaddr');
  const label = path.relative(process.cwd(), target) || target;
  const json = argv.format === 'json';

  const mem = openMemoryImage(image, base !== undefined ? { base } : {});
  let found = false;
  let text = '';
  let obj: Record<string, unknown> | undefined;
  try {
    if (rtaddr !== undefined) {
      const { candidate, reason } = scoreAt(mem, rtaddr, haw);
      found = candidate !== undefined;
      const use = candidate?.rtaddr ?? rtaddr;
      if (json) obj = { schemaVersion: 1, image: mem.path, rtaddr: '0x' + rtaddr.toString(16), candidate: candidate ? candidateToJson(candidate, 1) : null, reason: reason ?? null };
      else text = renderOneCandidate(rtaddr, candidate, reason, false);
      if (candidate) {
        // Then decode the capture with that root table, as `decode --rtaddr` would.
        const snapshot = loadCapture(target, { rtaddr: [{ addr: use }], ...(base !== undefined ? { base } : {}) });
        if (obj) obj.model = snapshotToJson(snapshot);
        else text += '\n' + renderDecodeTable(snapshot, { color: false, mappings: false });
      }
    } else {
      const progress = stderrProgress(argv);
      let result;
      try {
        result = await scanImageParallel(mem, {
          haw, jobs, ...(chunk !== undefined ? { chunkBytes: chunk } : {}),
          onProgress: (done, total) => progress.update(`dmarsift: scanning ${mib(total)}: ${mib(done)} read`),
        });
      } finally {
        progress.done();
      }
      found = result.candidates.length > 0;
      if (json) obj = scanToJson(result, limit);
      else text = '';
      const out = openOutput(argv.output as string | undefined);
      withOutput(out, () => {
        out.write(obj ? JSON.stringify(obj, null, 2) + '\n' : renderScan(result, { color: useColor(argv, out), limit, imageLabel: label }));
      });
      return found ? EXIT_OK : EXIT_FINDINGS;
    }
  } finally {
    mem.close();
  }
  const out = openOutput(argv.output as string | undefined);
  withOutput(out, () => out.write(obj ? JSON.stringify(obj, null, 2) + '\n' : text));
  return found ? EXIT_OK : EXIT_FINDINGS;
}
