/**
 * Isolation groups against Linux 6.1's pci_device_group (drivers/iommu/iommu.c) and
 * pci_acs_enabled / pci_acs_flags_enabled / pci_acs_path_enabled (drivers/pci/pci.c), worked by
 * hand for each topology below. The configuration space is written here from the PCI and PCIe
 * layouts (header type at 0x0e, PCIe capability flags at 0x42, ACS extended capability with
 * capability/control at +4/+6), not by the project's synth encoder.
 */
import { describe, expect, it } from 'vitest';
import { decodePciConfig } from '../../src/decode/pci-config.js';
import { isolationGroups } from '../../src/model/isolation.js';
import type { PciFunction } from '../../src/model/types.js';

/** PCIe device/port types (PCIe Base 7.5.3.2; Linux PCI_EXP_TYPE_*). */
const TYPE = { endpoint: 0, 'root-port': 4, upstream: 5, downstream: 6, 'pcie-to-pci': 7, 'rc-integrated': 9 } as const;
/** ACS bits (Linux PCI_ACS_*): SV 0, TB 1, RR 2, CR 3, UF 4, EC 5, DT 6. */
const SV = 1, TB = 2, RR = 4, CR = 8, UF = 0x10, EC = 0x20, DT = 0x40;
const REQ = SV | RR | CR | UF;

interface Fn {
  bdf: string;
  /** PCIe type, or 'pci' for a conventional function (no PCI Express capability). */
  type: keyof typeof TYPE | 'pci';
  mf?: boolean;
  acs?: [cap: number, ctrl: number];
  /** A bridge's secondary bus. */
  secondary?: number;
}

function fn(f: Fn): PciFunction {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  const [seg, bus, rest] = f.bdf.split(':');
  const [dev, func] = rest.split('.');
  v.setUint32(0, 0x1234_8086, true);
  b[0x0e] = (f.secondary !== undefined ? 1 : 0) | (f.mf ? 0x80 : 0);
  if (f.type !== 'pci') {
    v.setUint16(0x06, 0x10, true); // capability list
    b[0x34] = 0x40;
    b[0x40] = 0x10; // PCI Express, last capability
    v.setUint16(0x42, 2 | (TYPE[f.type] << 4), true);
  }
  if (f.acs) {
    v.setUint32(0x100, 0x0001_000d, true);
    v.setUint16(0x104, f.acs[0], true);
    v.setUint16(0x106, f.acs[1], true);
  }
  const busNo = parseInt(bus, 16);
  if (f.secondary !== undefined) {
    b[0x18] = busNo;
    b[0x19] = f.secondary;
    b[0x1a] = f.secondary;
  }
  return {
    bdf: f.bdf, segment: parseInt(seg, 16), bus: busNo, devfn: (parseInt(dev, 16) << 3) | Number(func), passThrough: false,
    secondaryBus: f.secondary, subordinateBus: f.secondary, config: decodePciConfig(b), source: { part: 'test' },
  };
}

