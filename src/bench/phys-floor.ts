/**
 * The benchmark's physical floor: what reading the tables costs at least. `node
 * dist/bench/phys-floor.js FILE RANGES.f64` reads the file's byte ranges that hold the table pages
 * ([offset, length] pairs, sorted and merged; for a sparse dump of tables that is the whole page
 * area, for an ELF core only the table pages among its holes), sequentially, in 1 MiB chunks into
 * one reused buffer, and prints one JSON line: ranges, bytes, checksum, ms. It loads nothing but
 * node:fs: the benchmark times the whole process, so node's start-up is in the floor as it is in
 * every dmarsift run compared with it.
 */
import * as fs from 'node:fs';

const CHUNK = 1 << 20;

const [file, list] = process.argv.slice(2);
if (!file || !list) {
  process.stderr.write('usage: node dist/bench/phys-floor.js FILE RANGES.f64\n');
  process.exit(2);
}
const t0 = performance.now();
const raw = fs.readFileSync(list);
const ranges = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
const fd = fs.openSync(file, 'r');
const buf = Buffer.allocUnsafe(CHUNK);
let bytes = 0;
let sum = 0;
for (let r = 0; r + 1 < ranges.length; r += 2) {
  const end = ranges[r] + ranges[r + 1];
  for (let at = ranges[r]; at < end; ) {
    const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - at), at);
    if (n === 0) throw new Error(`${file} ends at ${at}, before the table range ending at ${end}`);
    sum = (sum + buf[0] + buf[n - 1]) | 0; // touch the bytes, nothing more
    at += n;
    bytes += n;
  }
}
fs.closeSync(fd);
process.stdout.write(JSON.stringify({ ranges: ranges.length / 2, bytes, checksum: sum, ms: performance.now() - t0 }) + '\n');
