/**
 * Hostile translation structures: page tables with cycles, tables reused as each other, every
 * entry pointing at one sub-table, every bus at one context page, PASID directories fanning into
 * one PASID table. Each must end with problems/warnings, and the tests bound the work — reads
 * counted through a wrapper around the image — never the time. The same tables then go through
 * the CLI: exit 0 (warnings) and no stack trace.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSparseImage } from '../../src/image/sparse.js';
import { MAX_PASID_ENTRIES, MAX_PASID_TABLE_READS, readUnitTables } from '../../src/model/tables.js';
import { WALK_EXTRA_READS, WALK_REREAD_FACTOR } from '../../src/model/walk.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { buildLegacyRootTable, SecondLevelTable } from '../../src/synth/tables.js';
import { boundedProblems, runCliBounded } from '../helpers/bounded.js';
import { cli, cliJson } from '../helpers/cli.js';
import { counting, writeCapture } from './helpers.js';

const RW = { read: true, write: true };

/** Decode `phys` from `root` as a legacy or scalable unit, through a counting reader. */
function decode(phys: PhysBuilder, root: number, scalable = false) {
  const dir = writeCapture(phys, root, { scalable });
  const mem = counting(openSparseImage(path.join(dir, 'memory.sparse')));
  try {
    const t = readUnitTables(mem, { segment: 0, rootTable: root, mode: scalable ? 'scalable' : 'legacy', haw: 46, part: 'memory.sparse' });
    return { t, reads: mem.reads, dir };
  } finally {
    mem.close();
  }
}

/** `decode --format json` of a capture: exit 0, JSON on stdout, nothing that looks like a stack. */
function cliDecodes(dir: string): { warnings: { message: string }[]; units: any[] } {
  const r = cliJson(['decode', dir, '--format', 'json']);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(0);
  return r.json;
}

describe('page tables with cycles', () => {
  it('an entry pointing at its own table, at an ancestor, and two tables pointing at each other: cycles reported, walk ends', () => {
    const phys = new PhysBuilder(0x1000000);
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(0, 0x5000, 4, 4096, RW);
    const l4 = t.root;
    const l3 = Number(phys.readQword(l4) & ~0xfffn);
    const l2 = Number(phys.readQword(l3) & ~0xfffn);
    t.rawEntry(l2, 7, l2 | 3, 0); // a PDE → its own page directory
    t.rawEntry(l3, 9, l4 | 3, 0); // a PDPE → the PML4 (an ancestor)
    // Two sibling directories pointing at each other: A (level 2) → B as its PT, B (level 1) is A's
    // child, and B's PTE-shaped entries point back at A, which is on the path.
    const a = phys.alloc();
    const b = phys.alloc();
    t.rawEntry(l3, 10, a | 3, 0);
    for (let i = 0; i < 512; i++) phys.write64(a + i * 8, b | 3, 0);
    for (let i = 0; i < 512; i++) phys.write64(b + i * 8, a | 3, 0);
    const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 0, tt: 0, aw: 2, did: 1, slptptr: l4 }]);
    const { t: out, reads, dir } = decode(phys, root);
    const d = out.domains[0];
    expect(d.mappings[0]).toMatchObject({ iovaPfn: 0, hpaPfn: 0x5000, pages: 4 });
    const kinds = out.problems.map((p) => p.kind);
    expect(kinds.filter((k) => k === 'cycle').length).toBeGreaterThanOrEqual(2);
    expect(kinds).toContain('shared-table'); // A's 512 entries all name B
    // Root, context table, and each distinct table page at most a handful of times.
    expect(reads).toBeLessThan(600);
    const json = cliDecodes(dir);
    expect(json.units[0].tableProblems.some((p: { kind: string }) => p.kind === 'cycle')).toBe(true);
  });

  it('a context entry whose table root is the root table or its own context table: read as page tables, bounded', () => {
    const phys = new PhysBuilder(0x1000000);
    const root = phys.alloc();
    const ctx = phys.alloc();
    phys.write64(root + 0 * 16, ctx | 1, 0); // bus 0
    phys.write64(root + 1 * 16, ctx | 1, 0); // bus 1: the same context page
    // devfn 0: SLPTPTR = the root table; devfn 1: SLPTPTR = this context table; both 4-level.
    phys.write64(ctx + 0 * 16, root | 1, 0);
    phys.write64(ctx + 0 * 16 + 8, 2 | (1 << 8), 0);
    phys.write64(ctx + 1 * 16, ctx | 1, 0);
    phys.write64(ctx + 1 * 16 + 8, 2 | (2 << 8), 0);
    const { t: out, reads, dir } = decode(phys, root);
    expect(out.contexts.map((c) => c.bdf)).toEqual(['0000:00:00.0', '0000:00:00.1', '0000:01:00.0', '0000:01:00.1']);
    expect(out.domains).toHaveLength(2);
    expect(out.problems.some((p) => p.kind === 'cycle')).toBe(true);
    expect(reads).toBeLessThan(50);
    cliDecodes(dir);
    const a = cli(['analyze', dir, '--fail-on', 'none']);
    expect(a.status).toBe(0);
    expect(a.stderr).not.toMatch(/\n\s+at /);
    expect(a.stdout).toMatch(/table-integrity/);
  });
});

