import { describe, expect, it } from 'vitest';
import { walkPageTable } from '../../src/model/walk.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { SecondLevelTable } from '../../src/synth/tables.js';
import { memoryOf } from '../helpers/memory.js';

const RW = { read: true, write: true };
const M2 = 2 * 1024 * 1024;

describe('walkPageTable', () => {
  it('coalesces contiguous 4 KiB leaves into one range', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 3);
    // IOVA pages 0x100..0x10f → HPA pages 0x5000..0x500f
    t.mapRange(0x100, 0x5000, 16, 4096, RW);
    const r = walkPageTable(memoryOf(phys), t.root, 3, { haw: 39 });
    expect(r.problems).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.pageCount).toBe(16);
    expect(r.mappings).toEqual([{ iovaPfn: 0x100, hpaPfn: 0x5000, pages: 16, read: true, write: true, pageSize: 4096 }]);
    expect(r.tablePfns.length).toBe(3); // root, one PDPT-level page, one PT page
  });

  it('splits on HPA gaps, permission changes and page size; crosses table pages when contiguous', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(510, 0x9000, 4, 4096, RW); // IOVA pages 510..513 span two PT pages; HPA contiguous
    t.mapPage(514, 0x9004, 4096, { read: true, write: false }); // read-only: new range
    t.mapPage(515, 0x9100, 4096, RW); // HPA gap
    t.mapRange(1024, 0x20000, 1024, M2, RW); // two 2 MiB pages at IOVA 4 MiB → HPA 0x20000000
    const r = walkPageTable(memoryOf(phys), t.root, 4, { haw: 46, sllps: 1 });
    expect(r.problems).toEqual([]);
    expect(r.mappings).toEqual([
      { iovaPfn: 510, hpaPfn: 0x9000, pages: 4, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 514, hpaPfn: 0x9004, pages: 1, read: true, write: false, pageSize: 4096 },
      { iovaPfn: 515, hpaPfn: 0x9100, pages: 1, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 1024, hpaPfn: 0x20000, pages: 1024, read: true, write: true, pageSize: M2 },
    ]);
    expect(r.pageCount).toBe(4 + 1 + 1 + 1024);
  });

  it('keeps IOVAs above 2^53 exact in 5-level tables (page numbers)', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 5);
    const iovaPfn = 2 ** 44 + 7; // IOVA 2^56 + 0x7000
    t.mapPage(iovaPfn, 0x1234, 4096, { read: false, write: true });
    const r = walkPageTable(memoryOf(phys), t.root, 5, { haw: 52 });
    expect(r.mappings).toEqual([{ iovaPfn, hpaPfn: 0x1234, pages: 1, read: false, write: true, pageSize: 4096 }]);
  });

  it('reports SNP/TM as reserved when the unit lacks SC/DT, and keeps them when allowed', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 3);
    t.mapPage(1, 0x10, 4096, { read: true, write: true, snp: true });
    const mem = memoryOf(phys);
    const bad = walkPageTable(mem, t.root, 3, { haw: 39, snoopControl: false });
    expect(bad.mappings).toEqual([]);
    expect(bad.problems.map((p) => p.kind)).toEqual(['reserved-bits']);
    const ok = walkPageTable(mem, t.root, 3, { haw: 39, snoopControl: true });
    expect(ok.mappings).toEqual([{ iovaPfn: 1, hpaPfn: 0x10, pages: 1, read: true, write: true, pageSize: 4096, snp: true }]);
  });

  it('refuses a 2 MiB page when SLLPS does not offer it, and PS at level 4', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 4);
    t.mapPage(512, 0x200, M2, RW);
    t.rawEntry(t.root, 3, 0x80 | 3, 0); // PS at PML4E
    const r = walkPageTable(memoryOf(phys), t.root, 4, { haw: 39, sllps: 0 });
    expect(r.mappings).toEqual([]);
    expect(r.problems.map((p) => [p.kind, p.level]).sort()).toEqual([['reserved-bits', 4], ['superpage-unsupported', 2]]);
  });

  it('reports pointers past the host address width without following them', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 3);
    t.rawEntry(t.root, 0, 0x1000 | 3, 0x80); // address bit 39 set, HAW 39
    const r = walkPageTable(memoryOf(phys), t.root, 3, { haw: 39 });
    expect(r.problems).toMatchObject([{ kind: 'beyond-haw', level: 3, entryAddr: t.root, raw: (0x80n << 32n) | 0x1003n }]);
    expect(r.pagesVisited).toBe(1);
  });

  it('stops at a missing page and says where', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 3);
    t.rawEntry(t.root, 5, 0x7770000 | 3, 0);
    const r = walkPageTable(memoryOf(phys), t.root, 3, { haw: 39 });
    expect(r.complete).toBe(false);
    expect(r.problems).toMatchObject([{ kind: 'missing-page', entryAddr: t.root + 40 }]);
    expect(r.problems[0].message).toContain('0x7770000');
  });

  it('detects a cycle (an entry pointing at its own table and at an ancestor) and terminates', () => {
    const phys = new PhysBuilder();
    const t = new SecondLevelTable(phys, 4);
    t.mapPage(0, 0x50, 4096, RW);
    const l3 = Number(phys.readQword(t.root) & ~0xfffn);
    t.rawEntry(t.root, 1, t.root | 3, 0); // PML4E → the PML4 itself
    t.rawEntry(l3, 1, t.root | 3, 0); // PDPE → the PML4 (an ancestor)
    const r = walkPageTable(memoryOf(phys), t.root, 4, { haw: 39 });
    expect(r.mappings).toEqual([{ iovaPfn: 0, hpaPfn: 0x50, pages: 1, read: true, write: true, pageSize: 4096 }]);
    expect(r.problems.filter((p) => p.kind === 'cycle')).toHaveLength(2);
  });

  it('bounds the work when every entry points at the same sub-table', () => {
    const phys = new PhysBuilder();
    const root = phys.alloc();
    const mid = phys.alloc();
    const leaf = phys.alloc();
    for (let i = 0; i < 512; i++) {
      phys.write64(root + i * 8, mid | 3, 0);
      phys.write64(mid + i * 8, leaf | 3, 0);
      phys.write64(leaf + i * 8, (0x100000 + i * 4096) | 3, 0);
    }
    const r = walkPageTable(memoryOf(phys), root, 3, { haw: 39, maxRevisits: 1000 });
    expect(r.complete).toBe(false);
    expect(r.pagesVisited).toBeLessThanOrEqual(1003);
    expect(r.problems.some((p) => p.kind === 'budget')).toBe(true);
    expect(r.problems.some((p) => p.kind === 'shared-table')).toBe(true);
  });
});
