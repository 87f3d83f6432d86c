/**
 * Inputs for the HTML report's tests: a hostile capture (names that are markup) and a 65,000-mapping
 * capture laid out to stress the address map's bound (classes alternating column by column).
 */
import { checks as registry } from '../../src/checks/index.js';
import { runChecks } from '../../src/checks/run.js';
import type { HtmlReportInput } from '../../src/report/html/html.js';
import type { MapSpec } from '../checks/snapshot-builder.js';
import { snapshot } from '../checks/snapshot-builder.js';

export const UNIT = 0xfed90000;
export const TOOL = { name: 'dmarsift', version: '9.8.7' };
export const XSS = '<script>alert(1)</script>';

function input(s: ReturnType<ReturnType<typeof snapshot>['build']>): HtmlReportInput {
  return { snapshot: s, findings: runChecks(s), checks: registry.map((c) => c.meta), tool: TOOL };
}

/**
 * A VM named `<script>alert(1)</script>` whose domain maps the unit's registers (so a finding and
 * a flagged range carry the name), a device whose inventory name is an <img onerror>, a capture
 * path that closes an attribute, and a warning with markup.
 */
export function hostileInput(): HtmlReportInput {
  const s = snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
    .unit(UNIT, (u) => u.regs().context('0000:03:00.0', { did: 1, root: 0x300000 }).domain(1, 0x300000, [[0, 0x5000, 16], [0x10, 0xfed90, 1]]))
    .device('0000:03:00.0', { driver: 'ppt', deviceUnit: '"><img src=x onerror=alert(2)>' })
    .vm(XSS, ['0000:03:00.0'], { memoryBytes: 2 ** 30 })
    .memory(0, 0x80000000, 'ram')
    .build();
  s.capture.path = `/captures/"><svg onload=alert(3)>`;
  s.warnings.push({ message: `line with <b>markup</b> & ${XSS}`, source: { part: `<i>part</i>`, line: 3 } });
  return input(s);
}

/** Pages per host column of the big capture's axis: 2^20 pages (4 GiB) over 1000 columns. */
export const BIG_HOST_PAGES = 2 ** 20;

/**
 * 65,000 one-page mappings of vm1 spread evenly over 4 GiB of host pages; the host domain maps
 * the odd columns' pages and vm2's domain the even ones, and every fourth column is MMIO in the
 * memory map — so vm1's pieces change class from one drawing column to the next (the worst case
 * for merging runs). One more mapping hits the unit's registers: a flagged range at 0xfed90000.
 */
export function bigInput(n = 65_000): HtmlReportInput {
  const col = BIG_HOST_PAGES / 1000;
  // The unit's registers at IOVA 0: the first of hpa-leak-mmio's (capped) evidence hits.
  const vm1: MapSpec[] = [[0, 0xfed90, 1]];
  for (let i = 0; i < n; i++) vm1.push([i + 1, Math.floor((i * BIG_HOST_PAGES) / n), 1]);
  const host: MapSpec[] = [];
  const vm2: MapSpec[] = [];
  for (let x = 0; x < 1000; x++) {
    const s = Math.ceil(x * col);
    const e = Math.ceil((x + 1) * col);
    if (x % 2 === 1) host.push([s, s, e - s]);
    else vm2.push([0x100000 + s, s, e - s]);
  }
  const b = snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
    .unit(UNIT, (u) =>
      u.regs({ rtaddr: 0x7f000000 })
        .context('0000:00:19.0', { did: 0, root: 0x7f100000 })
        .context('0000:03:00.0', { did: 1, root: 0x7f200000 })
        .context('0000:03:00.1', { did: 2, root: 0x7f300000 })
        .domain(0, 0x7f100000, host)
        .domain(1, 0x7f200000, vm1)
        .domain(2, 0x7f300000, vm2))
    .device('0000:00:19.0', { driver: 'em', deviceUnit: 'em0' })
    .device('0000:03:00.0', { driver: 'ppt', deviceUnit: 'ppt0' })
    .device('0000:03:00.1', { driver: 'ppt', deviceUnit: 'ppt1' })
    .vm('vm1', ['0000:03:00.0'], { memoryBytes: 2 ** 30 })
    .vm('vm2', ['0000:03:00.1'], { memoryBytes: 2 ** 30 });
  let at = 0;
  for (let x = 1; x < 1000; x += 4) {
    const s = Math.ceil(x * col) * 4096;
    const e = Math.ceil((x + 1) * col) * 4096;
    if (s > at) b.memory(at, s, 'ram');
    b.memory(s, e, 'mmio', `window ${x}`);
    at = e;
  }
  return input(b.build());
}
