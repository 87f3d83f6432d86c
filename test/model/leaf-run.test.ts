/**
 * The WebAssembly leaf-run loop: its committed bytes are the assembly of leaf-run.wat, it loads on
 * the node versions we support (so the walker really uses it), and runEnd agrees with a BigInt
 * reference on random pages — runs of every length from every start, up to every limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafRunScanner } from '../../src/model/leaf-run.js';
import { LEAF_RUN_WASM } from '../../src/model/leaf-run-wasm.js';
import { assembleLeafRun } from '../../src/tools/wat.js';

const scanner = leafRunScanner();

describe('leaf-run WebAssembly', () => {
  it('the committed module is leaf-run.wat assembled (run `npm run wasm` after editing the .wat)', async () => {
    const wat = fs.readFileSync(path.resolve('src/model/leaf-run.wat'), 'utf8');
    expect(Buffer.from(await assembleLeafRun(wat)).toString('base64')).toBe(LEAF_RUN_WASM);
  });

  it('loads here (node ≥ 20 has WebAssembly SIMD), so the walker takes the fast loop', () => {
    expect(scanner).toBeDefined();
  });

  /** Reference: the first k in (i, limit) whose PTE is not pte[i] + 4096·(k − i) (mod 2^64), else limit. */
  const reference = (ptes: bigint[], i: number, limit: number): number => {
    for (let k = i + 1; k < limit; k++) if (ptes[k] !== ((ptes[i] + 4096n * BigInt(k - i)) & ((1n << 64n) - 1n))) return k;
    return limit;
  };

  it('runEnd = the reference on random pages, from random starts to random limits', () => {
    const page = fc
      .array(
        fc.record({
          start: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0xfffff003n, 0xffffffffff003n, (1n << 63n) | 0x7ffff007n)),
          len: fc.integer({ min: 1, max: 80 }),
          // Break the run at one place by flipping one bit.
          flip: fc.option(fc.record({ at: fc.integer({ min: 0, max: 79 }), bit: fc.integer({ min: 0, max: 63 }) }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 30 },
      )
      .map((runs) => {
        const ptes: bigint[] = [];
        for (const r of runs) {
          for (let k = 0; k < r.len && ptes.length < 512; k++) {
            let v = (r.start + 4096n * BigInt(k)) & ((1n << 64n) - 1n);
            if (r.flip?.at === k) v ^= 1n << BigInt(r.flip.bit);
            ptes.push(v);
          }
        }
        while (ptes.length < 512) ptes.push(0n);
        return ptes;
      });
    fc.assert(
      fc.property(page, fc.integer({ min: 0, max: 511 }), fc.integer({ min: 1, max: 512 }), (ptes, i, lim) => {
        const limit = Math.max(i + 1, lim);
        const view = new DataView(scanner!.bytes.buffer, scanner!.bytes.byteOffset, 4096);
        ptes.forEach((v, k) => { view.setBigUint64(k * 8, v, true); });
        expect(scanner!.runEnd(0, i, limit)).toBe(reference(ptes, i, limit));
      }),
      { numRuns: 3000 },
    );
  });
});
