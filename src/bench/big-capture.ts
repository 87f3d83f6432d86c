/**
 * Large synthetic captures for `npm run bench`, generated as a stream: the leaf page-table pages
 * (128 MiB for 64 GiB mapped in 4 KiB pages) are computed one at a time into a reused buffer and
 * written straight to the image file; only the few upper-level pages, the root and context tables
 * live in a PhysBuilder. Host placement is kept as typed arrays of runs (a run is 1 to 512 pages,
 * contiguous in host memory, placed at a random place with a random gap), so neither the
 * generator nor dmarsift can coalesce the work away.
 *
 * Everything else of the capture (DMAR, registers, pciconf, VM command lines, BIOS memory map,
 * manifest) comes from the same encoders the sample generator uses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openMemoryImage } from '../image/open.js';
import { encodeDmar } from '../synth/dmar-encode.js';
import { PhysBuilder } from '../synth/phys.js';
import { encodeRegistersJson } from '../synth/registers-json-encode.js';
import { mulberry32 } from '../synth/rng.js';
import { streamSparseDump } from '../synth/sparse-writer.js';
import { buildLegacyRootTable, SecondLevelTable, type LegacyContextSpec } from '../synth/tables.js';
import { formatPciconf, formatSmap, formatVmCommandLines } from '../synth/text-formats.js';
import { hex } from '../util/hex.js';

export const GiB = 1024 ** 3;
const PAGE = 4096;
const TWO_POW_32 = 4294967296;
/** bhyve puts guest memory above 3 GiB at 4 GiB (libvmmapi lowmem_limit). */
const LOWMEM_PAGES = (3 * GiB) / PAGE;
const HOLE_PAGES = GiB / PAGE;
const CAP = 0xd2078c406f0666n; // SAGAW 39/48-bit, SLLPS 2 MiB + 1 GiB, ND 6
const ECAP = 0xf050den;
const UNIT_BASE = 0xfed90000;
const HAW = 46;

export interface BigVm {
  name: string;
  /** Guest memory in 4 KiB pages (a multiple of 512). */
  guestPages: number;
  pageSize: '4K' | '2M';
  did: number;
}

export interface BigScenario {
  name: string;
  description: string;
  image: 'sparse' | 'elf';
  /** Host RAM ranges [start, end) in bytes (the BIOS map, and the ELF core's PT_LOAD segments). */
  ram: [number, number][];
  /** Host page range [start, end) (4 KiB pages) the VMs' memory is placed in. */
  pool: [number, number];
  /** Where the translation structures are allocated (physical address). */
  tableBase: number;
  vms: BigVm[];
  /** Make the last run of the second VM alias the first run of the first VM (hpa-leak-shared). */
  shareOne?: boolean;
  /** ELF only: pages of pseudo-random bytes written at random places besides the tables. */
  fillerPages?: number;
  seed: number;
}

export interface BigCapture {
  name: string;
  description: string;
  /** The capture directory (the argument to `dmarsift decode`). */
  dir: string;
  /** The memory image inside it. */
  image: string;
  /** Float64Array file of table page addresses in walk order (for the reader floor). */
  tablePagesFile: string;
  /**
   * Float64Array file of [file offset, length] pairs: the image's byte ranges that hold the table
   * pages, sorted and merged (for the physical floor).
   */
  tableRangesFile: string;
  /** Bytes in those ranges. */
  tableRangeBytes: number;
  /** Root table address and host address width (for the in-process engine measurement). */
  rootTable: number;
  haw: number;
  tablePages: number;
  /** Leaf entries (4 KiB PTEs or 2 MiB PDEs) written. */
  leafEntries: number;
  /** Host runs placed (the mappings a coalescer can at best reduce the leaves to). */
  runs: number;
  mappedBytes: number;
  imageBytes: number;
  /** Bytes actually allocated on disk (the images are sparse). */
  imageDiskBytes: number;
  /** Findings `analyze` must give at warning or above: check ids. */
  expect: string[];
  /** Per VM domain, in DID order: its device and mapped bytes (what `decode` must report). */
  domains: { did: number; bdf: string; mappedBytes: number }[];
  /** IOVAs at random places of every VM and the host address each must translate to. */
  translations: { bdf: string; iova: number; hpa: number }[];
}

