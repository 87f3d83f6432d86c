import { describe, expect, it } from 'vitest';
import { hpaLeakShared } from '../../src/checks/hpa-leak-shared.js';
import { bhyveHost, NIC, PPT, UNIT, VM_HPA_PFN } from './fixtures.js';
import type { MapSpec } from './snapshot-builder.js';
import { gibPages, snapshot, summary } from './snapshot-builder.js';
import { LPC, NIC as VFIO_NIC, SATA, SMBUS, VIRTIO, VM, vfioHost } from './vfio-fixture.js';
import { findingsOf } from './check-tester.js';
import { countMappingReads } from '../helpers/work.js';

const PPT2 = '0000:04:00.0';
const twoVms = (m1: MapSpec[], m2: MapSpec[], names: [string, string] | null = ['vm1', 'vm2']) => {
  const b = snapshot()
    .unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: 0x100000 }).context(PPT2, { did: 2, root: 0x180000 }).domain(1, 0x100000, m1).domain(2, 0x180000, m2))
    .device(PPT, { driver: 'ppt' })
    .device(PPT2, { driver: 'ppt' });
  if (names) b.vm(names[0], [PPT]).vm(names[1], [PPT2]);
  return b.build();
};

describe('hpa-leak-shared', () => {
  it('fires when the host domain still maps VM pages writable', () => {
    // Host domain 1:1 over 0-16 GiB including vm1's pages at 8-10 GiB.
    const s = bhyveHost((u) => {
      u.unit.domains[0].mappings = [{ iovaPfn: 0, hpaPfn: 0, pages: gibPages(16), read: true, write: true, pageSize: 4096 }];
    }).build();
    const f = findingsOf(hpaLeakShared, s);
    expect(summary(f)).toEqual([`hpa-leak-shared critical ${PPT}`]);
    expect(f[0].evidence.sharedPages).toBe(gibPages(2));
    expect(f[0].evidence.owners).toEqual(['VM vm1', 'the host']);
  });
  it('fires for two VMs sharing pages, counting the overlap exactly', () => {
    // vm1: [1000, 1100) and [2000, 2100); vm2: [1050, 2050) → overlap 50 + 50 = 100 pages.
    const f = findingsOf(hpaLeakShared, twoVms([[0, 1000, 100], [100, 2000, 100]], [[0, 1050, 1000]]));
    expect(summary(f)).toEqual([`hpa-leak-shared critical ${PPT}`]);
    expect(f[0].evidence.sharedPages).toBe(100);
  });
  it('without VM names, two VM domains sharing pages is an error (may be one VM)', () => {
    const f = findingsOf(hpaLeakShared, twoVms([[0, 1000, 100]], [[0, 1000, 100]], null));
    expect(summary(f)).toEqual([`hpa-leak-shared error ${PPT}`]);
  });
  it('a stale entry in a VM domain (function not in the inventory, or dmardump `(absent)`) is no host device (samples/stale-after-vf-destroy)', () => {
    // A destroyed VF whose entry still points at vm1's domain: stale-context reports it; it is not "a host device sharing the VM's domain".
    const gone = bhyveHost((u) => u.context('0000:03:00.1', { did: 1, root: 0x100000 })).build();
    expect(summary(findingsOf(hpaLeakShared, gone))).toEqual([]);
    const absent = bhyveHost((u) => u.context('0000:03:00.1', { did: 1, root: 0x100000, hint: 'absent' })).device('0000:03:00.1', { driver: 'igb' }).build();
    expect(summary(findingsOf(hpaLeakShared, absent))).toEqual([]);
  });
  it('fires when one domain is used by a VM device and a host device', () => {
    const s = bhyveHost((u) => u.context('0000:00:1f.2', { did: 1, root: 0x100000 })).device('0000:00:1f.2', { driver: 'ahci' }).build();
    expect(summary(findingsOf(hpaLeakShared, s))).toEqual([`hpa-leak-shared critical ${PPT}`]);
  });
  it('stays quiet for read-only sharing, disjoint VMs, and the correct bhyve host map', () => {
    expect(summary(findingsOf(hpaLeakShared, twoVms([[0, 1000, 100, false]], [[0, 1000, 100]])))).toEqual([]);
    expect(summary(findingsOf(hpaLeakShared, twoVms([[0, 1000, 100]], [[0, 1100, 100]])))).toEqual([]);
    expect(summary(findingsOf(hpaLeakShared, bhyveHost().build()))).toEqual([]);
  });
  it('stays quiet for host domains sharing pages with each other', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.context(NIC, { did: 0, root: 0x200000 }).context('0000:00:1f.2', { did: 3, root: 0x300000 }).domain(0, 0x200000, [[0, 0, 100]]).domain(3, 0x300000, [[0, 0, 100]]))
      .device(NIC, { driver: 'em' })
      .device('0000:00:1f.2', { driver: 'ahci' })
      .noVms()
      .build();
    expect(summary(findingsOf(hpaLeakShared, s))).toEqual([]);
  });
  it('sweeps two VMs of 16 M pages in tens of thousands of ranges: a few reads per range, not per page or per pair', () => {
    const ranges = (base: number, hpaStep: number): MapSpec[] => Array.from({ length: 32768 }, (_, i): MapSpec => [i * 512, base + i * hpaStep, 512]);
    // vm1 at 64 GiB with 1-page holes; vm2 interleaved 1 page off: every range of vm2 overlaps vm1 by 511 pages
    // except where vm1's ranges end, computed by hand: vm1 range i = [b + 513 i, b + 513 i + 512), vm2 range j = [b + 1 + 513 j, …+512).
    // overlap(i = j) = 511 pages, no other pair overlaps (the next vm1 range starts at b + 513(j+1) > b + 1 + 513 j + 512 - 1).
    const b = VM_HPA_PFN * 8;
    const s = twoVms(ranges(b, 513), ranges(b + 1, 513));
    const work = countMappingReads(s);
    const f = findingsOf(hpaLeakShared, s);
    expect(summary(f)).toEqual([`hpa-leak-shared critical ${PPT}`]);
    expect(f[0].evidence.sharedPages).toBe(32768 * 511);
    // Work, not time: a sweep over sorted ranges reads each mapping a bounded number of times
    // (comparing every pair would be 2^30 reads, walking pages 2^24).
    expect(work.objects).toBe(2 * 32768);
    expect(work.reads).toBeLessThan(16 * work.objects);
  });
});