/**
 * A 4-level table of four pages in a fan: every PML4 entry names one PDP page, every PDP entry one
 * PD page, every PD entry one PT page, whose PTE i is `leaf(i)` as (lo, hi) words.
 */
function fourLevelFan(leaf: (i: number) => [number, number]): { phys: PhysBuilder; l4: number } {
  const phys = new PhysBuilder(0x1000000);
  const [l4, l3, l2, l1] = [phys.alloc(), phys.alloc(), phys.alloc(), phys.alloc()];
  for (let i = 0; i < 512; i++) {
    phys.write64(l4 + i * 8, l3 | 3, 0);
    phys.write64(l3 + i * 8, l2 | 3, 0);
    phys.write64(l2 + i * 8, l1 | 3, 0);
    phys.write64(l1 + i * 8, ...leaf(i));
  }
  return { phys, l4 };
}

describe('fan-out', () => {
  it('every entry of every level pointing at one sub-table: the revisit budget bounds the reads', () => {
    const { phys, l4 } = fourLevelFan((i) => [(0x10000000 + i * 4096) | 3, 0]);
    const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 0, tt: 0, aw: 2, did: 1, slptptr: l4 }]);
    const { t: out, reads } = decode(phys, root);
    // 512^3 paths to the leaf table; the walk stops after 65 536 revisits.
    expect(reads).toBeLessThanOrEqual(65536 + 16);
    expect(out.domains[0].complete).toBe(false);
    expect(out.problems.some((p) => p.kind === 'budget')).toBe(true);
    // The shared-table problem is reported a bounded number of times, not once per revisit.
    expect(out.problems.filter((p) => p.kind === 'shared-table').length).toBeLessThanOrEqual(20);
  });

  it('a root table whose 256 buses all point at one context page: the page is read once, one domain is walked once', () => {
    const phys = new PhysBuilder(0x1000000);
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(0, 0x5000, 16, 4096, RW);
    const root = phys.alloc();
    const ctx = phys.alloc();
    for (let bus = 0; bus < 256; bus++) phys.write64(root + bus * 16, ctx | 1, 0);
    for (let devfn = 0; devfn < 256; devfn++) {
      phys.write64(ctx + devfn * 16, t.root | 1, 0);
      phys.write64(ctx + devfn * 16 + 8, 2 | (1 << 8), 0);
    }
    const { t: out, reads, dir } = decode(phys, root);
    expect(out.rootEntries).toHaveLength(256);
    expect(out.contexts).toHaveLength(65536);
    expect(out.domains).toHaveLength(1);
    expect(reads).toBeLessThan(16);
    const a = cli(['analyze', dir, '--format', 'json', '--fail-on', 'none']);
    expect(a.status).toBe(0);
    expect(JSON.parse(a.stdout).summary.presentContexts).toBe(65536);
  });

  it('scalable mode: 256 buses × both halves on one context page, one 16 384-entry PASID directory, every entry on one PASID table: budgets bound it', () => {
    const phys = new PhysBuilder(0x1000000);
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(0, 0x5000, 4, 4096, RW);
    const root = phys.alloc();
    const ctx = phys.alloc();
    const dir = phys.alloc(); // 32 pages: PDTS 7 = 2^14 entries
    for (let i = 1; i < 32; i++) phys.alloc();
    const ptable = phys.alloc();
    for (let bus = 0; bus < 256; bus++) {
      phys.write64(root + bus * 16, ctx | 1, 0);
      phys.write64(root + bus * 16 + 8, ctx | 1, 0);
    }
    for (let i = 0; i < 128; i++) phys.write64(ctx + i * 32, dir | 1 | (7 << 9), 0); // P, PDTS 7, RID_PASID 0
    for (let i = 0; i < 16384; i++) phys.write64(dir + i * 8, ptable | 1, 0);
    for (let k = 0; k < 64; k++) {
      phys.write64(ptable + k * 64, t.root | 1 | (2 << 2) | (2 << 6), 0); // P, AW 48-bit, PGTT second-level
      phys.write64(ptable + k * 64 + 8, 7, 0); // DID 7
    }
    const { t: out, reads, dir: capture } = decode(phys, root, true);
    expect(out.contexts).toHaveLength(65536);
    // One directory read once; PASID entries stop at the budget, and so do PASID table reads.
    const attached = out.contexts.reduce((n, c) => n + (c.pasids?.length ?? 0), 0);
    expect(attached).toBeLessThanOrEqual(MAX_PASID_ENTRIES);
    expect(reads).toBeLessThan(MAX_PASID_TABLE_READS + 64);
    expect(out.problems.filter((p) => p.kind === 'budget')).toHaveLength(1);
    expect(out.warnings.some((w) => /PASID entries beyond/.test(w.message))).toBe(true);
    expect(out.domains).toHaveLength(1);
    const a = cli(['analyze', capture, '--format', 'json', '--fail-on', 'none']);
    expect(a.stderr).not.toMatch(/\n\s+at /);
    expect(a.status).toBe(0);
    expect(JSON.parse(a.stdout).warnings.some((w: { message: string }) => /PASID entries beyond/.test(w.message))).toBe(true);
    // Every context of the unit sharing one full PASID directory: the run stays within 256 MiB
    // (the PASID budget was 2^17 entries: ~600 MiB), and the HTML report draws it in linear time
    // (its topology once copied a list per use: over a minute).
    for (const format of ['json', 'html']) {
      const r = runCliBounded(['analyze', capture, '--format', format, '--fail-on', 'none'], { timeoutMs: 60_000, heapMiB: 1024 });
      expect(boundedProblems(r), format).toEqual([]);
    }
  });
});

