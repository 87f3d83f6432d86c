/**
 * The audit of issue 11 item 1 over the other text readers: a line of a known shape whose value
 * cannot be read is a warning naming its line — not a field silently left out (a vendor id, a
 * class code, a bus range, a HAW, a DRHD, an e820 entry of a kernel log).
 */
import { describe, expect, it } from 'vitest';
import { parseDmesgDetails } from '../../src/text/dmesg.js';
import { parseMemoryMap } from '../../src/text/memory-map.js';
import { parseBridgeSysctl, parsePciInventory } from '../../src/text/pci-inventory.js';

type W = { message: string; source?: { line?: number } };
const at = (ws: W[], line: number): string[] => ws.filter((w) => w.source?.line === line).map((w) => w.message);

describe('PCI inventory: values of the fields that are read', () => {
  const GOOD = '0000:00:02.0 vendor=0x8086 device=0x29c0 class=0x060000\n';
  it.each([
    ['vendor', '0000:03:00.0 vendor=0xZZZZ device=0x1521 class=0x020000', /vendor.*0xZZZZ/],
    ['class', '0000:03:00.0 vendor=0x8086 device=0x1521 class=0x02000g', /class.*0x02000g/],
    ['class beyond 24 bits', '0000:03:00.0 vendor=0x8086 device=0x1521 class=0xffffffffffffffffffff', /class/],
    ['vendor beyond 16 bits', '0000:03:00.0 vendor=0x18086 device=0x1521 class=0x020000', /vendor/],
    ['sriov_numvfs', '0000:03:00.0 vendor=0x8086 device=0x1521 class=0x020000 sriov_numvfs=four', /sriov_numvfs/],
    ['a bus number', '0000:00:03.0 vendor=0x1b36 device=0x000c class=0x060400 secondary_bus_number=x subordinate_bus_number=2', /secondary_bus_number/],
    ['one bus number of two', '0000:00:03.0 vendor=0x1b36 device=0x000c class=0x060400 secondary_bus_number=2', /subordinate_bus_number/],
  ])('sysfs listing, %s: a warning at its line', (_what, line, msg) => {
    const c = parsePciInventory(GOOD + line + '\n', 'pci-sysfs.txt');
    expect(at(c.warnings, 2)).toEqual([expect.stringMatching(msg)]);
    expect(c.devices).toHaveLength(2);
  });
  it('the field that failed is not set; the others are', () => {
    const c = parsePciInventory('0000:03:00.0 vendor=0xZZZZ device=0x1521 class=0x020000\n', 'p');
    expect(c.devices![0]).toMatchObject({ deviceId: 0x1521, classCode: 0x020000 });
    expect(c.devices![0].vendorId).toBeUndefined();
  });
  it.each([
    ['class', 'ppt0@pci0:3:0:8:\tclass=0x02000g rev=0x01 hdr=0x00 vendor=0x8086 device=0x1520', /class/],
    ['chip', 'em0@pci0:0:25:0:\tclass=0x020000 card=0x20ee17aa chip=0x10f5808g rev=0x03 hdr=0x00', /chip/],
  ])('pciconf, %s: a warning at its line', (_what, line, msg) => {
    const c = parsePciInventory(line + '\n', 'pciconf.txt');
    expect(at(c.warnings, 1)).toEqual([expect.stringMatching(msg)]);
  });
  it('sysctl dev.pcib: a bus number that is not one', () => {
    const c = parseBridgeSysctl('dev.pcib.1.secbus: x3\ndev.pcib.1.subbus: 3\n', 'sysctl.txt');
    expect(at(c.warnings, 1)).toEqual([expect.stringMatching(/secbus/)]);
  });
});

describe('kernel log: lines that start like a fact but do not parse', () => {
  it.each([
    ['Host address width', 'DMAR: Host address width 39xyz'],
    ['DRHD', 'DMAR: DRHD base: 0xfed9zzzz flags: 0x0'],
    ['RMRR', 'DMAR: RMRR base: 0x00000077000000 end: zz'],
  ])('%s', (_what, line) => {
    const d = parseDmesgDetails(`DMAR: IOMMU enabled\n${line}\n`, 'dmesg.txt');
    expect(at(d.contribution.warnings, 2)).toEqual([expect.stringMatching(/cannot parse/)]);
  });
  it('an e820 line of a kernel log that does not parse (the rest of the log is not warned about)', () => {
    const log = '[    0.000000] Linux version 6.1\n[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x3ffdffzz] usable\n[    0.100000] e1000e: link up\n';
    const c = parseMemoryMap(log, 'dmesg.txt', { kernelLog: true });
    expect(c.warnings.map((w) => w.source?.line)).toEqual([3]);
    expect(c.memoryMap).toHaveLength(1);
  });
});
