/**
 * Configuration-space dumps → bytes. Real `lspci` output (test/fixtures/pci/host-virtio) must give
 * exactly the bytes of the same functions' sysfs `config` files; pciconf output is produced here
 * by following FreeBSD pciconf.c `readit` (format string and line breaks) over real bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  looksLikeLspciHexDump, looksLikePciconfDump, parseLspciHexDump, parsePciconfDump, sysfsConfigDump,
} from '../../src/text/pci-config-dump.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pci');
const sysfs = (set: string, bdf: string): Uint8Array => readFileSync(path.join(FIXTURES, set, bdf, 'config'));
const fixture = (set: string, file: string): string => readFileSync(path.join(FIXTURES, set, file), 'utf8');
const HOST_BDFS = readdirSync(path.join(FIXTURES, 'host-virtio')).filter((n) => /^0000:/.test(n)).sort();

describe('lspci hex dumps (real output, pciutils 3.9)', () => {
  it('-xxxx: every function, bytes equal to its sysfs config (4096 for the host bridge, 256 for virtio)', () => {
    const text = fixture('host-virtio', 'lspci-xxxx.txt');
    expect(looksLikeLspciHexDump(text)).toBe(true);
    const r = parseLspciHexDump(text, 'lspci-xxxx.txt');
    expect(r.warnings).toEqual([]);
    expect(r.functions.map((f) => `0000:${f.bdf.bus.toString(16).padStart(2, '0')}:${(f.bdf.devfn >> 3).toString(16).padStart(2, '0')}.${f.bdf.devfn & 7}`)).toEqual(HOST_BDFS);
    for (const f of r.functions) {
      const name = HOST_BDFS.find((b) => parseInt(b.slice(8, 10), 16) === f.bdf.devfn >> 3)!;
      expect(Buffer.from(f.bytes).equals(Buffer.from(sysfs('host-virtio', name))), name).toBe(true);
    }
    expect(r.functions.map((f) => f.bytes.length)).toEqual([4096, 256, 256, 256, 256, 256]);
    expect(r.functions[1].source).toEqual({ part: 'lspci-xxxx.txt', line: 259 });
  });

  it('-D -xxx: domain on the device line, 256 bytes each', () => {
    const r = parseLspciHexDump(fixture('host-virtio', 'lspci-Dxxx.txt'), 'f');
    expect(r.warnings).toEqual([]);
    expect(r.functions.map((f) => [f.bdf.segment, f.bytes.length])).toEqual(HOST_BDFS.map(() => [0, 256]));
    expect(Buffer.from(r.functions[0].bytes).equals(Buffer.from(sysfs('host-virtio', HOST_BDFS[0]).subarray(0, 256)))).toBe(true);
  });

  it('-x: 64 bytes each', () => {
    const r = parseLspciHexDump(fixture('host-virtio', 'lspci-x.txt'), 'f');
    expect(r.warnings).toEqual([]);
    expect(r.functions.map((f) => f.bytes.length)).toEqual(HOST_BDFS.map(() => 64));
  });

  it('-vvv -xxx together: the detail lines are counted in one warning', () => {
    const text = '00:03.0 Ethernet controller: Red Hat, Inc. Virtio 1.0 network device (rev 01)\n\tSubsystem: Red Hat, Inc.\n\tLatency: 0\n' +
      fixture('host-virtio', 'lspci-x.txt').split('\n').slice(1, 5).join('\n') + '\n';
    const r = parseLspciHexDump(text, 'f');
    expect(r.functions).toHaveLength(1);
    expect(r.warnings).toEqual([{ message: expect.stringContaining('2 lspci -v detail lines'), source: { part: 'f', line: 2 } }]);
  });
});

const ROW0 = '00: 86 80 d3 10 06 04 10 00 00 00 00 02 00 00 00 00';
const row = (off: number) => `${off.toString(16).padStart(2, '0')}: ${Array(16).fill('00').join(' ')}`;

describe('lspci oddities are named, never dropped silently', () => {
  it('gaps, orphan rows, unreadable devices, impossible addresses, duplicates, junk', () => {
    const text = [
      row(0), // 1 orphan row
      '01:00.0 Ethernet controller', // 2
      ROW0, row(0x10), row(0x20), row(0x30), // 3-6
      row(0x50), // 7 gap: 0x40 was due
      row(0x60), // 8 skipped with the rest of the device (already warned)
      '02:00.0 Ethernet controller', // 9
      'WARNING: Cannot show hex-dump of the config space', // 10
      '00:20.0 bogus', // 11 device 0x20 > 0x1f
      row(0), // 12 belongs to the bogus device: no current device
      '10000:00:01.0 VMD domain', // 13
      '01:00.0 again', // 14
      ROW0, row(0x10), row(0x20), row(0x30), // 15-18
      'lspci: Unable to load libkmod resources: error -2', // 19
      '03:00.0 short', // 20
      ROW0, // 21
    ].join('\n');
    const r = parseLspciHexDump(text, 'p');
    expect(r.functions.map((f) => [f.bdf.bus, f.bytes.length, f.bytes[0], f.bytes[2]])).toEqual([[1, 64, 0x86, 0xd3]]);
    // (a device's own warnings come when it ends, so sort by line)
    const byLine = [...r.warnings].sort((a, b) => (a.source?.line ?? 0) - (b.source?.line ?? 0));
    expect(byLine.map((w) => w.source?.line)).toEqual([1, 7, 9, 10, 11, 12, 13, 14, 19, 20]);
    const m = byLine.map((w) => w.message);
    expect(m[0]).toMatch(/hex row before any device line/);
    expect(m[1]).toMatch(/row at 0x50 where 0x40 was due/);
    expect(m[2]).toMatch(/02:00.0: no configuration bytes/);
    expect(m[3]).toMatch(/could not read the configuration space of 0000:02:00.0/);
    expect(m[4]).toMatch(/beyond 0x1f/);
    expect(m[5]).toMatch(/hex row before any device line/);
    expect(m[6]).toMatch(/no VT-d segment/);
    expect(m[7]).toMatch(/appears again/);
    expect(m[8]).toMatch(/not recognised/);
    expect(m[9]).toMatch(/only 16 bytes/);
  });
  it('a row past 4096 bytes is refused', () => {
    const lines = ['00:01.0 x'];
    for (let o = 0; o <= 0x1000; o += 16) lines.push(`${o.toString(16).padStart(2, '0')}: ${Array(16).fill('00').join(' ')}`);
    const r = parseLspciHexDump(lines.join('\n'), 'p');
    expect(r.functions[0].bytes.length).toBe(4096);
    expect(r.warnings[0].message).toMatch(/beyond the 4096 bytes/);
  });
});

/**
 * What FreeBSD pciconf.c readit() prints for `pciconf -r [-b|-h] SEL START:END` over `bytes`:
 *   for (i = 1, r = rstart; r <= rend; i++, r += width) {
 *       printf("%0*x", width*2, value); if (i && !(i % 8)) putchar(' '); putchar(i % (16/width) ? ' ' : '\n'); }
 *   if (i % (16/width) != 1) putchar('\n');
 */
