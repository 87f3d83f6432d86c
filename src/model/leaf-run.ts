/**
 * The walker's hot loop — how far a run of leaf PTEs continues, each the previous plus 4 KiB, bit
 * for bit — in WebAssembly SIMD: two 64-bit PTEs per compare. On the benchmark's 16.8 M PTEs it
 * takes the walk from ~2.2× to ~1.8× the time of merely reading the table pages, where the
 * JavaScript loop (two 32-bit compares per PTE) stays the fallback and the reference.
 *
 * Source: leaf-run.wat beside this file, assembled by `npm run wasm` into leaf-run-wasm.ts (a test
 * checks the two agree). The module declares one page of memory, grown once here to hold a
 * single page and a staging area of LEAF_BATCH_PAGES pages: the walker reads every leaf table
 * page straight into it (`bytes`, `batchBytes`), so nothing is copied.
 */
import { LEAF_RUN_WASM } from './leaf-run-wasm.js';

/** Leaf pages the walker reads in one go (walk.ts): the staging area after the first 4 KiB. */
export const LEAF_BATCH_PAGES = 64;

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
      const exports = new wasm.Instance(new wasm.Module(Buffer.from(LEAF_RUN_WASM, 'base64')), {}).exports as {
        memory: { buffer: ArrayBuffer; grow(pages: number): number };
        runEnd: (base: number, i: number, limit: number) => number;
      };
      // Room for the single page and the staging area, made once here: the module never grows
      // its memory itself (it has no memory.grow), so these views stay valid.
      const bytes = 4096 * (1 + LEAF_BATCH_PAGES);
      const memory = exports.memory;
      if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      instance = {
        bytes: new Uint8Array(memory.buffer, 0, 4096),
        batchBytes: new Uint8Array(memory.buffer, 4096, 4096 * LEAF_BATCH_PAGES),
        words: new Int32Array(memory.buffer, 0, bytes / 4),
        runEnd: exports.runEnd,
      };
    } catch {
      instance = null;
    }
  }
  return instance ?? undefined;
}
