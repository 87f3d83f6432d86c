/**
 * Plain sequential reading of a whole file with large positioned reads (4 MiB), for the `scan`
 * throughput comparison. `node dist/bench/seqread.js FILE` prints one JSON line: bytes, ms.
 */
import * as fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/seqread.js FILE\n');
  process.exit(2);
}
const t0 = performance.now();
const fd = fs.openSync(file, 'r');
const buf = Buffer.allocUnsafe(4 << 20);
let total = 0;
let sum = 0;
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, total);
  if (n === 0) break;
  sum = (sum + buf[0] + buf[n - 1]) | 0;
  total += n;
}
fs.closeSync(fd);
process.stdout.write(JSON.stringify({ bytes: total, checksum: sum, ms: performance.now() - t0 }) + '\n');