function readit(bytes: Uint8Array, start: number, end: number, width: 1 | 2 | 4): string {
  let s = '';
  let i = 1;
  for (let r = start; r <= end; i++, r += width) {
    let v = 0;
    for (let k = width - 1; k >= 0; k--) v = v * 256 + bytes[r + k];
    s += v.toString(16).padStart(width * 2, '0');
    if (i % 8 === 0) s += ' ';
    s += i % (16 / width) ? ' ' : '\n';
  }
  if (i % (16 / width) !== 1) s += '\n';
  return s;
}

describe('FreeBSD pciconf -r', () => {
  const rootPort = sysfs('qemu-q35-vtd', '0000:00:02.0');

  it('the default 32-bit words, 0:0xfff: all 4096 bytes, in little-endian order', () => {
    const text = `# pciconf -r pci0:0:2:0 0:0xfff\n${readit(rootPort, 0, 0xfff, 4)}`;
    expect(text.split('\n')[1]).toBe('000c1b36 00100507 06040000 00010000 '.trimEnd()); // device/vendor, status/command, …
    expect(looksLikePciconfDump(text)).toBe(true);
    const r = parsePciconfDump(text, 'pciconf-r.txt');
    expect(r.warnings).toEqual([]);
    expect(r.functions).toHaveLength(1);
    expect(r.functions[0].bdf).toEqual({ segment: 0, bus: 0, devfn: 0x10 });
    expect(Buffer.from(r.functions[0].bytes).equals(Buffer.from(rootPort))).toBe(true);
    expect(r.functions[0].source).toEqual({ part: 'pciconf-r.txt', line: 1 });
  });

  it('-b and -h widths, read in two blocks (0:0xff then 0x100:0xfff)', () => {
    for (const [flag, width] of [['-b', 1], ['-h', 2]] as const) {
      const text = `# pciconf -r ${flag} pci0:0:2:0 0:0xff\n${readit(rootPort, 0, 0xff, width)}# pciconf -r ${flag} pci0:0:2:0 0x100:0xfff\n${readit(rootPort, 0x100, 0xfff, width)}`;
      const r = parsePciconfDump(text, 'f');
      expect(r.warnings, flag).toEqual([]);
      expect(Buffer.from(r.functions[0].bytes).equals(Buffer.from(rootPort)), flag).toBe(true);
    }
  });

  it('older pciconf: 0x%08x, four to a line', () => {
    const words: string[] = [];
    for (let o = 0; o < 256; o += 4) words.push('0x' + ((rootPort[o] | (rootPort[o + 1] << 8) | (rootPort[o + 2] << 16) | (rootPort[o + 3] << 24)) >>> 0).toString(16).padStart(8, '0'));
    const lines = [];
    for (let i = 0; i < words.length; i += 4) lines.push(words.slice(i, i + 4).join(' '));
    const r = parsePciconfDump(`# pciconf -r pci0:0:2:0 0:0xff\n${lines.join('\n')}\n`, 'f');
    expect(r.warnings).toEqual([]);
    expect(Buffer.from(r.functions[0].bytes).equals(Buffer.from(rootPort.subarray(0, 256)))).toBe(true);
  });

  it('a long run of hex digits that ends in junk is one unrecognised line, not a regex blow-up (found by fuzzing)', () => {
    const r = parsePciconfDump(`# pciconf -r pci0:0:2:0 0:0xff\n${'0'.repeat(3000)}g\n`, 'f');
    expect(r.warnings.map((w) => w.source?.line)).toEqual([2, 1, 1]); // junk; then the block: ends early, no bytes
  });

  it('selectors: name@, trailing colon, ARI function, three and two numbers', () => {
    const block = (sel: string) => `# pciconf -r ${sel} 0:0x3f\n${readit(rootPort, 0, 0x3f, 4)}`;
    const r = parsePciconfDump([block('ppt0@pci0:3:0:8:'), block('pci1:2:3'), block('pci3:4'), block('pci2:0:1:0')].join(''), 'f');
    expect(r.functions.map((f) => f.bdf)).toEqual([
      { segment: 0, bus: 3, devfn: 8 }, // ARI: slot 0 function 8
      { segment: 0, bus: 1, devfn: (2 << 3) | 3 },
      { segment: 0, bus: 3, devfn: 4 << 3 },
      { segment: 2, bus: 0, devfn: (1 << 3) | 0 },
    ]);
    expect(r.warnings).toEqual([]);
  });

  it("selectors with getsel's other separator, a dot (pci0:3:0.1)", () => {
    const block = (sel: string) => `# pciconf -r ${sel} 0:0x3f\n${readit(rootPort, 0, 0x3f, 4)}`;
    const r = parsePciconfDump([block('pci0:3:0.1'), block('em0@pci1.2.3.4')].join(''), 'f');
    expect(r.functions.map((f) => f.bdf)).toEqual([
      { segment: 0, bus: 3, devfn: (0 << 3) | 1 },
      { segment: 1, bus: 2, devfn: (3 << 3) | 4 },
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('options as getopt takes them: -rh, -h -r, -b -r -h (byte wins over short, as pciconf main does)', () => {
    for (const [opts, width] of [['-rh', 2], ['-h -r', 2], ['-b -r -h', 1], ['-rb', 1], ['-v -r', 4]] as const) {
      const r = parsePciconfDump(`# pciconf ${opts} pci0:0:2:0 0:0xff\n${readit(rootPort, 0, 0xff, width)}`, 'f');
      expect(r.warnings, opts).toEqual([]);
      expect([...(r.functions[0]?.bytes ?? [])], opts).toEqual([...rootPort.subarray(0, 256)]);
    }
    // -l or -w with -r is not a read: not a header, the line is unrecognised.
    const text = `# pciconf -r pci0:0:2:0 0:0x3f\n${readit(rootPort, 0, 0x3f, 4)}# pciconf -lr pci0:0:2:0 0:0x3f\n`;
    expect(parsePciconfDump(text, 'f').warnings.map((w) => w.source?.line)).toEqual([6]);
  });

  it('what cannot be used is named: device-name selector, bad slot, start not 0, early end, orphan data, wrong width, overflow', () => {
    const w4 = readit(rootPort, 0, 0x3f, 4);
    const text = [
      '00000000', // 1: data before any header
      '# pciconf -r ppt0 0:0x3f', // 2: no address
      w4.trimEnd(), // 3-6: skipped under the bad header
      '# pciconf -r pci0:0:40:0 0:0x3f', // 7: slot 40
      '# pciconf -r pci0:0:3:0 0x40:0x7f', // 8: start not 0
      '# pciconf -r pci0:0:4:0 0:0xfff', // 9: ends early
      w4.trimEnd(), // 10-13
      '# pciconf -r pci0:0:5:0 0:0x7', // 14: two words
      'abcd 00000000 00000000', // 15: wrong width (rest of line skipped)
      '00000000 00000000 00000000', // 16: one word too many
      'pciconf: ioctl(PCIOCREAD): Operation not permitted', // 17
    ].join('\n');
    const r = parsePciconfDump(text, 'p');
    expect(r.functions.map((f) => [f.bdf.devfn >> 3, f.bytes.length])).toEqual([[4, 64]]);
    expect(r.warnings.map((w) => w.source?.line)).toEqual([1, 2, 7, 8, 9, 15, 16, 17, 14]);
    const m = r.warnings.map((w) => w.message);
    expect(m[1]).toMatch(/device name alone/);
    expect(m[2]).toMatch(/slot 40 out of range/);
    expect(m[3]).toMatch(/starts at 0x40, not 0/);
    expect(m[4]).toMatch(/ends at byte 0x40, its range asked for 0x1000/);
    expect(m[5]).toMatch(/"abcd" does not fit the 4-byte width/);
    expect(m[6]).toMatch(/more values than the range/);
    expect(m[8]).toMatch(/only 8 bytes, less than the 64-byte header/);
  });
});

describe('sysfs config files', () => {
  it('the address comes from the directory (…/DDDD:BB:DD.F/config) or the file name', () => {
    const b = sysfs('qemu-q35-vtd', '0000:01:00.0');
    const a = sysfsConfigDump(b, '/sys/bus/pci/devices/0000:01:00.0/config');
    expect(a.warnings).toEqual([]);
    expect(a.functions[0]).toMatchObject({ bdf: { segment: 0, bus: 1, devfn: 0 }, source: { part: '/sys/bus/pci/devices/0000:01:00.0/config', offset: 0 } });
    expect(a.functions[0].bytes.length).toBe(4096);
    expect(sysfsConfigDump(b, 'pci-config/0001:02:1f.7.config', 'pci-config').functions[0].bdf).toEqual({ segment: 1, bus: 2, devfn: 0xff });
  });
  it('no address, odd sizes, empty files are warned', () => {
    expect(sysfsConfigDump(new Uint8Array(256), 'dump/config').warnings[0].message).toMatch(/cannot tell which PCI function/);
    const big = sysfsConfigDump(new Uint8Array(5000), '0000:00:01.0.bin');
    expect(big.functions[0].bytes.length).toBe(4096);
    expect(big.warnings[0]).toEqual({ message: expect.stringMatching(/5000 bytes/), source: { part: '0000:00:01.0.bin', offset: 0 } });
    expect(sysfsConfigDump(new Uint8Array(100), '0000:00:01.0').warnings[0].message).toMatch(/100 bytes of configuration space/);
    expect(sysfsConfigDump(new Uint8Array(0), '0000:00:01.0').functions).toEqual([]);
    expect(sysfsConfigDump(new Uint8Array(63), '0000:00:01.0').functions).toEqual([]);
  });
});
