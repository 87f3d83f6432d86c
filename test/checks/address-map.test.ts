/**
 * What a VM domain's host pages hit (src/checks/address-map.ts) and which ranges a finding flags
 * (src/checks/evidence-ranges.ts). The scenario is laid out by hand, page by page, and the
 * expected classes are read off the layout, not from the code.
 */
import { describe, expect, it } from 'vitest';
import { HOST_CLASSES, vmDomainMaps, type VmDomainMap } from '../../src/checks/address-map.js';
import { flaggedRanges } from '../../src/checks/evidence-ranges.js';
import { runChecks } from '../../src/checks/run.js';
import type { Finding } from '../../src/checks/types.js';
import { unitTopologies } from '../../src/model/topology.js';
import { snapshot } from './snapshot-builder.js';

const UNIT = 0xfed90000;

/**
 * Host pages (4 KiB page numbers):
 *   0x10          the unit's root table (RTADDR 0x10000)
 *   0x200/0x300/0x400  page-table roots of DIDs 0, 1, 2
 *   0x1000-0x1fff the host domain (DID 0, em0) maps these 1:1
 *   0x7000-0x7003 vm2's domain (DID 2) maps these
 *   0xe0000-0xeffff  a PCI MMIO window in the memory map; 0xe0000-0xe0001 is ppt0's BAR
 *   0xfed90       the unit's registers; 0xfee00 the MSI window
 */
function scenario() {
  return snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
    .unit(UNIT, (u) =>
      u.regs({ rtaddr: 0x10000 })
        .context('0000:00:19.0', { did: 0, root: 0x200000 })
        .context('0000:03:00.0', { did: 1, root: 0x300000 })
        .context('0000:03:00.1', { did: 2, root: 0x400000 })
        .domain(0, 0x200000, [[0x1000, 0x1000, 0x1000]])
        .domain(1, 0x300000, [
          [0x0, 0x5000, 16], // own
          [0x10, 0x1800, 4], // host domain
          [0x14, 0xfed90, 1], // unit registers
          [0x15, 0xfee00, 1], // MSI window
          [0x16, 0x300, 1], // its own page-table page
          [0x17, 0x10, 1], // the root table
          [0x18, 0x7000, 8], // 4 pages of vm2's memory, then 4 own
          [0x20, 0xe0000, 2], // its own BAR
          [0x22, 0xe0010, 1], // other MMIO
          [0x30, 0x1ffe, 4], // 2 pages host, 2 own
        ])
        .domain(2, 0x400000, [[0x0, 0x7000, 4]]))
    .device('0000:00:19.0', { driver: 'em', deviceUnit: 'em0' })
    .device('0000:03:00.0', { driver: 'ppt', deviceUnit: 'ppt0' })
    .device('0000:03:00.1', { driver: 'ppt', deviceUnit: 'ppt1' })
    .vm('vm1', ['0000:03:00.0'], { memoryBytes: 2 ** 30 })
    .vm('vm2', ['0000:03:00.1'], { memoryBytes: 2 ** 30 })
    .memory(0, 0xe0000000, 'ram')
    .memory(0xe0000000, 0xf0000000, 'mmio', 'PCI Bus 0000:00')
    .memory(0xfec00000, 0xff000000, 'reserved')
    .resource('0000:03:00.0', 0xe0000000, 0xe0002000, 'ppt')
    .build();
}

/** Pieces as "start-end class" (host pages, hex), in host order. */
function pieces(m: VmDomainMap): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.pieces.length; i++) out.push(`${m.pieces.start[i].toString(16)}-${m.pieces.end[i].toString(16)} ${HOST_CLASSES[m.pieces.cls[i]]}`);
  return out;
}

describe('vmDomainMaps', () => {
  const s = scenario();
  const maps = vmDomainMaps(s);

  it('has one map per VM domain, not the host domain', () => {
    expect(maps.map((m) => [m.did, m.vms])).toEqual([[1, ['vm1']], [2, ['vm2']]]);
  });

  it('cuts each mapping by what its host pages hit', () => {
    expect(pieces(maps[0])).toEqual([
      '10-11 iommu',
      '300-301 iommu',
      '1800-1804 host',
      '1ffe-2000 host',
      '2000-2002 own',
      '5000-5010 own',
      '7000-7004 other-vm',
      '7004-7008 own',
      'e0000-e0002 own-device',
      'e0010-e0011 mmio',
      'fed90-fed91 mmio',
      'fee00-fee01 msi',
    ]);
    expect(pieces(maps[1])).toEqual(['7000-7004 other-vm']);
  });

  it('counts pages per class and keeps every page of every mapping', () => {
    const by = Object.fromEntries(HOST_CLASSES.map((c, i) => [c, maps[0].pagesByClass[i]]));
    expect(by).toEqual({ own: 2 + 16 + 4, 'own-device': 2, host: 4 + 2, 'other-vm': 4, mmio: 2, iommu: 2, msi: 1 });
    const mapped = maps[0].mappings.toArray().reduce((a, m) => a + m.pages, 0);
    expect(maps[0].pagesByClass.reduce((a, b) => a + b, 0)).toBe(mapped);
  });

  it('keeps the piece → mapping link (for the IOVA on hover)', () => {
    const m = maps[0];
    const i = pieces(m).indexOf('7004-7008 own');
    const map = m.mappings.at(m.pieces.mapping[i]);
    expect(map.iovaPfn + (m.pieces.start[i] - map.hpaPfn)).toBe(0x18 + 4);
  });
});

