/**
 * Hostile input: random bytes (and random bytes behind each format's magic) fed to every
 * opener must either open or throw InputError — never anything else, never hang — and reads at
 * random addresses on whatever opens must not throw.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openElfImage } from '../../src/image/elf.js';
import { openLimeImage } from '../../src/image/lime.js';
import { openMemoryImage } from '../../src/image/open.js';
import { openRawImage } from '../../src/image/raw.js';
import { openSparseImage } from '../../src/image/sparse.js';
import type { PhysicalMemory } from '../../src/image/types.js';
import { buildSparseDump } from '../../src/synth/sparse-writer.js';
import { concat, elfCore, limeHeader, tmpPath } from './fixtures.js';

const openers: [string, (p: string) => PhysicalMemory][] = [
  ['openMemoryImage', (p) => openMemoryImage(p)],
  ['raw', (p) => openRawImage(p)],
  ['elf', openElfImage],
  ['lime', openLimeImage],
  ['sparse', openSparseImage],
];

// Valid prefixes, so the fuzzing reaches past the magic checks into the interesting parts.
const prefixes: Uint8Array[] = [
  new Uint8Array(0),
  elfCore([], [], { size: 64 }).subarray(0, 24),
  elfCore([{ offset: 0x100, paddr: 0x1000, filesz: 0x100 }], [], { size: 120 }).subarray(0, 100),
  limeHeader(0x1000n, 0x1fffn).subarray(0, 8),
  limeHeader(0x1000n, 0x1003n),
  buildSparseDump(new Map()).subarray(0, 24),
  buildSparseDump(new Map([[1, new Uint8Array(4096)]])).subarray(0, 64),
];

function check(bytes: Uint8Array, addrs: number[]): void {
  const p = tmpPath('fuzz');
  fs.writeFileSync(p, bytes);
  for (const [, open] of openers) {
    let mem: PhysicalMemory | undefined;
    try {
      mem = open(p);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      continue;
    }
    try {
      for (const a of addrs) {
        mem.read(a, 8);
        mem.fileOffsetOf(a);
      }
      for (const r of mem.ranges) mem.read(r.start, Math.min(16, r.end - r.start));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
    } finally {
      mem.close();
    }
  }
  fs.rmSync(p);
}

describe('readers on hostile bytes', () => {
  it('throw nothing but InputError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.oneof(fc.nat(0x3000), fc.maxSafeNat()), { maxLength: 4 }),
        (prefix, tail, addrs) => check(concat(prefix, tail), addrs),
      ),
      { numRuns: 300 },
    );
  });

  it('random program header fields in a well-formed ELF header', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ offset: fc.oneof(fc.nat(0x400), fc.maxSafeNat()), paddr: fc.oneof(fc.nat(0x4000), fc.maxSafeNat()), filesz: fc.nat(0x800), memsz: fc.nat(0x1000) }), { maxLength: 6 }),
        fc.array(fc.nat(0x5000), { maxLength: 6 }),
        (phdrs, addrs) => check(elfCore(phdrs, [], { size: 0x400 }), addrs),
      ),
      { numRuns: 200 },
    );
  });

  it('LiME ranges with random addresses never hang or throw other errors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), len: fc.bigInt({ min: -2n, max: 0x100n }) }), { maxLength: 5 }),
        (ranges) => {
          const parts = ranges.flatMap(({ s, len }) => {
            const e = (s + len) & ((1n << 64n) - 1n);
            return [limeHeader(s, e), new Uint8Array(Number(len > 0n ? len : 1n))];
          });
          check(concat(...parts), [0, 0x100]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

