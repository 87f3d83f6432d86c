/**
 * PCI configuration-space decoding over byte arrays written by hand from the PCI / PCIe layouts
 * (offsets and bits as in the PCI Local Bus and PCI Express specifications; Linux pci_regs.h).
 */
import { describe, expect, it } from 'vitest';
import { decodePciConfig } from '../../src/decode/pci-config.js';

/** A zeroed configuration space with little-endian setters. */
function space(size: number) {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  return {
    b,
    u8: (o: number, v: number) => b[o] = v,
    u16: (o: number, v: number) => dv.setUint16(o, v, true),
    u32: (o: number, v: number) => dv.setUint32(o, v >>> 0, true),
  };
}

/**
 * An e1000e-like endpoint:
 *   0x00 vendor 0x8086, device 0x10d3; command 0x0406 (memory, bus master, INTx disable);
 *   status 0x0010 (capability list); class 0x020000 rev 0; header type 0; capability pointer 0x40.
 *   0x40 MSI (id 05, next 0x60): control 0x0081 (enable, 64-bit, 1 vector); address 0xfee002d8
 *        (remappable: handle 22, SHV), high 0; data 0.
 *   0x60 PCIe (id 10, next 0x70): flags 0x0002 (version 2, type 0 endpoint); DevCap 0x10000000 (FLR);
 *        DevCap2 (0x84) bit 5 clear.
 *   0x70 MSI-X (id 11, next 0): control 0x8004 (enable, 5 entries); table 0x00000003 (BAR 3,
 *        offset 0); PBA 0x00002003 (BAR 3, offset 0x2000).
 * Extended (4096-byte variant):
 *   0x100 AER id 1 v2 next 0x140 → header 0x14020001
 *   0x140 ATS id 0x0f v1 next 0x160 → 0x1601000f; cap 0x0020 (page aligned, depth 0 = 32);
 *         control 0x8002 (enable, STU 2)
 *   0x160 SR-IOV id 0x10 v1 next 0 → 0x00010010; control 0x0019 (VF enable, VF MSE, ARI);
 *         initial 8, total 8, num 4; FDL 0; first VF offset 0x80, stride 2; VF device 0x10ca
 */
function endpoint(size: number) {
  const s = space(size);
  s.u16(0x00, 0x8086); s.u16(0x02, 0x10d3); s.u16(0x04, 0x0406); s.u16(0x06, 0x0010);
  s.u32(0x08, 0x0200_0000); s.u8(0x0e, 0x00); s.u8(0x34, 0x40);
  s.u8(0x40, 0x05); s.u8(0x41, 0x60); s.u16(0x42, 0x0081); s.u32(0x44, 0xfee002d8); s.u32(0x48, 0); s.u16(0x4c, 0);
  s.u8(0x60, 0x10); s.u8(0x61, 0x70); s.u16(0x62, 0x0002); s.u32(0x64, 0x1000_0000);
  s.u8(0x70, 0x11); s.u8(0x71, 0x00); s.u16(0x72, 0x8004); s.u32(0x74, 0x0000_0003); s.u32(0x78, 0x0000_2003);
  if (size >= 4096) {
    s.u32(0x100, 0x1402_0001);
    s.u32(0x140, 0x1601_000f); s.u16(0x144, 0x0020); s.u16(0x146, 0x8002);
    s.u32(0x160, 0x0001_0010); s.u16(0x168, 0x0019); s.u16(0x16c, 8); s.u16(0x16e, 8); s.u16(0x170, 4);
    s.u16(0x174, 0x80); s.u16(0x176, 2); s.u16(0x17a, 0x10ca);
  }
  return s;
}

