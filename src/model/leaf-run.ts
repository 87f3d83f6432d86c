/**
 * The walker's leaf loop in WebAssembly (SIMD): how far a run of leaf PTEs continues, each the
 * previous plus 4 KiB, bit for bit (`runEnd`, two 64-bit PTEs per compare), and a whole leaf page
 * joined into mappings (`leafScan`), the mapping being built carried across pages and finished
 * ones written as records. On the benchmark's 16.8 M PTEs the JavaScript that stays per mapping
 * (~65 k) rather than per run (~100 k) or per PTE: most of a walk runs once, before the JIT has
 * optimized it. The JavaScript loop (walk.ts) stays the fallback and the reference.
 *
 * Source: leaf-run.wat beside this file, assembled by `npm run wasm` into leaf-run-wasm.ts (a test
 * checks the two agree). The module declares one page of memory, grown once here to hold a
 * single leaf page (offset 0), a staging area of LEAF_BATCH_PAGES pages after it, and the records:
 * the walker reads every leaf table page straight into it (`bytes`, `batchBytes`), so nothing is
 * copied.
 */
import { LEAF_RUN_WASM } from './leaf-run-wasm.js';

/** Leaf pages the walker reads in one go (walk.ts): the staging area after the first 4 KiB. */
export const LEAF_BATCH_PAGES = 64;
/** Mapping records `leafScan` writes before the caller must take them (25 bytes each). */
export const LEAF_RECORDS = 4096;
const RECORDS_AT = 4096 * (1 + LEAF_BATCH_PAGES);

export interface LeafRunScanner {
  /** The 4 KiB the walker reads a single leaf page into (memory offset 0). */
  readonly bytes: Uint8Array;
  /** The staging area for LEAF_BATCH_PAGES leaf pages read at once, from memory offset 4096. */
  readonly batchBytes: Uint8Array;
  /** Both, as 32-bit words: the single page at word 0, batch page s at word 1024·(s + 1). */
  readonly words: Int32Array;
  /**
   * With v the PTE at index i of the page at byte `base` of the memory (0: `bytes`): the first
   * index k in (i, limit) whose PTE is not v + 4096·(k − i), or `limit` when every one before it
   * is. The caller keeps v + 4096·(limit − i) within the host address width.
   */
  runEnd(base: number, i: number, limit: number): number;
  /** See leaf-run.wat; the walk's settings are resetLeaves'. */
  leafScan(base: number, start: number, iovaBase: number, parentMask: number): number;
  finishLeaves(): number;
  records(): number;
  clearRecords(): void;
  /** 4 KiB pages leafScan added to mappings (open or finished) since the last call. */
  takePages(): number;
  /** A new walk with its settings; `recBase`/`recCap` are RECORDS_AT and LEAF_RECORDS (the walker passes them). */
  resetLeaves(first: number, badLo: number, badHi: number, maxPfn: number, recBase: number, recCap: number): void;
  /** The records, column by column (LEAF_RECORDS each): IOVA page, host page, pages, and the attribute byte of mapping-list.ts. */
  readonly recordIova: Float64Array;
  readonly recordHpa: Float64Array;
  readonly recordPages: Float64Array;
  readonly recordFlags: Uint8Array;
  readonly recordsAt: number;
}

/** The part of the WebAssembly API used here (the project's libs declare no DOM). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let instance: LeafRunScanner | null | undefined;

/** The scanner (one per thread, made on first use), or undefined where WebAssembly SIMD is not. */
export function leafRunScanner(): LeafRunScanner | undefined {
  if (instance === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const exports = new wasm.Instance(new wasm.Module(Buffer.from(LEAF_RUN_WASM, 'base64')), {}).exports as Omit<LeafRunScanner, 'bytes' | 'batchBytes' | 'words' | 'recordIova' | 'recordHpa' | 'recordPages' | 'recordFlags' | 'recordsAt'> & {
        memory: { buffer: ArrayBuffer; grow(pages: number): number };
      };
      // Room for the single page, the staging area and the records, made once here: the module
      // never grows its memory itself (it has no memory.grow), so these views stay valid.
      const bytes = RECORDS_AT + 25 * LEAF_RECORDS;
      const memory = exports.memory;
      if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      instance = {
        bytes: new Uint8Array(memory.buffer, 0, 4096),
        batchBytes: new Uint8Array(memory.buffer, 4096, 4096 * LEAF_BATCH_PAGES),
        words: new Int32Array(memory.buffer, 0, RECORDS_AT / 4),
        recordIova: new Float64Array(memory.buffer, RECORDS_AT, LEAF_RECORDS),
        recordHpa: new Float64Array(memory.buffer, RECORDS_AT + 8 * LEAF_RECORDS, LEAF_RECORDS),
        recordPages: new Float64Array(memory.buffer, RECORDS_AT + 16 * LEAF_RECORDS, LEAF_RECORDS),
        recordFlags: new Uint8Array(memory.buffer, RECORDS_AT + 24 * LEAF_RECORDS, LEAF_RECORDS),
        recordsAt: RECORDS_AT,
        runEnd: exports.runEnd,
        leafScan: exports.leafScan,
        finishLeaves: exports.finishLeaves,
        records: exports.records,
        clearRecords: exports.clearRecords,
        takePages: exports.takePages,
        resetLeaves: exports.resetLeaves,
      };
    } catch {
      instance = null;
    }
  }
  return instance ?? undefined;
}