describe('hpa-leak-shared on a Linux KVM/VFIO host: the host devices that reach the pages are named', () => {
  it("a VM's pages below 16 MiB are reachable through the ISA bridge group's 0–16 MiB identity map (DID 5): named, with why", () => {
    // The VMM's RAM: guest [0, 32 MiB) on host pages 0x970-0x2970 (9.4 MiB – 41.4 MiB): 0x1000 - 0x970 pages below 16 MiB.
    const s = vfioHost({ vmMaps: [[0, 0x970, 0x2000]] }).build();
    const f = findingsOf(hpaLeakShared, s);
    expect(summary(f)).toEqual([`hpa-leak-shared critical ${VFIO_NIC}`]);
    expect(f[0].evidence).toMatchObject({
      owners: [`VM ${VM}`, 'the host'], sharedPages: 0x1000 - 0x970,
      hostDomains: [{ unit: '0xfed90000', did: 5, root: '0xa0b000', devices: [LPC, SATA, SMBUS], identity: true, examplePages: 0x1000 - 0x970 }],
    });
    expect(f[0].message).toContain(`in host domain DID 5 (${LPC}, ${SATA}, ${SMBUS}), which maps them 1:1 — the 0–16 MiB identity map Linux gives the ISA/LPC bridge ${LPC}`);
    expect(f[0].message).toContain('first at 0x970000');
  });

  it('a host DMA domain that is no identity map is named without the ISA explanation', () => {
    // The virtio-net's domain (DID 7) maps host page 0x3000 (48 MiB) at IOVA 0xffffb000; the VM maps it too.
    const f = findingsOf(hpaLeakShared, vfioHost({ vmMaps: [[0, 0x3000, 1]] }).build());
    expect(f).toHaveLength(1);
    expect(f[0].message).toContain(`in host domain DID 7 (${VIRTIO}): those host devices can write the VM's memory`);
    expect(f[0].message).not.toContain('1:1');
    expect((f[0].evidence.hostDomains as { did: number; identity: boolean }[]).map((d) => [d.did, d.identity])).toEqual([[7, false]]);
  });

  it('the healthy VFIO host (RAM above 16 MiB, ROM read-only): silent', () => {
    expect(findingsOf(hpaLeakShared, vfioHost().build())).toEqual([]);
  });
});
