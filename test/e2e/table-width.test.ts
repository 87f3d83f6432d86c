/**
 * The tables fit the terminal (issue 11 item 13): `COLUMNS` when set, else the terminal's width,
 * else 80 — a 40-column terminal gets 40-column lines, a wide one is used.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO } from '../helpers/cli.js';

const SAMPLE = path.join(REPO, 'samples', 'iommu-not-enabled');
const widest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

describe('COLUMNS', () => {
  it('analyze: COLUMNS=40 gives lines of at most 40 columns, with every check id whole', () => {
    const r = cli(['analyze', SAMPLE, '--fail-on', 'none'], { env: { COLUMNS: '40' } });
    expect(r.status, r.stderr).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(40);
    const ids = new Set((JSON.parse(cli(['analyze', SAMPLE, '--format', 'json']).stdout).findings as { check: string }[]).map((f) => f.check));
    for (const id of ids) expect(r.stdout).toContain(id);
  });

  it('analyze: COLUMNS=150 uses the width; without COLUMNS and no terminal, 80', () => {
    const wide = cli(['analyze', SAMPLE, '--fail-on', 'none'], { env: { COLUMNS: '150' } });
    expect(widest(wide.stdout)).toBeGreaterThan(100);
    expect(widest(wide.stdout)).toBeLessThanOrEqual(150);
    const plain = cli(['analyze', SAMPLE, '--fail-on', 'none'], { env: { COLUMNS: '' } });
    expect(widest(plain.stdout)).toBeLessThanOrEqual(80);
    expect(widest(plain.stdout)).toBeGreaterThan(60);
  });

  it('checks: COLUMNS=50 gives lines of at most 50 columns', () => {
    const r = cli(['checks'], { env: { COLUMNS: '50' } });
    expect(r.status).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(50);
  });

  it('a COLUMNS that is no width is ignored', () => {
    const r = cli(['analyze', SAMPLE, '--fail-on', 'none'], { env: { COLUMNS: 'wide' } });
    expect(r.status).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(80);
  });
});
