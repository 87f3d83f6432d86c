import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { Contribution } from '../../src/model/contribution.js';
import type { PciFunction } from '../../src/model/types.js';
import { looksLikeBridgeSysctl, looksLikePciInventory, parseBridgeSysctl, parsePciInventory } from '../../src/text/pci-inventory.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/text');
const read = (f: string): string => readFileSync(path.join(FIXTURES, f), 'utf8');

function dev(c: Contribution, bdf: string): PciFunction {
  const d = c.devices?.find((x) => x.bdf === bdf);
  expect(d, bdf).toBeDefined();
  return d!;
}

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('FreeBSD pciconf', () => {
  it('pciconf -lvc: drivers, ids, names, ARI function 8 and 12, SR-IOV VF counts', () => {
    const text = read('pciconf-lvc.txt');
    expect(looksLikePciInventory(text)).toBe(true);
    const c = parsePciInventory(text, 'pciconf.txt');
    expect(c.warnings).toEqual([]);
    expect(c.devices!.map((d) => d.bdf)).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:03:00.0', '0000:03:01.0', '0000:03:01.4', '0000:03:00.1']);
    expect(dev(c, '0000:00:00.0')).toMatchObject({
      driver: 'hostb', deviceUnit: 'hostb0', vendorId: 0x8086, deviceId: 0x0c00, classCode: 0x060000,
      vendorName: 'Intel Corporation', deviceName: '4th Gen Core Processor DRAM Controller', passThrough: false,
    });
    expect(dev(c, '0000:03:00.0')).toMatchObject({ driver: 'igb', numVfs: 2, source: { part: 'pciconf.txt', line: 15 } });
    // pci0:3:0:8 is devfn 8 = 03:01.0.
    expect(dev(c, '0000:03:01.0')).toMatchObject({ driver: 'ppt', deviceUnit: 'ppt0', passThrough: true, deviceId: 0x1520, bus: 3, devfn: 8 });
    const none = dev(c, '0000:03:01.4');
    expect(none.driver).toBeUndefined();
    expect(none.deviceUnit).toBeUndefined();
    expect(none.devfn).toBe(12);
    // NumVFs while IOV is disabled: no VF exists.
    expect(dev(c, '0000:03:00.1').numVfs).toBe(0);
  });

  it('older pciconf with card=/chip= (chip = device << 16 | vendor)', () => {
    const c = parsePciInventory(read('pciconf-old.txt'), 'old.txt');
    expect(c.warnings).toEqual([]);
    expect(dev(c, '0000:00:00.0')).toMatchObject({ vendorId: 0x8086, deviceId: 0x0044, classCode: 0x060000 });
    expect(dev(c, '0000:00:19.0')).toMatchObject({ driver: 'em', vendorId: 0x8086, deviceId: 0x10ea, deviceName: 'Intel 82577LM Gigabit LAN Controller (82577LM)' });
    expect(dev(c, '0000:00:1a.0')).toMatchObject({ classCode: 0x0c0320, deviceId: 0x3b3c });
    expect(dev(c, '0000:00:1a.0').driver).toBeUndefined();
  });

  it('bus 256 is an InputError at its line; a cut line is a warning at its line', () => {
    const bad = 'igb0@pci0:3:0:0:\tclass=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 device=0x1521\nppt0@pci0:256:0:0:\tclass=0x020000\n';
    expect(inputError(() => parsePciInventory(bad, 'p')).line).toBe(2);
    const cut = 'igb0@pci0:3:0:0:\tclass=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 device=0x1521\n'
      + 'x=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 device=0x1521 subvendor\n';
    const c = parsePciInventory(cut, 'p');
    expect(c.devices).toHaveLength(1);
    expect(c.warnings.map((w) => w.source)).toEqual([{ part: 'p', line: 2 }]);
  });
});

