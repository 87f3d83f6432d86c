/**
 * `npm run bench [-- --gib 64 --runs 3 --json out.json --dir DIR --keep --only vm-4k,elf-core,tib --skip-tib --bin PATH]`
 *
 * Generates large captures (src/bench/big-capture.ts) into a temporary directory (or DIR), then
 * for each one measures, as separate processes alternated run by run, wall time and peak RSS of
 *   - the physical floor: node reading the file ranges that hold the table pages in 1 MiB chunks,
 *   - the reader floor: the same pages through dmarsift's image reader, no decoding,
 *   - `dmarsift decode --format json` (output to /dev/null) and `dmarsift analyze --format json`,
 * prints the ratios against the physical floor and checks the results (planted findings, mapped
 * bytes, sampled translations). Then the 1 TiB scenario (2 GiB of tables, generated when the disk
 * has room, removed after), `scan` against plain sequential reading of the ELF core, the time to
 * draw the findings table, and `dmarsift --version` against `node -e 0`. Peak RSS is the child's
 * own process.resourceUsage().maxRSS, written at exit by a preloaded probe (rss-probe.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchScenarios, generateBigCapture, GiB, TIB_SCENARIO, tibScenario, type BigCapture, type BigScenario } from './big-capture.js';
import { fifteenFindings, measureReportDrawing, REPORT_SAMPLES, type ReportTiming } from './report-timing.js';
import { measureScan, scanAvailable, type ScanResult } from './scan-bench.js';
import { measureScenario, type ScenarioResult } from './scenario.js';
import { measureStartup } from './startup.js';
import { summarize, TARGETS } from './summary.js';
import { REPO, target } from './measure.js';

/** Free space the 1 TiB scenario wants: its 2 GiB image, the decode JSON checked (~130 MB), room to spare. */
const TIB_DISK_BYTES = 3 * GiB;

interface Options {
  gib: number;
  runs: number;
  json?: string;
  root: string;
  /** --keep: leave every capture (the 1 TiB one too) in `root`. */
  keep: boolean;
  /** `root` was made here (no --dir): removed at the end unless --keep. */
  ownRoot: boolean;
  only?: string[];
  tib: boolean;
}

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      gib: { type: 'string', default: '64' },
      json: { type: 'string' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      only: { type: 'string' },
      'skip-tib': { type: 'boolean', default: false },
      bin: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--gib 64] [--runs 3] [--json out.json] [--dir DIR] [--keep] [--only vm-4k,vm-2m,two-vms,elf-core,${TIB_SCENARIO}] [--skip-tib] [--bin OTHER/bin/dmarsift.js]\n`);
    return undefined;
  }
  const gib = Number(values.gib);
  const runs = Math.max(1, Math.floor(Number(values.runs)));
  if (!Number.isInteger(gib) || gib < 1) throw new Error(`--gib must be a whole number of GiB ≥ 1, got ${values.gib}`);
  if (values.bin !== undefined) target.bin = path.resolve(values.bin);
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const root = values.dir ? path.resolve(values.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-bench-'));
  return { gib, runs, json: values.json, root, keep: values.keep, ownRoot: values.dir === undefined, only, tib: !values['skip-tib'] && (only === undefined || only.includes(TIB_SCENARIO)) };
}

export async function main(argv: string[]): Promise<number> {
  const o = options(argv);
  if (o === undefined) return 0;
  fs.mkdirSync(o.root, { recursive: true });
  const scratch = path.join(o.root, '.scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, load: os.loadavg() };
  log(`dmarsift bench: ${o.gib} GiB, ${o.runs} run(s) each, in ${o.root}; measuring ${target.bin}`);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, load average ${machine.load.map((l) => l.toFixed(2)).join(' ')}`);
  try {
    const startup = measureStartup(Math.max(9, 3 * o.runs), scratch);
    log(`start-up: node -e 0 ${startup.node.ms} ms, dmarsift --version ${startup.version.ms} ms (${startup.ratio}×)`);
    const scenarios: ScenarioResult[] = [];
    let elf: BigCapture | undefined;
    for (const s of benchScenarios(o.gib)) {
      if (o.only && !o.only.includes(s.name)) continue;
      const { cap, result } = runScenario(s, o, scratch, log, true);
      scenarios.push(result);
      if (s.image === 'elf') elf = cap;
    }
    // The scan before the 1 TiB scenario: that one writes 2 GiB and deletes it, and the kernel is
    // still writing back and freeing it for a while (a scan measured then ran at ~80 % of its speed).
    const scan: ScanResult | undefined = !elf ? undefined : scanAvailable() ? measureScan(elf, o.runs, scratch, log) : undefined;
    const tib = o.tib ? runTib(o, scratch, log) : undefined;
    const drawing = measureDrawing(o.runs, o.root, log);
    const figures = { gib: o.gib, runs: o.runs, machine: { ...machine, load: os.loadavg() }, startup, scenarios, tib, scan, drawing };
    const { lines, met } = summarize(figures);
    process.stdout.write(lines.join('\n') + '\n');
    if (o.json) {
      fs.writeFileSync(o.json, JSON.stringify({ tool: 'dmarsift-bench', date: new Date().toISOString(), cli: target.bin, targets: TARGETS, met, ...figures, loadAtStart: machine.load }, null, 2) + '\n');
      log(`wrote ${o.json}`);
    }
    return met.correct ? 0 : 1;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (o.ownRoot && !o.keep) fs.rmSync(o.root, { recursive: true, force: true });
    else log(`captures kept in ${o.root}`);
  }
}

