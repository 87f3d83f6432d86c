/**
 * `readPages` (many 4 KiB pages in one call, the walker's leaf read-ahead) against `readInto` page
 * by page, on every reader that has it: the same bytes and the same present/absent answer for
 * pages present, absent, repeated, out of order, unaligned, in a zero tail or straddling two
 * segments — and pages that follow each other in the file cost one positioned read per run.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openElfImage } from '../../src/image/elf.js';
import { BlockFile } from '../../src/image/file.js';
import { openSparseImage } from '../../src/image/sparse.js';
import type { PhysicalMemory } from '../../src/image/types.js';
import { buildSparseDump } from '../../src/synth/sparse-writer.js';
import { elfCore, pattern, writeTmp } from './fixtures.js';

const PAGE = 4096;

/** Page by page with readInto: the answer readPages must give. */
function pageByPage(mem: PhysicalMemory, addrs: number[]): { bytes: Uint8Array; present: number[] } {
  const bytes = new Uint8Array(addrs.length * PAGE);
  const present = addrs.map((a, s) => (mem.readInto!(a, bytes.subarray(s * PAGE, (s + 1) * PAGE)) ? 1 : 0));
  return { bytes, present };
}

function batched(mem: PhysicalMemory, addrs: number[]): { bytes: Uint8Array; present: number[] } {
  const bytes = new Uint8Array(addrs.length * PAGE).fill(0xee);
  const present = new Uint8Array(addrs.length).fill(7);
  mem.readPages!(new Float64Array(addrs), addrs.length, bytes, present);
  return { bytes, present: [...present] };
}

/** Compare, ignoring the bytes of absent pages (unspecified by the contract). */
function expectSame(mem: PhysicalMemory, addrs: number[]): void {
  const want = pageByPage(mem, addrs);
  const got = batched(mem, addrs);
  expect(got.present).toEqual(want.present);
  want.present.forEach((p, s) => {
    if (p) expect(Buffer.compare(got.bytes.subarray(s * PAGE, (s + 1) * PAGE), want.bytes.subarray(s * PAGE, (s + 1) * PAGE))).toBe(0);
  });
}

/** Positioned reads the BlockFile makes (its one way to the file's bytes). */
function countReads(): { count: () => number } {
  const spy = vi.spyOn(BlockFile.prototype as unknown as { readAt: () => void }, 'readAt');
  return { count: () => spy.mock.calls.length };
}

afterEach(() => vi.restoreAllMocks());

describe('sparse dump readPages', () => {
  // Pages 0x100-0x10f and 0x200-0x203 present: two runs, contiguous in the file too.
  const pfns = [...Array.from({ length: 16 }, (_, i) => 0x100 + i), 0x200, 0x201, 0x202, 0x203];
  const mem = openSparseImage(writeTmp(buildSparseDump(new Map(pfns.map((p) => [p, pattern(p, PAGE)]))), 'd.sparse'));

  it('gives what readInto gives, page by page, for any list of addresses', () => {
    const addr = fc.oneof(
      fc.constantFrom(...pfns).map((p) => p * PAGE),
      fc.integer({ min: 0xfe, max: 0x210 }).map((p) => p * PAGE), // present or not
      fc.integer({ min: 0x100 * PAGE, max: 0x110 * PAGE }), // unaligned too
    );
    fc.assert(fc.property(fc.array(addr, { minLength: 1, maxLength: 40 }), (addrs) => expectSame(mem, addrs)), { numRuns: 300 });
  });

  it('reads pages that follow each other in the file with one positioned read per run', () => {
    const reads = countReads();
    const addrs = [...Array.from({ length: 16 }, (_, i) => (0x100 + i) * PAGE), 0x150 * PAGE, 0x200 * PAGE, 0x201 * PAGE, 0x203 * PAGE];
    const got = batched(mem, addrs);
    expect(got.present).toEqual([...Array(16).fill(1), 0, 1, 1, 1]);
    // 0x100-0x10f, then 0x200-0x201, then 0x203 (0x150 is absent: no read).
    expect(reads.count()).toBe(3);
  });
});

describe('ELF core readPages', () => {
  // Segment A: physical 0x10000-0x17fff at file 0x1000; segment B right after it at physical
  // 0x18000, 0x1800 bytes in the file then a zero tail to 0x1a000 (p_memsz 0x2000).
  const A = pattern(3, 0x8000);
  const B = pattern(4, 0x1800);
  const mem = openElfImage(writeTmp(elfCore(
    [{ offset: 0x1000, paddr: 0x10000, filesz: 0x8000 }, { offset: 0x9000, paddr: 0x18000, filesz: 0x1800, memsz: 0x2000 }],
    [{ offset: 0x1000, bytes: A }, { offset: 0x9000, bytes: B }],
  ), 'core.elf'));

  it('gives what readInto gives: present, absent, zero tail, straddling the segments, unaligned', () => {
    const addr = fc.oneof(fc.integer({ min: 0xe, max: 0x1b }).map((p) => p * PAGE), fc.integer({ min: 0xe000, max: 0x1b000 }));
    fc.assert(fc.property(fc.array(addr, { minLength: 1, maxLength: 30 }), (addrs) => expectSame(mem, addrs)), { numRuns: 300 });
    // By hand: the page half in the file, half in the zero tail; one straddling A and B.
    const got = batched(mem, [0x19000, 0x17800, 0x1a000]);
    expect(got.present).toEqual([1, 1, 0]);
    expect([...got.bytes.subarray(0, 0x800)]).toEqual([...B.subarray(0x1000, 0x1800)]);
    expect(got.bytes.subarray(0x800, PAGE).every((b) => b === 0)).toBe(true);
    expect([...got.bytes.subarray(PAGE, PAGE + 0x800)]).toEqual([...A.subarray(0x7800)]);
    expect([...got.bytes.subarray(PAGE + 0x800, 2 * PAGE)]).toEqual([...B.subarray(0, 0x800)]);
  });

  it('reads pages that follow each other in the file with one positioned read per run', () => {
    const reads = countReads();
    batched(mem, [0x10000, 0x11000, 0x12000, 0x14000, 0x15000]);
    expect(reads.count()).toBe(2);
  });
});
