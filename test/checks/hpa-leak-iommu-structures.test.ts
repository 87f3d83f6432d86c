import { describe, expect, it } from 'vitest';
import { hpaLeakIommuStructures } from '../../src/checks/hpa-leak-iommu-structures.js';
import { bhyveHost, HOST_ROOT, NIC, PPT, UNIT, VM_HPA_PFN, VM_ROOT } from './fixtures.js';
import type { MapSpec } from './snapshot-builder.js';
import { gibPages, snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';
import { countMappingReads } from '../helpers/work.js';
import { postedIrte, remappedIrte } from '../../src/synth/ir-encode.js';

const PPT2 = '0000:04:00.0';

/** Host domain (DID 0, tables at 0x200000-0x201fff) and vm1's domain with the given mappings. */
const withVmMaps = (maps: MapSpec[], extra: (u: import('./snapshot-builder.js').UnitBuilder) => unknown = () => undefined) =>
  snapshot()
    .unit(UNIT, (u) => {
      u.regs()
        .context(NIC, { did: 0, root: HOST_ROOT })
        .context(PPT, { did: 1, root: VM_ROOT })
        .domain(0, HOST_ROOT, [[0, 0, 16]], { tablePfns: [HOST_ROOT / 4096, HOST_ROOT / 4096 + 1] })
        .domain(1, VM_ROOT, maps, { tablePfns: [VM_ROOT / 4096] });
      extra(u);
    })
    .device(NIC, { driver: 'em' })
    .device(PPT, { driver: 'ppt' })
    .vm('vm1', [PPT]);

describe('hpa-leak-iommu-structures', () => {
  it("fires when a VM domain maps a page of the host domain's page tables writable", () => {
    const f = findingsOf(hpaLeakIommuStructures, withVmMaps([[0, VM_HPA_PFN, 512], [0xc0000, HOST_ROOT / 4096 + 1, 1]]).build());
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures critical ${PPT}`]);
    expect(f[0].evidence.hits).toEqual([{ structure: 'page table of DID 0 (root 0x200000, unit 0xfed90000)', kind: 'page-table', hpa: '0x201000', iova: '0xc0000000', size: '0x1000', write: true }]);
  });
  it("fires when a VM domain maps its own table root", () => {
    const f = findingsOf(hpaLeakIommuStructures, withVmMaps([[0, VM_ROOT / 4096, 1]]).build());
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures critical ${PPT}`]);
  });
  it('finds the root table, a context table and the invalidation queue; read-only is error', () => {
    const s = withVmMaps(
      [[0x90000, 0x10, 2, false], [0x90010, 0x21, 1, false]], // root table 0x10000 + context table 0x11000; IQA 0x20000 with QS = 1 → pages 0x20-0x21
      (u) => u.regs({ raw: { IQA: 0x20001n } }).rootTable(0x10000).rootEntry(3, 0x11000),
    ).build();
    const f = findingsOf(hpaLeakIommuStructures, s);
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures error ${PPT}`]);
    expect(f[0].evidence.pages).toBe(3);
    expect((f[0].evidence.hits as { kind: string }[]).map((h) => h.kind).sort()).toEqual(['context-table', 'invalidation-queue', 'root-table']);
  });
  it('IQA and IRTA with bits 63:52 set (beyond any host address): the structures sit at bits 51:12, exactly (issue 11 item 16)', () => {
    // Bits 63:52 of IQA/IRTA are beyond any HAW; the base is bits 51:12: 0x20000 and 0x30000.
    const s = withVmMaps(
      [[0x90020, 0x20, 1, false], [0x90030, 0x30, 1, false]],
      (u) => u.regs({ raw: { IQA: 0xfff0000000020000n, IRTA: 0xfff0000000030000n } }),
    ).build();
    const f = findingsOf(hpaLeakIommuStructures, s);
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures error ${PPT}`]);
    expect((f[0].evidence.hits as { kind: string; hpa: string }[]).map((h) => [h.kind, h.hpa]).sort()).toEqual([
      ['interrupt-remapping-table', '0x30000'], ['invalidation-queue', '0x20000'],
    ]);
  });
  it('finds a posted-interrupt descriptor a posted IRTE names (its page), not the descriptors of entries that are remapped', () => {
    // IRTE 5 posts into the descriptor at 0x401040 (page 0x401); IRTE 6 is remapped: it names no descriptor (the VM's page 0x150 holds nothing).
    const [plo, phi] = postedIrte({ sid: 0x300, vector: 0x40, pda: 0x401040n });
    const [rlo, rhi] = remappedIrte({ sid: 0x300, vector: 0x41 });
    const s = withVmMaps([[0x90000, 0x401, 1], [0x90001, 0x150, 1]], (u) => u.ir({ table: 0x2100000, entries: [[5, [plo, phi]], [6, [rlo, rhi]]] })).build();
    const f = findingsOf(hpaLeakIommuStructures, s);
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures critical ${PPT}`]);
    expect(f[0].evidence.hits).toEqual([{
      structure: 'posted-interrupt descriptor 0x401040 (IRTE 5, unit 0xfed90000)', kind: 'posted-interrupt-descriptor', hpa: '0x401000', iova: '0x90000000', size: '0x1000', write: true,
    }]);
  });
  it("takes the IR table's address from debugfs when IRTA was not captured, as 2^16 entries (1 MiB)", () => {
    // Table at 0x300000 from debugfs' `IR table address`, no IRTA: pages 0x300-0x3ff. The VM maps 0x3ff (last page) and 0x400 (just past).
    const ir = { table: 0x300000, entryCount: undefined, irta: undefined, entrySources: ['debugfs' as const], tableSource: { part: 'ir_translation_struct', line: 1 } };
    const f = findingsOf(hpaLeakIommuStructures, withVmMaps([[0x90000, 0x3ff, 2]], (u) => u.ir(ir)).build());
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures critical ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ pages: 1, hits: [{ kind: 'interrupt-remapping-table', hpa: '0x3ff000', iova: '0x90000000' }] });
    // With IRTA.S = 7 (256 entries: one page) the same mapping misses the table.
    const small = withVmMaps([[0x90000, 0x3ff, 2]], (u) => u.ir({ ...ir, entryCount: 256 })).build();
    expect(findingsOf(hpaLeakIommuStructures, small)).toEqual([]);
  });
  it('stays quiet when only the host domain maps the tables (bhyve 1:1 host map)', () => {
    expect(summary(findingsOf(hpaLeakIommuStructures, bhyveHost((u) => u.rootTable(0x10000).rootEntry(0, 0x11000)).build()))).toEqual([]);
  });
  it('handles two VMs of 16 M pages in 32768 ranges each: a few reads per range, not per page or per pair', () => {
    const ranges = (base: number): MapSpec[] => Array.from({ length: 32768 }, (_, i): MapSpec => [i * 513, base + i * 513, 512]);
    const tables = (base: number): number[] => Array.from({ length: 32768 }, (_, i) => base + i * 513 + 512); // in the 1-page holes
    const b1 = gibPages(64);
    const b2 = gibPages(256); // vm1 spans 32768 × 513 pages ≈ 64.1 GiB: keep vm2 clear of it
    const s = snapshot()
      .unit(UNIT, (u) =>
        u.regs()
          .context(PPT, { did: 1, root: VM_ROOT })
          .context(PPT2, { did: 2, root: 0x180000 })
          .domain(1, VM_ROOT, ranges(b1), { tablePfns: tables(b1) })
          // vm2 also maps one of vm1's table pages (in vm1's hole 100) at a high IOVA.
          .domain(2, 0x180000, [...ranges(b2), [0x4000000, b1 + 100 * 513 + 512, 1]], { tablePfns: tables(b2) }),
      )
      .device(PPT, { driver: 'ppt' })
      .device(PPT2, { driver: 'ppt' })
      .vm('vm1', [PPT])
      .vm('vm2', [PPT2])
      .build();
    const work = countMappingReads(s);
    const f = findingsOf(hpaLeakIommuStructures, s);
    expect(summary(f)).toEqual([`hpa-leak-iommu-structures critical ${PPT2}`]);
    expect(f[0].evidence.pages).toBe(1);
    // Work, not time: each mapping is read a bounded number of times (one merge against the
    // sorted structure pages), never once per page or once per structure page.
    expect(work.objects).toBe(2 * 32768 + 1);
    expect(work.reads).toBeLessThan(16 * work.objects);
  });
});
