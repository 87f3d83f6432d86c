import { describe, expect, it, vi } from 'vitest';
import { renderFindingsTable } from '../../src/report/table.js';
import { displayWidth, stripAnsi } from '../../src/report/format.js';
import type { Finding } from '../../src/checks/types.js';
import { checks, findings, LONG_MESSAGE, snapshot } from './fixture.js';

const input = (f: Finding[]) => ({ snapshot: snapshot(), findings: f, checks: checks() });

/** Terminal columns of a line, counted by hand here (ASCII + box-drawing + em dash: 1 column each). */
function columnsOf(line: string): number {
  return [...stripAnsi(line)].length;
}

describe('renderFindingsTable', () => {
  for (const color of [false, true]) {
    it(`fits 80 columns with a long message and a long check id (color ${color})`, () => {
      const out = renderFindingsTable(input(findings()), { color });
      const lines = out.split('\n');
      for (const l of lines) expect(columnsOf(l), JSON.stringify(l)).toBeLessThanOrEqual(80);
      expect(lines.some((l) => columnsOf(l) >= 70)).toBe(true); // it uses the width
      // Identifiers are whole on one line, never cut or wrapped.
      for (const id of ['hpa-leak-iommu-structures', 'ppt-passthrough', 'stale-context', 'dmar-opt-in', '0000:03:00.0', '0000:00:02.0', '0000:05:00.0', '0xfed90000']) {
        expect(lines.some((l) => stripAnsi(l).includes(id)), id).toBe(true);
      }
      expect(out).not.toContain('…');
      // The whole long message is there (wrapped, the long path broken at its slashes, nothing cut).
      const text = lines.map((l) => stripAnsi(l)).join('').replace(/\s/g, '');
      expect(text).toContain(LONG_MESSAGE.replace(/\s/g, ''));
      expect(out.includes('\x1b[')).toBe(color);
    });
  }

  it('a long check id leaves the message room: no word shorter than the width is broken', () => {
    const f = findings();
    f[0].message = 'The DMAR table’s DMA_CTRL_PLATFORM_OPT_IN flag is clear: the OS cannot rely on firmware DMA protection before it enables the I/O MMU.';
    const out = stripAnsi(renderFindingsTable(input(f), { color: false, width: 80 }));
    const words = out.split(/\s+/);
    for (const w of ['DMA_CTRL_PLATFORM_OPT_IN', 'protection', 'host-physical', 'translation']) expect(words, w).toContain(w);
    // The long path is broken only after a slash.
    const pieces = out.split('\n').map((l) => l.trim()).filter((l) => l.includes('/var/') || l.includes('unbreakable') || l.includes('keeps/going'));
    for (const p of pieces) expect(p.split(/\s+/).at(-1)!, p).toMatch(/(\/|going)$|^[^/]*$|makes$|for$|it\.$|wrapping$|work$/);
  });

  it('a 40-column terminal gets 40-column lines, identifiers whole', () => {
    const out = renderFindingsTable(input(findings()), { color: true, width: 40 });
    const lines = out.split('\n');
    for (const l of lines) expect(columnsOf(l), JSON.stringify(l)).toBeLessThanOrEqual(40);
    for (const id of ['hpa-leak-iommu-structures', 'ppt-passthrough', '0000:03:00.0', '0xfed90000', 'DID 65535']) {
      expect(lines.some((l) => stripAnsi(l).includes(id)), id).toBe(true);
    }
    const text = lines.map((l) => stripAnsi(l)).join('').replace(/\s/g, '');
    expect(text).toContain(LONG_MESSAGE.replace(/\s/g, ''));
  });

  it('a wide terminal is used: 160 columns put a finding’s message on fewer lines', () => {
    const narrow = renderFindingsTable(input(findings()), { color: false, width: 80 }).split('\n').length;
    const wide = renderFindingsTable(input(findings()), { color: false, width: 160 });
    expect(wide.split('\n').some((l) => columnsOf(l) > 100)).toBe(true);
    for (const l of wide.split('\n')) expect(columnsOf(l)).toBeLessThanOrEqual(160);
    expect(wide.split('\n').length).toBeLessThan(narrow);
  });

  it('cli-table3 is never handed a long multi-line cell (its per-line measuring of those made 15 findings cost ~350 ms)', async () => {
    const Table = (await import('cli-table3')).default;
    const pushed: unknown[][] = [];
    type Row = Parameters<typeof Table.prototype.push>[number];
    const push = Table.prototype.push;
    Table.prototype.push = function (this: InstanceType<typeof Table>, ...rows: Row[]) {
      pushed.push(...(rows as unknown[][]));
      return push.apply(this, rows);
    };
    let out: string;
    try {
      out = renderFindingsTable(input(findings().filter((f) => f.check !== 'hpa-leak-iommu-structures')), { color: true, width: 120 });
    } finally {
      Table.prototype.push = push;
    }
    expect(stripAnsi(out).split('\n')[0]).toMatch(/^severity\s+check\s+BDF\s+unit\/DID\s+message$/); // the table layout
    expect(pushed.length).toBe(2 + 3); // header, rule, one row per finding
    for (const row of pushed) {
      for (const cell of row) {
        const lines = String(cell).split('\n');
        expect(lines.length).toBeLessThanOrEqual(2);
        for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(15);
      }
    }
  });

  it('orders rows by severity and puts unit and DID in one cell', () => {
    const out = stripAnsi(renderFindingsTable(input(findings()), { color: false }));
    const order = ['hpa-leak-iommu-structures', 'ppt-passthrough', 'stale-context', 'dmar-opt-in'].map((id) => out.indexOf(id));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(out).toContain('DID 65535');
    // With the check ids short enough to leave the message 24 columns, a table with a header.
    const table = stripAnsi(renderFindingsTable(input(findings().filter((f) => f.check !== 'hpa-leak-iommu-structures')), { color: false }));
    expect(table.split('\n')[0]).toMatch(/^severity\s+check\s+BDF\s+unit\/DID\s+message$/);
    expect(table).toMatch(/^critical\s+ppt-passthrough\s+0000:00:02\.0\s+0xfed90000\s+Assigned device/m);
    expect(table).toMatch(/^\s+DID 2\b/m);
  });

  it('ends with the summary line', () => {
    const out = renderFindingsTable(input(findings()), { color: false });
    expect(out.trimEnd().split('\n').slice(-2).join(' ')).toBe(
      '2 critical, 1 error, 0 warning, 1 info — 2 units, 3 present contexts, 2 domains; 3 capture warnings (see dmarsift decode).',
    );
  });

  it('colours severity only when asked', () => {
    const out = renderFindingsTable(input(findings()), { color: true });
    expect(out).toContain('\x1b[1;31mcritical\x1b[0m');
    expect(out).toContain('\x1b[31merror\x1b[0m');
    expect(renderFindingsTable(input(findings()), { color: false })).not.toContain('\x1b');
  });

  it('says so plainly when there are no findings', () => {
    const out = renderFindingsTable(input([]), { color: false });
    expect(out.startsWith('No findings.\n')).toBe(true);
    expect(out).toContain('0 critical, 0 error, 0 warning, 0 info');
  });

  it('fits narrower terminals too, and displayWidth agrees with the hand count', () => {
    // Without the 25-character check id: 8 + 15 + 12 + 10 fixed, 4 one-blank gaps, 21 for the message.
    const out = renderFindingsTable(input(findings().filter((f) => f.check !== 'hpa-leak-iommu-structures')), { color: true, width: 70 });
    expect(out).not.toContain('…');
    for (const l of out.split('\n')) {
      expect(columnsOf(l)).toBeLessThanOrEqual(70);
      expect(displayWidth(l)).toBe(columnsOf(l));
    }
  });
});