/**
 * Issue 11 item 17: three table pages in a fan — every entry of the PML4 names one PDP page, every
 * entry of that one PD page, every entry of that one PT page, whose 512 PTEs map one host page
 * each (nothing coalesces) — pass cycle detection and make 512^3 paths. The walk must stop by a
 * bound proportional to the table pages present (WalkBudget), not after millions of leaves.
 */
describe('a fan of shared table pages (no cycle): work bounded by the pages present', () => {
  // What a unit's walks may read (WalkBudget): each distinct page present once, once more, plus 512.
  const readBound = (distinct: number): number => WALK_EXTRA_READS + (1 + WALK_REREAD_FACTOR) * distinct;

  // Alternating permissions on one host page: no two neighbours coalesce.
  const fan = () => fourLevelFan((i) => [0x10000000 | (i % 2 === 0 ? 3 : 1), 0]);

  it('one domain: reads, leaves and mappings stay within the budget of the 4 table pages present', () => {
    const { phys, l4 } = fan();
    const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 0, tt: 0, aw: 2, did: 1, slptptr: l4 }]);
    const { t: out, reads } = decode(phys, root);
    // Root table + context table + the walk's reads.
    expect(reads).toBeLessThanOrEqual(2 + readBound(4) + 1);
    const d = out.domains[0];
    expect(d.complete).toBe(false);
    expect(d.mappings.length).toBeLessThanOrEqual(512 * readBound(4));
    expect(out.problems.filter((p) => p.kind === 'budget')).toHaveLength(1);
    expect(out.warnings.some((w) => /walk cut short/.test(w.message))).toBe(true);
  });

  it('256 contexts with 256 different DIDs pointing into the same fan: one budget for the unit, not one per domain', () => {
    const { phys, l4 } = fan();
    const entries = Array.from({ length: 256 }, (_, devfn) => ({ bus: 3, devfn, tt: 0, aw: 2, did: devfn + 1, slptptr: l4 }));
    const root = buildLegacyRootTable(phys, entries);
    const { t: out, reads } = decode(phys, root);
    expect(out.domains).toHaveLength(256);
    expect(reads).toBeLessThanOrEqual(2 + readBound(4) + 256);
    const mappings = out.domains.reduce((n, d) => n + d.mappings.length, 0);
    expect(mappings).toBeLessThanOrEqual(512 * readBound(4));
  });

  it('through the CLI: decode --format json, analyze and translate finish within a 200 MiB heap, with the budget warning', () => {
    const { phys, l4 } = fan();
    const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 0, tt: 0, aw: 2, did: 1, slptptr: l4 }]);
    const dir = writeCapture(phys, root);
    const env = { NODE_OPTIONS: '--max-old-space-size=200' };
    const d = cli(['decode', dir, '--format', 'json'], { env });
    expect(d.stderr).not.toMatch(/\n\s+at |internal error|heap/);
    expect(d.status).toBe(0);
    // Bounded output: a few hundred leaf pages' worth of mappings, not 512^3 of them.
    expect(d.stdout.length).toBeLessThan(64 << 20);
    const json = JSON.parse(d.stdout);
    expect(json.warnings.some((w: { message: string }) => /walk cut short/.test(w.message))).toBe(true);
    const a = cli(['analyze', dir, '--format', 'json', '--fail-on', 'none'], { env });
    expect(a.stderr).not.toMatch(/\n\s+at |internal error|heap/);
    expect(a.status).toBe(0);
    const t = cli(['translate', dir, '--bdf', '0000:03:00.0', '--iova', '0x1000', '--format', 'json'], { env });
    expect(t.stderr).not.toMatch(/\n\s+at |internal error|heap/);
    expect(JSON.parse(t.stdout).hpa).toBe('0x10000000');
  });
});
