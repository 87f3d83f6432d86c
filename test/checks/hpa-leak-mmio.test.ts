import { describe, expect, it } from 'vitest';
import { hpaLeakMmio } from '../../src/checks/hpa-leak-mmio.js';
import { bhyveHost, PPT, UNIT, VM_HPA_PFN, VM_ROOT } from './fixtures.js';
import type { MapSpec } from './snapshot-builder.js';
import { GiB, snapshot, summary } from './snapshot-builder.js';
import { NIC, VIRTIO, vfioHost, vmMappings } from './vfio-fixture.js';
import { findingsOf } from './check-tester.js';

const vm = (maps: MapSpec[]) =>
  snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true, size: 1 })) // 2^1 × 4 KiB = 0xfed90000-0xfed91fff
    .unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, maps))
    .device(PPT, { driver: 'ppt' })
    .vm('vm1', [PPT])
    .memory(0, 3 * GiB, 'ram')
    .memory(0xe0000000, 0xf0000000, 'reserved', 'PCI MMCONFIG');

describe('hpa-leak-mmio', () => {
  it("fires for the unit's second register page (DRHD size 1)", () => {
    const f = findingsOf(hpaLeakMmio, vm([[0x100, 0xfed91, 1]]).build());
    expect(summary(f)).toEqual([`hpa-leak-mmio error ${PPT}`]);
    expect(f[0].evidence.hits).toEqual([{ region: 'registers of remapping unit 0xfed90000', kind: 'unit-registers', hpa: '0xfed91000', iova: '0x100000', size: '0x1000', write: true }]);
  });
  it('fires for the MSI window and for reserved memory-map regions', () => {
    const f = findingsOf(hpaLeakMmio, vm([[0x100, 0xfeeff, 2], [0x200, 0xe0000, 16]]).build());
    expect(summary(f)).toEqual([`hpa-leak-mmio error ${PPT}`]);
    // 0xfeeff000 is in the MSI window, 0xfef00000 is not; 16 pages of MMCONFIG.
    expect(f[0].evidence.pages).toBe(17);
  });
  it('stays quiet for RAM, for the page just past the unit registers and the MSI window', () => {
    expect(summary(findingsOf(hpaLeakMmio, vm([[0, 0x1000, 512], [0x300, 0xfed92, 1], [0x400, 0xfef00, 1]]).build()))).toEqual([]);
  });
  it('counts and names a unit-register page inside a reserved region once, by the unit (samples/hpa-leak-mmio)', () => {
    // Firmware maps 0xfe000000-0xffffffff reserved; the unit's registers and the MSI window lie inside it.
    const s = vm([[0x100, 0xfed90, 1], [0x101, 0xfee00, 1]]).memory(0xfe000000, 0x100000000, 'reserved', 'reserved').build();
    const f = findingsOf(hpaLeakMmio, s);
    expect(summary(f)).toEqual([`hpa-leak-mmio error ${PPT}`]);
    expect(f[0].evidence.pages).toBe(2);
    expect((f[0].evidence.hits as { kind: string }[]).map((h) => h.kind)).toEqual(['unit-registers', 'msi-window']);
    expect(f[0].message).toContain('first: registers of remapping unit 0xfed90000 at 0xfed90000');
  });
  it('leaves an RMRR region in reserved memory to rmrr-in-vm-domain (samples/rmrr-in-vm-domain)', () => {
    const rmrr = (maps: MapSpec[]) =>
      vm(maps).dmar((d) => d.drhd(UNIT, { includePciAll: true, size: 1 }).rmrr(0x7b800000, 0x7b8fffff, [PPT])).memory(0x7b800000, 0x7b900000, 'reserved', 'reserved');
    expect(summary(findingsOf(hpaLeakMmio, rmrr([[0x7b800, 0x7b800, 256]]).build()))).toEqual([]);
    // The reserved pages around the RMRR still count.
    const f = findingsOf(hpaLeakMmio, rmrr([[0x7b800, 0x7b800, 256], [0x7c000, 0xe0000, 1]]).build());
    expect(f[0].evidence.pages).toBe(1);
  });
  it("stays quiet for the host domain's 1:1 map of MMIO", () => {
    const s = bhyveHost((u) => u.domain(0, 0x400000, [[0xfee00, 0xfee00, 256]])).build();
    s.units[0].contexts[0].slptptr = 0x400000;
    expect(summary(findingsOf(hpaLeakMmio, s))).toEqual([]);
    expect(VM_HPA_PFN).toBeGreaterThan(0);
  });
});

describe('hpa-leak-mmio on a QEMU/VFIO VM (the real capture qemu-linux61-vfio, rebuilt)', () => {
  it("the assigned NIC's own BARs (0xfe440000… owned by 0000:01:00.0 in /proc/iomem) are the VM's: silent", () => {
    expect(findingsOf(hpaLeakMmio, vfioHost().build())).toEqual([]);
  });

  it("a host device's BAR in the VM domain is a finding naming it; the VM's own BAR pages are counted apart", () => {
    // The host's virtio-net BAR 0xfe800000-0xfe803fff mapped at IOVA 0xfe000000.
    const f = findingsOf(hpaLeakMmio, vfioHost({ vmMaps: [...vmMappings(), [0xfe000, 0xfe800, 4]] }).build());
    expect(summary(f)).toEqual([`hpa-leak-mmio error ${NIC}`]);
    expect(f[0].evidence).toMatchObject({
      pages: 4, ownBarPages: 0x43,
      hits: [{ region: 'mmio region "PCI Bus 0000:00" 0xc0000000-0xfec00000', kind: 'mmio', hpa: '0xfe800000', iova: '0xfe000000', size: '0x4000', write: true }],
    });
    expect(f[0].message).toContain('first: mmio region "PCI Bus 0000:00" 0xc0000000-0xfec00000 at 0xfe800000, IOVA 0xfe000000');
  });

  it('without /proc/iomem device entries the own BARs cannot be told apart and are reported', () => {
    const f = findingsOf(hpaLeakMmio, vfioHost({ resources: false }).build());
    expect(f[0].evidence).toMatchObject({ pages: 0x43, ownBarPages: 0 });
  });

  it("another VM's device's BAR is not this VM's own", () => {
    const s = vfioHost({ vmMaps: [...vmMappings(), [0xfe000, 0xfe800, 4]] }).vm('other', [VIRTIO]).build();
    expect(summary(findingsOf(hpaLeakMmio, s))).toEqual([`hpa-leak-mmio error ${NIC}`]);
  });
});