describe('renderFindingsTable with thousands of findings', () => {
  it('lays out rows in bounded slices (cli-table3 compares each cell with every cell above it), each finding once and in order', async () => {
    const { default: Table } = await import('cli-table3');
    const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
    const one = findings()[0];
    // 30 checks of 100 findings: all listed (100 per check is the most the table lists).
    const many: Finding[] = Array.from({ length: 3000 }, (_, i) => ({ ...one, check: `check-${hex2(Math.floor(i / 100))}`, bdf: `0000:${hex2(i >> 8)}:${hex2((i >> 3) & 31)}.${i & 7}`, did: i }));
    const sizes: number[] = [];
    const real = Table.prototype.toString;
    const spy = vi.spyOn(Table.prototype, 'toString').mockImplementation(function (this: InstanceType<typeof Table>) {
      sizes.push(this.length);
      return real.call(this);
    });
    let out: string;
    try {
      out = renderFindingsTable(input(many), { color: false });
    } finally {
      spy.mockRestore();
    }
    // Before: one table of 3 002 rows (~45 M cell comparisons).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(many.length + 2);
    const lines = out.split('\n');
    // Each finding's DID once, in order, on the line of its unit: no row lost or moved at a slice's edge.
    const dids = lines.flatMap((l) => [.../DID (\d+)/.exec(l)?.slice(1) ?? []]).map(Number);
    expect(dids).toEqual(many.map((f) => f.did));
  });
});

describe('renderFindingsTable with 5 000 findings of one check', () => {
  it('lists the first 100 in report order and counts the others in one line', () => {
    const one = findings()[0];
    const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
    const many: Finding[] = Array.from({ length: 5000 }, (_, i) => ({ ...one, severity: i < 10 ? 'critical' : 'error', check: 'stale-context', bdf: `0000:${hex2(i >> 8)}:${hex2((i >> 3) & 31)}.${i & 7}`, did: i }));
    const out = renderFindingsTable(input(many), { color: false, width: 200 });
    const lines = out.split('\n');
    const dids = lines.flatMap((l) => [.../DID (\d+)/.exec(l)?.slice(1) ?? []]).map(Number);
    // Most severe first (the 10 critical), then by BDF: DIDs 0…99.
    expect(dids).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(out).toContain('… and 4900 more stale-context findings (0 critical, 4900 error, 0 warning, 0 info), not listed one by one past the first 100: `--format json` lists them all.');
    // The summary counts every finding.
    expect(out).toContain('10 critical, 4990 error');
  });
});
