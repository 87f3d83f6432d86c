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
import { scanImageParallel, scoreAt, type ScanResult } from '../../scan/scan.js';
import type { CaptureOptions } from '../../capture/options.js';
import type { PhysicalMemory } from '../../image/types.js';
import { hex } from '../../util/hex.js';
import { addressOption, integerOption } from '../numbers.js';
import { namerFromArgv, useColor, withOutput } from '../common.js';
import { namedAsGiven } from '../paths.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import { openOutput } from '../output.js';
import { mib, stderrProgress } from '../progress.js';

/** What the user named: a memory image file, or a capture directory holding one (its DMAR gives the HAW). */
interface ScanTarget {
  /** The image file to open. */
  image: string;
  /** The image named as the user would (the path given, or the directory given joined with the part's path). */
  label: string;
  dir: boolean;
  haw?: number;
}

function resolveImage(target: string): ScanTarget {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new InputError('no such file or directory', { file: target });
  }
  if (!st.isDirectory()) return { image: target, label: target, dir: false };
  const parts = discoverParts(target, {});
  const mem = parts.filter((p) => p.kind === 'memory');
  if (mem.length !== 1) throw new InputError(mem.length === 0 ? 'the capture holds no memory image to scan' : `the capture holds ${mem.length} memory images: give one as IMAGE`, { file: target });
  const dmar = parts.find((p) => p.kind === 'dmar');
  const haw = dmar ? decodeDmar(readSmallFile(dmar.absPath, 1 << 20, 'DMAR table'), path.join(target, dmar.path)).haw : undefined;
  return { image: mem[0].absPath, label: path.join(target, mem[0].path), dir: true, ...(haw !== undefined ? { haw } : {}) };
}

/** The scan reads pointers by 32-bit halves and bounds the high one: widths below 32 bits would act as 32. */
const HAW_MIN = 32;
const HAW_MAX = 52;

/**
 * How `decode` reads the same image: the directory, or the file; a raw file is named with
 * `--memory` (a raw image has no magic, so as a capture it is recognised by its name only) and
 * keeps its `--base`. These are the arguments before `--rtaddr`.
 */
function decodeArgs(target: string, t: ScanTarget, mem: PhysicalMemory, base: number | undefined): { args: string[]; capture: string; opts: CaptureOptions } {
  const baseArgs = base !== undefined ? ['--base', hex(base)] : [];
  const baseOpt = base !== undefined ? { base } : {};
  if (t.dir) return { args: [target, ...baseArgs], capture: target, opts: baseOpt };
  if (mem.format === 'raw') return { args: ['--memory', target, ...baseArgs, ''], capture: '', opts: { memory: target, ...baseOpt } };
  return { args: [target], capture: target, opts: {} };
}

export async function run(argv: Record<string, unknown>): Promise<number> {
  try {
    return await scan(argv);
  } catch (e) {
    // The image is opened by its resolved path (a manifest's part): name it as the user gave it.
    throw e instanceof InputError ? namedAsGiven(e, namerFromArgv(argv, 'image')) : e;
  }
}

async function scan(argv: Record<string, unknown>): Promise<number> {
  const target = String(argv.image ?? '');
  const hawOpt = integerOption(argv.haw, 'haw', { min: HAW_MIN, max: HAW_MAX, what: `a host address width from ${HAW_MIN} to ${HAW_MAX} bits` });
  const base = addressOption(argv.base, 'base');
  const chunk = integerOption(argv.chunk, 'chunk', { min: 65536, max: 1 << 30, what: 'a multiple of 4096 from 64 KiB to 1 GiB' });
  if (chunk !== undefined && chunk % 4096 !== 0) throw new UsageError('--chunk: a multiple of 4096 from 64 KiB to 1 GiB');
  const jobsOpt = integerOption(argv.jobs, 'jobs', { min: 1, max: 64, what: 'a number of passes from 1 to 64' });
  // Past four the page cache's copy bandwidth, not the CPU, is the limit.
  const jobs = jobsOpt ?? Math.min(4, os.availableParallelism());
  // "At most N": any N past the candidates there are shows them all.
  const limit = integerOption(argv.limit, 'limit', { min: 1, max: Number.MAX_SAFE_INTEGER, what: 'a number of candidates, 1 or more', clamp: true }) ?? 10;
  const rtaddr = addressOption(argv.rtaddr, 'rtaddr');
  const json = argv.format === 'json';
  const t = resolveImage(target);
  let haw = hawOpt ?? t.haw ?? 52;
  if (hawOpt === undefined && haw < HAW_MIN) {
    process.stderr.write(`dmarsift: warning: the capture's DMAR table gives a ${haw}-bit host address width; scanning with ${HAW_MIN} bits\n`);
    haw = HAW_MIN;
  }

  const mem = openMemoryImage(t.image, base !== undefined ? { base } : {});
  const next = decodeArgs(target, t, mem, base);
  let found = false;
  let text = '';
  let obj: Record<string, unknown> | undefined;
  try {
    if (rtaddr !== undefined) {
      const scored = scoreAt(mem, rtaddr, haw);
      const { candidate, reason } = scored;
      found = candidate !== undefined;
      const use = candidate?.rtaddr ?? rtaddr;
      if (json) obj = { schemaVersion: 1, image: t.label, rtaddr: hex(rtaddr), candidate: candidate ? candidateToJson(candidate, 1) : null, reason: reason ?? null, warnings: [...mem.warnings] };
      else text = renderOneCandidate(rtaddr, scored, mem.warnings, false);
      if (candidate) {
        // Then decode the capture with that root table, as `decode --rtaddr` would.
        const snapshot = loadCapture(next.capture, { ...next.opts, rtaddr: [{ addr: use }] });
        if (obj) obj.model = snapshotToJson(snapshot);
        else text += '\n' + renderDecodeTable(snapshot, { color: false, mappings: false });
      }
    } else {
      const progress = stderrProgress(argv);
      let result: ScanResult;
      try {
        result = await scanImageParallel(mem, {
          haw, jobs, ...(chunk !== undefined ? { chunkBytes: chunk } : {}),
          onProgress: (done, total) => progress.update(`dmarsift: scanning ${mib(total)}: ${mib(done)} read`),
        });
      } finally {
        progress.done();
      }
      found = result.candidates.length > 0;
      const shown = { ...result, image: t.label };
      const out = openOutput(argv.output as string | undefined);
      withOutput(out, () => {
        out.write(json ? JSON.stringify(scanToJson(shown, limit), null, 2) + '\n' : renderScan(shown, { color: useColor(argv, out), limit, imageLabel: t.label, decodeArgs: next.args }));
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
