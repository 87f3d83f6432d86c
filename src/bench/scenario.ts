/**
 * One scenario of the benchmark: its floors, the engine in one process, and `decode` / `analyze`
 * as users run them, alternated round by round so that each ratio compares runs made under the
 * same load; then the correctness checks (planted findings, mapped bytes, sampled translations).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BigCapture } from './big-capture.js';
import { bundled, expectExit, measureAlternating, median, mib, msSpread, runOnce, target, type Measured } from './measure.js';
import { verifyCapture, type Verified } from './verify.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Both floors bundled (measure.ts): the physical floor is then the cheapest node process that reads
// the bytes; the reader floor loads like the CLI.
const PHYS_FLOOR = bundled('phys-floor');
const READER_FLOOR = bundled('floor');
const ENGINE = path.join(HERE, 'engine.js');

export interface Timed {
  ms: number;
  msAll: number[];
  rssKiB: number | null;
}

export interface ScenarioResult {
  name: string;
  description: string;
  tablePages: number;
  tableRangeBytes: number;
  leafEntries: number;
  hostRuns: number;
  mappedBytes: number;
  imageBytes: number;
  imageDiskBytes: number;
  generateMs: number;
  physFloor: Timed;
  readerFloor?: Timed;
  engine?: { readMs: number; walkMs: number; firstReadMs: number; firstWalkMs: number; mappings: number; ratio: number };
  decode: Timed;
  analyze: Timed & { findings: string[]; expected: string[]; asExpected: boolean };
  /** Median ratios to the physical floor, and the spread of the per-round ratios. */
  ratio: { decode: number; analyze: number; decodeSpread: [number, number]; analyzeSpread: [number, number]; readerFloor?: number };
  /** The same ratios in CPU time (user + system): what holds while other jobs load the machine. */
  cpuRatio: { decode: number; analyze: number; floorMs: number; decodeMs: number; analyzeMs: number };
  verified: Verified;
}

const timed = (m: Measured): Timed => ({ ms: Math.round(m.ms), msAll: m.msAll, rssKiB: m.rssKiB });
const r2 = (x: number): number => Math.round(x * 100) / 100;
const spread = (a: number[], b: number[]): [number, number] => {
  const rs = a.map((x, i) => x / b[i]);
  return [r2(Math.min(...rs)), r2(Math.max(...rs))];
};

export interface ScenarioOptions {
  runs: number;
  scratch: string;
  log: (s: string) => void;
  /** Also the reader floor and the in-process engine figures (skipped at 1 TiB: they only repeat the read). */
  detail: boolean;
}

