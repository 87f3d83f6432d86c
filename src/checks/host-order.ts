/**
 * A domain's host view built in WebAssembly (host-order.wat, assembled by `npm run wasm` into
 * host-order-wasm.ts): the mappings' host ranges, their order by (start, end, index) from a stable
 * radix sort, and the ranges laid out in that order. In JavaScript the same work — four loops over
 * every mapping and a native sort — took ~20 ms for the 65 k mappings of a 64 GiB VM, nearly all
 * in loops that run once per CLI call, before the JIT has optimized them; here it is ~2 ms.
 * host-ranges.ts's JavaScript stays the fallback (no WebAssembly, a host page number at or past
 * 2^32) and the reference a test compares this with.
 *
 * Each view gets an instance of its own, its memory grown to fit: the view's arrays are views of
 * that memory, kept alive by them and freed with them.
 */
import type { MappingList } from '../model/mapping-list.js';
import type { HostView } from './host-ranges.js';
import { HOST_ORDER_WASM } from './host-order-wasm.js';

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  ends(n: number, S: number, P: number, E: number): number;
  sort(n: number, S: number, E: number, bits: number, K0: number, I0: number, K1: number, I1: number, C: number): number;
  gather(n: number, K: number, I: number, bits: number, F: number, SS: number, SE: number, SW: number): void;
  writableUnion(n: number, SS: number, SE: number, SW: number, OS: number, OE: number): number;
}

/** The part of the WebAssembly API used here (the project's libs declare no DOM). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let compiled: { api: WasmApi; module: object } | null | undefined;

function compiledModule(): typeof compiled {
  if (compiled === undefined) {
    try {
      const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      compiled = { api, module: new api.Module(Buffer.from(HOST_ORDER_WASM, 'base64')) };
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The radix sort's counts: 2048 for each of up to six 11-bit digits. */
const COUNT_BYTES = 6 * 8192;
/** Memory offsets are 32-bit: 42 bytes a mapping (the view's 26, 16 more for the writable union) keep 2^25 mappings well inside (the walk budget allows 2^22 a unit). */
const MAX_MAPPINGS = 2 ** 25;

/**
 * The host view of `list`, or undefined where WebAssembly is not or a host page number reaches
 * 2^32 (16 TiB of host addresses; the sort key holds two page numbers in 64 bits).
 */
export function hostOrder(list: MappingList): HostView | undefined {
  const n = list.length;
  const c = compiledModule();
  if (c === null || c === undefined || n === 0 || n > MAX_MAPPINGS) return undefined;
  // Layout, 26 bytes a mapping (it was 50: memory first written costs a page fault per 4 KiB, and
  // a host view is written once): f64 S, the host pages, which the keys K0 then overwrite in place;
  // f64 P, the page counts, overwritten by the ends E, then the second key array K1; u32 indices
  // I0, I1; u8 attributes F and the sorted W bits SW; the radix counts. At the end the sorted
  // ends overwrite the final keys in place and the sorted starts go to the spare key array.
  const S = 0;
  const K0 = S;
  const P = 8 * n;
  const E = P;
  const K1 = P;
  const I0 = 16 * n;
  const I1 = 20 * n;
  const F = 24 * n;
  const SW = 25 * n;
  const C = Math.ceil((26 * n) / 8) * 8;
  // Room for writableUnion's output after the counts: memory is only ever grown here (growing it
  // later would detach the view's arrays), and pages never written cost nothing.
  const OS = C + COUNT_BYTES;
  const OE = OS + 8 * n;
  const ex = new c.api.Instance(c.module, {}).exports as Exports;
  const need = OE + 8 * n;
  try {
    if (ex.memory.buffer.byteLength < need) ex.memory.grow(Math.ceil((need - ex.memory.buffer.byteLength) / 65536));
  } catch {
    return undefined; // no room for the memory: the JavaScript path needs less
  }
  const buf = ex.memory.buffer;
  new Float64Array(buf, S, n).set(list.hpaPfn.subarray(0, n));
  new Float64Array(buf, P, n).set(list.pages.subarray(0, n));
  new Uint8Array(buf, F, n).set(list.flags.subarray(0, n));
  const max = ex.ends(n, S, P, E);
  if (max < 0) return undefined;
  let bits = 0;
  while (2 ** bits <= max) bits++;
  const which = ex.sort(n, S, E, bits, K0, I0, K1, I1, C);
  const [K, I, SS] = which === 0 ? [K0, I0, K1] : [K1, I1, K0];
  const SE = K;
  ex.gather(n, K, I, bits, F, SS, SE, SW);
  return {
    order: new Uint32Array(buf, I, n),
    sortedStart: new Float64Array(buf, SS, n),
    sortedEnd: new Float64Array(buf, SE, n),
    sortedWrite: new Uint8Array(buf, SW, n),
    writableUnion: () => {
      const m = ex.writableUnion(n, SS, SE, SW, OS, OE);
      return { start: new Float64Array(buf, OS, m), end: new Float64Array(buf, OE, m), tag: new Uint32Array(m), length: m };
    },
  };
}
