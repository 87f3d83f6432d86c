/**
 * The benchmark's reader floor: open an image through the same reader dmarsift uses
 * (openMemoryImage) and read the table pages, in walk order, as the walker does — LEAF_BATCH_PAGES
 * at a time with `readPages` when the reader has it (runs of pages that follow each other in the
 * file in one call), else one `readInto` per page — with no decoding. `node dist/bench/floor.js
 * IMAGE PAGES.f64` prints one JSON line: pages, missing, bytes, checksum, ms. Loads nothing but
 * the image readers, as the CLI must (node's start-up is in both figures).
 */
import * as fs from 'node:fs';
import { openMemoryImage } from '../image/open.js';
import { LEAF_BATCH_PAGES } from '../model/leaf-run.js';

const [image, list] = process.argv.slice(2);
if (!image || !list) {
  process.stderr.write('usage: node dist/bench/floor.js IMAGE PAGES.f64\n');
  process.exit(2);
}
const t0 = performance.now();
const raw = fs.readFileSync(list);
const addrs = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
const mem = openMemoryImage(image);
let sum = 0;
let missing = 0;
if (mem.readPages !== undefined) {
  const dest = new Uint8Array(4096 * LEAF_BATCH_PAGES);
  const present = new Uint8Array(LEAF_BATCH_PAGES);
  for (let i = 0; i < addrs.length; i += LEAF_BATCH_PAGES) {
    const n = Math.min(LEAF_BATCH_PAGES, addrs.length - i);
    mem.readPages(addrs.subarray(i, i + n), n, dest, present);
    for (let s = 0; s < n; s++) {
      if (present[s] === 0) missing++;
      else sum = (sum + dest[s * 4096] + dest[s * 4096 + 4095]) | 0; // touch the bytes, nothing more
    }
  }
} else {
  const page = new Uint8Array(4096);
  for (let i = 0; i < addrs.length; i++) {
    const b = mem.readInto ? (mem.readInto(addrs[i], page) ? page : undefined) : mem.read(addrs[i], 4096);
    if (b === undefined) missing++;
    else sum = (sum + b[0] + b[4095]) | 0;
  }
}
mem.close();
process.stdout.write(JSON.stringify({ pages: addrs.length, missing, bytes: addrs.length * 4096, checksum: sum, ms: performance.now() - t0 }) + '\n');
