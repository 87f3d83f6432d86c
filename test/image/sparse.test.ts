import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSparseImage } from '../../src/image/sparse.js';
import { buildSparseDump, writeSparseDump } from '../../src/synth/sparse-writer.js';
import { inputError, pattern, tmpPath, writeTmp } from './fixtures.js';

const REGS = '{"units":[{"name":"dmar0","registers":{"RTADDR":"0x2643000"}}],"note":"é"}';

function pages(): Map<number, Uint8Array> {
  // Inserted out of order on purpose: the writer sorts.
  return new Map([
    [0x2644, pattern(3, 4096)],
    [0x10, pattern(1, 4096)],
    [0x2643, pattern(2, 4096)],
    [0x123456789, pattern(4, 4096)], // above 2^32 pages: address 0x123456789000
  ]);
}

describe('sparse page dump', () => {
  it('writes the documented layout (checked field by field)', () => {
    const b = buildSparseDump(pages(), REGS);
    const dv = new DataView(b.buffer);
    expect(new TextDecoder().decode(b.subarray(0, 16))).toBe('DMARSIFT-SPARSE\0');
    expect(dv.getUint32(16, true)).toBe(1);
    expect(dv.getUint32(20, true)).toBe(0);
    expect(dv.getBigUint64(24, true)).toBe(4n);
    expect(dv.getBigUint64(32, true)).toBe(64n);
    expect(dv.getBigUint64(40, true)).toBe(4096n);
    expect(dv.getBigUint64(48, true)).toBe(4096n + 4n * 4096n);
    const regBytes = new TextEncoder().encode(REGS);
    expect(dv.getBigUint64(56, true)).toBe(BigInt(regBytes.length));
    expect([0, 1, 2, 3].map((i) => dv.getBigUint64(64 + 8 * i, true))).toEqual([0x10n, 0x2643n, 0x2644n, 0x123456789n]);
    expect([...b.subarray(4096 + 4096, 4096 + 4096 + 16)]).toEqual([...pattern(2, 16)]);
    expect(b.length).toBe(4096 * 5 + regBytes.length);
  });

  it('reads pages back by physical address; the file writer and the in-memory builder agree', () => {
    const p = tmpPath('mem.sparse');
    writeSparseDump(p, pages(), REGS);
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(buildSparseDump(pages(), REGS));
    const m = openSparseImage(p);
    expect(m.format).toBe('sparse');
    expect(m.embeddedRegisters).toBe(REGS);
    expect(m.ranges).toEqual([
      { start: 0x10000, end: 0x11000, fileOffset: 4096 },
      { start: 0x2643000, end: 0x2645000, fileOffset: 8192 },
      { start: 0x123456789000, end: 0x12345678a000, fileOffset: 4 * 4096 },
    ]);
    expect(m.bytesPresent).toBe(4 * 4096); // 1 + 2 + 1 pages, counted without the ranges
    expect([...m.read(0x10008, 8)!]).toEqual([...pattern(1, 16).subarray(8)]);
    expect([...m.read(0x2643ff8, 16)!]).toEqual([...pattern(2, 4096).subarray(0xff8), ...pattern(3, 8)]);
    expect([...m.read(0x123456789ffc, 4)!]).toEqual([...pattern(4, 4096).subarray(0xffc)]);
    expect(m.fileOffsetOf(0x2644010)).toBe(3 * 4096 + 0x10);
    // Holes, and reads running off present pages.
    expect(m.read(0x11000, 1)).toBeUndefined();
    expect(m.read(0x10ffc, 8)).toBeUndefined();
    expect(m.read(0x2644ffc, 8)).toBeUndefined();
    expect(m.read(0x0, 1)).toBeUndefined();
    expect(m.fileOffsetOf(0x11000)).toBeUndefined();
    m.close();
  });

  it('holds an empty dump and a dump without registers', () => {
    const empty = openSparseImage(writeTmp(buildSparseDump(new Map())));
    expect(empty.ranges).toEqual([]);
    expect(empty.bytesPresent).toBe(0);
    expect(empty.embeddedRegisters).toBeUndefined();
    expect(empty.read(0, 1)).toBeUndefined();
    const it = openSparseImage(writeTmp(buildSparseDump([{ pfn: 5, data: pattern(9, 4096) }])));
    expect(it.embeddedRegisters).toBeUndefined();
    expect([...it.read(0x5000, 2)!]).toEqual([...pattern(9, 2)]);
  });

  it('rejects bad headers, an unsorted index, and regions past EOF', () => {
    const good = buildSparseDump(pages(), REGS);
    const edit = (f: (dv: DataView, b: Uint8Array) => void, cut?: number): string => {
      const b = good.slice(0, cut);
      f(new DataView(b.buffer), b);
      return writeTmp(b, 'bad.sparse');
    };
    const e1 = inputError(() => openSparseImage(edit((_, b) => { b[3] = 0x78; })));
    expect(e1.message).toMatch(/magic/);
    expect(inputError(() => openSparseImage(edit((dv) => dv.setUint32(16, 2, true)))).message).toMatch(/version 2/);
    expect(inputError(() => openSparseImage(edit((dv) => dv.setUint32(20, 1, true)))).message).toMatch(/flags/);
    expect(inputError(() => openSparseImage(edit(() => undefined, 40))).message).toMatch(/truncated sparse dump header/);

    // Index out of order: swap entries 1 and 2.
    const unsorted = inputError(() => openSparseImage(edit((dv) => { dv.setBigUint64(72, 0x2644n, true); dv.setBigUint64(80, 0x2643n, true); })));
    expect(unsorted.message).toMatch(/not strictly ascending/);
    expect(unsorted.offset).toBe(80);
    // A duplicate PFN is out of order too.
    expect(inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(72, 0x10n, true)))).offset).toBe(72);
    // PFN beyond 2^41.
    expect(inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(88, 1n << 45n, true)))).message).toMatch(/beyond any physical address/);

    // File cut inside page data: page_count × 4096 no longer fits.
    const cut = inputError(() => openSparseImage(edit(() => undefined, 4096 * 3)));
    expect(cut.message).toMatch(/page data .*runs past the end of the file|cannot fit/);
    // Index offset past EOF.
    const idx = inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(32, 0x100000n, true))));
    expect(idx.message).toMatch(/PFN index .*runs past the end of the file/);
    expect(idx.offset).toBe(32);
    // Index overlapping the header.
    expect(inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(32, 8n, true)))).message).toMatch(/overlaps the 64-byte header/);
    // Huge offsets (beyond 2^53).
    expect(inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(40, 0xffffffffffffffffn, true)))).offset).toBe(40);
    // Registers blob past EOF, or not UTF-8.
    expect(inputError(() => openSparseImage(edit((dv) => dv.setBigUint64(56, 0x10000n, true)))).message).toMatch(/registers blob .*runs past/);
    expect(inputError(() => openSparseImage(edit((_, b) => { b[b.length - 3] = 0xff; }))).message).toMatch(/not valid UTF-8/);
  });

  it('writer refuses pages of the wrong size and duplicate PFNs', () => {
    expect(() => buildSparseDump(new Map([[1, new Uint8Array(100)]]))).toThrow(RangeError);
    expect(() => buildSparseDump([{ pfn: 1, data: new Uint8Array(4096) }, { pfn: 1, data: new Uint8Array(4096) }])).toThrow(/twice/);
  });
});
