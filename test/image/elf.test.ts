import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openElfImage } from '../../src/image/elf.js';
import { describeMissing } from '../../src/image/types.js';
import { elfCore, inputError, pattern, u64le, writeTmp } from './fixtures.js';
import { CAPTURES } from '../helpers/captures.js';

const A = pattern(1, 0x2000);
const B = pattern(2, 0x800);

describe('ELF64 core reader', () => {
  // Segment A: physical 0x1000-0x2fff from file 0x1000; segment B: physical 0x10000, 0x800 bytes
  // in the file (0x3000) then 0x800 bytes of zero tail (p_memsz 0x1000). A PT_NOTE in between.
  const image = elfCore(
    [
      { offset: 0x1000, paddr: 0x1000, filesz: 0x2000 },
      { type: 4, offset: 0x100, paddr: 0x50000, filesz: 0x10 },
      { offset: 0x3000, paddr: 0x10000, filesz: 0x800, memsz: 0x1000 },
    ],
    [{ offset: 0x1000, bytes: A }, { offset: 0x3000, bytes: B }],
  );
  const mem = openElfImage(writeTmp(image, 'core.elf'));

  it('lists PT_LOAD ranges by p_paddr, including the zero tail', () => {
    expect(mem.format).toBe('elf');
    expect(mem.warnings).toEqual([]);
    expect(mem.ranges).toEqual([
      { start: 0x1000, end: 0x3000, fileOffset: 0x1000 },
      { start: 0x10000, end: 0x11000, fileOffset: 0x3000 },
    ]);
  });

  it('returns the exact bytes at physical addresses', () => {
    expect([...mem.read(0x1005, 10)!]).toEqual([...A.subarray(5, 15)]);
    expect([...mem.read(0x2ff0, 0x10)!]).toEqual([...A.subarray(0x1ff0, 0x2000)]);
    // Crossing a 4 KiB cache block boundary inside the segment.
    expect([...mem.read(0x1ffc, 8)!]).toEqual([...A.subarray(0xffc, 0x1004)]);
    expect(mem.fileOffsetOf(0x1234)).toBe(0x1234);
  });

  it('reads p_filesz..p_memsz as zeros (present, but stored nowhere)', () => {
    const r = mem.read(0x107f0, 0x20)!;
    expect([...r.subarray(0, 0x10)]).toEqual([...B.subarray(0x7f0, 0x800)]);
    expect([...r.subarray(0x10)]).toEqual(new Array(0x10).fill(0));
    expect([...mem.read(0x10fff, 1)!]).toEqual([0]);
    expect(mem.fileOffsetOf(0x10900)).toBeUndefined();
    expect(mem.fileOffsetOf(0x107ff)).toBe(0x37ff);
  });

  it('says not present for holes, bytes after a segment, and reads running off a segment', () => {
    expect(mem.read(0x0, 1)).toBeUndefined();
    expect(mem.read(0x3000, 1)).toBeUndefined();
    expect(mem.read(0x2ff8, 16)).toBeUndefined();
    expect(mem.read(0x11000, 1)).toBeUndefined();
    expect(mem.read(0x50000, 1)).toBeUndefined(); // PT_NOTE is not memory
    expect(mem.fileOffsetOf(0x3000)).toBeUndefined();
    expect(describeMissing(mem, 0x5000)).toContain('0x1000-0x2fff');
  });

  it('reads across two physically adjacent segments stored apart in the file', () => {
    const m = openElfImage(writeTmp(elfCore(
      [{ offset: 0x3000, paddr: 0x0, filesz: 0x1000 }, { offset: 0x1000, paddr: 0x1000, filesz: 0x1000 }],
      [{ offset: 0x3000, bytes: pattern(3, 0x1000) }, { offset: 0x1000, bytes: pattern(4, 0x1000) }],
    )));
    const r = m.read(0xff0, 0x20)!;
    expect([...r.subarray(0, 0x10)]).toEqual([...pattern(3, 0x1000).subarray(0xff0)]);
    expect([...r.subarray(0x10)]).toEqual([...pattern(4, 0x10)]);
    m.close();
  });

  it('warns on overlapping segments and lets the earlier one win', () => {
    // #0 at physical 0x2000-0x3fff, #1 at 0x1000-0x4fff (covers #0 and more).
    const p0 = pattern(5, 0x2000);
    const p1 = pattern(6, 0x4000);
    const m = openElfImage(writeTmp(elfCore(
      [{ offset: 0x1000, paddr: 0x2000, filesz: 0x2000 }, { offset: 0x3000, paddr: 0x1000, filesz: 0x4000 }],
      [{ offset: 0x1000, bytes: p0 }, { offset: 0x3000, bytes: p1 }],
    )));
    expect(m.warnings.length).toBe(1);
    expect(m.warnings[0]).toMatch(/PT_LOAD #1 .*overlaps PT_LOAD #0 .*0x2000-0x3fff/);
    expect(m.ranges).toEqual([
      { start: 0x1000, end: 0x2000, fileOffset: 0x3000 },
      { start: 0x2000, end: 0x4000, fileOffset: 0x1000 },
      { start: 0x4000, end: 0x5000, fileOffset: 0x6000 },
    ]);
    expect([...m.read(0x1ffe, 4)!]).toEqual([...p1.subarray(0xffe, 0x1000), ...p0.subarray(0, 2)]);
    expect([...m.read(0x4000, 4)!]).toEqual([...p1.subarray(0x3000, 0x3004)]);
    m.close();
  });

  it('clips a segment running past EOF, with a warning; drops one wholly past EOF', () => {
    const p = pattern(7, 0x1800);
    // Segment claims 0x2000 bytes at file 0x1000 but the file ends at 0x2800.
    const m = openElfImage(writeTmp(elfCore(
      [{ offset: 0x1000, paddr: 0x100000, filesz: 0x2000 }, { offset: 0x9000, paddr: 0x200000, filesz: 0x1000 }],
      [{ offset: 0x1000, bytes: p }],
    )));
    expect(m.ranges).toEqual([{ start: 0x100000, end: 0x101800, fileOffset: 0x1000 }]);
    expect(m.warnings).toHaveLength(2);
    expect(m.warnings[0]).toMatch(/PT_LOAD #0.*run past the end of the file at 0x2800; keeping the first 0x1800 bytes/);
    expect(m.warnings[1]).toMatch(/PT_LOAD #1.*segment ignored/);
    expect([...m.read(0x1017fc, 4)!]).toEqual([...p.subarray(0x17fc)]);
    expect(m.read(0x101800, 1)).toBeUndefined();
    expect(m.read(0x200000, 1)).toBeUndefined();
    m.close();
  });

  it('takes the real program header count from section header 0 when e_phnum is PN_XNUM', () => {
    const p = pattern(9, 0x100);
    const b = elfCore(
      [{ offset: 0x400, paddr: 0x1000, filesz: 0x80 }, { offset: 0x480, paddr: 0x2000, filesz: 0x80 }],
      [{ offset: 0x400, bytes: p }],
      { phnum: 0xffff, size: 0x500 },
    );
    const dv = new DataView(b.buffer);
    dv.setBigUint64(40, 0x200n, true); // e_shoff
    dv.setUint32(0x200 + 44, 2, true); // sh_info of section header 0 = real e_phnum
    const m = openElfImage(writeTmp(b));
    expect(m.ranges).toEqual([
      { start: 0x1000, end: 0x1080, fileOffset: 0x400 },
      { start: 0x2000, end: 0x2080, fileOffset: 0x480 },
    ]);
    expect([...m.read(0x2000, 4)!]).toEqual([...p.subarray(0x80, 0x84)]);
    m.close();
    dv.setBigUint64(40, 0x4f0n, true); // section header 0 past EOF
    expect(inputError(() => openElfImage(writeTmp(b))).message).toMatch(/PN_XNUM/);
  });

  it('rejects malformed headers with InputError and an offset', () => {
    const good = elfCore([{ offset: 0x100, paddr: 0, filesz: 0x10 }], [{ offset: 0x100, bytes: pattern(8, 0x10) }]);
    const truncated = inputError(() => openElfImage(writeTmp(good.subarray(0, 40))));
    expect(truncated.message).toMatch(/truncated ELF header/);

    const wrong = good.slice();
    wrong[1] = 0x58;
    expect(inputError(() => openElfImage(writeTmp(wrong))).message).toMatch(/not an ELF file/);

    const e32 = inputError(() => openElfImage(writeTmp(elfCore([], [], { cls: 1 }))));
    expect(e32.message).toMatch(/ELF32 cores are not supported/);
    expect(e32.offset).toBe(4);

    expect(inputError(() => openElfImage(writeTmp(elfCore([], [], { data: 2 })))).message).toMatch(/big-endian/);
    expect(inputError(() => openElfImage(writeTmp(elfCore([], [], { eType: 2 })))).message).toMatch(/not a core dump: e_type 2/);
    expect(inputError(() => openElfImage(writeTmp(elfCore([], [], { phentsize: 32, phnum: 1 })))).message).toMatch(/e_phentsize 32/);

    // e_phnum says 10 headers, the file holds 1.
    const short = inputError(() => openElfImage(writeTmp(elfCore([{ offset: 0, paddr: 0, filesz: 0 }], [], { phnum: 10 }))));
    expect(short.message).toMatch(/program header table .* runs past the end of the file/);
    expect(short.offset).toBe(64);

    // e_phoff beyond the file.
    expect(inputError(() => openElfImage(writeTmp(elfCore([], [], { phoff: 0x10000, phnum: 1, size: 0x200 })))).message).toMatch(/runs past the end/);
  });

  it('reads the real QEMU core: the root entry for bus 0 points at context table 0x265b000 (P=1)', () => {
    const file = `${CAPTURES}/qemu-linux61-legacy/memory.elf`;
    expect(fs.existsSync(file)).toBe(true);
    const m = openElfImage(file);
    expect(m.format).toBe('elf');
    const entry = m.read(0x2643000, 16)!;
    expect(entry).toBeDefined();
    // README: RTADDR 0x2643000; bus 0 → context table 0x265b000; lo = CTP | P.
    expect(u64le(entry, 0)).toBe(0x265b001n);
    expect(u64le(entry, 8)).toBe(0n);
    // Buses 1 and 2 (entries at +0x10, +0x20).
    expect(u64le(m.read(0x2643010, 8)!)).toBe(0x269b001n);
    expect(u64le(m.read(0x2643020, 8)!)).toBe(0x269f001n);
    // Pages that mappings point to are cut out of this capture.
    expect(m.read(0x3343000, 8)).toBeUndefined();
    m.close();
  });
});
