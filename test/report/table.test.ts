import { describe, expect, it } from 'vitest';
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
    it(`fits 80 columns with a long message (color ${color})`, () => {
      const out = renderFindingsTable(input(findings()), { color });
      const lines = out.split('\n');
      for (const l of lines) expect(columnsOf(l), JSON.stringify(l)).toBeLessThanOrEqual(80);
      expect(lines.some((l) => columnsOf(l) >= 70)).toBe(true); // it uses the width
      // Identifiers are whole on one line, never cut or wrapped.
      for (const id of ['hpa-leak-iommu-structures', 'ppt-passthrough', 'stale-context', 'dmar-opt-in', '0000:03:00.0', '0000:00:02.0', '0000:05:00.0', '0xfed90000']) {
        expect(lines.some((l) => stripAnsi(l).includes(id)), id).toBe(true);
      }
      expect(out).not.toContain('…');
      // The message column holds the whole long message (wrapped, long path broken, nothing cut).
      const plain = lines.map((l) => stripAnsi(l));
      const msgCol = plain[0].indexOf('message');
      const column = plain.map((l) => l.slice(msgCol)).join('').replace(/\s/g, '');
      expect(column).toContain(LONG_MESSAGE.replace(/\s/g, ''));
      expect(out.includes('\x1b[')).toBe(color);
    });
  }

  it('orders rows by severity and puts unit and DID in one cell', () => {
    const out = stripAnsi(renderFindingsTable(input(findings()), { color: false }));
    const order = ['hpa-leak-iommu-structures', 'ppt-passthrough', 'stale-context', 'dmar-opt-in'].map((id) => out.indexOf(id));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(out).toContain('DID 65535');
    expect(out.split('\n')[0]).toMatch(/^severity\s+check\s+BDF\s+unit\/DID\s+message$/);
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
