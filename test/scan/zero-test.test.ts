/** The scan's zero test (src/scan/zero-test.wat): where the first non-zero 64-byte block is. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_TEST_WASM } from '../../src/scan/zero-test-wasm.js';
import { zeroTestBuffer } from '../../src/scan/zero-test.js';
import { assembleWat } from '../../src/tools/wat.js';

describe('zeroTestBuffer', () => {
  it('finds the first 64-byte block holding a non-zero byte, from any start, as a byte-by-byte search does', () => {
    const z = zeroTestBuffer(1 << 16);
    expect(z).toBeDefined();
    const bytes = new Uint8Array(z!.buffer, 0, z!.bytes);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: (1 << 16) - 1 }), value: fc.integer({ min: 1, max: 255 }) }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 4096 }),
        fc.integer({ min: 0, max: 256 }),
        (set, at, blocks) => {
          bytes.fill(0);
          for (const s of set) bytes[s.at] = s.value;
          const len = Math.min(blocks * 64, (1 << 16) - at - ((1 << 16) - at) % 64);
          // The reference: the first non-zero byte, rounded down to its block.
          let want = len;
          for (let i = 0; i < len; i++) {
            if (bytes[at + i] !== 0) {
              want = i - (i % 64);
              break;
            }
          }
          expect(z!.firstNonZero(at, len)).toBe(want);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the committed module is zero-test.wat assembled (run `npm run wasm` after editing the .wat)', async () => {
    const wat = fs.readFileSync(path.resolve('src/scan/zero-test.wat'), 'utf8');
    expect(Buffer.from(await assembleWat('zero-test.wat', wat)).toString('base64')).toBe(ZERO_TEST_WASM);
  });
});
