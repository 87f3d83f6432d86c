/**
 * Images cut short (issue 11 items 6, 18): bytes the headers declare but the file lacks are
 * recorded as missing — unknown, not absent — and an image whose headers leave no usable memory
 * at all is an error naming the file and the header, not an empty image that decodes to
 * "0 present contexts".
 */
import { describe, expect, it } from 'vitest';
import { openElfImage } from '../../src/image/elf.js';
import { openLimeImage } from '../../src/image/lime.js';
import { openMemoryImage } from '../../src/image/open.js';
import { describeMissing, missingAt } from '../../src/image/types.js';
import { concat, elfCore, inputError, limeHeader, pattern, writeTmp } from './fixtures.js';

describe('ELF core cut short', () => {
  it('records the declared bytes past the end of the file as missing, separately from holes', () => {
    // PT_LOAD #0: 0x3000 bytes at phys 0x100000 from file 0x1000, but the file ends at 0x2800.
    // PT_LOAD #1: wholly past the end (phys 0x200000, 0x1000 bytes). PT_LOAD #2: complete.
    const m = openElfImage(writeTmp(elfCore(
      [{ offset: 0x1000, paddr: 0x100000, filesz: 0x3000 }, { offset: 0x9000, paddr: 0x200000, filesz: 0x1000 }, { offset: 0x800, paddr: 0x300000, filesz: 0x800 }],
      [{ offset: 0x800, bytes: pattern(1, 0x800) }, { offset: 0x1000, bytes: pattern(2, 0x1800) }],
    )));
    expect(m.ranges.map((r) => [r.start, r.end])).toEqual([[0x100000, 0x101800], [0x300000, 0x300800]]);
    expect(m.missing?.map((r) => [r.start, r.end])).toEqual([[0x101800, 0x103000], [0x200000, 0x201000]]);
    expect(missingAt(m, 0x101800)).toBeDefined();
    expect(missingAt(m, 0x102fff)).toBeDefined();
    expect(missingAt(m, 0x103000)).toBeUndefined(); // past the segment: a hole, not missing
    expect(missingAt(m, 0x1017ff)).toBeUndefined(); // present
    expect(missingAt(m, 0x200800)).toBeDefined();
    expect(missingAt(m, 0x300800)).toBeUndefined();
    expect(describeMissing(m, 0x102000)).toMatch(/cut short|past the end of the file/);
    expect(describeMissing(m, 0x103000)).not.toMatch(/cut short|past the end of the file/);
    m.close();
  });

  it('a p_memsz tail after file bytes that were cut is missing too (the tail was never reached)', () => {
    const m = openElfImage(writeTmp(elfCore([{ offset: 0x1000, paddr: 0x100000, filesz: 0x2000, memsz: 0x4000 }], [{ offset: 0x1000, bytes: pattern(3, 0x1000) }])));
    expect(m.ranges.map((r) => [r.start, r.end])).toEqual([[0x100000, 0x101000]]);
    expect(m.missing?.map((r) => [r.start, r.end])).toEqual([[0x101000, 0x104000]]);
    m.close();
  });

  it('a complete core has nothing missing', () => {
    const m = openElfImage(writeTmp(elfCore([{ offset: 0x1000, paddr: 0x100000, filesz: 0x1000, memsz: 0x3000 }], [{ offset: 0x1000, bytes: pattern(4, 0x1000) }])));
    expect(m.missing ?? []).toEqual([]);
    m.close();
  });
});

describe('ELF core with no usable memory is an error, not an empty image', () => {
  it('every PT_LOAD claims 2^63 bytes: InputError naming the first header', () => {
    const b = elfCore(
      [{ offset: 0x1000, paddr: 0x20000000, filesz: 0x1000 }, { offset: 0x2000, paddr: 0x3f800000, filesz: 0x1000 }],
      [{ offset: 0x1000, bytes: pattern(5, 0x2000) }],
    );
    const dv = new DataView(b.buffer);
    for (const at of [64, 64 + 56]) {
      dv.setBigUint64(at + 32, 1n << 63n, true); // p_filesz
      dv.setBigUint64(at + 40, 1n << 63n, true); // p_memsz
    }
    const file = writeTmp(b);
    const e = inputError(() => openMemoryImage(file));
    expect(e.file).toBe(file);
    expect(e.offset).toBe(64);
    expect(e.message).toMatch(/no usable PT_LOAD/);
    expect(e.message).toMatch(/PT_LOAD #0/);
    expect(e.message).toMatch(/0x8000000000000000/);
  });

  it('every PT_LOAD lies past the end of the file: InputError', () => {
    const file = writeTmp(elfCore([{ offset: 0x9000, paddr: 0x100000, filesz: 0x1000 }], [], { size: 0x1000 }));
    const e = inputError(() => openElfImage(file));
    expect(e.message).toMatch(/no usable PT_LOAD/);
    expect(e.message).toMatch(/past the end of the file/);
    expect(e.offset).toBe(64);
  });

  it('no PT_LOAD at all (notes only, or no program headers): InputError', () => {
    expect(inputError(() => openElfImage(writeTmp(elfCore([{ type: 4, offset: 0x100, paddr: 0, filesz: 0x10 }], [{ offset: 0x100, bytes: pattern(6, 0x10) }])))).message).toMatch(/no PT_LOAD/);
    expect(inputError(() => openElfImage(writeTmp(elfCore([], [], { size: 0x100 })))).message).toMatch(/no program headers/);
  });
});

describe('LiME image cut short', () => {
  it('records the rest of the cut range as missing', () => {
    const m = openLimeImage(writeTmp(concat(limeHeader(0x1000n, 0x1fffn), pattern(1, 0x1000), limeHeader(0x10000n, 0x13fffn), pattern(2, 0x1800))));
    expect(m.ranges.map((r) => [r.start, r.end])).toEqual([[0x1000, 0x2000], [0x10000, 0x11800]]);
    expect(m.missing?.map((r) => [r.start, r.end])).toEqual([[0x11800, 0x14000]]);
    m.close();
  });

  it('a LiME image whose only range has no bytes at all is an error', () => {
    expect(inputError(() => openLimeImage(writeTmp(limeHeader(0x1000n, 0x1fffn)))).message).toMatch(/no memory/);
  });
});
