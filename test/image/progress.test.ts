import { describe, expect, it } from 'vitest';
import { presentBytes, withReadProgress } from '../../src/image/progress.js';
import { describeMissing, type PhysicalMemory } from '../../src/image/types.js';

const fake = (): PhysicalMemory => ({
  path: 'x.raw', format: 'raw', warnings: [],
  ranges: [{ start: 0, end: 0x3000, fileOffset: 0 }, { start: 0x10000, end: 0x11000, fileOffset: 0x3000 }],
  read: (addr, length) => (addr + length <= 0x3000 ? new Uint8Array(length) : undefined),
  fileOffsetOf: (addr) => addr,
  close: () => undefined,
});

describe('withReadProgress', () => {
  it('counts only the bytes actually read and passes everything else through', () => {
    const seen: number[] = [];
    const m = withReadProgress(fake(), (n) => seen.push(n));
    expect(presentBytes(m)).toBe(0x4000);
    expect(m.read(0, 4096)?.length).toBe(4096);
    expect(m.read(0x20000, 4096)).toBeUndefined();
    expect(m.read(0x1000, 8)?.length).toBe(8);
    expect(seen).toEqual([4096, 4104]);
    expect(m.path).toBe('x.raw');
    expect(m.fileOffsetOf(0x123)).toBe(0x123);
  });

  it('keeps the reader\'s readInto (counted like read) and its bytesPresent', () => {
    const seen: number[] = [];
    const base: PhysicalMemory = {
      ...fake(),
      bytesPresent: 0x4000,
      readInto: (addr, dest) => {
        if (addr + dest.length > 0x3000) return false;
        dest.fill(7);
        return true;
      },
    };
    const m = withReadProgress(base, (n) => seen.push(n));
    const page = new Uint8Array(4096);
    expect(m.readInto?.(0x1000, page)).toBe(true);
    expect(page[4095]).toBe(7);
    expect(m.readInto?.(0x20000, page)).toBe(false);
    expect(seen).toEqual([4096]);
    expect(m.bytesPresent).toBe(0x4000);
    // Without readInto underneath there is none on top (callers fall back to read).
    expect(withReadProgress(fake(), () => undefined).readInto).toBeUndefined();
  });
});

describe('withReadProgress keeps what the image says of its lost bytes (issue 13: the wrapper forwarded a hand-kept list)', () => {
  it('missing ranges of a cut-short image are the same through the wrapper, so a lost table page stays "cut short", not absent', () => {
    const cut: PhysicalMemory = { ...fake(), missing: [{ start: 0x10000, end: 0x12000, fileOffset: 0x4000 }] };
    const m = withReadProgress(cut, () => undefined);
    expect(m.missing).toEqual(cut.missing);
    expect(describeMissing(m, 0x11000)).toBe(describeMissing(cut, 0x11000));
    expect(describeMissing(m, 0x11000)).toContain('cut short');
  });
  it('every property of the reader reads the same through the wrapper', () => {
    const base: PhysicalMemory = { ...fake(), bytesPresent: 0x4000, embeddedRegisters: '{}', warnings: ['w'], missing: [] };
    const m = withReadProgress(base, () => undefined);
    for (const k of ['path', 'format', 'ranges', 'bytesPresent', 'embeddedRegisters', 'warnings', 'missing'] as const) expect(m[k], k).toBe(base[k]);
  });
});

describe('presentBytes', () => {
  it('sums the ranges, or takes the reader\'s own count when it has one', () => {
    expect(presentBytes(fake())).toBe(0x4000);
    expect(presentBytes({ ...fake(), bytesPresent: 0x9000 })).toBe(0x9000);
  });
});