describe('endpoint, 256 bytes', () => {
  const c = decodePciConfig(endpoint(256).b);
  it('header', () => {
    expect(c.header).toEqual({
      vendorId: 0x8086, deviceId: 0x10d3, command: 0x0406, status: 0x0010, revision: 0, classCode: 0x020000,
      headerType: 0, multiFunction: false, memorySpace: true, busMaster: true, intxDisable: true,
      capabilityList: true, capabilitiesPointer: 0x40,
    });
    expect(c.warnings).toEqual([]);
  });
  it('standard list in order; extended unknown (a PCIe function read to 256 bytes)', () => {
    expect(c.capabilities.map((x) => [x.offset, x.id, x.name])).toEqual([[0x40, 5, 'MSI'], [0x60, 0x10, 'PCI Express'], [0x70, 0x11, 'MSI-X']]);
    expect(c.capabilitiesKnown).toBe(true);
    expect(c.extendedKnown).toBe(false);
    expect(c.extendedCapabilities).toEqual([]);
  });
  it('MSI: enabled, 64-bit, remappable format naming IRTE 22', () => {
    expect(c.msi).toMatchObject({
      offset: 0x40, enabled: true, address64: true, perVectorMasking: false, multipleMessageCapable: 1, multipleMessageEnabled: 1,
      addressLo: 0xfee002d8, addressHi: 0, address: 0xfee002d8n, data: 0, remappable: true,
    });
    expect(c.msi?.message).toMatchObject({ format: 'remappable', handle: 22, SHV: true, interruptIndex: 22 });
  });
  it('PCIe: version 2 endpoint with FLR, no ARI forwarding', () => {
    expect(c.pcie).toEqual({
      offset: 0x60, version: 2, typeValue: 0, type: 'endpoint', slotImplemented: false, interruptMessageNumber: 0, flr: true,
      ariForwardingSupported: false, ariForwardingEnabled: false,
    });
  });
  it('MSI-X: enabled, 5 entries, table BAR 3 + 0, PBA BAR 3 + 0x2000', () => {
    expect(c.msix).toEqual({ offset: 0x70, enabled: true, functionMask: false, tableSize: 5, tableBir: 3, tableOffset: 0, pbaBir: 3, pbaOffset: 0x2000 });
  });
});

describe('endpoint, 4096 bytes', () => {
  const c = decodePciConfig(endpoint(4096).b);
  it('extended list: AER, ATS, SR-IOV', () => {
    expect(c.extendedKnown).toBe(true);
    expect(c.extendedCapabilities.map((x) => [x.offset, x.id, x.version])).toEqual([[0x100, 1, 2], [0x140, 0x0f, 1], [0x160, 0x10, 1]]);
    expect(c.warnings).toEqual([]);
  });
  it('ATS: enabled, STU 2, page-aligned requests, queue depth 0 = 32', () => {
    expect(c.ats).toEqual({ offset: 0x140, invalidateQueueDepth: 32, pageAlignedRequest: true, globalInvalidate: false, enabled: true, STU: 2 });
  });
  it('SR-IOV: VFs enabled, 4 of 8, offset 0x80 stride 2, VF device 0x10ca', () => {
    expect(c.sriov).toEqual({
      offset: 0x160, capabilitiesRaw: 0, vfEnable: true, vfMigrationEnable: false, vfMemorySpaceEnable: true, ariCapableHierarchy: true,
      initialVFs: 8, totalVFs: 8, numVFs: 4, functionDependencyLink: 0, firstVfOffset: 0x80, vfStride: 2, vfDeviceId: 0x10ca,
    });
  });
});

