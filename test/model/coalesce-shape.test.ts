/**
 * The coalescer's Mapping objects keep one shape whatever page numbers they hold. V8 gives a field
 * the representation of its first value; a page number of 2^31 or more arriving later (a high
 * IOVA, as Linux's DMA API hands out) used to change it, deprecating the shape, so every Mapping
 * made before was migrated on its first read (~1 µs each: 1.7 s over the 2 M mappings of a hostile
 * 8 MiB image, and the capture took 15 s to load instead of 2). Counted as shapes, not timed:
 * V8's own %HaveSameMap, allowed for this file.
 *
 * vitest: own process — object literals with the same keys share their shapes across a process,
 * so other test files' literal Mappings (made in whatever order) must not be in this one's.
 */
import * as v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { MappingCoalescer } from '../../src/model/coalesce.js';

v8.setFlagsFromString('--allow-natives-syntax');
const sameShape = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

describe('Mapping objects (made from the coalescer\'s columns)', () => {
  it('made before and after a page number of 2^31 or more share one shape (no migration on read)', () => {
    const c = new MappingCoalescer();
    c.addRun(1, 100, 1, 3, 4096);
    c.addRun(2 ** 33, 200, 1, 3, 4096); // IOVA page above 2^31
    c.addRun(2 ** 34, 2 ** 40, 2 ** 32, 1, 4096); // host page and size above 2^31 too
    c.addRun(2 ** 34 + 2 ** 33, 7, 1, 1, 1073741824);
    const [m0, ...rest] = c.list.toArray();
    expect(c.list.length).toBe(4);
    for (const m of rest) expect(sameShape(m0, m)).toBe(true);
    expect(c.list.toArray().map((m) => [m.iovaPfn, m.hpaPfn, m.pages])).toEqual([[1, 100, 1], [2 ** 33, 200, 1], [2 ** 34, 2 ** 40, 2 ** 32], [2 ** 34 + 2 ** 33, 7, 1]]);
  });
});
