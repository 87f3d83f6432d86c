/**
 * A PCI address that cannot exist (bus 0x100, device 0x20, function 8 in Linux notation) is an
 * InputError naming its line in every text reader — never a skipped line or a warning, because the
 * tools that print these files cannot print such an address: the text was altered or corrupted.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseDebugfsDomain } from '../../src/text/debugfs-domain.js';
import { parseDebugfsTranslation } from '../../src/text/debugfs-translation.js';
import { parseDmesg } from '../../src/text/dmesg.js';
import { parsePciInventory } from '../../src/text/pci-inventory.js';
import { isBdfNotation, parseBdf } from '../../src/util/bdf.js';

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no error');
}

const ZERO3 = '0x0000000000000000:0x0000000000000000:0x0000000000000000';
const trRow = (bdf: string): string =>
  `${bdf}\t0x0000000000000000:0x0000000002845001\t0x0000000000000201:0x0000000002844001\t-1    \t${ZERO3}`;
const TR_HEAD = 'IOMMU dmar0: Root Table Address: 0x23c5000\nB.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n';
const DOM_HEAD = 'IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE\n';
const LSPCI_OK = '0000:03:00.0 Ethernet controller [0200]: Intel Corporation I350 Gigabit Network Connection [8086:1521] (rev 01)\n\tKernel driver in use: igb\n';

describe('parseBdf refuses Linux addresses that cannot exist', () => {
  it.each([
    ['0000:100:00.0', /bus 256/],
    ['100:00.0', /bus 256/],
    ['0000:03:20.0', /slot 32/],
    ['0000:03:00.8', /function 8/],
  ])('%s', (text, msg) => {
    expect(() => parseBdf(text)).toThrow(msg);
  });
  it('three-digit bus numbers below 0x100 are still accepted (leading zero)', () => {
    expect(parseBdf('0000:003:00.0')).toEqual({ segment: 0, bus: 3, devfn: 0 });
  });
});

describe('parseBdf has one way to fail', () => {
  it('a name is no PCI address: RangeError, as for an address that cannot exist', () => {
    for (const text of ['ppt0', 'dmar0', '', '03:00', 'pci0:3']) expect(() => parseBdf(text)).toThrow(RangeError);
    expect(() => parseBdf('ppt0')).toThrow(/"ppt0" is no PCI address/);
  });
  it('isBdfNotation tells a name from a BDF, possible or not', () => {
    expect(['ppt0', 'dmar0', 'INT3432:00', '03:00'].map(isBdfNotation)).toEqual([false, false, false, false]);
    expect(['0000:03:00.0', '03:00.0', '3/0/8', 'pci0:3:0:8', 'pci3:0:8', '0000:100:00.0', '00:20.0'].every(isBdfNotation)).toBe(true);
  });
});

describe('text readers: impossible BDF → InputError at its line', () => {
  it.each([
    ['lspci -Dnnk, bus 256', () => parsePciInventory(`${LSPCI_OK}0000:100:00.0 Ethernet controller [0200]: Intel Corporation I350 [8086:1521] (rev 01)\n`, 'lspci.txt'), 3, /bus 256/],
    ['lspci -Dnnk, function 8', () => parsePciInventory(`${LSPCI_OK}0000:03:00.8 Ethernet controller [0200]: Intel Corporation I350 [8086:1521] (rev 01)\n`, 'lspci.txt'), 3, /function 8/],
    ['sysfs listing, bus 256', () => parsePciInventory('0000:03:00.0 vendor=0x8086 device=0x1521 class=0x020000 driver=igb\n0000:100:00.0 vendor=0x8086 device=0x1520 class=0x020000 driver=vfio-pci\n', 'pci.txt'), 2, /bus 256/],
    ['dmar_translation_struct, function 8', () => parseDebugfsTranslation(TR_HEAD + trRow('00:00.0') + '\n' + trRow('00:00.8') + '\n', 'dmar_translation_struct'), 4, /function 8/],
    ['dmar_translation_struct, bus 0x100', () => parseDebugfsTranslation(TR_HEAD + trRow('100:00.0') + '\n', 'dmar_translation_struct'), 3, /bus 0x100/],
    ['dmar_translation_struct, device 0x20', () => parseDebugfsTranslation(TR_HEAD + trRow('00:20.0') + '\n', 'dmar_translation_struct'), 3, /device 0x20/],
    ['domain_translation_struct, function 8', () => parseDebugfsDomain(`Device 0000:03:00.8 @0x1234000\n${DOM_HEAD}`, 'domain_translation_struct'), 1, /function 8/],
    ['domain_translation_struct, bus 256', () => parseDebugfsDomain(`Device 0000:03:00.0 @0x1234000\n${DOM_HEAD}\nDevice 0000:100:00.0 @0x1235000\n${DOM_HEAD}`, 'domain_translation_struct'), 4, /bus 256/],
    ['dmesg fault, bus 0x100', () => parseDmesg('[    5.000000] DMAR: DRHD: handling fault status reg 2\n[    5.000001] DMAR: [DMA Read NO_PASID] Request device [100:00.0] fault addr 0xbadd000 [fault reason 0x06] PTE Read access is not set\n', 'dmesg.txt'), 2, /bus 0x100/],
    ['dmesg fault, function 8', () => parseDmesg('[    5.000001] DMAR: [DMA Read NO_PASID] Request device [01:00.8] fault addr 0xbadd000 [fault reason 0x06] PTE Read access is not set\n', 'dmesg.txt'), 1, /function 8/],
  ])('%s', (_name, parse, line, msg) => {
    const e = errorOf(parse);
    expect(e.message).toMatch(msg);
    expect(e.format()).toMatch(new RegExp(`:${line}: `));
  });

  it('a non-PCI device name in a domain_translation_struct header stays a warning', () => {
    const c = parseDebugfsDomain(`Device platform-thing @0x1234000\n${DOM_HEAD}`, 'domain_translation_struct');
    expect(c.warnings.map((w) => w.message).join('\n')).toMatch(/not a PCI address/);
  });
});
