import { describe, expect, it } from 'vitest';
import { openLimeImage } from '../../src/image/lime.js';
import { concat, inputError, limeHeader, pattern, writeTmp } from './fixtures.js';

describe('LiME reader', () => {
  // Range 1: physical 0x1000-0x1fff (e_addr inclusive → 0x1000 bytes); range 2: 0x100000-0x1007ff.
  const r1 = pattern(1, 0x1000);
  const r2 = pattern(2, 0x800);
  const image = concat(limeHeader(0x1000n, 0x1fffn), r1, limeHeader(0x100000n, 0x1007ffn), r2);

  it('maps each range after its 32-byte header (end address inclusive)', () => {
    const m = openLimeImage(writeTmp(image, 'mem.lime'));
    expect(m.format).toBe('lime');
    expect(m.warnings).toEqual([]);
    expect(m.ranges).toEqual([
      { start: 0x1000, end: 0x2000, fileOffset: 32 },
      { start: 0x100000, end: 0x100800, fileOffset: 32 + 0x1000 + 32 },
    ]);
    expect([...m.read(0x1000, 8)!]).toEqual([...r1.subarray(0, 8)]);
    expect([...m.read(0x1ff8, 8)!]).toEqual([...r1.subarray(0xff8)]);
    expect([...m.read(0x1007f0, 0x10)!]).toEqual([...r2.subarray(0x7f0)]);
    expect(m.fileOffsetOf(0x100010)).toBe(32 + 0x1000 + 32 + 0x10);
    expect(m.read(0x2000, 1)).toBeUndefined();
    expect(m.read(0x1ff8, 9)).toBeUndefined();
    expect(m.read(0x100800, 1)).toBeUndefined();
    expect(m.read(0, 1)).toBeUndefined();
    m.close();
  });

  it('rejects a wrong magic, an unknown version, and a range going backwards (with the header offset)', () => {
    const badMagic = inputError(() => openLimeImage(writeTmp(concat(limeHeader(0n, 0xfn, { magic: 0x464c457f }), pattern(3, 16)))));
    expect(badMagic.message).toMatch(/magic/);
    expect(badMagic.offset).toBe(0);
    expect(inputError(() => openLimeImage(writeTmp(concat(limeHeader(0n, 0xfn, { version: 2 }), pattern(3, 16))))).message).toMatch(/version 2/);
    const second = 32 + 0x1000;
    const back = inputError(() => openLimeImage(writeTmp(concat(limeHeader(0x1000n, 0x1fffn), r1, limeHeader(0x5000n, 0x4fffn)))));
    expect(back.message).toMatch(/backwards/);
    expect(back.offset).toBe(second);
    // A bad magic in the second header points at that header.
    const junk = inputError(() => openLimeImage(writeTmp(concat(limeHeader(0x1000n, 0x1fffn), r1, new Uint8Array(32).fill(0x41)))));
    expect(junk.offset).toBe(second);
  });

  it('rejects a truncated first header and an empty file', () => {
    expect(inputError(() => openLimeImage(writeTmp(limeHeader(0n, 0xfffn).subarray(0, 20)))).message).toMatch(/truncated LiME header/);
    expect(inputError(() => openLimeImage(writeTmp(new Uint8Array(0)))).message).toMatch(/empty file/);
  });

  it('clips a range running past EOF with a warning', () => {
    // Header claims 0x2000 bytes; only 0x1000 follow.
    const m = openLimeImage(writeTmp(concat(limeHeader(0x1000n, 0x1000n), pattern(4, 1), limeHeader(0x8000n, 0x9fffn), pattern(5, 0x1000))));
    expect(m.warnings).toHaveLength(1);
    expect(m.warnings[0]).toMatch(/LiME range at byte 0x21 .*runs past the end of the file.*keeping the first 0x1000 bytes/);
    expect(m.ranges).toEqual([
      { start: 0x1000, end: 0x1001, fileOffset: 32 },
      { start: 0x8000, end: 0x9000, fileOffset: 33 + 32 },
    ]);
    expect([...m.read(0x8ffc, 4)!]).toEqual([...pattern(5, 0x1000).subarray(0xffc)]);
    expect(m.read(0x9000, 1)).toBeUndefined();
    m.close();
  });

  it('warns on overlapping ranges; the earlier range in the file wins', () => {
    const a = pattern(6, 0x1000);
    const b = pattern(7, 0x1000);
    const m = openLimeImage(writeTmp(concat(limeHeader(0x1000n, 0x1fffn), a, limeHeader(0x1800n, 0x27ffn), b)));
    expect(m.warnings).toHaveLength(1);
    expect(m.warnings[0]).toMatch(/LiME range at byte 0x1020 overlaps LiME range at byte 0x0 at physical 0x1800-0x1fff/);
    expect([...m.read(0x1ffe, 4)!]).toEqual([...a.subarray(0xffe), ...b.subarray(0x800, 0x802)]);
    m.close();
  });

  it('warns about trailing bytes too short for a header', () => {
    const m = openLimeImage(writeTmp(concat(limeHeader(0n, 0xfn), pattern(8, 16), new Uint8Array(5))));
    expect(m.warnings[0]).toMatch(/5 trailing bytes/);
    expect(m.ranges).toEqual([{ start: 0, end: 16, fileOffset: 32 }]);
    m.close();
  });
});
