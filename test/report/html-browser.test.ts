/**
 * The HTML report in a real browser: Debian's `chromium` driven by playwright-core (no browser
 * download). Each page is opened from file:// as a user would, with every request recorded and
 * anything but the page itself aborted; console errors (CSP violations among them) and dialogs fail
 * the test. Screenshots go to test-results/html/ (not committed).
 *
 * Skips, saying why, when no Chromium is installed (.ci/run installs it where it can).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MAP_ELEMENTS } from '../../src/report/html/address-map-svg.js';
import { renderHtml, renderHtmlFleet } from '../../src/report/html/html.js';
import { BIN, REPO } from '../helpers/cli.js';
import { checks, findings, RAN, snapshot, TOOL } from './fixture.js';
import { bigInput, hostileInput, XSS } from './html-fixtures.js';

const CHROMIUM = [process.env.DMARSIFT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => typeof p === 'string' && p !== '' && existsSync(p));
if (CHROMIUM === undefined) {
  console.log('test/report/html-browser.test.ts skipped: no Chromium found (apt-get install chromium, or set DMARSIFT_CHROMIUM to its path)');
}

const SHOTS = path.join(REPO, 'test-results', 'html');

/** What a page did besides rendering: requests, console errors, uncaught errors, dialogs. */
interface Trace {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

describe.skipIf(CHROMIUM === undefined)('the HTML report in Chromium', () => {
  let ctx: BrowserContext;
  let work: string;
  let profile: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'dmarsift-html-'));
    profile = mkdtempSync(path.join(tmpdir(), 'dmarsift-chromium-'));
    mkdirSync(SHOTS, { recursive: true });
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM!,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Anything that is not a file: URL is a network request: record it and refuse it.
    await ctx.route(/^(?!file:)/, (route) => route.abort());
  });

  afterAll(async () => {
    await ctx?.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  /** `analyze SAMPLE -f html` through the built CLI, into the work directory. */
  function sampleReport(sample: string): string {
    const out = path.join(work, `${sample}.html`);
    try {
      execFileSync(process.execPath, [BIN, 'analyze', path.join(REPO, 'samples', sample), '-f', 'html', '-o', out], { stdio: 'pipe' });
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e; // 1: findings, as expected for leak samples
    }
    return out;
  }

  async function open(file: string): Promise<{ page: Page; trace: Trace }> {
    const page = await ctx.newPage();
    const trace: Trace = { requests: [], errors: [], dialogs: [] };
    const own = pathToFileURL(file).href;
    page.on('request', (r) => {
      if (r.url() !== own) trace.requests.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') trace.errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => trace.errors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      trace.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(own, { waitUntil: 'load' });
    return { page, trace };
  }

  function clean(trace: Trace): void {
    expect(trace.requests).toEqual([]);
    expect(trace.errors).toEqual([]);
    expect(trace.dialogs).toEqual([]);
  }

  const visibleRows = (page: Page): Promise<number> => page.locator('li.finding:visible').count();

  it('filters findings by severity and by check (hpa-leak-shared)', async () => {
    const { page, trace } = await open(sampleReport('hpa-leak-shared'));
    const total = await page.locator('li.finding').count();
    const critical = await page.locator('li.finding[data-severity="critical"]').count();
    // samples/README.md: hpa-leak-shared on 0000:03:01.0 and 0000:03:01.1, both between named VMs/host.
    expect(critical).toBe(2);
    expect(await page.locator('li.finding[data-check="hpa-leak-shared"]').count()).toBe(2);
    expect(await visibleRows(page)).toBe(total);
    expect(await page.locator('[data-count]').textContent()).toBe(`Showing ${total} of ${total} findings`);

    await page.locator('input[data-filter="severity"][value="critical"]').uncheck();
    expect(await visibleRows(page)).toBe(total - 2);
    expect(await page.locator('li.finding[data-severity="critical"]:visible').count()).toBe(0);
    await page.locator('input[data-filter="severity"][value="critical"]').check();

    await page.locator('select[data-filter="check"]').selectOption('hpa-leak-shared');
    expect(await visibleRows(page)).toBe(2);
    expect(await page.locator('[data-count]').textContent()).toBe(`Showing 2 of ${total} findings`);
    await page.locator('input[data-filter="severity"][value="critical"]').uncheck();
    expect(await visibleRows(page)).toBe(0);
    expect(await page.locator('[data-findings-empty]').isVisible()).toBe(true);
    await page.locator('input[data-filter="severity"][value="critical"]').check();
    await page.locator('select[data-filter="check"]').selectOption('');
    expect(await visibleRows(page)).toBe(total);

    // The check's description opens in place.
    const about = page.locator('li.finding[data-check="hpa-leak-shared"] details.about').first();
    await about.locator('summary').click();
    await expect.poll(() => about.locator('.desc').textContent()).toContain('What it means');

    // Both VM domains have a map with hpa-leak-shared's ranges flagged.
    expect(await page.locator('svg.amap').count()).toBe(2);
    for (const map of await page.locator('svg.amap').all()) expect(await map.locator('rect.flagged[data-band="hpa"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'hpa-leak-shared.png'), fullPage: true });
    clean(trace);
  });

  it('draws the flagged root-table page where it lies, host side and IOVA side (hpa-leak-iommu-structures)', async () => {
    const { page, trace } = await open(sampleReport('hpa-leak-iommu-structures'));
    const map = page.locator('svg.amap').first();
    // samples/README.md: guest page 0x40000000 maps host page 0x7f000000, the unit's root table.
    const flags = map.locator('rect.flagged[data-hpa="0x7f000000"]');
    const hostFlag = flags.and(page.locator('[data-band="hpa"]'));
    const iovaFlag = flags.and(page.locator('[data-band="iova"]'));
    expect(await hostFlag.count()).toBe(1);
    expect(await iovaFlag.count()).toBe(1);

    // Where on screen: the marker's centre sits at address / axis end of the band's frame.
    const hhi = Number(await map.getAttribute('data-hhi'));
    const ihi = Number(await map.getAttribute('data-ihi'));
    const place = async (flag: typeof hostFlag, frameIndex: number, pfn: number, hi: number): Promise<void> => {
      const frame = (await map.locator('rect.frame').nth(frameIndex).boundingBox())!;
      const box = (await flag.boundingBox())!;
      const expected = frame.x + (pfn / hi) * frame.width;
      expect(Math.abs(box.x + box.width / 2 - expected)).toBeLessThan(2);
      expect(box.y).toBeLessThan(frame.y);
      expect(box.y + box.height).toBeGreaterThan(frame.y + frame.height);
    };
    await place(hostFlag, 0, 0x7f000, hhi);
    await place(iovaFlag, 1, 0x40000, ihi);

    // Hovering the marker says what it is, with the IOVA.
    await hostFlag.hover();
    const tip = page.locator('#tip');
    await expect.poll(() => tip.isVisible()).toBe(true);
    expect(await tip.textContent()).toMatch(/hpa-leak-iommu-structures.*HPA 0x7f000000.*IOVA 0x40000000/s);

    // A mapped run shows its IOVA too.
    await map.locator('g.band[data-axis="h"] g[class^="k-"] rect').first().hover();
    expect(await tip.textContent()).toMatch(/IOVA 0x[0-9a-f]+/);
    await map.screenshot({ path: path.join(SHOTS, 'hpa-leak-iommu-structures-map.png') });
    await page.screenshot({ path: path.join(SHOTS, 'hpa-leak-iommu-structures.png'), fullPage: true });
    clean(trace);
  });

  it('shows a healthy capture without flags (healthy-two-vms)', async () => {
    const { page, trace } = await open(sampleReport('healthy-two-vms'));
    expect(await page.locator('svg.amap').count()).toBe(2);
    expect(await page.locator('rect.flagged').count()).toBe(0);
    expect(await page.locator('svg.topo').count()).toBeGreaterThan(0);
    expect(await page.locator('li.finding[data-severity="critical"], li.finding[data-severity="error"]').count()).toBe(0);
    // Only bhyve's by-design warnings (vtd.c: no interrupt remapping, TT = 01b), one each per assigned VF.
    const warned = await page.locator('li.finding[data-severity="warning"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-check')));
    expect(warned.sort()).toEqual(['ats-on-assigned', 'ats-on-assigned', 'ir-off-with-assigned', 'ir-off-with-assigned']);
    await page.screenshot({ path: path.join(SHOTS, 'healthy-two-vms.png'), fullPage: true });
    clean(trace);
  });

  it('keeps hostile names inert: a VM named <script>alert(1)</script> is text', async () => {
    const file = path.join(work, 'hostile.html');
    writeFileSync(file, renderHtml(hostileInput()));
    const { page, trace } = await open(file);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img, iframe, object, embed').count()).toBe(0);
    expect(await page.locator('h3', { hasText: `VM ${XSS}` }).count()).toBe(1);
    expect(await page.locator('body').textContent()).toContain(XSS);
    expect(await page.locator('[onerror], [onload]').count()).toBe(0);
    clean(trace);
  });

  it('shows a fleet: a row per capture, one filter bar over every capture', async () => {
    const file = path.join(work, 'fleet.html');
    const a = { snapshot: snapshot(), findings: findings(), checks: checks(), ran: RAN, tool: TOOL };
    writeFileSync(file, renderHtmlFleet([{ label: 'host-a', input: a }, { label: 'host-b', input: hostileInput() }, { label: 'host-c', error: 'DMAR: checksum' }]));
    const { page, trace } = await open(file);
    expect(await page.locator('table.fleet tbody tr').count()).toBe(3);
    expect(await page.locator('table.fleet tr.failed').textContent()).toContain('not analysed: DMAR: checksum');
    const total = await page.locator('li.finding').count();
    const infos = await page.locator('li.finding[data-severity="info"]').count();
    expect(total).toBe(a.findings.length + hostileInput().findings.length);
    await page.locator('input[data-filter="severity"][value="info"]').uncheck();
    expect(await visibleRows(page)).toBe(total - infos);
    await page.locator('table.fleet a', { hasText: 'host-b' }).click();
    expect(await page.locator('#c2-top').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'fleet.png'), fullPage: true });
    clean(trace);
  });

  it('shows the fleet of every sample from the CLI: a row per capture, the filters over all of them', { timeout: 60_000 }, async () => {
    const file = path.join(work, 'samples-fleet.html');
    const json = path.join(work, 'samples-fleet.json');
    try {
      execFileSync(process.execPath, [BIN, 'analyze', '-r', path.join(REPO, 'samples'), '-f', 'html', '-o', file, '--output-format', `json=${json}`, '-q'], { stdio: 'pipe', cwd: work });
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e; // 1: the leak samples' findings
    }
    const fleet = JSON.parse(readFileSync(json, 'utf8')) as { captures: { label: string; findings?: { check: string }[] }[]; summary: { rows: { error: string | null }[] } };
    const all = fleet.captures.flatMap((c) => c.findings ?? []);
    const { page, trace } = await open(file);
    expect(await page.locator('table.fleet tbody tr').count()).toBe(fleet.captures.length);
    // scan-no-registers is read but has nothing to check without --rtaddr auto: its row says so.
    expect(await page.locator('table.fleet tr.failed').count()).toBe(1);
    expect(await page.locator('table.fleet tr.failed').textContent()).toContain('not analysed: nothing to check in');
    expect(fleet.summary.rows.filter((r) => r.error !== null)).toHaveLength(1);
    expect(await page.locator('li.finding').count()).toBe(all.length);
    await page.locator('select[data-filter="check"]').selectOption('hpa-leak-shared');
    expect(await visibleRows(page)).toBe(all.filter((f) => f.check === 'hpa-leak-shared').length);
    expect(await page.locator('svg.amap rect.flagged').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'samples-fleet.png') });
    clean(trace);
  });

  it('stays light with 65,000 mappings', async () => {
    const file = path.join(work, 'big.html');
    writeFileSync(file, renderHtml(bigInput()));
    const { page, trace } = await open(file);
    const counts = await page.$$eval('svg.amap', (svgs) => svgs.map((s) => s.querySelectorAll('*').length));
    expect(counts).toHaveLength(2);
    for (const c of counts) expect(c).toBeLessThanOrEqual(MAX_MAP_ELEMENTS);
    expect(await page.locator('rect.flagged[data-hpa="0xfed90000"][data-band="hpa"]').count()).toBe(1);
    await page.locator('svg.amap').first().screenshot({ path: path.join(SHOTS, 'big-map.png') });
    clean(trace);
  });
});
