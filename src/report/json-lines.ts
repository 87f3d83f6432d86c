/**
 * The decode JSON's mapping lines in WebAssembly (json-lines.wat, assembled by `npm run wasm` into
 * json-lines-wasm.ts; a test checks the two agree). A 64 GiB VM's domain lists 65 k mappings and
 * a 1 TiB one's 1 M, ~125 bytes each: in JavaScript their hex digits and quoted pieces cost ~4 ns a
 * byte even once optimized; here each line is a few memory copies and a digit loop. JavaScript
 * only copies the list's four columns in, 256 mappings at a time. The text is exactly
 * json-bytes.ts's (a test holds the two together); json-bytes.ts stays the fallback.
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

interface LinesModule {
  lines: Exports['lines'];
  /** The records' columns (see json-lines.wat). */
  iova: Float64Array;
  hpa: Float64Array;
  pages: Float64Array;
  flags: Uint8Array;
  text: Uint8Array;
}

let module: LinesModule | null | undefined;

function instance(): typeof module {
  if (module === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const ex = new wasm.Instance(new wasm.Module(Buffer.from(JSON_LINES_WASM, 'base64')), {}).exports as Exports;
      const buf = ex.memory.buffer;
      module = {
        lines: ex.lines,
        iova: new Float64Array(buf, RECORDS_AT, BATCH),
        hpa: new Float64Array(buf, RECORDS_AT + 8 * BATCH, BATCH),
        pages: new Float64Array(buf, RECORDS_AT + 16 * BATCH, BATCH),
        flags: new Uint8Array(buf, RECORDS_AT + 24 * BATCH, BATCH),
        text: new Uint8Array(buf, TEXT_AT),
      };
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
  const { iovaPfn, hpaPfn, pages, flags } = mappings;
  for (let i = 0; i < mappings.length; i += BATCH) {
    const end = Math.min(i + BATCH, mappings.length);
    // Column by column, each one native copy.
    m.iova.set(iovaPfn.subarray(i, end));
    m.hpa.set(hpaPfn.subarray(i, end));
    m.pages.set(pages.subarray(i, end));
    m.flags.set(flags.subarray(i, end));
    sink(m.text.subarray(0, m.lines(end - i, i === 0 ? 1 : 0, 2 * (depth + 1))));
  }
  return true;
}
