/**
 * How long `analyze` takes to draw its report, by format: the CLI's own DMARSIFT_TIMING marks,
 * "checks run" to "report rendered" (loading the reporter and rendering; no capture loading, no
 * node start-up). The findings table is held to TARGET_TABLE_MS for a sample's ~15 findings; the
 * JSON report is the yardstick (issue 11 item 13: the table took ~350 ms where JSON took 10 ms).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateCapture } from '../synth/generate.js';
import type { Scenario } from '../synth/scenario.js';

export const TARGET_TABLE_MS = 20;

/** Samples with findings, drawn at 80 columns (the target's 15 come from fifteenFindings). */
export const REPORT_SAMPLES = ['samples/iommu-not-enabled', 'samples/table-integrity'];

/**
 * A capture whose findings table holds exactly 15 findings, the number the target names (no
 * sample has that many: findings are grouped per device and cause): the ppt-unmapped sample with
 * seven VFs assigned to its VM and none given a context entry — seven ppt-unmapped errors, seven
 * ir-off-with-assigned warnings and the DMAR table's opt-in info. Written below `root`.
 */
export function fifteenFindings(repo: string, root: string): string {
  const s = JSON.parse(fs.readFileSync(path.join(repo, 'samples', 'scenarios', 'ppt-unmapped.json'), 'utf8')) as Scenario;
  const vf = s.devices.find((d) => d.name === 'ppt0');
  if (vf === undefined || s.vms === undefined) throw new Error('samples/scenarios/ppt-unmapped.json no longer has ppt0 and a VM: update fifteenFindings');
  for (let f = 10; f < 16; f++) s.devices.push({ ...vf, bdf: `pci0:3:0:${f}`, name: `ppt${f - 8}` });
  s.vms[0].passthru = ['3/0/8', ...Array.from({ length: 6 }, (_, i) => `3/0/${10 + i}`)];
  const dir = path.join(root, 'fifteen-findings');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  generateCapture({ ...s, name: 'fifteen-findings', expect: [] }, dir);
  return dir;
}

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
