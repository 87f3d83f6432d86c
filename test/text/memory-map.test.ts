import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { looksLikeMemoryMap, parseMemoryMap } from '../../src/text/memory-map.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/text');
const read = (f: string): string => readFileSync(path.join(FIXTURES, f), 'utf8');

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('/proc/iomem', () => {
  const text = read('proc-iomem.txt');
  it('top-level entries only, inclusive ends made exclusive, types from the names', () => {
    expect(looksLikeMemoryMap(text)).toBe(true);
    const c = parseMemoryMap(text, 'iomem');
    expect(c.warnings).toEqual([]);
    expect(c.memoryMap!.map((r) => [r.start, r.end, r.type])).toEqual([
      [0x0, 0x1000, 'reserved'],
      [0x1000, 0x9fc00, 'ram'],
      [0x9fc00, 0xa0000, 'reserved'],
      [0xa0000, 0xc0000, 'mmio'],
      [0xc0000, 0xc9600, 'reserved'], // Video ROM
      [0xf0000, 0x100000, 'reserved'],
      [0x100000, 0x7ffdf000, 'ram'],
      [0x7ffdf000, 0x80000000, 'reserved'],
      [0x80000000, 0xb0000000, 'mmio'],
      [0xb0000000, 0xc0000000, 'mmio'],
      [0xc0000000, 0xfec00000, 'mmio'],
      [0xfed90000, 0xfed91000, 'mmio'],
      [0xfee00000, 0xfee01000, 'mmio'],
      [0xfeffc000, 0xff000000, 'reserved'],
      [0x100000000, 0x280000000, 'ram'],
    ]);
    const ram = c.memoryMap!.find((r) => r.start === 0x100000)!;
    expect(ram).toMatchObject({ name: 'System RAM', source: { part: 'iomem', line: 8 } });
  });

  it('read as non-root (all zeros): InputError saying so', () => {
    const zeros = text.replace(/[0-9a-f]+-[0-9a-f]+ :/g, '00000000-00000000 :');
    const e = inputError(() => parseMemoryMap(zeros, 'iomem'));
    expect(e.message).toMatch(/all zero.*root/);
    expect(e.line).toBe(1);
  });

  it('CRLF and a trailing prompt: same regions, one warning with its line', () => {
    const c = parseMemoryMap(`${text.replace(/\n/g, '\r\n')}root@host:~# \r\n`, 'iomem');
    expect(c.memoryMap).toHaveLength(15);
    expect(c.warnings.map((w) => w.source?.line)).toEqual([21]);
  });
});

describe('dmesg BIOS-e820 and FreeBSD machdep.smap', () => {
  it('e820 lines of a kernel log (other lines silently skipped)', () => {
    const c = parseMemoryMap(read('dmesg-e820.txt'), 'dmesg');
    expect(c.warnings).toEqual([]);
    expect(c.memoryMap!.map((r) => [r.start, r.end, r.type])).toEqual([
      [0x0, 0xa0000 - 0x400, 'ram'],
      [0x9fc00, 0xa0000, 'reserved'],
      [0xf0000, 0x100000, 'reserved'],
      [0x100000, 0x7f8ee000, 'ram'],
      [0x7f8ee000, 0x7f8fe000, 'acpi'],
      [0x7f8fe000, 0x7f97e000, 'nvs'],
      [0x7ffdf000, 0x80000000, 'reserved'],
    ]);
  });

  it('older e820 spelling with exclusive ends', () => {
    const t = ' BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)\n BIOS-e820: 00000000000f0000 - 0000000000100000 (reserved)\n';
    expect(parseMemoryMap(t, 'd').memoryMap!.map((r) => [r.start, r.end, r.type])).toEqual([[0, 0x9fc00, 'ram'], [0xf0000, 0x100000, 'reserved']]);
  });

  it('sysctl machdep.smap: base + len, types 1-5 and others', () => {
    const text = read('sysctl-smap.txt');
    expect(looksLikeMemoryMap(text)).toBe(true);
    const c = parseMemoryMap(text, 'smap');
    expect(c.warnings).toEqual([]);
    expect(c.memoryMap!.map((r) => [r.start, r.end, r.type])).toEqual([
      [0x0, 0x9fc00, 'ram'],
      [0x9fc00, 0xa0000, 'reserved'],
      [0x100000, 0x7ff00000, 'ram'],
      [0x7ff00000, 0x7ff10000, 'acpi'],
      [0x7ff10000, 0x7ff20000, 'nvs'],
      [0x100000000, 0x100001000, 'other'],
    ]);
    expect(c.memoryMap![0].source).toEqual({ part: 'smap', line: 2 });
  });

  it('a half-pasted smap: the cut line is a warning with its line number', () => {
    const t = 'SMAP type=01, xattr=01, base=0000000000000000, len=000000000009fc00\nSMAP type=02, xattr=01, base=00000000\n';
    const c = parseMemoryMap(t, 's');
    expect(c.memoryMap).toHaveLength(1);
    expect(c.warnings.map((w) => w.source?.line)).toEqual([2]);
  });
});

describe('bad input', () => {
  it('random text is an InputError at line 1', () => {
    expect(inputError(() => parseMemoryMap('nothing here\n', 'm'))).toMatchObject({ file: 'm', line: 1 });
    expect(looksLikeMemoryMap('nothing here\n')).toBe(false);
  });

  it('random strings never throw anything but InputError', () => {
    const piece = fc.constantFrom('00000000-00000fff : Reserved', '  fff-0 : x', 'ffffffffffffffff-ffffffffffffffff : PCI Bus',
      'BIOS-e820: [mem 0x0-0xffffffffffffffff] usable', 'SMAP type=01, xattr=01, base=ffffffffffffffff, len=ffffffffffffffff', 'machdep.smap: ', '');
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 12 }), (parts) => {
      try {
        parseMemoryMap(parts.join('\n'), 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 500 });
  });
});
