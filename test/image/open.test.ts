import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { BlockFile } from '../../src/image/file.js';
import { openMemoryImage, sniffImageFormat } from '../../src/image/open.js';
import { openRawImage } from '../../src/image/raw.js';
import { buildSparseDump } from '../../src/synth/sparse-writer.js';
import { concat, elfCore, inputError, limeHeader, pattern, tmpPath, writeTmp } from './fixtures.js';

const ascii = (s: string, size = 4096): Uint8Array => {
  const b = new Uint8Array(size);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
};

describe('raw images', () => {
  it('maps file offset = physical − base', () => {
    const data = pattern(1, 0x3000);
    const p = writeTmp(data, 'mem.raw');
    const m = openRawImage(p, { base: 0x100000 });
    expect(m.ranges).toEqual([{ start: 0x100000, end: 0x103000, fileOffset: 0 }]);
    expect([...m.read(0x101ffe, 4)!]).toEqual([...data.subarray(0x1ffe, 0x2002)]);
    expect(m.read(0xfffff, 2)).toBeUndefined();
    expect(m.read(0x102fff, 2)).toBeUndefined();
    expect(m.fileOffsetOf(0x100010)).toBe(0x10);
    m.close();
    const z = openRawImage(p);
    expect([...z.read(0, 4)!]).toEqual([...data.subarray(0, 4)]);
    z.close();
  });

  it('refuses an empty file and a bad base', () => {
    expect(inputError(() => openRawImage(writeTmp(new Uint8Array(0)))).message).toMatch(/empty file/);
    expect(() => openRawImage(writeTmp(new Uint8Array(8)), { base: -1 })).toThrow(UsageError);
  });
});

describe('block file reader', () => {
  it('serves reads through a bounded cache and detects reads past EOF', () => {
    const data = pattern(2, 0x5000 + 17);
    const f = new BlockFile(writeTmp(data), 2);
    for (const [off, len] of [[0, 8], [0x4ffc, 8], [0x5000, 17], [0x1000, 0x3000], [0, 0x5011], [7, 0x5000]]) {
      expect([...f.read(off, len)]).toEqual([...data.subarray(off, off + len)]);
      expect(f.cachedBlocks).toBeLessThanOrEqual(2);
    }
    expect(inputError(() => f.read(0x5000, 18)).message).toMatch(/file ends at 0x5011/);
    expect(inputError(() => f.read(-1, 1)).message).toMatch(/invalid file range/);
    f.close();
  });

  it('turns missing files and directories into InputError', () => {
    expect(inputError(() => new BlockFile(tmpPath('nope'))).message).toMatch(/no such file/);
    const d = tmpPath('dir');
    fs.mkdirSync(d);
    expect(inputError(() => openMemoryImage(d)).message).toMatch(/is a directory/);
  });
});

