import { describe, expect, it } from 'vitest';
import { hpaLeakOutsideVm } from '../../src/checks/hpa-leak-outside-vm.js';
import type { Vm } from '../../src/model/types.js';
import { PPT, UNIT, VM_ROOT } from './fixtures.js';
import type { MapSpec } from './snapshot-builder.js';
import { GiB, gibPages, mibPages, snapshot, summary } from './snapshot-builder.js';
import { NIC, RAM_HPA_PFN, VIRTIO, vfioHost, vmMappings } from './vfio-fixture.js';
import { findingsOf, resultOf } from './check-tester.js';

const HPA = gibPages(32);
const vm = (maps: MapSpec[], o: { memoryBytes?: number; hypervisor?: Vm['hypervisor'] }) =>
  snapshot()
    .unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, maps))
    .device(PPT, { driver: 'ppt' })
    .vm('vm1', [PPT], o)
    .build();

describe('hpa-leak-outside-vm', () => {
  it('fires for a bhyve VM mapping the hole between 3 and 4 GiB', () => {
    // 8 GiB VM: RAM 0-3 GiB and 4-9 GiB; one 16-page mapping at 3.5 GiB.
    const f = findingsOf(hpaLeakOutsideVm, vm([[0, HPA, gibPages(3)], [0xe0000, HPA + gibPages(3), 16]], { memoryBytes: 8 * GiB }));
    expect(summary(f)).toEqual([`hpa-leak-outside-vm error ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ outsidePages: 16, firstOutside: '0xe0000000' });
  });
  it('fires when the domain maps more memory than the VM was given (unknown hypervisor: total only)', () => {
    const f = findingsOf(hpaLeakOutsideVm, vm([[0, HPA, gibPages(1) + 1]], { memoryBytes: GiB, hypervisor: 'xen' }));
    expect(summary(f)).toEqual([`hpa-leak-outside-vm error ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ mappedPages: gibPages(1) + 1, givenPages: gibPages(1) });
  });
  it('a bhyve VM maps nothing but RAM: outside pages are an error with no memory map at all', () => {
    const r = resultOf(hpaLeakOutsideVm, vm([[0, HPA, gibPages(3)], [0xe0000, HPA + gibPages(3), 16]], { memoryBytes: 8 * GiB, hypervisor: 'bhyve' }));
    expect(summary(r.findings)).toEqual([`hpa-leak-outside-vm error ${PPT}`]);
    expect(r.status).toBe('ran');
  });
  it('is info when the VM memory size is unknown', () => {
    expect(summary(findingsOf(hpaLeakOutsideVm, vm([[0, HPA, 16]], {})))).toEqual([`hpa-leak-outside-vm info ${PPT}`]);
  });
  it('stays quiet for a VM mapping exactly its layout', () => {
    expect(summary(findingsOf(hpaLeakOutsideVm, vm([[0, HPA, gibPages(3)], [gibPages(4), HPA + gibPages(3), gibPages(5)]], { memoryBytes: 8 * GiB })))).toEqual([]);
  });
});