describe('unitTopologies', () => {
  it('lists devices, uses, domains with roles and VMs', () => {
    const [t] = unitTopologies(scenario());
    expect(t.devices.map((d) => [d.bdf, d.name, d.vm ?? null, d.assigned])).toEqual([
      ['0000:00:19.0', 'em0', null, false],
      ['0000:03:00.0', 'ppt0', 'vm1', true],
      ['0000:03:00.1', 'ppt1', 'vm2', true],
    ]);
    expect(t.uses.map((u) => [u.bdf, u.type, u.did, u.tt])).toEqual([
      ['0000:00:19.0', 'translated', 0, 0],
      ['0000:03:00.0', 'translated', 1, 0],
      ['0000:03:00.1', 'translated', 2, 0],
    ]);
    expect(t.domains.map((d) => [d.did, d.role, d.vms])).toEqual([[0, 'host', []], [1, 'vm', ['vm1']], [2, 'vm', ['vm2']]]);
    expect(t.vms.map((v) => v.name)).toEqual(['vm1', 'vm2']);
  });

  it('shows an assigned device without a context entry on the unit that covers it', () => {
    const s = snapshot()
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
      .unit(UNIT, (u) => u.regs())
      .device('0000:03:00.0', { driver: 'ppt', deviceUnit: 'ppt0' })
      .vm('vm1', ['0000:03:00.0'], { memoryBytes: 2 ** 30 })
      .build();
    const [t] = unitTopologies(s);
    expect(t.devices.map((d) => [d.bdf, d.vm])).toEqual([['0000:03:00.0', 'vm1']]);
    expect(t.uses).toEqual([]);
    expect(t.vms.map((v) => v.name)).toEqual(['vm1']);
  });
});

describe('flaggedRanges', () => {
  const f = (check: string, evidence: Finding['evidence'], did = 1): Finding => ({ check, severity: 'critical', message: '', unit: '0xfed90000', did, evidence });

  it('reads hits with hpa, size and iova', () => {
    expect(flaggedRanges(f('hpa-leak-mmio', { hits: [{ hpa: '0xfed90000', iova: '0x14000', size: '0x1000' }, { hpa: '0xfee00000', iova: '0x15000', size: '0x2000' }] }))).toEqual([
      { unit: UNIT, did: 1, hpaPfn: 0xfed90, pages: 1, iovaPfn: 0x14 },
      { unit: UNIT, did: 1, hpaPfn: 0xfee00, pages: 2, iovaPfn: 0x15 },
    ]);
  });

  it("reads hpa-leak-shared's examples into both owners' domains", () => {
    const ev = { examples: [{ hpa: '0x7000000', size: '0x4000', 'VM vm1': { did: 1, iova: '0x18000' }, 'VM vm2': { did: 2, iova: '0x0' } }], layout: [{ start: '0x0', end: '0x40000000' }] };
    expect(flaggedRanges(f('hpa-leak-shared', ev))).toEqual([
      { unit: UNIT, did: 1, hpaPfn: 0x7000, pages: 4, iovaPfn: 0x18 },
      { unit: UNIT, did: 2, hpaPfn: 0x7000, pages: 4, iovaPfn: 0 },
    ]);
  });

  it("reads hpa-leak-identity's runs as IOVA = HPA and ignores ranges that flag nothing", () => {
    expect(flaggedRanges(f('hpa-leak-identity', { runs: [{ start: '0x100000000', end: '0x140000000' }], largestRun: { start: '0x100000000', size: '0x40000000' } }))).toEqual([
      { unit: UNIT, did: 1, hpaPfn: 0x100000, pages: 0x40000, iovaPfn: 0x100000 },
    ]);
    expect(flaggedRanges(f('hpa-leak-outside-vm', { layout: [{ start: '0x0', end: '0x80000000' }], romWindow: { start: '0xc0000000', end: '0x100000000' } }))).toEqual([]);
    expect(flaggedRanges(f('x', { hpa: 'nonsense', examples: [{ hpa: 42 }] }))).toEqual([]);
  });

  it('finds the ranges the real checks flag in the scenario', () => {
    const findings = runChecks(scenario());
    const mmio = findings.filter((x) => x.check === 'hpa-leak-mmio').flatMap(flaggedRanges);
    expect(mmio.map((r) => [r.did, r.hpaPfn, r.iovaPfn])).toEqual(expect.arrayContaining([[1, 0xfed90, 0x14], [1, 0xfee00, 0x15], [1, 0xe0010, 0x22]]));
    const structures = findings.filter((x) => x.check === 'hpa-leak-iommu-structures').flatMap(flaggedRanges);
    expect(structures.map((r) => [r.did, r.hpaPfn, r.iovaPfn]).sort()).toEqual([[1, 0x10, 0x17], [1, 0x300, 0x16]].sort());
  });
});