describe('format sniffing and openMemoryImage', () => {
  it('recognises every format by content', () => {
    expect(sniffImageFormat(elfCore([], []))).toBe('elf');
    expect(sniffImageFormat(limeHeader(0n, 0xfffn))).toBe('lime');
    expect(sniffImageFormat(buildSparseDump(new Map()))).toBe('sparse');
    expect(sniffImageFormat(ascii('minidump FreeBSD/amd64'))).toBe('minidump');
    expect(sniffImageFormat(ascii('minidump FreeBSD/i386'))).toBe('minidump');
    expect(sniffImageFormat(ascii('KDUMP   '))).toBe('kdump-compressed');
    expect(sniffImageFormat(ascii('DISKDUMP'))).toBe('kdump-compressed');
    expect(sniffImageFormat(ascii('makedumpfile'))).toBe('kdump-flat');
    expect(sniffImageFormat(ascii('FreeBSD Text Dump'))).toBe('freebsd-textdump');
    expect(sniffImageFormat(ascii('FreeBSD Kernel Dump'))).toBe('freebsd-dump');
    expect(sniffImageFormat(new Uint8Array(4096))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array(0))).toBeUndefined();
  });

  it('opens each format and falls back to raw for unrecognised content', () => {
    const page = pattern(3, 4096);
    const sparse = openMemoryImage(writeTmp(buildSparseDump(new Map([[0x42, page]]), '{}')));
    expect(sparse.format).toBe('sparse');
    expect([...sparse.read(0x42000, 4)!]).toEqual([...page.subarray(0, 4)]);
    expect(sparse.embeddedRegisters).toBe('{}');
    const lime = openMemoryImage(writeTmp(concat(limeHeader(0x9000n, 0x9fffn), page)));
    expect(lime.format).toBe('lime');
    expect([...lime.read(0x9ffc, 4)!]).toEqual([...page.subarray(0xffc)]);
    const elf = openMemoryImage(writeTmp(elfCore([{ offset: 0x1000, paddr: 0x7000, filesz: 0x1000 }], [{ offset: 0x1000, bytes: page }])));
    expect(elf.format).toBe('elf');
    expect([...elf.read(0x7000, 4)!]).toEqual([...page.subarray(0, 4)]);
    const raw = openMemoryImage(writeTmp(page), { base: 0x5000 });
    expect(raw.format).toBe('raw');
    expect(raw.ranges).toEqual([{ start: 0x5000, end: 0x6000, fileOffset: 0 }]);
    // An explicit format wins over sniffing: an ELF read as raw.
    const forced = openMemoryImage(writeTmp(elfCore([], [], { size: 0x100 })), { format: 'raw' });
    expect(forced.format).toBe('raw');
    expect(forced.ranges).toEqual([{ start: 0, end: 0x100, fileOffset: 0 }]);
    // A base on a non-raw image is refused, not silently ignored; a base off a page boundary too.
    expect(() => openMemoryImage(writeTmp(concat(limeHeader(0x9000n, 0x9fffn), page)), { base: 0x1000 })).toThrow(/--base 0x1000 applies to raw images only: .* is a LiME image/);
    expect(() => openMemoryImage(writeTmp(page), { base: 0x5800 })).toThrow(/--base 0x5800: not page-aligned/);
    for (const m of [sparse, lime, elf, raw, forced]) m.close();
  });

  it('reads an ELF core behind a FreeBSD kerneldumpheader (dump device read as is)', () => {
    const page = pattern(4, 4096);
    const core = elfCore([{ offset: 0x1000, paddr: 0x3000, filesz: 0x1000 }], [{ offset: 0x1000, bytes: page }]);
    const m = openMemoryImage(writeTmp(concat(ascii('FreeBSD Kernel Dump', 512), core)));
    expect(m.format).toBe('elf');
    expect(m.warnings[0]).toMatch(/kerneldumpheader/);
    expect([...m.read(0x3000, 8)!]).toEqual([...page.subarray(0, 8)]);
    expect(m.fileOffsetOf(0x3000)).toBe(512 + 0x1000);
    m.close();
  });

  it('refuses recognised but unsupported formats, naming them', () => {
    const cases: [Uint8Array, RegExp][] = [
      [ascii('minidump FreeBSD/amd64'), /FreeBSD minidump \("minidump FreeBSD\/amd64"\)/],
      [concat(ascii('FreeBSD Kernel Dump', 512), ascii('minidump FreeBSD/i386')), /FreeBSD minidump \("minidump FreeBSD\/i386"\)/],
      [ascii('KDUMP   '), /makedumpfile compressed kdump format is out of scope; convert with `makedumpfile -E` to ELF/],
      [ascii('DISKDUMP'), /makedumpfile compressed kdump/],
      [ascii('makedumpfile'), /makedumpfile flattened format/],
      [ascii('FreeBSD Text Dump'), /FreeBSD textdump/],
      [ascii('FreeBSD Kernel Dump'), /FreeBSD kernel dump header .*savecore/],
      [ascii('Cleared Kernel Dump'), /Cleared Kernel Dump/],
    ];
    for (const [bytes, re] of cases) {
      const e = inputError(() => openMemoryImage(writeTmp(bytes)));
      expect(e.message).toMatch(re);
      expect(e.offset).toBe(0);
    }
    expect(inputError(() => openMemoryImage(writeTmp(new Uint8Array(0)))).message).toMatch(/empty file/);
    expect(inputError(() => openMemoryImage(tmpPath('missing'))).message).toMatch(/no such file/);
  });
});