/** Guest page → IOVA page under bhyve's layout. */
const iovaOf = (g: number): number => (g < LOWMEM_PAGES ? g : g + HOLE_PAGES);

interface VmRuns {
  vm: BigVm;
  /** Page size in 4 KiB pages (1 or 512). */
  unit: number;
  /** Run lengths in units of the VM's page size, in guest order. */
  len: Uint16Array;
  /** Host start page (4 KiB page number) of each run. */
  host: Float64Array;
  count: number;
}

function makeRuns(vm: BigVm, rand: () => number): VmRuns {
  const unit = vm.pageSize === '2M' ? 512 : 1;
  if (vm.guestPages % 512 !== 0) throw new Error(`bench: ${vm.name}: guest memory must be a multiple of 2 MiB`);
  const units = vm.guestPages / unit;
  let len = new Uint16Array(Math.max(16, Math.ceil(units / 128)));
  let count = 0;
  for (let done = 0; done < units; ) {
    const n = Math.min(units - done, 1 + Math.floor(rand() * 512));
    if (count === len.length) {
      const bigger = new Uint16Array(len.length * 2);
      bigger.set(len);
      len = bigger;
    }
    len[count++] = n;
    done += n;
  }
  return { vm, unit, len: len.subarray(0, count), host: new Float64Array(count), count };
}

/** Place every run of every VM in the host pool, in a random order with random gaps. */
function placeRuns(all: VmRuns[], pool: [number, number], rand: () => number): void {
  const total = all.reduce((n, r) => n + r.count, 0);
  const owner = new Uint8Array(total);
  const index = new Uint32Array(total);
  let k = 0;
  all.forEach((r, vi) => {
    for (let i = 0; i < r.count; i++, k++) {
      owner[k] = vi;
      index[k] = i;
    }
  });
  const perm = new Uint32Array(total);
  for (let i = 0; i < total; i++) perm[i] = i;
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const pages = all.reduce((n, r) => n + r.vm.guestPages, 0);
  const slack = pool[1] - pool[0] - pages - 512 * total; // alignment may cost up to 511 pages per run
  const maxGap = Math.max(0, Math.min(1024, Math.floor((2 * slack) / Math.max(1, total))));
  let cursor = pool[0];
  for (let i = 0; i < total; i++) {
    const r = all[owner[perm[i]]];
    const ri = index[perm[i]];
    cursor += Math.floor(rand() * (maxGap + 1));
    if (r.unit > 1) cursor = Math.ceil(cursor / r.unit) * r.unit;
    r.host[ri] = cursor;
    cursor += r.len[ri] * r.unit;
  }
  if (cursor > pool[1]) throw new Error(`bench: host pool too small (needs page ${hex(cursor)}, pool ends at ${hex(pool[1])})`);
}

/** Point the entry at (table, index) to `next`, creating nothing: upper levels only. */
function upperPath(phys: PhysBuilder, root: number, levels: number, iovaPfn: number, stopLevel: number): number {
  let table = root;
  for (let level = levels; level > stopLevel; level--) {
    const index = Math.floor(iovaPfn / 512 ** (level - 1)) % 512;
    const entry = table + index * 8;
    const existing = phys.readQword(entry);
    if (existing & 3n) table = Number(existing & 0xf_ffff_ffff_f000n);
    else {
      const next = phys.alloc();
      phys.write64(entry, (next % TWO_POW_32) | 3, Math.floor(next / TWO_POW_32));
      table = next;
    }
  }
  return table;
}

interface Leaves {
  runs: VmRuns;
  /** Leaf table page numbers, in IOVA order. */
  pfns: Float64Array;
}

