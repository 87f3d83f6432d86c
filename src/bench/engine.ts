/**
 * The engine alone, in one process (no node start-up, no JSON): `node dist/bench/engine.js IMAGE
 * RANGES.f64 ROOT HAW RUNS` alternates RUNS times between
 *   - the physical read: the image's byte ranges holding the table pages, in 1 MiB chunks (what
 *     phys-floor.js does, without the start-up), and
 *   - walk + coalesce: readUnitTables (root and context tables, then every domain's page table
 *     walked into coalesced mappings),
 * and prints one JSON line with every timing (the first of each includes JIT warm-up).
 */
import * as fs from 'node:fs';
import { openMemoryImage } from '../image/open.js';
import { readUnitTables } from '../model/tables.js';

const [image, list, rootText, hawText, runsText] = process.argv.slice(2);
if (!image || !list || !rootText) {
  process.stderr.write('usage: node dist/bench/engine.js IMAGE RANGES.f64 ROOT HAW RUNS\n');
  process.exit(2);
}
const raw = fs.readFileSync(list);
const ranges = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
const runs = Math.max(1, Number(runsText ?? 3));
const chunk = Buffer.allocUnsafe(1 << 20);
const read: number[] = [];
const walk: number[] = [];
let mappings = 0;
let pages = 0;
let visited = 0;
let sum = 0;
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  const fd = fs.openSync(image, 'r');
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    const end = ranges[i] + ranges[i + 1];
    for (let at = ranges[i]; at < end; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at);
      if (n === 0) break;
      sum = (sum + chunk[0]) | 0;
      at += n;
    }
  }
  fs.closeSync(fd);
  read.push(performance.now() - t);
  t = performance.now();
  const mem = openMemoryImage(image);
  const u = readUnitTables(mem, { segment: 0, rootTable: Number(rootText), mode: 'legacy', haw: Number(hawText ?? 48), part: 'memory' });
  mem.close();
  walk.push(performance.now() - t);
  mappings = u.domains.reduce((n, d) => n + d.mappings.length, 0);
  pages = u.domains.reduce((n, d) => n + d.pageCount, 0);
  visited = u.pagesVisited;
}
if (sum === 0.5) process.stdout.write(''); // keep `sum` alive
process.stdout.write(JSON.stringify({ pagesVisited: visited, mappings, mappedPages: pages, readMs: read, walkMs: walk }) + '\n');