describe('root port with ACS (the values QEMU 7.2 and Linux leave)', () => {
  // Type 1 header: 0x0e = 0x01; buses 0x18 primary 0, 0x19 secondary 1, 0x1a subordinate 1.
  // 0x34 → 0x54 PCIe (id 10, next 0): flags 0x0142 = version 2, type 4 root port, slot implemented;
  //   DevCap2 (0x54 + 0x24 = 0x78) 0x20 ARI forwarding supported; DevCtl2 (0x7c) 0.
  // 0x100 AER (next 0x148) → 0x14820001; 0x148 ACS id 0x0d v1 next 0 → 0x0001000d;
  //   capability 0x005f = SV TB RR CR UF DT (no EC, vector size byte 0); control 0x001d = SV RR CR UF.
  const s = space(4096);
  s.u16(0x00, 0x1b36); s.u16(0x02, 0x000c); s.u16(0x06, 0x0010); s.u32(0x08, 0x0604_0000); s.u8(0x0e, 0x01);
  s.u8(0x18, 0); s.u8(0x19, 1); s.u8(0x1a, 1); s.u8(0x34, 0x54);
  s.u8(0x54, 0x10); s.u8(0x55, 0); s.u16(0x56, 0x0142); s.u32(0x78, 0x20);
  s.u32(0x100, 0x1482_0001); s.u32(0x148, 0x0001_000d); s.u16(0x14c, 0x005f); s.u16(0x14e, 0x001d);
  const c = decodePciConfig(s.b);
  it('bridge buses and port type', () => {
    expect(c.header.bridge).toEqual({ primary: 0, secondary: 1, subordinate: 1 });
    expect(c.pcie).toMatchObject({ type: 'root-port', typeValue: 4, slotImplemented: true, ariForwardingSupported: true, ariForwardingEnabled: false });
  });
  it('ACS capability and control bits', () => {
    expect(c.acs).toEqual({
      offset: 0x148, capabilityRaw: 0x5f, controlRaw: 0x1d,
      capability: { SV: true, TB: true, RR: true, CR: true, UF: true, EC: false, DT: true },
      control: { SV: true, TB: false, RR: true, CR: true, UF: true, EC: false, DT: false },
      egressVectorSize: 256,
    });
  });
  it('every PCIe type value names its port', () => {
    const names = [];
    for (const t of [0, 1, 2, 4, 5, 6, 7, 8, 9, 0xa, 0xb]) {
      s.u16(0x56, 0x0002 | (t << 4));
      names.push(decodePciConfig(s.b).pcie?.type);
    }
    expect(names).toEqual(['endpoint', 'legacy-endpoint', 'reserved', 'root-port', 'upstream-port', 'downstream-port',
      'pcie-to-pci-bridge', 'pci-to-pcie-bridge', 'rc-integrated-endpoint', 'rc-event-collector', 'reserved']);
  });
});

describe('how much a read shows', () => {
  it('64 bytes with a capability list: capabilities unknown, not absent', () => {
    const c = decodePciConfig(endpoint(256).b.slice(0, 64));
    expect(c.capabilitiesKnown).toBe(false);
    expect(c.extendedKnown).toBe(false);
    expect(c.capabilities).toEqual([]);
    expect(c.msi).toBeUndefined();
    expect(c.warnings).toEqual([]);
  });
  it('64 bytes with Status bit 4 clear: known to have none, and no extended space', () => {
    const s = space(64);
    s.u16(0x00, 0x8086); s.u16(0x06, 0x0000); s.u8(0x34, 0x40); // a stale pointer without the status bit is ignored
    const c = decodePciConfig(s.b);
    expect([c.capabilitiesKnown, c.extendedKnown, c.header.capabilitiesPointer]).toEqual([true, true, undefined]);
  });
  it('256 bytes of a conventional PCI function: no PCIe capability, so no extended space', () => {
    const s = space(256);
    s.u16(0x06, 0x0010); s.u8(0x34, 0x40); s.u8(0x40, 0x01); // power management only
    const c = decodePciConfig(s.b);
    expect([c.capabilitiesKnown, c.extendedKnown]).toEqual([true, true]);
  });
  it('fewer than 64 bytes is no header', () => {
    expect(() => decodePciConfig(new Uint8Array(63))).toThrow(RangeError);
  });
  it('extended space reading all-ones or zero has no extended capabilities', () => {
    const s = endpoint(4096);
    s.u32(0x100, 0xffff_ffff);
    expect(decodePciConfig(s.b).extendedCapabilities).toEqual([]);
    s.u32(0x100, 0);
    expect(decodePciConfig(s.b).extendedCapabilities).toEqual([]);
  });
});