describe('Linux lspci', () => {
  it('lspci -Dnnk: class with prog-if, ids, driver in use, pass-through drivers', () => {
    const text = read('lspci-Dnnk.txt');
    expect(looksLikePciInventory(text)).toBe(true);
    const c = parsePciInventory(text, 'lspci.txt');
    expect(c.devices!.map((d) => d.bdf)).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:00:14.0', '0000:03:00.0', '0000:03:00.1', '0000:03:10.0']);
    expect(dev(c, '0000:00:14.0')).toMatchObject({
      classCode: 0x0c0330, vendorId: 0x8086, deviceId: 0x8c31, driver: 'xhci_hcd',
      deviceName: 'Intel Corporation 8 Series/C220 Series Chipset Family USB xHCI',
    });
    expect(dev(c, '0000:03:00.0')).toMatchObject({ classCode: 0x020000, deviceId: 0x1521, driver: 'vfio-pci', passThrough: true });
    expect(dev(c, '0000:03:00.1').driver).toBeUndefined(); // "Kernel modules" is not a bound driver
    expect(dev(c, '0000:03:10.0')).toMatchObject({ driver: 'pci-stub', passThrough: true });
    // The trailing shell prompt.
    expect(c.warnings.map((w) => w.source?.line)).toEqual([20]);
  });

  it('CRLF gives the same devices', () => {
    const a = parsePciInventory(read('lspci-Dnnk.txt'), 'l');
    const b = parsePciInventory(read('lspci-Dnnk.txt').replace(/\n/g, '\r\n'), 'l');
    expect(b.devices).toEqual(a.devices);
  });

  it('lspci -vv: bridge bus range and SR-IOV Number of VFs with Enable+', () => {
    const c = parsePciInventory(read('lspci-vv.txt'), 'vv.txt');
    expect(c.warnings).toEqual([]);
    expect(c.bridges).toEqual([{ bdf: '0000:00:01.0', secondary: 3, subordinate: 4, source: { part: 'vv.txt', line: 5 } }]);
    expect(dev(c, '0000:00:01.0')).toMatchObject({ secondaryBus: 3, subordinateBus: 4, driver: 'pcieport' });
    expect(dev(c, '0000:00:01.0').classCode).toBeUndefined(); // no [0604] without -nn
    expect(dev(c, '0000:03:00.0')).toMatchObject({ numVfs: 4, driver: 'igb', deviceName: 'Intel Corporation I350 Gigabit Network Connection' });
  });

  it('lspci -vmmnnk records, and a -n record without names', () => {
    const text = read('lspci-vmmnnk.txt');
    expect(looksLikePciInventory(text)).toBe(true);
    const c = parsePciInventory(text, 'vmm.txt');
    expect(c.warnings).toEqual([]);
    expect(dev(c, '0000:03:00.0')).toMatchObject({
      classCode: 0x020000, vendorId: 0x8086, deviceId: 0x1521, vendorName: 'Intel Corporation',
      deviceName: 'I350 Gigabit Network Connection', driver: 'vfio-pci', passThrough: true, source: { part: 'vmm.txt', line: 1 },
    });
    expect(dev(c, '0000:00:14.0')).toMatchObject({ classCode: 0x0c0330, deviceId: 0x8c31, driver: 'xhci_hcd' });
    const nvme = dev(c, '0000:05:00.0');
    expect(nvme).toMatchObject({ classCode: 0x010802, vendorId: 0x144d, deviceId: 0xa808 });
    expect(nvme.vendorName).toBeUndefined();
  });

  it('slot 0x20 cannot exist: InputError at its line', () => {
    const t = '0000:03:00.0 Ethernet controller [0200]: Intel Corporation I350 [8086:1521] (rev 01)\n0000:03:20.0 Ethernet controller [0200]: X [8086:1521]\n';
    expect(inputError(() => parsePciInventory(t, 'l')).line).toBe(2);
  });
});

describe('sysfs listing and sysctl dev.pcib', () => {
  it('sysfs listing: ids, drivers, VF count, physfn, bridge range', () => {
    const text = read('sysfs-pci.txt');
    expect(looksLikePciInventory(text)).toBe(true);
    const c = parsePciInventory(text, 'sysfs.txt');
    expect(c.warnings).toEqual([]);
    expect(dev(c, '0000:00:01.0')).toMatchObject({ classCode: 0x060400, secondaryBus: 3, subordinateBus: 4 });
    expect(c.bridges).toEqual([{ bdf: '0000:00:01.0', secondary: 3, subordinate: 4, source: { part: 'sysfs.txt', line: 1 } }]);
    expect(dev(c, '0000:03:00.0')).toMatchObject({ driver: 'igb', numVfs: 2, passThrough: false });
    expect(dev(c, '0000:03:10.0')).toMatchObject({ driver: 'vfio-pci', passThrough: true, physfn: '0000:03:00.0' });
    expect(dev(c, '0000:03:10.4').driver).toBeUndefined();
  });

  it('sysctl dev.pcib: secbus/subbus per pcib unit, BDF from %location dbsf', () => {
    const text = read('sysctl-dev-pcib.txt');
    expect(looksLikeBridgeSysctl(text)).toBe(true);
    expect(looksLikePciInventory(text)).toBe(false);
    const c = parseBridgeSysctl(text, 'pcib.txt');
    expect(c.warnings).toEqual([]);
    expect(c.bridges).toEqual([
      { name: 'pcib1', bdf: '0000:00:01.0', secondary: 3, subordinate: 4, source: { part: 'pcib.txt', line: 6 } },
      { name: 'pcib2', secondary: 5, subordinate: 5, source: { part: 'pcib.txt', line: 16 } },
    ]);
    // The same lines inside an inventory file give the same bridges.
    const mixed = parsePciInventory(read('pciconf-lvc.txt') + text, 'mixed.txt');
    expect(mixed.bridges!.map((b) => [b.name, b.secondary, b.subordinate])).toEqual([['pcib1', 3, 4], ['pcib2', 5, 5]]);
  });
});

describe('bad input', () => {
  it('random text is an InputError at line 1', () => {
    const e = inputError(() => parsePciInventory('Dear support,\nplease help\n', 'ticket.txt'));
    expect(e).toMatchObject({ file: 'ticket.txt', line: 1 });
    expect(inputError(() => parseBridgeSysctl('kern.ostype: FreeBSD\n', 's')).line).toBe(1);
  });

  it('random strings never throw anything but InputError', () => {
    const piece = fc.constantFrom('ppt0@pci0:3:0:8:\tclass=0x020000 vendor=0x8086', '    vendor     = \'x\'', '0000:03:00.0 Ethernet [0200]: X [8086:1521]',
      '\tBus: primary=00, secondary=03, subordinate=03, sec-latency=0', 'Slot:\t0000:99:00.0', 'Slot:\tzz', 'Class:\t0200', 'dev.pcib.1.secbus: 999',
      '0000:03:00.0 physfn=junk', '\t\tInitial VFs: 8, Total VFs: 8, Number of VFs: 4', '');
    for (const parse of [parsePciInventory, parseBridgeSysctl]) {
      fc.assert(fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 12 }), (parts) => {
        try {
          parse(parts.join('\n'), 'fuzz');
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }), { numRuns: 300 });
    }
  });
});