/** Fill leaf table page `k` of a 4 KiB-page VM (guest pages k*512 … k*512+511). */
class LeafFiller {
  private run = 0;
  private off = 0; // pages into the current run
  constructor(private readonly r: VmRuns) {}

  fill(words: Uint32Array): void {
    const r = this.r;
    words.fill(0);
    for (let i = 0; i < 512; i++) {
      if (this.run >= r.count) return; // guest memory ends inside this leaf page
      const hpa = r.host[this.run] + this.off;
      words[2 * i] = ((hpa % 1048576) * 4096 + 3) >>> 0;
      words[2 * i + 1] = Math.floor(hpa / 1048576);
      if (++this.off === r.len[this.run]) {
        this.run++;
        this.off = 0;
      }
    }
  }
}

/** The translation structures of a scenario: small ones in a PhysBuilder, leaf pages only numbered. */
interface Structures {
  phys: PhysBuilder;
  root: number;
  domainRoots: number[];
  contexts: LegacyContextSpec[];
  /** 4 KiB-page VMs' leaf tables, computed while the image is written. */
  leaves: Leaves[];
  leafEntries: number;
  /** PFNs of the PhysBuilder's pages, ascending. */
  smallPfns: number[];
}

export function generateBigCapture(s: BigScenario, outDir: string): BigCapture {
  const dir = path.join(outDir, s.name, 'capture');
  fs.rmSync(path.join(outDir, s.name), { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const rand = mulberry32(s.seed);

  const runs = s.vms.map((vm) => makeRuns(vm, rand));
  placeRuns(runs, s.pool, rand);
  if (s.shareOne && runs.length >= 2) {
    const b = runs[1];
    b.host[b.count - 1] = runs[0].host[0];
  }
  const st = buildStructures(s, runs, rand);
  const order = walkOrder(st);
  const tablePagesFile = path.join(outDir, s.name, 'table-pages.f64');
  fs.writeFileSync(tablePagesFile, order);

  const files: string[] = [];
  const image = writeImage(s, dir, st, rand);
  files.push(path.basename(image));
  writeOtherParts(s, dir, st.root, files);
  const tableRangesFile = path.join(outDir, s.name, 'table-ranges.f64');
  const ranges = tableFileRanges(image, order);
  fs.writeFileSync(tableRangesFile, ranges);
  let tableRangeBytes = 0;
  for (let i = 1; i < ranges.length; i += 2) tableRangeBytes += ranges[i];

  const stat = fs.statSync(image);
  return {
    name: s.name, description: s.description, dir, image, tablePagesFile, tableRangesFile, tableRangeBytes,
    tablePages: order.length, leafEntries: st.leafEntries, rootTable: st.root, haw: HAW,
    runs: runs.reduce((n, r) => n + r.count, 0),
    mappedBytes: s.vms.reduce((n, vm) => n + vm.guestPages * PAGE, 0),
    imageBytes: stat.size, imageDiskBytes: stat.blocks * 512,
    expect: s.shareOne ? ['hpa-leak-shared'] : [],
    domains: s.vms.map((vm, i) => ({ did: vm.did, bdf: bdfOf(i), mappedBytes: vm.guestPages * PAGE })),
    translations: runs.flatMap((r, i) => sampleTranslations(r, bdfOf(i), 4, rand)),
  };
}

/** The pass-through device of VM `i` (bus 3 + i). */
const bdfOf = (i: number): string => `0000:${(3 + i).toString(16).padStart(2, '0')}:00.0`;

/**
 * Root, context tables and upper levels in a PhysBuilder; the leaf pages of 4 KiB VMs are only
 * numbered here (scattered, as a kernel allocates them) and computed while the image is written.
 */
function buildStructures(s: BigScenario, runs: VmRuns[], rand: () => number): Structures {
  const phys = new PhysBuilder(s.tableBase);
  const root = phys.alloc();
  const leafBase = s.tableBase / PAGE + 4096; // 16 MiB above the PhysBuilder's pages
  let leafCursor = leafBase;
  const leaves: Leaves[] = [];
  const domainRoots: number[] = [];
  let leafEntries = 0;
  for (const r of runs) {
    const t = new SecondLevelTable(phys, 4);
    domainRoots.push(t.root);
    if (r.unit === 512) {
      let g = 0;
      for (let i = 0; i < r.count; i++) {
        for (let j = 0; j < r.len[i]; j++, g += 512) t.mapPage(iovaOf(g), r.host[i] + j * 512, 2097152, { read: true, write: true });
      }
      leafEntries += r.vm.guestPages / 512;
      continue;
    }
    const n = r.vm.guestPages / 512;
    const pfns = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      leafCursor += Math.floor(rand() * 4);
      pfns[k] = leafCursor++;
      const l2 = upperPath(phys, t.root, 4, iovaOf(k * 512), 2);
      const index = Math.floor(iovaOf(k * 512) / 512) % 512;
      phys.write64(l2 + index * 8, ((pfns[k] % 1048576) * 4096 + 3) >>> 0, Math.floor(pfns[k] / 1048576));
    }
    leaves.push({ runs: r, pfns });
    leafEntries += r.vm.guestPages;
  }
  const contexts: LegacyContextSpec[] = s.vms.map((vm, i) => ({ bus: 3 + i, devfn: 0, tt: 0, aw: 2, did: vm.did, slptptr: domainRoots[i] }));
  buildLegacyRootTable(phys, contexts, root);
  const smallPfns = [...phys.pages.keys()].sort((a, b) => a - b);
  if (smallPfns[smallPfns.length - 1] >= leafBase) throw new Error('bench: upper-level tables overflow into the leaf area');
  return { phys, root, domainRoots, contexts, leaves, leafEntries, smallPfns };
}

/** Table page addresses in the order the walker visits them (the reader floor's read list). */
function walkOrder(st: Structures): Float64Array {
  const { phys, root } = st;
  const total = 1 + st.contexts.length + st.smallPfns.length + st.leaves.reduce((n, l) => n + l.pfns.length, 0);
  const order = new Float64Array(total);
  let n = 0;
  order[n++] = root;
  for (const c of st.contexts) order[n++] = Number(phys.readQword(root + c.bus * 16) & ~0xfffn);
  const dfs = (table: number, level: number): void => {
    order[n++] = table;
    for (let i = 0; i < 512; i++) {
      const q = phys.readQword(table + i * 8);
      if ((q & 3n) === 0n || (q & 0x80n) !== 0n) continue;
      const next = Number(q & 0xf_ffff_ffff_f000n);
      // Pages the PhysBuilder does not hold are leaf pages (generated while writing).
      if (level === 2 && !phys.pages.has(next / PAGE)) order[n++] = next;
      else dfs(next, level - 1);
    }
  };
  for (const r of st.domainRoots) dfs(r, 4);
  return order.subarray(0, n);
}

/** Write the memory image (sparse dump or ELF core); pages in ascending PFN order. */
function writeImage(s: BigScenario, dir: string, st: Structures, rand: () => number): string {
  const totalPages = st.smallPfns.length + st.leaves.reduce((n, l) => n + l.pfns.length, 0);
  function* pages(): Generator<{ pfn: number; data: Uint8Array }> {
    for (const pfn of st.smallPfns) yield { pfn, data: st.phys.pages.get(pfn)! };
    const words = new Uint32Array(1024);
    const data = new Uint8Array(words.buffer);
    for (const l of st.leaves) {
      const f = new LeafFiller(l.runs);
      for (const pfn of l.pfns) {
        f.fill(words);
        yield { pfn, data };
      }
    }
  }
  if (s.image === 'sparse') {
    const image = path.join(dir, 'memory.sparse');
    streamSparseDump(image, totalPages, pages());
    return image;
  }
  const image = path.join(dir, 'memory.elf');
  writeSparseElf(image, s.ram, pages(), s.fillerPages ?? 0, rand);
  return image;
}

/** DMAR, registers, PCI inventory, VM command lines, BIOS memory map and the manifest. */
function writeOtherParts(s: BigScenario, dir: string, root: number, files: string[]): void {
  const write = (name: string, data: string | Uint8Array): void => {
    fs.writeFileSync(path.join(dir, name), data);
    files.push(name);
  };
  write('DMAR', encodeDmar({ haw: HAW, flags: 1, oemId: 'DMRSFT', drhd: [{ flags: 1, segment: 0, base: UNIT_BASE, size: 0, scopes: [] }] }));
  write('registers.json', encodeRegistersJson([{
    name: 'dmar0', base: UNIT_BASE,
    registers: { VER: 0x10n, CAP, ECAP, GSTS: BigInt(((1 << 31) | (1 << 30) | 0x07000000) >>> 0), RTADDR: BigInt(root), FSTS: 0n },
  }]));
  const devices = [
    { dev: { bdf: '0000:00:00.0', name: 'hostb0', vendor: '0x8086', device: '0x2020', class: '0x060000', vendorName: 'Intel Corporation', className: 'bridge', subclassName: 'HOST-PCI' }, domain: 0, bus: 0, slot: 0, func: 0 },
    ...s.vms.map((_vm, i) => ({
      dev: { bdf: bdfOf(i), name: `ppt${i}`, vendor: '0x8086', device: '0x1520', class: '0x020000', vendorName: 'Intel Corporation', deviceName: 'I350 Ethernet Controller Virtual Function', className: 'network', subclassName: 'ethernet' },
      domain: 0, bus: 3 + i, slot: 0, func: 0,
    })),
  ];
  write('pciconf-lv.txt', formatPciconf(devices));
  write('ps-args.txt', formatVmCommandLines(s.vms.map((vm, i) => ({ name: vm.name, memory: `${(vm.guestPages * PAGE) / (1 << 20)}M`, passthru: [`${3 + i}/0/0`] }))));
  const smap: { base: number; length: number; type: number }[] = [];
  let prev = 0;
  for (const [a, b] of s.ram) {
    if (a > prev && prev < 2 ** 32) smap.push({ base: prev, length: Math.min(a, 2 ** 32) - prev, type: 2 });
    smap.push({ base: a, length: b - a, type: 1 });
    prev = b;
  }
  write('smap.txt', formatSmap(smap));
  const kind: Record<string, string> = { DMAR: 'dmar', 'registers.json': 'registers', 'memory.sparse': 'memory', 'memory.elf': 'memory', 'pciconf-lv.txt': 'pci', 'ps-args.txt': 'vm-cmdlines', 'smap.txt': 'memory-map' };
  write('capture.json', JSON.stringify({ notes: s.description, parts: files.map((f) => ({ kind: kind[f], path: f })) }, null, 2) + '\n');
}

/**
 * The image's byte ranges that hold the table pages, as [offset, length] pairs, sorted and merged
 * where they touch: what a plain reader of the tables must read at least (the physical floor).
 */
function tableFileRanges(image: string, order: Float64Array): Float64Array {
  const mem = openMemoryImage(image);
  const offsets = new Float64Array(order.length);
  try {
    for (let i = 0; i < order.length; i++) {
      const off = mem.fileOffsetOf(order[i]);
      if (off === undefined) throw new Error(`bench: table page 0x${order[i].toString(16)} is not in ${image}`);
      offsets[i] = off;
    }
  } finally {
    mem.close();
  }
  offsets.sort();
  const out: number[] = [];
  for (let i = 0; i < offsets.length; i++) {
    if (i > 0 && offsets[i] === offsets[i - 1]) continue;
    const n = out.length;
    if (n > 0 && out[n - 2] + out[n - 1] === offsets[i]) out[n - 1] += PAGE;
    else out.push(offsets[i], PAGE);
  }
  return new Float64Array(out);
}

/** `count` random IOVAs of a VM and the host address each translates to (from the placed runs). */
function sampleTranslations(r: VmRuns, bdf: string, count: number, rand: () => number): { bdf: string; iova: number; hpa: number }[] {
  const out: { bdf: string; iova: number; hpa: number }[] = [];
  for (let k = 0; k < count; k++) {
    // Guest byte → (run, offset) by walking the run lengths: a few samples, so no index.
    const g = Math.floor(rand() * r.vm.guestPages);
    const inPage = Math.floor(rand() * PAGE) & ~7;
    let unitIndex = Math.floor(g / r.unit);
    let run = 0;
    while (unitIndex >= r.len[run]) unitIndex -= r.len[run++];
    const hostPage = r.host[run] + unitIndex * r.unit + (g % r.unit);
    out.push({ bdf, iova: iovaOf(g) * PAGE + inPage, hpa: hostPage * PAGE + inPage });
  }
  return out;
}

/**
 * An ELF64 core (ET_CORE, one PT_LOAD per RAM range, p_paddr = physical address) written as a
 * sparse file: only the table pages and some filler pages hold data, the rest are holes.
 */
function writeSparseElf(file: string, ram: [number, number][], pages: Iterable<{ pfn: number; data: Uint8Array }>, filler: number, rand: () => number): void {
  const phnum = ram.length;
  const head = new Uint8Array(64 + 56 * phnum);
  const dv = new DataView(head.buffer);
  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 4, true); // ET_CORE
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  const segOff: number[] = [];
  let off = Math.ceil(head.length / PAGE) * PAGE;
  ram.forEach(([a, b], i) => {
    const at = 64 + i * 56;
    segOff.push(off);
    dv.setUint32(at, 1, true); // PT_LOAD
    dv.setUint32(at + 4, 7, true);
    dv.setBigUint64(at + 8, BigInt(off), true);
    dv.setBigUint64(at + 24, BigInt(a), true); // p_paddr (p_vaddr 0, as QEMU writes)
    dv.setBigUint64(at + 32, BigInt(b - a), true);
    dv.setBigUint64(at + 40, BigInt(b - a), true);
    dv.setBigUint64(at + 48, BigInt(PAGE), true);
    off += b - a;
  });
  const fileOf = (addr: number): number => {
    const i = ram.findIndex(([a, b]) => addr >= a && addr < b);
    if (i < 0) throw new Error(`bench: table page ${hex(addr)} is outside the ELF core's RAM`);
    return segOff[i] + (addr - ram[i][0]);
  };
  const fd = fs.openSync(file, 'w');
  try {
    const put = (buf: Uint8Array, at: number): void => {
      let done = 0;
      while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, at + done);
    };
    fs.ftruncateSync(fd, off);
    put(head, 0);
    const used = new Set<number>();
    for (const { pfn, data } of pages) {
      put(data, fileOf(pfn * PAGE));
      used.add(pfn);
    }
    // Other pages: pseudo-random bytes at random places in RAM (not over the tables).
    const junk = new Uint32Array(1024);
    const ramPages = ram.reduce((n, [a, b]) => n + (b - a) / PAGE, 0);
    for (let i = 0; i < filler; i++) {
      let p = Math.floor(rand() * ramPages);
      let addr = 0;
      for (const [a, b] of ram) {
        if (p < (b - a) / PAGE) {
          addr = a + p * PAGE;
          break;
        }
        p -= (b - a) / PAGE;
      }
      if (used.has(addr / PAGE)) continue;
      for (let w = 0; w < 1024; w++) junk[w] = (rand() * TWO_POW_32) >>> 0;
      put(new Uint8Array(junk.buffer), fileOf(addr));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The benchmark's scenarios for a VM of `gib` GiB (64 in the issue; smaller for a quick run). */
export function benchScenarios(gib: number): BigScenario[] {
  const pages = (gib * GiB) / PAGE;
  const low: [number, number][] = [[0, 0xa0000], [0x100000, 3 * GiB]];
  // Host: RAM above 4 GiB twice the VM's memory (so runs can be scattered with gaps).
  const hostHigh = Math.max(8, 2 * gib) * GiB;
  const poolStart = (4 * GiB) / PAGE;
  const elfGiB = Math.max(4, Math.round(gib / 4));
  const elfVmGiB = Math.max(1, Math.floor((elfGiB - 2) / 2));
  const half = Math.max(512, Math.floor(pages / 2 / 512) * 512);
  return [
    {
      name: 'vm-4k', image: 'sparse', seed: 1,
      description: `one VM domain, ${gib} GiB mapped in 4 KiB pages (${pages.toLocaleString('en-US')} PTEs), host pages in runs of 1–512 at random places; sparse dump of the tables`,
      ram: [...low, [4 * GiB, 4 * GiB + hostHigh]], pool: [poolStart, poolStart + hostHigh / PAGE], tableBase: GiB,
      vms: [{ name: 'vm1', guestPages: pages, pageSize: '4K', did: 1 }],
    },
    {
      name: 'vm-2m', image: 'sparse', seed: 2,
      description: `one VM domain, ${gib} GiB mapped in 2 MiB pages, runs of 1–512 superpages at random places; sparse dump`,
      ram: [...low, [4 * GiB, 4 * GiB + hostHigh]], pool: [poolStart, poolStart + hostHigh / PAGE], tableBase: GiB,
      vms: [{ name: 'vm1', guestPages: pages, pageSize: '2M', did: 1 }],
    },
    {
      name: 'two-vms', image: 'sparse', seed: 3, shareOne: true,
      description: `two VM domains of ${(half * PAGE) / GiB} GiB each in 4 KiB pages, host runs interleaved, one run aliased between them (hpa-leak-shared must find it); sparse dump`,
      ram: [...low, [4 * GiB, 4 * GiB + hostHigh]], pool: [poolStart, poolStart + hostHigh / PAGE], tableBase: GiB,
      vms: [
        { name: 'vm1', guestPages: half, pageSize: '4K', did: 1 },
        { name: 'vm2', guestPages: half, pageSize: '4K', did: 2 },
      ],
    },
    {
      name: 'elf-core', image: 'elf', seed: 4, fillerPages: 4096,
      description: `${elfGiB} GiB sparse ELF core of a host whose VM has ${elfVmGiB} GiB in 4 KiB pages; the tables lie among 4096 pages of other data`,
      ram: [[0, 0xa0000], [0x100000, 2 * GiB], [4 * GiB, (elfGiB + 2) * GiB]],
      pool: [poolStart, ((2 + elfGiB) * GiB) / PAGE], tableBase: GiB,
      vms: [{ name: 'vm1', guestPages: (elfVmGiB * GiB) / PAGE, pageSize: '4K', did: 1 }],
    },
  ];
}

/** The 1 TiB scenario's name (`npm run bench -- --only tib`). */
export const TIB_SCENARIO = 'tib';

/**
 * One VM with 1 TiB in 4 KiB pages: 268 M PTEs in 2 GiB of leaf tables (a 2 GiB sparse dump),
 * host runs of 1–512 pages at random places as at 64 GiB, ~1 M mappings. The tables sit at 4 GiB
 * and the VM's memory above 16 GiB, so no mapping covers them.
 */
export function tibScenario(): BigScenario {
  const gib = 1024;
  const pages = (gib * GiB) / PAGE;
  const poolStart = (16 * GiB) / PAGE;
  const hostHigh = 2 * gib * GiB;
  return {
    name: TIB_SCENARIO, image: 'sparse', seed: 5,
    description: `one VM domain, ${gib} GiB mapped in 4 KiB pages (${pages.toLocaleString('en-US')} PTEs), host pages in runs of 1–512 at random places; sparse dump of the tables`,
    ram: [[0, 0xa0000], [0x100000, 3 * GiB], [4 * GiB, 16 * GiB + hostHigh]], pool: [poolStart, poolStart + hostHigh / PAGE], tableBase: 4 * GiB,
    vms: [{ name: 'vm1', guestPages: pages, pageSize: '4K', did: 1 }],
  };
}
