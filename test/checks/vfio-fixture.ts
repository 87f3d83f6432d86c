/**
 * A Linux KVM/VFIO host built by hand after the real capture qemu-linux61-vfio (its README and
 * /proc/iomem): the e1000e 0000:01:00.0 bound to vfio-pci and given to a QEMU q35 VM with 128 MiB
 * (no -name), whose domain (DID 6) maps the guest's RAM, the firmware ROM read-only at
 * 0xfffc0000–0xffffffff and the NIC's own BARs at the guest's BAR addresses (0xfeba0000 → host
 * 0xfe440000…); the host's LPC/SATA/SMBus functions share DID 5, which maps 0–16 MiB 1:1 (Linux's
 * identity map for the ISA bridge), and the virtio-net 0000:02:00.0 has its own small DMA domain.
 * Tests start from it and break one thing.
 */
import type { MapSpec, SnapshotBuilder, UnitBuilder } from './snapshot-builder.js';
import { mibPages, snapshot } from './snapshot-builder.js';

export const UNIT = 0xfed90000;
export const NIC = '0000:01:00.0';
export const VIRTIO = '0000:02:00.0';
export const LPC = '0000:00:1f.0';
export const SATA = '0000:00:1f.2';
export const SMBUS = '0000:00:1f.3';
export const VM = 'qemu@qemu-cmdline.txt:1';
export const VM_ROOT = 0x5f81b000;
export const LPC_ROOT = 0xa0b000;
export const VIRTIO_ROOT = 0xa19000;
/** Host page where the guest's RAM starts (contiguous here; scattered on the real host). */
export const RAM_HPA_PFN = 0x50000;
/** The host page every ROM page maps to (the real capture's: Linux's zero page in the kernel's bss). */
export const ROM_HPA_PFN = 0x1c9b;

/** The VM domain's mappings: 128 MiB of RAM, the NIC's BARs, the ROM (64 read-only pages). */
export function vmMappings(o: { ramPages?: number; romWrite?: boolean } = {}): MapSpec[] {
  const maps: MapSpec[] = [[0, RAM_HPA_PFN, o.ramPages ?? mibPages(128)]];
  maps.push([0xfeba0, 0xfe440, 0x40]); // BARs 2 and 3: 0xfe440000-0xfe47ffff
  maps.push([0xfebe1, 0xfe481, 3]); // BAR 4 but its MSI-X table page
  for (let i = 0; i < 64; i++) maps.push([0xfffc0 + i, ROM_HPA_PFN, 1, o.romWrite ?? false]);
  return maps;
}

export function vfioHost(o: { vmMaps?: MapSpec[]; extra?: (u: UnitBuilder) => unknown; resources?: boolean; vms?: 'running' | 'none' | 'unknown' } = {}): SnapshotBuilder {
  const s = snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
    .unit(UNIT, (u) => {
      u.regs({ tes: true })
        .context(LPC, { did: 5, root: LPC_ROOT })
        .context(SATA, { did: 5, root: LPC_ROOT })
        .context(SMBUS, { did: 5, root: LPC_ROOT })
        .context(NIC, { did: 6, root: VM_ROOT })
        .context(VIRTIO, { did: 7, root: VIRTIO_ROOT })
        .domain(5, LPC_ROOT, [[0, 0, mibPages(16)]])
        .domain(6, VM_ROOT, o.vmMaps ?? vmMappings())
        .domain(7, VIRTIO_ROOT, [[0xffffb, 0x3000, 5]]);
      o.extra?.(u);
    })
    .device(LPC, { classCode: 0x060100 })
    .device(SATA, { classCode: 0x010601, driver: 'ahci' })
    .device(SMBUS, { classCode: 0x0c0500 })
    .device(NIC, { driver: 'vfio-pci', classCode: 0x020000 })
    .device(VIRTIO, { driver: 'virtio-pci', classCode: 0x020000 })
    // /proc/iomem's top level, as in the capture.
    .memory(0x1000, 0x9fc00, 'ram', 'System RAM')
    .memory(0x100000, 0x5ffe0000, 'ram', 'System RAM')
    .memory(0xc0000000, 0xfec00000, 'mmio', 'PCI Bus 0000:00')
    .memory(0xfed90000, 0xfed91000, 'mmio', 'dmar0')
    .memory(0xfffc0000, 0x100000000, 'reserved', 'Reserved');
  if (o.resources !== false) {
    s.resource(VIRTIO, 0xfe200000, 0xfe240000).resource(VIRTIO, 0xfe240000, 0xfe241000)
      .resource(NIC, 0xfe400000, 0xfe440000)
      .resource(NIC, 0xfe440000, 0xfe460000, 'vfio-pci').resource(NIC, 0xfe460000, 0xfe480000, 'vfio-pci').resource(NIC, 0xfe480000, 0xfe484000, 'vfio-pci')
      .resource('0000:00:02.0', 0xfe600000, 0xfe601000).resource(SATA, 0xfe602000, 0xfe603000)
      .resource(VIRTIO, 0xfe800000, 0xfe804000, 'virtio-pci-modern');
  }
  // 'none': the VM command-line part is there and names no VM (the teardown capture); 'unknown': no such part.
  if (o.vms === 'none') s.noVms();
  else if (o.vms !== 'unknown') s.vm(VM, [NIC], { memoryBytes: 128 * 2 ** 20, qemu: { type: 'q35' } });
  return s;
}
