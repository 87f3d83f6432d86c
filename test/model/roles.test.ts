/**
 * Issue 13 item 1: one rule for "is this a pass-through driver" (the text readers and the checks'
 * roles had copies that disagreed) and one for "which unit covers this BDF" (the checks,
 * `translate --bdf` and the fault explanations had three).
 */
import { describe, expect, it } from 'vitest';
import { resolveDevice } from '../../src/cli/resolve-bdf.js';
import { UsageError } from '../../src/errors.js';
import { coverage, unitFor } from '../../src/model/coverage.js';
import { explainFaults } from '../../src/model/faults.js';
import { isPassThroughDriver, roles } from '../../src/model/roles.js';
import { parseDmardump } from '../../src/text/dmardump.js';
import { parsePciInventory } from '../../src/text/pci-inventory.js';
import { snapshot } from '../checks/snapshot-builder.js';

const A = 0xfed90000;
const B = 0xfed91000;

describe('isPassThroughDriver: one rule for the text readers and the roles', () => {
  it('accepts the pass-through drivers of cli-contract.md, ppt(4) unit names, pci_stub, in any case', () => {
    for (const name of ['ppt', 'ppt0', 'ppt12', 'vfio-pci', 'pciback', 'xen-pciback', 'pci-stub', 'pci_stub', 'PPT', 'VFIO-PCI', ' vfio-pci ']) {
      expect(isPassThroughDriver(name), name).toBe(true);
    }
    for (const name of [undefined, '', 'igb', 'pptx', 'ppt0a', 'vfio', 'vfio-pci-core', 'nvme', 'absent']) expect(isPassThroughDriver(name), String(name)).toBe(false);
  });

  // Where the copies disagreed: text/lines.ts took `pci_stub` but neither case nor `ppt3`;
  // checks/roles.ts took case and `ppt3` but not `pci_stub`.
  it('lspci -k drivers pci_stub and VFIO-PCI: the inventory and the roles agree (both pass-through)', () => {
    const lspci = [
      '0000:03:00.0 Ethernet controller [0200]: Intel Corporation I350 Gigabit Network Connection [8086:1521] (rev 01)',
      '\tKernel driver in use: pci_stub',
      '0000:04:00.0 Ethernet controller [0200]: Intel Corporation I350 Gigabit Network Connection [8086:1521] (rev 01)',
      '\tKernel driver in use: VFIO-PCI',
      '',
    ].join('\n');
    const devices = parsePciInventory(lspci, 'lspci.txt').devices ?? [];
    expect(devices.map((d) => [d.bdf, d.driver, d.passThrough])).toEqual([['0000:03:00.0', 'pci_stub', true], ['0000:04:00.0', 'VFIO-PCI', true]]);
    const s = snapshot().device('0000:03:00.0', { driver: 'pci_stub', passThrough: false }).build();
    expect(roles(s).isPassThrough('0000:03:00.0')).toBe(true);
  });

  it('a dmardump context printed (ppt3) makes a pass-through device in the reader and in the roles', () => {
    const c = parseDmardump('drhd @ 0xfed90000 (version 1.0) PCI segment 0:\n    root table @ 0x0x7f000000\n\tPCI bus 3:\n\t    { 0,8 } (ppt3) PASS SLPT 0 domain 1\n', 'dmardump.txt');
    expect((c.devices ?? []).map((d) => [d.bdf, d.deviceUnit, d.passThrough])).toEqual([['0000:03:01.0', 'ppt3', true]]);
    // A context entry's hint alone (no inventory line) decides it the same way.
    const s = snapshot().unit(A, (u) => u.regs().context('0000:03:01.0', { did: 1, hint: 'ppt3' })).build();
    expect(roles(s).isPassThrough('0000:03:01.0')).toBe(true);
  });
});

describe('which unit covers a BDF: one rule for checks, translate and faults', () => {
  // dmar0 (A) covers the bridge 00:1c.0 whose secondary bus is 3; dmar1 (B) has INCLUDE_PCI_ALL.
  const bridged = () =>
    snapshot()
      .unit(A, (u) => u.regs().context('0000:00:1c.0', { did: 1 }))
      .unit(B, (u) => u.regs().context('0000:00:19.0', { did: 1 }))
      .dmar((d) => d.drhd(A, { bridges: ['0000:00:1c.0'] }).drhd(B, { includePciAll: true }))
      .device('0000:00:1c.0', { driver: 'pcieport', secondaryBus: 3, subordinateBus: 3 })
      .device('0000:03:00.0', { driver: 'ppt' })
      .device('0000:00:19.0', { driver: 'em' });

  it('translate --bdf: a device behind a bridge scope is the bridge unit\'s (the CLI took INCLUDE_PCI_ALL\'s)', () => {
    const s = bridged().build();
    expect(coverage(s, '0000:03:00.0')).toMatchObject({ status: 'covered', unit: A, how: 'bridge' });
    expect(resolveDevice(s, '0000:03:00.0').unit.registerBase).toBe(A);
    expect(resolveDevice(s, '0000:00:19.0').unit.registerBase).toBe(B);
  });

  it('translate --bdf: a device no unit covers is an error naming why, not the first unit', () => {
    const s = snapshot()
      .unit(A, (u) => u.regs())
      .unit(B, (u) => u.regs())
      .dmar((d) => d.drhd(A, { endpoints: ['0000:00:02.0'] }).drhd(B, { endpoints: ['0000:00:19.0'] }))
      .build();
    expect(() => resolveDevice(s, '0000:03:00.0')).toThrow(UsageError);
    expect(() => resolveDevice(s, '0000:03:00.0')).toThrow(/no remapping unit covers 0000:03:00\.0 \(no DRHD of segment 0 lists/);
  });

  it('translate --bdf: two units and nothing to tell them apart is an error naming both, not the first unit', () => {
    const s = snapshot().unit(A, (u) => u.regs().context('0000:00:02.0')).unit(B, (u) => u.regs().context('0000:00:19.0')).build();
    expect(() => resolveDevice(s, '0000:03:00.0')).toThrow(/which remapping unit covers 0000:03:00\.0 is unknown: .* \(it may be 0xfed90000 or 0xfed91000\)/);
    // Without a DMAR table the unit holding the device's present entry covers it; so does a lone unit.
    expect(resolveDevice(s, '0000:00:19.0').unit.registerBase).toBe(B);
    const lone = snapshot().unit(A, (u) => u.regs()).build();
    expect(unitFor(lone, '0000:03:00.0').unit?.registerBase).toBe(A);
  });

  it('a recorded fault without its unit is explained through the unit the scopes give (faults.ts found none)', () => {
    const s = bridged().fault('0000:03:00.0', { reason: 2 }).build();
    explainFaults(s, undefined);
    const e = s.faults[0].explanation!;
    expect(e.text).not.toMatch(/does not say which remapping unit/);
    expect(e.method).not.toBe('none');
  });

  it('a fault from a device no unit covers says so', () => {
    const s = snapshot().unit(A, (u) => u.regs().context('0000:00:02.0')).dmar((d) => d.drhd(A, { endpoints: ['0000:00:02.0'] })).fault('0000:05:00.0').build();
    explainFaults(s, undefined);
    expect(s.faults[0].explanation).toMatchObject({ method: 'none' });
    expect(s.faults[0].explanation!.text).toMatch(/no remapping unit covers 0000:05:00\.0/);
  });
});
