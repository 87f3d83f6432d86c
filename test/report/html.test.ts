/**
 * The HTML report as text: self-contained (no URL, no fetch), hostile names inert, the safe
 * Markdown subset, the address map's element bound at 65,000 mappings, a flagged range drawn at
 * its place, the optional fields of later work, and the fleet page. test/report/html-browser.test.ts
 * runs the same pages in Chromium.
 */
import { describe, expect, it } from 'vitest';
import { HOST_CLASSES } from '../../src/checks/address-map.js';
import { bandRuns, BAND_COLUMNS, maxRuns, niceAxis } from '../../src/report/html/band.js';
import { MAX_MAP_ELEMENTS, tickLabel } from '../../src/report/html/address-map-svg.js';
import { esc } from '../../src/report/html/escape.js';
import { renderHtml, renderHtmlFleet, type HtmlFinding, type HtmlReportInput } from '../../src/report/html/html.js';
import { renderMarkdown } from '../../src/report/html/markdown.js';
import { checks, findings, RAN, snapshot, TOOL } from './fixture.js';
import { bigInput, BIG_HOST_PAGES, hostileInput, XSS } from './html-fixtures.js';

function fixtureInput(): HtmlReportInput {
  return { snapshot: snapshot(), findings: findings(), checks: checks(), ran: RAN, tool: TOOL };
}

