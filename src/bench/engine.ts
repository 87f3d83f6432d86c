/**
 * The engine alone, in one process (no node start-up, no JSON): `node dist/bench/engine.js IMAGE
 * PAGES.f64 ROOT HAW RUNS` alternates RUNS times between
 *   - the read floor: every table page, in walk order, read through the image reader (readInto
 *     into one reused buffer, as the walker does), and
 *   - walk + coalesce: readUnitTables (root and context tables, then every domain's page table
 *     walked into coalesced mappings),
 * and prints one JSON line with every timing (the first of each includes JIT warm-up).
 */
import * as fs from 'node:fs';
import { openMemoryImage } from '../image/open.js';
import { readUnitTables } from '../model/tables.js';

const [image, list, rootText, hawText, runsText] = process.argv.slice(2);
if (!image || !list || !rootText) {
  process.stderr.write('usage: node dist/bench/engine.js IMAGE PAGES.f64 ROOT HAW RUNS\n');
  process.exit(2);
}
const raw = fs.readFileSync(list);
const addrs = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
const mem = openMemoryImage(image);
const page = new Uint8Array(4096);
const runs = Math.max(1, Number(runsText ?? 3));
const read: number[] = [];
const walk: number[] = [];
let mappings = 0;
let pages = 0;
let visited = 0;
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  let sum = 0;
  for (let i = 0; i < addrs.length; i++) {
    const b = mem.readInto ? (mem.readInto(addrs[i], page) ? page : undefined) : mem.read(addrs[i], 4096);
    if (b !== undefined) sum = (sum + b[0]) | 0;
  }
  read.push(performance.now() - t);
  t = performance.now();
  const u = readUnitTables(mem, { segment: 0, rootTable: Number(rootText), mode: 'legacy', haw: Number(hawText ?? 48), part: 'memory' });
  walk.push(performance.now() - t);
  mappings = u.domains.reduce((n, d) => n + d.mappings.length, 0);
  pages = u.domains.reduce((n, d) => n + d.pageCount, 0);
  visited = u.pagesVisited;
  if (sum === 0.5) process.stdout.write(''); // keep `sum` alive
}
mem.close();
process.stdout.write(JSON.stringify({ tablePages: addrs.length, pagesVisited: visited, mappings, mappedPages: pages, readMs: read, walkMs: walk }) + '\n');
