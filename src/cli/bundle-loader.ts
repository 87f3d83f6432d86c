/**
 * Runs the CLI's bundle (dist/bundle/*.cjs, written by src/tools/bundle.ts) with V8 code caches.
 * esbuild bundles this file alone into dist/bundle/load.cjs, which bin/dmarsift.js requires.
 *
 * Why: node 20 caches the compiled code of no ES module, so every run compiled the ~700 KB
 * `analyze` loads again (~30 ms, plus the garbage it leaves: ~40 ms of a 200 ms run). A script
 * compiled through node:vm can be given V8's code cache instead. The bundle's chunks are therefore
 * CommonJS function bodies, loaded here one at a time as they are first required — the split stays
 * lazy, each command loads only its own chunks — each with the cache `npm run build` made for it
 * by running a few commands (see CACHE_WRITE). The cache holds the bytecode of every function those
 * runs compiled, so a later run neither parses the chunk nor compiles those functions again.
 *
 * A cache is a hint, never a requirement: V8 refuses one made by another V8 version or with other
 * flags (`--cpu-prof`, say) and the chunk is compiled from its text as before. V8 checks only the
 * text's length, so a cache is also skipped when its chunk was changed after it (a later mtime):
 * after an edit to dist/bundle/ the old bytecode can never run.
 */
// Named imports: esbuild turns `import * as fs` into a copy of every export of node:fs (~0.5 ms).
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/**
 * `DMARSIFT_CODE_CACHE=write`: at exit, write the code cache of every chunk this run loaded
 * (over the one it loaded with, which it then extends). The build sets it for its training runs.
 */
const CACHE_WRITE = process.env.DMARSIFT_CODE_CACHE === 'write';
/** With `DMARSIFT_TIMING` (src/cli/timing.ts), one more stderr line: how many chunks had a cache V8 took. */
const TIMING = process.env.DMARSIFT_TIMING !== undefined && process.env.DMARSIFT_TIMING !== '' && process.env.DMARSIFT_TIMING !== '0';
const CACHE_SUFFIX = '.v8-cache';

/**
 * The CommonJS wrapper each chunk's file holds (the build writes it around the code, so the text
 * read is the script as compiled: no 200 KB string built again by concatenation); `__dmarsiftUrl`
 * is the chunk's own URL, what `import.meta.url` was.
 */
export const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname, __dmarsiftUrl) {';
export const WRAP_TAIL = '\n})';

interface Chunk {
  file: string;
  script: Script;
  /** Whether V8 took the chunk's cache (it refuses one made by another V8 or with other flags). */
  cached: boolean;
  module: { exports: unknown };
}

export interface BundleLoader {
  /** The exports of `./name.js` (a chunk of the bundle), loading it on first use. */
  load(spec: string): unknown;
}

export function bundleLoader(dir: string): BundleLoader {
  const chunks = new Map<string, Chunk>();
  const nodeRequire = createRequire(join(dir, 'load.cjs'));

  const load = (spec: string): unknown => {
    // Chunks name each other as the ES modules they were built as (`./chunk-X.js`).
    if (!spec.startsWith('./')) return nodeRequire(spec);
    const name = `${spec.slice(2).replace(/\.js$/, '')}.cjs`;
    const known = chunks.get(name);
    if (known) return known.module.exports;
    const file = join(dir, name);
    const { text, cachedData } = readChunk(file);
    const script = new Script(text, { filename: file, cachedData });
    const chunk: Chunk = { file, script, cached: cachedData !== undefined && !script.cachedDataRejected, module: { exports: {} } };
    // Registered before it runs, as node's own loader does, so a cycle sees the partial exports.
    chunks.set(name, chunk);
    const body = script.runInThisContext() as (...args: unknown[]) => void;
    body.call(chunk.module.exports, chunk.module.exports, load, chunk.module, file, dir, pathToFileURL(file).href);
    return chunk.module.exports;
  };

  // What else code written for node's `require` may ask of it (yargs looks in `require.cache` to
  // name a command given as a module): node's own, as the ES module bundle's createRequire gave.
  Object.assign(load, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: nodeRequire.main });

  if (CACHE_WRITE) {
    process.on('exit', () => {
      for (const chunk of chunks.values()) {
        try {
          writeFileSync(chunk.file + CACHE_SUFFIX, chunk.script.createCachedData());
        } catch (e) {
          // A read-only install, say: the run stays what it was, without the cache.
          process.stderr.write(`dmarsift: cannot write the code cache ${chunk.file}${CACHE_SUFFIX}: ${(e as Error).message}\n`);
        }
      }
    });
  }
  if (TIMING) {
    process.on('exit', () => {
      const cached = [...chunks.values()].filter((c) => c.cached).length;
      process.stderr.write(`dmarsift: code cache: ${cached} of ${chunks.size} chunks compiled from their cache\n`);
    });
  }
  return { load };
}

/**
 * One buffer every chunk and cache is read through. Memory first written costs a page fault
 * (~10 µs per 4 KiB on the VMs measured): reading each file into a new buffer of its own
 * (readFileSync) touched ~1.7 MB more for `analyze`, ~4 ms. V8 copies the text into a string and
 * reads the cache only while compiling, so neither needs the buffer afterwards.
 */
let scratch: Buffer | undefined;

/** The whole of `file`, in the scratch buffer (valid until the next read), and when it was last changed; undefined if absent. */
function readWhole(file: string): { bytes: Buffer; mtimeMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size, mtimeMs } = fstatSync(fd);
    if (scratch === undefined || scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, 1 << 18));
    let got = 0;
    while (got < size) {
      const n = readSync(fd, scratch, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { bytes: scratch.subarray(0, got), mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** The chunk's text (plain ASCII: esbuild escapes every other character) and its cache, if usable. */
function readChunk(file: string): { text: string; cachedData: Buffer | undefined } {
  const chunk = readWhole(file);
  if (chunk === undefined) throw new Error(`dmarsift's bundle has no ${file} (run npm run build)`);
  const text = chunk.bytes.toString('latin1');
  let cache: ReturnType<typeof readWhole>;
  try {
    cache = readWhole(file + CACHE_SUFFIX);
  } catch {
    cache = undefined; // an unreadable cache is no cache
  }
  return { text, cachedData: cache !== undefined && cache.mtimeMs >= chunk.mtimeMs ? cache.bytes : undefined };
}