describe('hpa-leak-outside-vm on a QEMU/VFIO VM (the real capture qemu-linux61-vfio, rebuilt)', () => {
  it('RAM, the read-only firmware ROM below 4 GiB and the NIC\'s own BARs are the VM\'s layout: silent', () => {
    expect(findingsOf(hpaLeakOutsideVm, vfioHost().build())).toEqual([]);
  });

  it('without /proc/iomem\'s device entries the BAR mappings cannot be told from a leak: 68 pages outside, said at warning, the check ran in part', () => {
    const r = resultOf(hpaLeakOutsideVm, vfioHost({ resources: false }).build());
    const f = r.findings;
    // QEMU maps the assigned NIC's BARs into its domain: unknown BARs are no proven leak (was error).
    expect(summary(f)).toEqual([`hpa-leak-outside-vm warning ${NIC}`, `hpa-leak-outside-vm warning ${NIC}`]);
    expect(f.map((x) => x.messageId).sort()).toEqual(['moreThanGivenBarsUnknown', 'outsideLayoutBarsUnknown']);
    expect(r.status).toBe('partial');
    expect(r.reasons).toEqual([expect.stringContaining('names no BAR of VM')]);
    // 0x40 + 3 BAR pages; the 64 ROM pages are still ROM.
    expect(f.find((x) => x.evidence.outsidePages !== undefined)!.evidence).toMatchObject({ outsidePages: 0x43, firstOutside: '0xfeba0000', romPages: 64, ownBarPages: 0 });
  });

  it('a memory map that names other devices\' BARs but none of the VM\'s: the pages outside stay an error', () => {
    const r = resultOf(hpaLeakOutsideVm, vfioHost({ resources: false }).resource(VIRTIO, 0xfe800000, 0xfe804000).build());
    expect(summary(r.findings)).toEqual([`hpa-leak-outside-vm error ${NIC}`, `hpa-leak-outside-vm error ${NIC}`]);
    expect(r.status).toBe('ran');
  });

  it('a writable "ROM" is no ROM: outside', () => {
    const f = findingsOf(hpaLeakOutsideVm, vfioHost({ vmMaps: vmMappings({ romWrite: true }) }).build());
    expect(f.find((x) => x.evidence.outsidePages !== undefined)!.evidence).toMatchObject({ outsidePages: 64, firstOutside: '0xfffc0000', romPages: 0, ownBarPages: 0x43 });
  });

  it('another device\'s BAR (the host\'s virtio-net) is not the VM\'s own', () => {
    const f = findingsOf(hpaLeakOutsideVm, vfioHost({ vmMaps: [...vmMappings(), [0xfe000, 0xfe800, 4]] }).build());
    const o = f.find((x) => x.evidence.outsidePages !== undefined)!;
    expect(o.evidence).toMatchObject({ outsidePages: 4, firstOutside: '0xfe000000', examples: [{ iova: '0xfe000000', hpa: '0xfe800000', size: '0x4000', write: true }] });
  });

  it('a VMM claiming -m 32M that maps 48 MiB: the first IOVA outside is 0x2000000, not the start of the run that crosses it', () => {
    // One coalesced run from IOVA 0x97c000 to 48 MiB, after 0x97c pages of RAM elsewhere.
    const maps: MapSpec[] = [[0, RAM_HPA_PFN, 0x97c], [0x97c, 0x7000, mibPages(48) - 0x97c]];
    const s = vfioHost({ vmMaps: maps }).build();
    s.vms[0].memoryBytes = 32 * 2 ** 20;
    const f = findingsOf(hpaLeakOutsideVm, s);
    expect(summary(f)).toEqual([`hpa-leak-outside-vm error ${NIC}`, `hpa-leak-outside-vm error ${NIC}`]);
    const outside = f.find((x) => x.evidence.outsidePages !== undefined)!;
    expect(outside.message).toContain('first at 0x2000000');
    // 0x2000000 is page 0x2000 of the run starting at page 0x97c (host 0x7000): host page 0x7000 + 0x2000 - 0x97c.
    expect(outside.evidence).toMatchObject({ outsidePages: mibPages(16), firstOutside: '0x2000000', examples: [{ iova: '0x2000000', hpa: '0x8684000', size: '0x1000000', write: true }] });
    const total = f.find((x) => x.evidence.mappedPages !== undefined)!;
    expect(total.evidence).toMatchObject({ mappedPages: mibPages(48), givenPages: mibPages(32) });
  });

  it('memory hot-plug: RAM in the hot-plug region up to maxmem is the VM\'s', () => {
    // 1 GiB boot RAM (q35), maxmem 2 GiB, one slot: region [4 GiB, 4 GiB + 1 GiB + 1 GiB).
    const maps: MapSpec[] = [[0, RAM_HPA_PFN, gibPages(1)], [gibPages(4), RAM_HPA_PFN + gibPages(1), gibPages(1)]];
    const s = vfioHost({ vmMaps: maps }).build();
    Object.assign(s.vms[0], { memoryBytes: GiB, qemu: { type: 'q35', slots: 1, maxMemoryBytes: 2 * GiB } });
    expect(findingsOf(hpaLeakOutsideVm, s)).toEqual([]);
    // One page more than maxmem allows (in the slot's alignment slack) is too much.
    s.units[0].domains.find((d) => d.did === 6)!.mappings.push({ iovaPfn: gibPages(5), hpaPfn: 0x9000, pages: 1, read: true, write: true, pageSize: 4096 });
    expect(findingsOf(hpaLeakOutsideVm, s).map((f) => f.evidence.mappedPages)).toEqual([gibPages(2) + 1]);
  });
});