/** Groups as sorted member lists (the group keys are the module's own naming). */
function groups(fns: Fn[]): string[][] {
  const g = isolationGroups({ devices: fns.map(fn) });
  expect(g.unknown.size).toBe(0);
  return [...g.members.values()].map((m) => [...m].sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const rootPort = (bdf: string, secondary: number, acs?: [number, number], mf = false): Fn => ({ bdf, type: 'root-port', secondary, acs, mf });

describe('isolation groups as Linux pci_device_group forms them', () => {
  it('a root port with SV RR CR UF enabled isolates its single-function endpoint', () => {
    expect(groups([rootPort('0000:00:02.0', 1, [REQ | TB | DT, REQ]), { bdf: '0000:01:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0']]);
  });

  it('ACS bits the port does not implement count as enabled (pci_acs_flags_enabled masks by the capability)', () => {
    // Only SV and RR implemented, both enabled: CR and UF are satisfied by their absence.
    expect(groups([rootPort('0000:00:02.0', 1, [SV | RR, SV | RR]), { bdf: '0000:01:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0']]);
    // Implemented but not enabled: the endpoint joins the port's group.
    expect(groups([rootPort('0000:00:02.0', 1, [REQ, SV | RR | CR]), { bdf: '0000:01:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0', '0000:01:00.0']]);
    // Egress control is never required (REQ_ACS_FLAGS lacks it): implemented and off is fine.
    expect(groups([rootPort('0000:00:02.0', 1, [REQ | EC, REQ]), { bdf: '0000:01:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0']]);
  });

  it('a root port without an ACS capability: everything below it is one group with the port', () => {
    expect(groups([rootPort('0000:00:02.0', 1), { bdf: '0000:01:00.0', type: 'endpoint', mf: true, acs: [REQ, REQ] }, { bdf: '0000:01:00.1', type: 'endpoint', mf: true, acs: [REQ, REQ] }]))
      .toEqual([['0000:00:02.0', '0000:01:00.0', '0000:01:00.1']]);
  });

  it('multi-function endpoints need ACS; single-function ones do not', () => {
    const port = rootPort('0000:00:02.0', 1, [REQ, REQ]);
    expect(groups([port, { bdf: '0000:01:00.0', type: 'endpoint', mf: true }, { bdf: '0000:01:00.1', type: 'endpoint', mf: true }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0', '0000:01:00.1']]);
    // One function with ACS leaves the slot's group; the others stay together.
    expect(groups([port, { bdf: '0000:01:00.0', type: 'endpoint', mf: true, acs: [REQ, REQ] }, { bdf: '0000:01:00.1', type: 'endpoint', mf: true }, { bdf: '0000:01:00.2', type: 'endpoint', mf: true }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0'], ['0000:01:00.1', '0000:01:00.2']]);
  });

  it('multi-function root ports without ACS (a PCH) share one group with everything below them', () => {
    expect(groups([rootPort('0000:00:1c.0', 1, undefined, true), rootPort('0000:00:1c.4', 2, undefined, true), { bdf: '0000:01:00.0', type: 'endpoint' }, { bdf: '0000:02:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:1c.0', '0000:00:1c.4', '0000:01:00.0', '0000:02:00.0']]);
  });

  it('a switch: downstream ports without ACS group their own endpoints; a single-function upstream port needs none', () => {
    const sw = [rootPort('0000:00:02.0', 1, [REQ, REQ]), { bdf: '0000:01:00.0', type: 'upstream', secondary: 2 } as Fn];
    // pci_device_group stops at the first bridge whose path to the root has ACS: the upstream port.
    expect(groups([...sw, { bdf: '0000:02:00.0', type: 'downstream', secondary: 3 }, { bdf: '0000:02:01.0', type: 'downstream', secondary: 4 }, { bdf: '0000:03:00.0', type: 'endpoint' }, { bdf: '0000:04:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0'], ['0000:02:00.0', '0000:03:00.0'], ['0000:02:01.0', '0000:04:00.0']]);
    // With ACS on the downstream ports every endpoint is alone.
    expect(groups([...sw, { bdf: '0000:02:00.0', type: 'downstream', secondary: 3, acs: [REQ, REQ] }, { bdf: '0000:03:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0'], ['0000:02:00.0'], ['0000:03:00.0']]);
    // Without ACS on the root port the whole switch is one group with it.
    expect(groups([rootPort('0000:00:02.0', 1), { bdf: '0000:01:00.0', type: 'upstream', secondary: 2 }, { bdf: '0000:02:00.0', type: 'downstream', secondary: 3, acs: [REQ, REQ] }, { bdf: '0000:03:00.0', type: 'endpoint' }]))
      .toEqual([['0000:00:02.0', '0000:01:00.0', '0000:02:00.0', '0000:03:00.0']]);
  });

  it('a PCIe-to-PCI bridge never isolates: the conventional functions below it share its group', () => {
    expect(groups([rootPort('0000:00:02.0', 1, [REQ, REQ]), { bdf: '0000:01:00.0', type: 'pcie-to-pci', secondary: 2 }, { bdf: '0000:02:01.0', type: 'pci' }, { bdf: '0000:02:02.0', type: 'pci' }]))
      .toEqual([['0000:00:02.0'], ['0000:01:00.0', '0000:02:01.0', '0000:02:02.0']]);
  });

  it('root-bus functions: single-function RC-integrated endpoints alone, a multi-function one without ACS together', () => {
    expect(groups([{ bdf: '0000:00:04.0', type: 'rc-integrated' }, { bdf: '0000:00:1f.0', type: 'rc-integrated', mf: true }, { bdf: '0000:00:1f.3', type: 'rc-integrated', mf: true }]))
      .toEqual([['0000:00:04.0'], ['0000:00:1f.0', '0000:00:1f.3']]);
  });
});