/** Every address map's SVG in a page. */
function maps(html: string): string[] {
  return [...html.matchAll(/<svg class="amap"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

/** Elements in an SVG string: every start tag (no comments or CDATA are written). */
function elementCount(svg: string): number {
  return (svg.match(/<[a-zA-Z]/g) ?? []).length;
}

describe('renderHtml: one self-contained page', () => {
  const html = renderHtml(fixtureInput());

  it('is one HTML document with inline style and script and a CSP that fetches nothing', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html.match(/<script>/g)).toHaveLength(1);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toContain('unsafe-inline');
  });

  it('names no URL and loads nothing: no src, href to elsewhere, url(), @import or link', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<[^>]*\ssrc=/i);
    expect(html).not.toMatch(/url\(|@import|<link|<iframe|<img|<object|<embed/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^#/);
  });

  it('links the docs only when a base is given', () => {
    const withDocs = renderHtml(fixtureInput(), { docsBaseUri: 'https://example.org/dmarsift/blob/main/' });
    expect(withDocs).toContain('href="https://example.org/dmarsift/blob/main/docs/checks/stale-context.md"');
    expect(html).toContain('<code>docs/checks/stale-context.md</code>');
  });

  it('escapes the messages, with the checks of the findings described once each', () => {
    expect(html).toContain('Assigned device 0000:00:02.0 &lt;has&gt; &quot;pass-through&quot; &amp; raw DMA.');
    for (const id of ['stale-context', 'hpa-leak-iommu-structures', 'ppt-passthrough', 'dmar-opt-in']) {
      expect(html.match(new RegExp(`<h3><code>${id}</code>`, 'g'))).toHaveLength(1);
    }
    expect(html).toContain('<strong>stale-context</strong>');
  });

  it('has one finding row per finding with its severity and check for the filters', () => {
    const rows = [...html.matchAll(/<li class="finding[^"]*" id="[^"]+" data-severity="(\w+)" data-check="([\w-]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(['critical hpa-leak-iommu-structures', 'critical ppt-passthrough', 'error stale-context', 'info dmar-opt-in']);
  });

  it('says which checks did not run', () => {
    expect(html).toMatch(/<code>did-conflict<\/code><\/td><td>not run/);
  });
});

describe('hostile names', () => {
  const html = renderHtml(hostileInput());

  it('renders a VM named <script>alert(1)</script> inert, as text', () => {
    expect(html).not.toContain(XSS);
    expect(html).toContain(esc(XSS));
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toMatch(/<img|<svg onload|<b>markup|<i>part/i);
    // No attribute is closed early: every quote in a value is an entity.
    expect(html).not.toMatch(/"><img|"><svg/);
  });

  it('names the VM in the address map and the unit picture (escaped)', () => {
    expect(maps(html)).toHaveLength(1);
    expect(html).toContain(`VM ${esc(XSS)} — domain DID 1`);
  });
});

describe('renderMarkdown: a safe subset', () => {
  it('renders headings, lists, code, emphasis', () => {
    expect(renderMarkdown('## What it means\nA *domain* uses `TT = 10b` and **never**\nwraps.\n\n- one\n  - nested `x`\n- two\n')).toBe(
      '<h5>What it means</h5><p>A <em>domain</em> uses <code>TT = 10b</code> and <strong>never</strong> wraps.</p>' +
        '<ul><li>one<ul><li>nested <code>x</code></li></ul></li><li>two</li></ul>',
    );
  });

  it('escapes markup and keeps only http(s) links', () => {
    const out = renderMarkdown('<script>x</script> [a](javascript:alert(1)) [b](https://example.org/x) `<b>`');
    expect(out).toBe('<p>&lt;script&gt;x&lt;/script&gt; [a](javascript:alert(1)) <a href="https://example.org/x" rel="noopener noreferrer">b</a> <code>&lt;b&gt;</code></p>');
  });

  it('renders every check description without a raw tag of its own', async () => {
    const { checks: registry } = await import('../../src/checks/index.js');
    for (const c of registry) {
      const out = renderMarkdown(c.meta.description);
      const tags = new Set([...out.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1]));
      for (const t of tags) expect(['h5', 'p', 'ul', 'ol', 'li', 'code', 'em', 'strong', 'pre', 'a']).toContain(t);
    }
  });
});

describe('band runs: merged at the drawing resolution', () => {
  const axis = { lo: 0, hi: 1000, columns: BAND_COLUMNS };

  it('merges adjacent ranges of one class and keeps their pages', () => {
    const runs = bandRuns(axis, [0, 1, 2, 10], [1, 2, 3, 11], [0, 0, 0, 0], 4, 1);
    expect(runs.map((r) => [r.col0, r.col1, r.pages, r.ranges])).toEqual([[0, 3, 3, 3], [10, 11, 1, 1]]);
  });

  it('reaches, and never passes, classes × columns / 2 runs', () => {
    // Every class in every other column: the tightest case of the bound.
    const start: number[] = [];
    const cls: number[] = [];
    for (let c = 0; c < HOST_CLASSES.length; c++) {
      for (let x = 0; x < BAND_COLUMNS; x += 2) {
        start.push(x);
        cls.push(c);
      }
    }
    const runs = bandRuns(axis, start, start.map((s) => s + 0.5), cls, start.length, HOST_CLASSES.length);
    expect(runs).toHaveLength(maxRuns(HOST_CLASSES.length));
    // Ranges much thinner than a column, many per column: still one run per covered stretch.
    const n = 200_000;
    const s = Float64Array.from({ length: n }, (_, i) => (i * 1000) / n);
    const e = s.map((x) => x + 0.001);
    const c = Uint8Array.from({ length: n }, (_, i) => i % 3);
    expect(bandRuns(axis, s, e, c, n, 3)).toHaveLength(3);
  });

  it('rounds axes to exact, readable ticks', () => {
    expect(niceAxis(BIG_HOST_PAGES)).toEqual({ hi: BIG_HOST_PAGES, step: 2 ** 17 });
    expect(niceAxis(5 * 2 ** 18)).toEqual({ hi: 5 * 2 ** 18, step: 2 ** 18 });
    expect(tickLabel(5 * 2 ** 16)).toBe('1.25 GiB');
    expect(tickLabel(3 * 2 ** 16)).toBe('768 MiB');
    expect(tickLabel(2 ** 18)).toBe('1 GiB');
  });
});

describe('65,000 mappings', () => {
  const input = bigInput();
  const html = renderHtml(input);
  const svgs = maps(html);

  it('draws each address map within the stated element bound', () => {
    expect(svgs).toHaveLength(2);
    expect(MAX_MAP_ELEMENTS).toBe(8326);
    for (const svg of svgs) expect(elementCount(svg)).toBeLessThanOrEqual(MAX_MAP_ELEMENTS);
    // The classes really alternate column by column (this is the stress case, not an easy one).
    const vm1Runs = (svgs[0].match(/<rect x=/g) ?? []).length;
    expect(vm1Runs).toBeGreaterThan(900);
  });

  it('stays a light page', () => {
    expect(html.length).toBeLessThan(3 * 2 ** 20);
  });

  it('marks the flagged unit-register page where it lies on the host axis', () => {
    const svg = svgs[0];
    const hhi = Number(/data-hhi="(\d+)"/.exec(svg)![1]);
    const left = Number(/data-left="(\d+)"/.exec(svg)![1]);
    expect(hhi).toBe(BIG_HOST_PAGES);
    const rect = /<rect class="flagged" data-band="hpa" data-hpa="0xfed90000" data-pages="1" x="([\d.]+)" y="[\d.-]+" width="([\d.]+)"/.exec(svg);
    expect(rect).not.toBeNull();
    const x = Number(rect![1]);
    const w = Number(rect![2]);
    // 0xfed90 pages of 2^20 across 1000 columns: column 995.6; the marker is 3 columns wide around it.
    const expected = left + (0xfed90 / BIG_HOST_PAGES) * 1000;
    expect(x).toBeLessThanOrEqual(expected);
    expect(x + w).toBeGreaterThanOrEqual(expected);
    expect(w).toBeLessThanOrEqual(3.01);
  });
});

describe('fields later work adds, read when present', () => {
  it('shows suppressed findings apart, baseline states, fingerprints, VMs and check statuses', () => {
    const fs = findings() as HtmlFinding[];
    fs[0].suppressed = { reason: 'known & <accepted>' };
    fs[1].baselineState = 'unchanged';
    fs[2].baselineState = 'new';
    fs[2].fingerprint = 'abc123';
    fs[3].vm = 'vmX';
    const input: HtmlReportInput = {
      snapshot: snapshot(), findings: fs, checks: checks(), tool: TOOL,
      statuses: [
        { id: 'iommu-disabled', status: 'not-applicable', missing: ['registers'], reasons: ['no <unit>'] },
        { id: 'ppt-passthrough', status: 'partial', missing: [], reasons: [] },
      ],
      absent: [{ check: 'did-conflict', severity: 'error', message: 'gone', evidence: {} }],
    };
    const html = renderHtml(input);
    expect(html).toContain('data-suppressed=""');
    expect(html).toContain('suppressed: known &amp; &lt;accepted&gt;');
    expect(html).toContain('data-filter="suppressed"');
    expect(html).toContain('<span class="tag new">new</span>');
    expect(html).toContain('<span class="tag ">unchanged</span>');
    expect(html).toContain('Fingerprint <code>abc123</code>');
    expect(html).toContain('VM vmX');
    expect(html).toMatch(/<code>iommu-disabled<\/code><\/td><td>not-applicable <span class="note">— no &lt;unit&gt;<\/span>/);
    expect(html).toMatch(/<code>ppt-passthrough<\/code><\/a><\/td><td>partial/);
    expect(html).toContain('Absent since the baseline');
  });
});

describe('renderHtmlFleet', () => {
  it('has a summary row per capture, an error row for one that failed, and ids kept apart', () => {
    const a = fixtureInput();
    const b = hostileInput();
    const html = renderHtmlFleet([{ label: 'host-a', input: a }, { label: 'host-<b>', input: b }, { label: 'host-c', error: 'DMAR: bad checksum <x>' }]);
    const fleet = /<table class="fleet">[\s\S]*?<\/table>/.exec(html)![0];
    const rows = [...fleet.matchAll(/<tr( class="failed")?><td>(.*?)<\/td>/g)].map((m) => m[2]);
    expect(rows).toEqual(['<a href="#c1-top">host-a</a>', '<a href="#c2-top">host-&lt;b&gt;</a>', 'host-c']);
    expect(html).toContain('not analysed: DMAR: bad checksum &lt;x&gt;');
    expect(html.match(/class="filters"/g)).toHaveLength(1);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).not.toContain(XSS);
  });
});