export function measureScenario(cap: BigCapture, generateMs: number, o: ScenarioOptions): ScenarioResult {
  const { log, runs, scratch } = o;
  const n = cap.name;
  const commands = [
    { args: [PHYS_FLOOR, cap.image, cap.tableRangesFile], keepStdout: true },
    { args: [target.bin, 'decode', cap.dir, '--format', 'json'] },
    { args: [target.bin, 'analyze', cap.dir, '--format', 'json', '--fail-on', 'none'], keepStdout: true },
    ...(o.detail ? [{ args: [READER_FLOOR, cap.image, cap.tablePagesFile], keepStdout: true }] : []),
  ];
  const [phys, decode, analyze, reader] = measureAlternating(commands, runs, scratch);
  const physOut = JSON.parse(phys.last.stdout || '{}') as { bytes?: number };
  // Every run's exit: 0 for the floors and decode; analyze with --fail-on none is 0 with findings too.
  expectExit(phys, [0], `physical floor on ${n}`);
  if (physOut.bytes !== cap.tableRangeBytes) throw new Error(`physical floor on ${n}: ${physOut.bytes ?? '?'} bytes read of ${cap.tableRangeBytes}`);
  expectExit(decode, [0], `decode on ${n}`);
  expectExit(analyze, [0], `analyze --fail-on none on ${n}`);
  log(`[${n}] physical floor ${msSpread(phys)} (${(cap.tableRangeBytes / 2 ** 20).toFixed(1)} MiB in 1 MiB reads), ${mib(phys.rssKiB)}`);
  let readerFloor: Timed | undefined;
  if (reader !== undefined) {
    const out = JSON.parse(reader.last.stdout || '{}') as { missing?: number };
    expectExit(reader, [0], `reader floor on ${n}`);
    if (out.missing) throw new Error(`reader floor on ${n}: ${out.missing} pages missing`);
    readerFloor = timed(reader);
    log(`[${n}] reader floor ${msSpread(reader)} (the table pages through dmarsift's image reader, no decoding)`);
  }
  const engine = o.detail ? measureEngine(cap, runs, scratch, log) : undefined;
  log(`[${n}] decode --format json ${msSpread(decode)}, ${mib(decode.rssKiB)}`);

  const report = JSON.parse(analyze.last.stdout) as { findings: { check: string; severity: string }[] };
  const serious = [...new Set(report.findings.filter((f) => f.severity !== 'info').map((f) => f.check))].sort();
  const asExpected = JSON.stringify(serious) === JSON.stringify([...cap.expect].sort());
  log(`[${n}] analyze --format json ${msSpread(analyze)}, ${mib(analyze.rssKiB)}; findings ≥ warning: ${serious.join(', ') || 'none'}${asExpected ? '' : ` — EXPECTED ${cap.expect.join(', ') || 'none'}`}`);
  const verified = verifyCapture(target.bin, cap, scratch);
  log(`[${n}] ${verified.ok ? `mapped bytes right (${verified.mappings.toLocaleString('en-US')} mappings), ${verified.translations} sampled translations right` : `WRONG: ${verified.errors.join('; ')}`}`);

  return {
    name: n, description: cap.description, tablePages: cap.tablePages, tableRangeBytes: cap.tableRangeBytes, leafEntries: cap.leafEntries,
    hostRuns: cap.runs, mappedBytes: cap.mappedBytes, imageBytes: cap.imageBytes, imageDiskBytes: cap.imageDiskBytes, generateMs: Math.round(generateMs),
    physFloor: timed(phys), readerFloor, engine,
    decode: timed(decode),
    analyze: { ...timed(analyze), findings: serious, expected: cap.expect, asExpected },
    ratio: {
      decode: r2(decode.ms / phys.ms), analyze: r2(analyze.ms / phys.ms),
      decodeSpread: spread(decode.msAll, phys.msAll), analyzeSpread: spread(analyze.msAll, phys.msAll),
      ...(reader !== undefined ? { readerFloor: r2(reader.ms / phys.ms) } : {}),
    },
    cpuRatio: { decode: r2(decode.cpuMs / phys.cpuMs), analyze: r2(analyze.cpuMs / phys.cpuMs), floorMs: Math.round(phys.cpuMs), decodeMs: Math.round(decode.cpuMs), analyzeMs: Math.round(analyze.cpuMs) },
    verified,
  };
}

/** Walk + coalesce against the physical read, in one process (no start-up, no output). */
function measureEngine(cap: BigCapture, runs: number, scratch: string, log: (s: string) => void): NonNullable<ScenarioResult['engine']> {
  const eng = runOnce([ENGINE, cap.image, cap.tableRangesFile, String(cap.rootTable), String(cap.haw), String(Math.max(5, runs))], true, scratch);
  if (eng.exit !== 0) throw new Error(`engine measurement failed on ${cap.name}: ${eng.stderr.trim()}`);
  const e = JSON.parse(eng.stdout) as { readMs: number[]; walkMs: number[]; mappings: number };
  const engine = {
    readMs: Math.round(median(e.readMs)), walkMs: Math.round(median(e.walkMs)), firstReadMs: Math.round(e.readMs[0]), firstWalkMs: Math.round(e.walkMs[0]),
    mappings: e.mappings, ratio: r2(median(e.walkMs) / Math.max(0.5, median(e.readMs))),
  };
  log(`[${cap.name}] in-process: read ${engine.readMs} ms, walk+coalesce ${engine.walkMs} ms (${engine.ratio}×; first run ${engine.firstReadMs} / ${engine.firstWalkMs} ms), ${engine.mappings.toLocaleString('en-US')} mappings`);
  return engine;
}