describe('hostile lists end with a warning, never a hang', () => {
  it('standard list loop 0x40 → 0x50 → 0x40', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x40);
    s.u8(0x40, 0x01); s.u8(0x41, 0x50); s.u8(0x50, 0x09); s.u8(0x51, 0x40);
    const c = decodePciConfig(s.b);
    expect(c.capabilities.map((x) => x.offset)).toEqual([0x40, 0x50]);
    expect(c.warnings).toEqual([{ message: 'capability list loops back to 0x40; list ends', offset: 0x51 }]);
  });
  it('a capability pointing at itself', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x80); s.u8(0x80, 0x09); s.u8(0x81, 0x80);
    expect(decodePciConfig(s.b).warnings.map((w) => w.offset)).toEqual([0x81]);
  });
  it('a pointer into the header, and the low two pointer bits are masked', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x43); s.u8(0x40, 0x01); s.u8(0x41, 0x20);
    const c = decodePciConfig(s.b);
    expect(c.capabilities.map((x) => x.offset)).toEqual([0x40]);
    expect(c.warnings[0]).toEqual({ message: 'capability pointer 0x20 points into the header; list ends', offset: 0x41 });
  });
  it('id 0xff ends the list', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x40); s.u8(0x40, 0xff); s.u8(0x41, 0x50);
    const c = decodePciConfig(s.b);
    expect(c.capabilities).toEqual([]);
    expect(c.warnings[0].message).toMatch(/0xff/);
  });
  it('a capability running past the bytes read is reported, not decoded', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0xf8); s.u8(0xf8, 0x11); // MSI-X needs 12 bytes: 0xf8 + 12 > 0x100
    const c = decodePciConfig(s.b);
    expect(c.msix).toBeUndefined();
    expect(c.warnings).toEqual([{ message: 'MSI-X capability (12 bytes) at 0xf8 runs past the 256 bytes read', offset: 0xf8 }]);
  });
  it('a second MSI capability is named and ignored', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x40);
    s.u8(0x40, 0x05); s.u8(0x41, 0x60); s.u8(0x60, 0x05); s.u8(0x61, 0x00); s.u16(0x62, 0x0001);
    const c = decodePciConfig(s.b);
    expect(c.msi?.offset).toBe(0x40);
    expect(c.warnings).toEqual([{ message: 'a second MSI capability at 0x60 (the first is used)', offset: 0x60 }]);
  });
  it('extended list: loop, pointer below 0x100', () => {
    const s = endpoint(4096);
    s.u32(0x160, 0x1001_0010); // SR-IOV's next → 0x100: loop
    let c = decodePciConfig(s.b);
    expect(c.extendedCapabilities.map((x) => x.offset)).toEqual([0x100, 0x140, 0x160]);
    expect(c.warnings).toEqual([{ message: 'extended capability list loops back to 0x100; list ends', offset: 0x160 }]);
    s.u32(0x160, 0x0c01_0010); // next → 0x0c0
    c = decodePciConfig(s.b);
    expect(c.warnings).toEqual([{ message: 'extended capability pointer 0xc0 is below 0x100; list ends', offset: 0x160 }]);
  });
  it('a long chain visits each position once: 48 standard capabilities at most', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x40);
    for (let o = 0x40; o < 0x100; o += 4) { s.u8(o, 0x09); s.u8(o + 1, o + 4 < 0x100 ? o + 4 : 0x40); }
    const c = decodePciConfig(s.b);
    expect(c.capabilities).toHaveLength(48);
    expect(c.warnings.map((w) => w.message)).toEqual(['capability list loops back to 0x40; list ends']);
  });
  it('vendor 0xffff and a reserved header type are warned', () => {
    const s = space(64);
    s.u16(0x00, 0xffff); s.u8(0x0e, 0x7f);
    expect(decodePciConfig(s.b).warnings.map((w) => w.offset)).toEqual([0, 0x0e]);
  });
});

describe('MSI variants', () => {
  it('32-bit with per-vector masking, 4 capable / 2 enabled, compatibility format', () => {
    // control 0x0100 (PVM) | MMC 2 (0x4) | MME 1 (0x10) = 0x0114; address 0xfee01000 (APIC 1);
    // data at +8 = 0x0041; mask at +0xc = 3; pending at +0x10 = 1
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x50);
    s.u8(0x50, 0x05); s.u8(0x51, 0); s.u16(0x52, 0x0114); s.u32(0x54, 0xfee01000); s.u16(0x58, 0x41); s.u32(0x5c, 3); s.u32(0x60, 1);
    const c = decodePciConfig(s.b);
    expect(c.msi).toMatchObject({
      enabled: false, address64: false, perVectorMasking: true, multipleMessageCapable: 4, multipleMessageEnabled: 2,
      addressLo: 0xfee01000, addressHi: 0, data: 0x41, maskBits: 3, pendingBits: 1, remappable: false,
    });
    expect(c.msi?.message).toMatchObject({ format: 'compatibility', destinationId: 1, vector: 0x41 });
  });
  it('an unprogrammed address (0) is no interrupt message', () => {
    const s = space(256);
    s.u16(0x06, 0x10); s.u8(0x34, 0x50); s.u8(0x50, 0x05); s.u16(0x52, 0x0080);
    const c = decodePciConfig(s.b);
    expect(c.msi?.message).toBeUndefined();
    expect(c.msi?.remappable).toBe(false);
  });
});
