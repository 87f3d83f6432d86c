/**
 * Long lines in text parts (issue 11 item 20): every text reader (and content recognition) runs in
 * time linear in its input, and a line longer than any real line of its format is skipped with a
 * warning naming it instead of being held.
 *
 * The hostile lines are the ones that made a line pattern quadratic (a lazy group before `\s*$`,
 * an unanchored leading `\s+`, `name*?(\d+)@`, `^\s*` with /m across blank lines): 64 lines of
 * 16 000 characters each took minutes before; linear readers take milliseconds. The test's only
 * clock is vitest's timeout, far above what a linear reader needs.
 */
import { describe, expect, it } from 'vitest';
import { sniffText } from '../../src/capture/text-parts.js';
import { parseIommuRegset } from '../../src/decode/regset-text.js';
import { InputError } from '../../src/errors.js';
import { parseDebugfsDomain } from '../../src/text/debugfs-domain.js';
import { parseDebugfsTranslation } from '../../src/text/debugfs-translation.js';
import { parseDmardump } from '../../src/text/dmardump.js';
import { parseDmesg } from '../../src/text/dmesg.js';
import { eachLine, MAX_LINE } from '../../src/text/lines.js';
import { MAX_LINE_WARNINGS } from '../../src/util/lines.js';
import { parseMemoryMap } from '../../src/text/memory-map.js';
import { parseBridgeSysctl, parsePciInventory } from '../../src/text/pci-inventory.js';

const L = 16_000;
const sp = ' '.repeat(L);
const HOSTILE: Record<string, string> = {
  'pciconf name of digits': `a${'1'.repeat(L)}`,
  'pciconf -v value and blanks': `ppt0@pci0:3:0:8:\tclass=0x020000\n    vendor = x${sp}y`,
  'lspci -vmm value and blanks': `Slot:\t0000:03:00.0\nVendor:\tx${sp}y`,
  'sysctl value and blanks': `dev.pcib.1.secbus: x${sp}y`,
  'lspci names and blanks': `0000:03:00.0 Ethernet controller [0200]: x${sp}y`,
  'lspci names, blanks, rev': `0000:03:00.0 Ethernet controller [0200]: x${sp}(rev 01)x`,
  'dmesg fact and blanks': `[    0.000000] DMAR: Host address width${sp}x`,
  'e820 and blanks': `BIOS-e820: [mem 0x0-0x1] ${sp}x`,
  'iomem and blanks': `0-1 : ${sp}x`,
  'regset and blanks': `IOMMU: dmar0 Register Base Address: fed90000\nGSTS${sp}x`,
};
const READERS: Record<string, (t: string) => unknown> = {
  parsePciInventory: (t) => parsePciInventory(t, 'x'),
  parseBridgeSysctl: (t) => parseBridgeSysctl(t, 'x'),
  parseDmesg: (t) => parseDmesg(t, 'x'),
  parseMemoryMap: (t) => parseMemoryMap(t, 'x'),
  parseDmardump: (t) => parseDmardump(t, 'x'),
  parseDebugfsDomain: (t) => parseDebugfsDomain(t, 'x'),
  parseDebugfsTranslation: (t) => parseDebugfsTranslation(t, 'x'),
  parseIommuRegset: (t) => parseIommuRegset(t, 'x'),
  sniffText: (t) => sniffText(t),
};

function run(read: (t: string) => unknown, text: string): void {
  try {
    read(text);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
}

describe('line patterns are linear on hostile lines', () => {
  it.each(Object.entries(HOSTILE))('%s: every reader', (_what, line) => {
    const text = `${line}\n`.repeat(64);
    for (const read of Object.values(READERS)) run(read, text);
  }, 30_000);
  it('content recognition on a head of blank lines', () => {
    for (const head of ['\n'.repeat(65_000), ' \n'.repeat(32_000), '\t\r\n'.repeat(21_000)]) run((t) => sniffText(t), head);
  }, 30_000);
});

describe('lines longer than any line of the format', () => {
  const long = 'x'.repeat(MAX_LINE + 1);
  it('eachLine skips them, tells their number and length, and keeps only their start', () => {
    const told: { no: number; length: number; head: string }[] = [];
    const lines = [...eachLine(`a\n${long}\r\nb\n${long}`, (l) => told.push(l))];
    expect(lines.map((l) => [l.no, l.text])).toEqual([[1, 'a'], [3, 'b']]);
    expect(told.map((l) => [l.no, l.length, l.head.length])).toEqual([[2, MAX_LINE + 1, 60], [4, MAX_LINE + 1, 60]]);
  });
  it('the same line cut across chunks of a file, CRLF split between two chunks', () => {
    const chunks = ['a\r', '\nxx', 'x'.repeat(MAX_LINE), 'x\r', '\nb'];
    const told: number[] = [];
    const lines = [...eachLine({ chunks: () => chunks }, (l) => told.push(l.no))];
    expect(lines.map((l) => [l.no, l.text])).toEqual([[1, 'a'], [3, 'b']]);
    expect(told).toEqual([2]);
  });
  it.each([
    ['dmesg', (t: string) => parseDmesg(t, 'k').warnings, 'DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a'],
    ['pci', (t: string) => parsePciInventory(t, 'p').warnings, '0000:03:00.0 vendor=0x8086 device=0x1521 class=0x020000 driver=vfio-pci'],
    ['memory map', (t: string) => parseMemoryMap(t, 'm').warnings, '00001000-0009fbff : System RAM\n00100000-3ffdffff : System RAM'],
    ['dmardump', (t: string) => parseDmardump(t, 'd').warnings, 'drhd @ 0xfed90000 (version 1.0) PCI segment 0:'],
  ])('%s: a warning naming the line; the lines around it are read', (_kind, warnings, good) => {
    const ws = warnings(`${good}\n${long}\n${good}\n`) as { message: string; source: { line?: number } }[];
    const at = good.split('\n').length + 1;
    expect(ws.filter((w) => w.source.line === at).map((w) => w.message)).toEqual([expect.stringMatching(new RegExp(`line of ${MAX_LINE + 1} characters`))]);
  });
  it('iommu_regset: a warning naming the line', () => {
    const r = parseIommuRegset(`IOMMU: dmar0 Register Base Address: fed90000\n${long}\nGSTS\t0x1c\t0x0\n`, 'r');
    expect(r.units[0].raw.GSTS).toBe(0n);
    expect(r.warnings.map((w) => w.line)).toEqual([2]);
  });
});

describe('one warning cap for every reader (issue 13: iommu_regset had its own)', () => {
  const junk = (n: number) => Array.from({ length: n }, (_, i) => `junk line ${i}`).join('\n');
  it('the text readers and iommu_regset keep MAX_LINE_WARNINGS warnings, then one counting the rest', () => {
    const regset = parseIommuRegset(`IOMMU: dmar0 Register Base Address: fed90000\n${junk(150)}\n`, 'r').warnings;
    const pci = parsePciInventory(`0000:03:00.0 vendor=0x8086 device=0x1521 class=0x020000 driver=igb\n${junk(150)}\n`, 'p').warnings;
    for (const [what, ws] of [['iommu_regset', regset], ['pci', pci]] as const) {
      expect(ws.length, what).toBe(MAX_LINE_WARNINGS + 1);
      expect(ws[MAX_LINE_WARNINGS].message, what).toBe(`${150 - MAX_LINE_WARNINGS} more warnings like these not shown`);
    }
    // The summary names no line: it stands for many.
    expect(regset[MAX_LINE_WARNINGS].line).toBeUndefined();
  });
});
