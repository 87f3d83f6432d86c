/**
 * The decode JSON's mapping lines in WebAssembly (json-lines.wat, assembled by `npm run wasm` into
 * json-lines-wasm.ts; a test checks the two agree). A 64 GiB VM's domain lists 65 k mappings and
 * a 1 TiB one's 1 M, ~125 bytes each: in JavaScript their hex digits and quoted pieces cost ~4 ns a
 * byte even once optimized; here each line is a few memory copies and a digit loop. JavaScript
 * only copies each mapping's four numbers in. The text is exactly json-bytes.ts's (a test holds
 * the two together); json-bytes.ts stays the fallback.
 */
import type { MappingList } from '../model/mapping-list.js';
import { JSON_LINES_WASM } from './json-lines-wasm.js';

/** Records per call (they and their text fit the module's memory: see json-lines.wat). */
const BATCH = 256;
const RECORDS_AT = 1024;
const TEXT_AT = 9216;

interface Exports {
  memory: { buffer: ArrayBuffer };
  lines(count: number, first: number, indent: number): number;
}

/** The part of the WebAssembly API used here (the project's libs declare no DOM). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let module: { lines: Exports['lines']; records: Float64Array; text: Uint8Array } | null | undefined;

function instance(): typeof module {
  if (module === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const ex = new wasm.Instance(new wasm.Module(Buffer.from(JSON_LINES_WASM, 'base64')), {}).exports as Exports;
      module = { lines: ex.lines, records: new Float64Array(ex.memory.buffer, RECORDS_AT, 4 * BATCH), text: new Uint8Array(ex.memory.buffer, TEXT_AT) };
    } catch {
      module = null;
    }
  }
  return module;
}

/**
 * `mappings` as the elements of a JSON array at `depth` — "[", then each mapping on its own line,
 * without the closing bracket — handed to `sink` in chunks (valid only during the call). False,
 * having written nothing, where WebAssembly is not available. The records' bits are the list's
 * attribute byte as it is (model/mapping-list.ts encodes them as json-lines.wat reads them).
 */
export function mappingLines(mappings: MappingList, depth: number, sink: (bytes: Uint8Array) => void): boolean {
  const m = instance();
  if (!m) return false;
  const rec = m.records;
  const { iovaPfn, hpaPfn, pages, flags } = mappings;
  for (let i = 0; i < mappings.length; i += BATCH) {
    const n = Math.min(BATCH, mappings.length - i);
    for (let k = 0; k < n; k++) {
      rec[4 * k] = iovaPfn[i + k];
      rec[4 * k + 1] = hpaPfn[i + k];
      rec[4 * k + 2] = pages[i + k];
      rec[4 * k + 3] = flags[i + k];
    }
    sink(m.text.subarray(0, m.lines(n, i === 0 ? 1 : 0, 2 * (depth + 1))));
  }
  return true;
}
