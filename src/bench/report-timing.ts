/**
 * How long `analyze` takes to draw its report, by format: the CLI's own DMARSIFT_TIMING marks,
 * "checks run" to "report rendered" (loading the reporter and rendering; no capture loading, no
 * node start-up). The findings table is held to TARGET_TABLE_MS for a sample's ~15 findings; the
 * JSON report is the yardstick (issue 11 item 13: the table took ~350 ms where JSON took 10 ms).
 */
import { spawnSync } from 'node:child_process';

export const TARGET_TABLE_MS = 20;

/** Samples with many findings (15 and 13), drawn at 80 columns. */
export const REPORT_SAMPLES = ['samples/iommu-not-enabled', 'samples/table-integrity'];

export interface ReportTiming {
  sample: string;
  format: string;
  /** Findings the report holds (the target is for ~15). */
  findings: number;
  /** Median over the runs, and every run. */
  ms: number;
  msAll: number[];
}

/** One run's drawing time, from its `dmarsift: timing (ms since start): …` line. */
function drawingMs(stderr: string): number {
  const marks = new Map([...stderr.matchAll(/(\w[\w ]*?) (\d+)(?:,|$)/gm)].map((m) => [m[1].trim(), Number(m[2])]));
  const from = marks.get('checks run');
  const to = marks.get('report rendered');
  if (from === undefined || to === undefined) throw new Error(`no timing marks in: ${stderr.trim().split('\n').at(-1)}`);
  return to - from;
}

/**
 * One `analyze SAMPLE --fail-on none`: exit 0 is the only expected outcome (the samples have
 * registers and tables, so there is something to check; 2 would mean nothing was drawn).
 */
function analyzeOnce(bin: string, cwd: string, sample: string, format: string, stdout: 'ignore' | 'pipe'): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'analyze', sample, '--format', format, '--fail-on', 'none'], {
    cwd, encoding: 'utf8', env: { ...process.env, DMARSIFT_TIMING: '1', NO_COLOR: '1', COLUMNS: '80' }, stdio: ['ignore', stdout, 'pipe'], maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`analyze ${sample} --format ${format} --fail-on none exited ${r.status} (expected 0): ${r.stderr.trim().split('\n').at(-1)}`);
  return { stdout: r.stdout ?? '', stderr: r.stderr };
}

export function measureReportDrawing(bin: string, cwd: string, sample: string, format: string, runs: number): ReportTiming {
  const report = JSON.parse(analyzeOnce(bin, cwd, sample, 'json', 'pipe').stdout) as { findings?: unknown[] };
  const findings = report.findings?.length ?? 0;
  const msAll: number[] = [];
  for (let i = 0; i < runs; i++) msAll.push(drawingMs(analyzeOnce(bin, cwd, sample, format, 'ignore').stderr));
  const sorted = [...msAll].sort((a, b) => a - b);
  return { sample, format, findings, ms: sorted[Math.floor((sorted.length - 1) / 2)], msAll };
}
