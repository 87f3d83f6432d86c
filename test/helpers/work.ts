/**
 * Work counters for tests that used to assert milliseconds. A busy CI runner makes any wall-clock
 * limit flaky, and a fast machine hides a quadratic algorithm behind it; what an algorithm reads is
 * the same on every machine. So these tests count reads and bound them by the input size
 * (speed targets live in `npm run bench`). See also `counting()` in test/hostile/helpers.ts, which
 * counts reads of a memory image.
 */
import type { Mapping, Snapshot } from '../../src/model/types.js';

export interface ReadCount {
  /** Property reads of the counted objects (or DataView reads, for countDataViewReads). */
  reads: number;
  /** How many objects are counted. */
  objects: number;
}

/**
 * Replace every mapping of every domain of `s` by a proxy that counts property reads, and return
 * the counter. A check that sweeps sorted ranges reads each mapping a few times; one that compares
 * every pair of ranges, or walks pages, reads it thousands of times.
 */
export function countMappingReads(s: Snapshot): ReadCount {
  const c: ReadCount = { reads: 0, objects: 0 };
  const handler: ProxyHandler<Mapping> = {
    get(target, key, receiver) {
      c.reads++;
      return Reflect.get(target, key, receiver);
    },
  };
  for (const u of s.units) {
    for (const d of u.domains) {
      d.mappings = d.mappings.map((m) => new Proxy(m, handler));
      c.objects += d.mappings.length;
    }
  }
  return c;
}

const DATAVIEW_GETTERS = ['getUint8', 'getInt8', 'getUint16', 'getInt16', 'getUint32', 'getInt32', 'getBigUint64', 'getBigInt64', 'getFloat32', 'getFloat64'] as const;

/**
 * Run `fn` with every DataView read counted (the decoders read binary input through DataView,
 * directly or through binary-parser's generated code). The prototype is restored afterwards.
 */
export function countDataViewReads<T>(fn: () => T): { result: T; reads: number } {
  const proto = DataView.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = DATAVIEW_GETTERS.map((k) => [k, proto[k]] as const);
  let reads = 0;
  for (const [k, orig] of saved) {
    proto[k] = function (this: DataView, ...a: unknown[]) {
      reads++;
      return orig.apply(this, a);
    };
  }
  try {
    return { result: fn(), reads };
  } finally {
    for (const [k, orig] of saved) proto[k] = orig;
  }
}
