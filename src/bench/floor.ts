/**
 * The benchmark's read floor: open an image through the same reader dmarsift uses
 * (openMemoryImage) and read the table pages, in walk order, 4 KiB at a time — no decoding.
 * `node dist/bench/floor.js IMAGE PAGES.f64` prints one JSON line: pages, bytes, checksum, ms.
 * Loads nothing but the image readers, as the CLI must (node's start-up is in both figures).
 */
import * as fs from 'node:fs';
import { openMemoryImage } from '../image/open.js';

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
// The same calls the walker makes: readInto one reused page buffer when the reader has it.
const page = new Uint8Array(4096);
for (let i = 0; i < addrs.length; i++) {
  const b = mem.readInto ? (mem.readInto(addrs[i], page) ? page : undefined) : mem.read(addrs[i], 4096);
  if (b === undefined) missing++;
  else sum = (sum + b[0] + b[4095]) | 0; // touch the bytes, nothing more
}
mem.close();
process.stdout.write(JSON.stringify({ pages: addrs.length, missing, bytes: addrs.length * 4096, checksum: sum, ms: performance.now() - t0 }) + '\n');