/** Generate one scenario's capture and measure it. */
function runScenario(s: BigScenario, o: Options, scratch: string, log: (s: string) => void, detail: boolean): { cap: BigCapture; result: ScenarioResult } {
  log(`\n[${s.name}] generating: ${s.description}`);
  const g0 = performance.now();
  const cap = generateBigCapture(s, o.root);
  const genMs = performance.now() - g0;
  log(`[${s.name}] ${cap.tablePages.toLocaleString('en-US')} table pages, ${cap.leafEntries.toLocaleString('en-US')} leaf entries, ${cap.runs.toLocaleString('en-US')} host runs; image ${(cap.imageBytes / 2 ** 20).toFixed(0)} MiB (${(cap.imageDiskBytes / 2 ** 20).toFixed(0)} MiB on disk); generated in ${(genMs / 1000).toFixed(1)} s`);
  return { cap, result: measureScenario(cap, genMs, { runs: o.runs, scratch, log, detail }) };
}

/** The 1 TiB scenario, when the disk has room for it; its capture is removed afterwards unless kept. */
function runTib(o: Options, scratch: string, log: (s: string) => void): ScenarioResult | undefined {
  const st = fs.statfsSync(o.root);
  const free = st.bavail * st.bsize;
  if (free < TIB_DISK_BYTES) {
    log(`\n[${TIB_SCENARIO}] skipped: ${(free / GiB).toFixed(1)} GiB free in ${o.root}, it needs ${TIB_DISK_BYTES / GiB} GiB`);
    return undefined;
  }
  try {
    return runScenario(tibScenario(), o, scratch, log, false).result;
  } finally {
    if (!o.keep) fs.rmSync(path.join(o.root, TIB_SCENARIO), { recursive: true, force: true });
  }
}

/** Drawing the findings report of small captures, table vs JSON (at least 5 runs: it is short). */
function measureDrawing(runs: number, root: string, log: (s: string) => void): ReportTiming[] {
  log('\n[report] analyze: time to draw the report (DMARSIFT_TIMING: checks run → report rendered)');
  const drawing: ReportTiming[] = [];
  for (const sample of [fifteenFindings(REPO, root), ...REPORT_SAMPLES]) {
    for (const format of ['table', 'json']) {
      const t = measureReportDrawing(target.bin, REPO, sample, format, Math.max(5, runs));
      drawing.push(t);
      log(`[report] ${sample} --format ${format} (${t.findings} findings): ${t.ms} ms (runs ${t.msAll.join(', ')})`);
    }
  }
  return drawing;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); process.exitCode = 2; },
  );
}
