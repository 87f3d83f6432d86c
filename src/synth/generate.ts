/**
 * Writes a realistic capture directory from a Scenario: a DMAR table with a correct checksum,
 * register snapshots, a sparse page dump holding the translation structures at plausible host
 * addresses, and the FreeBSD text a capture script collects (pciconf -lv, bhyve command lines,
 * machdep.smap). Used by `npm run samples`, the tests and the benchmark.
 */
import { formatLspciHexDump } from '../text/pci-config-dump.js';
import { encodePciConfig, type ScenarioConfig } from './pci-config-encode.js';
import { formatIrTranslation, remappedIrte } from './ir-encode.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBdf, fromSlotFunc, parseBdf, type Bdf } from '../util/bdf.js';
import { encodeDmar } from './dmar-encode.js';
import { PhysBuilder } from './phys.js';
import { encodeRegistersJson } from './registers-json-encode.js';
import { hashString, mulberry32 } from './rng.js';
import { parseAddr, parseSize, type Scenario, type ScenarioDevice, type ScenarioDomain, type ScenarioRange, type ScenarioUnit } from './scenario.js';
import { addNoise, writeElfCore } from './image-extras.js';
import { irtaOf, writeIrTable } from './ir-scenario.js';
import { formatIomem, formatLspci, formatProcCmdlines } from './linux-text.js';
import { buildQueue, formatInvalidationQueue } from './invalidation-encode.js';
import { FirstLevelPageTable, scalableContextsOf, writeScalableTables } from './scalable.js';
import { writeSparseDump } from './sparse-writer.js';
import { buildLegacyRootTable, SecondLevelTable, type LegacyContextSpec } from './tables.js';
import { formatDmardump, formatPciconf, formatSmap, formatVmCommandLines, type DmardumpUnit } from './text-formats.js';

const CHUNK = 512; // 4 KiB pages in a 2 MiB chunk
const PAGE_BYTES: Record<string, number> = { '4K': 4096, '2M': 2097152, '1G': 1073741824 };

/** A run the generator mapped: for shareWith, host-identity exclusion and the sample README. */
interface Placed {
  gpaPfn: number;
  hpaPfn: number;
  pages: number;
  pageSize: string;
}

export interface GeneratedCapture {
  dir: string;
  files: string[];
  /** Root table address per unit (index), for tests. */
  rootTables: number[];
  /** Table root per domain id. */
  domainRoots: Record<string, number>;
  /** Guest runs per domain id (page numbers). */
  placed: Record<string, Placed[]>;
}

export function bdfOf(text: string): Bdf {
  return parseBdf(text);
}

/**
 * FRCD registers per the VT-d spec's fault recording register layout (bits 127:0): F (127),
 * T1 (126: 0 write, 1 read), FR (103:96), SID (79:64), FI (63:12); FSTS.PPF (bit 1) with FRI
 * (15:8) = 0 when there is any.
 */
function faultRegisters(records: NonNullable<ScenarioUnit['faultRecords']>): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  records.forEach((r, i) => {
    const b = bdfOf(r.bdf);
    const sid = BigInt((b.bus << 8) | b.devfn);
    out[`FRCD${i}_LO`] = BigInt(r.iova) & ~0xfffn;
    out[`FRCD${i}_HI`] = (1n << 63n) | ((r.access === 'write' ? 0n : 1n) << 62n) | (BigInt(r.reason & 0xff) << 32n) | sid;
  });
  if (records.length > 0) out.FSTS = 1n << 1n;
  return out;
}

export function generateCapture(s: Scenario, dir: string): GeneratedCapture {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  const w = new CaptureWriter(s, dir);
  // Host memory first (root tables at each unit's tableBase, then the domains' page tables, then
  // the context tables that point at them), then the parts that describe it.
  w.placeRootTables();
  w.buildDomains();
  w.writeContextTables();
  w.writeIrTables();
  w.writeDmar();
  w.writeRegisters();
  w.writeMemory();
  w.writeTextParts();
  w.writeManifest();
  return { dir, files: w.files, rootTables: w.rootTables, domainRoots: w.domainRoots, placed: w.placed };
}

/** Register values of a unit that both registers.json and dmardump state. */
interface UnitRegs {
  gsts: number;
  maj: number;
  min: number;
  rtaddr: bigint;
}

/**
 * One capture being written (the steps of generateCapture): the host memory the tables are built
 * in, the free host RAM VMs are given from, and the files written so far.
 */
class CaptureWriter {
  readonly files: string[] = [];
  readonly rootTables: number[] = [];
  readonly placed: Record<string, Placed[]> = {};
  readonly domainRoots: Record<string, number> = {};
  private readonly rand: () => number;
  private readonly phys = new PhysBuilder();
  /** Host RAM as [start, end) byte ranges. */
  private readonly ram: [number, number][];
  /** Chunk numbers (2 MiB units) of host RAM no table area or explicit placement holds. */
  private readonly free: number[];

  constructor(private readonly s: Scenario, private readonly dir: string) {
    this.rand = mulberry32(s.seed ?? hashString(s.name));
    this.ram = s.ram.map(([a, b]) => [parseAddr(a), parseAddr(b) + 1] as [number, number]);
    this.free = freeChunks(s, this.ram);
  }

  /** Unit `i`'s registers as the scenario sets them (after placeRootTables: RTADDR points at its root table). */
  private unitRegs(i: number): UnitRegs {
    const u = this.s.units[i];
    const tes = u.enabled ? 1 << 31 : 0;
    const rtps = u.rootTable ? 1 << 30 : 0;
    const gsts = (tes | rtps | Number(BigInt(u.gstsExtra ?? (u.owner === 'bhyve-vtd' ? '0x0' : '0x07000000')))) >>> 0;
    const [maj, min] = (u.version ?? '1.0').split('.').map(Number);
    const rtaddr = BigInt(this.rootTables[i]) | (u.mode === 'scalable' ? 1n << 10n : 0n);
    return { gsts, maj, min, rtaddr };
  }

  private write(name: string, data: string | Uint8Array): void {
    write(this.dir, name, data, this.files);
  }

  /** `n` chunks of free host RAM: contiguous runs of random length at random places, like a real host's free memory. */
  private takeChunks(n: number): number[] {
    const { free, rand } = this;
    const out: number[] = [];
    while (out.length < n) {
      if (free.length === 0) throw new Error(`scenario ${this.s.name}: host RAM exhausted`);
      const run = Math.min(n - out.length, 1 + Math.floor(rand() * 16));
      let start = Math.floor(rand() * free.length);
      let len = 0;
      while (len < run && start + len < free.length && free[start + len] === free[start] + len) len++;
      if (len === 0) {
        start = 0;
        len = 1;
      }
      out.push(...free.splice(start, len));
    }
    return out;
  }

  /** Root tables first, so each sits at its unit's tableBase. */
  placeRootTables(): void {
    for (const u of this.s.units) {
      this.phys.moveTo(parseAddr(u.tableBase));
      this.rootTables.push(u.rootTable ? this.phys.alloc() : 0);
    }
  }

  /** Each domain's page table in its unit's table area, host-identity domains last (they map around the VMs'). */
  buildDomains(): void {
    const { s, phys, placed } = this;
    const ordered = [...s.domains].sort((a, b) => Number(!!a.hostIdentity) - Number(!!b.hostIdentity));
    const takeChunks = (n: number): number[] => this.takeChunks(n);
    for (const d of ordered) {
      const unit = s.units[d.unit ?? 0];
      const area = parseAddr(unit.tableBase);
      const at = d.tablesAt !== undefined ? parseAddr(d.tablesAt) : area;
      if (at < area || at >= area + (64 << 20)) throw new Error(`scenario ${s.name}: domain ${d.id} tablesAt is outside the unit's 64 MiB table area`);
      phys.moveTo(at);
      const t = d.format === 'first-level' ? new FirstLevelPageTable(phys, d.flLevels ?? 4) : new SecondLevelTable(phys, d.aw + 2);
      this.domainRoots[d.id] = t.root;
      const runs: Placed[] = (placed[d.id] = []);
      for (const r of d.guest ?? []) mapGuestRange(t, r, runs, takeChunks, placed);
      if (d.shareWith) {
        for (const p of placed[d.shareWith] ?? []) {
          t.mapRange(p.gpaPfn, p.hpaPfn, p.pages, PAGE_BYTES[p.pageSize], { read: true, write: true });
          runs.push({ ...p });
        }
      }
      if (d.hostIdentity) mapHostIdentity(t, d, this.ram, placed, s);
      for (const r of d.extra ?? []) {
        const gpa = parseAddr(r.gpa) / 4096;
        const hpa = parseAddr(r.hpa ?? r.gpa) / 4096;
        const pages = parseSize(r.size) / 4096;
        t.mapRange(gpa, hpa, pages, PAGE_BYTES[r.pageSize], { read: r.read ?? true, write: r.write ?? true });
        runs.push({ gpaPfn: gpa, hpaPfn: hpa, pages, pageSize: r.pageSize });
      }
      if (d.corruptLeaf) corruptLeaf(phys, t, d);
    }
  }

  /** Context tables (and the root entries pointing at them) of each unit with a root table. */
  writeContextTables(): void {
    const { s, phys, rootTables } = this;
    s.units.forEach((u, ui) => {
      if (!u.rootTable) return;
      phys.moveTo(parseAddr(u.tableBase));
      if (u.mode === 'scalable') {
        writeScalableTables(phys, rootTables[ui], scalableContextsOf(s, ui, this.domainRoots));
        return;
      }
      buildLegacyRootTable(phys, this.legacyContexts(ui), rootTables[ui]);
      for (const c of s.contexts.filter((c) => (c.unit ?? 0) === ui && c.hiOr)) {
        const b = bdfOf(c.bdf);
        const rootEntry = phys.readQword(rootTables[ui] + b.bus * 16);
        const entry = Number(rootEntry & ~0xfffn) + b.devfn * 16 + 8;
        phys.writeQword(entry, phys.readQword(entry) | BigInt(c.hiOr!));
      }
    });
  }

  private legacyContexts(ui: number): LegacyContextSpec[] {
    const s = this.s;
    const specs: LegacyContextSpec[] = [];
    for (const c of s.contexts.filter((c) => (c.unit ?? 0) === ui)) {
      const b = bdfOf(c.bdf);
      const d = c.domain ? s.domains.find((x) => x.id === c.domain) : undefined;
      if (c.domain && !d) throw new Error(`scenario ${s.name}: context ${c.bdf} names unknown domain ${c.domain}`);
      const owner = s.units[ui];
      const tt = c.tt ?? (owner.owner === 'bhyve-vtd' && (BigInt(owner.ecap) & 4n) !== 0n ? 1 : 0);
      specs.push({
        bus: b.bus, devfn: b.devfn, tt, fpd: c.fpd,
        aw: c.aw ?? d?.aw ?? 1,
        did: c.did ?? d?.did ?? 0,
        slptptr: c.slptptr !== undefined ? parseAddr(c.slptptr) : tt === 2 ? 0 : d ? this.domainRoots[d.id] : 0,
      });
    }
    return specs;
  }

  /** Each unit's interrupt remapping table (units with `ir`), in its table area. */
  writeIrTables(): void {
    for (const u of this.s.units) writeIrTable(this.phys, u);
  }

  writeDmar(): void {
    const s = this.s;
    const dmar = encodeDmar({
      haw: s.haw,
      flags: s.dmarFlags ?? 1,
      oemId: 'DMRSFT',
      drhd: s.units.map((u) => ({
        flags: u.includePciAll ? 1 : 0,
        segment: u.segment ?? 0,
        base: parseAddr(u.base),
        size: 0,
        scopes: (u.scopes ?? []).map((sc) => ({ type: { endpoint: 1, bridge: 2, ioapic: 3, hpet: 4 }[sc.type], enumId: sc.enumId ?? 0, startBus: sc.bus, path: sc.path })),
      })),
      rmrr: (s.rmrr ?? []).map((r) => {
        const b = bdfOf(r.bdf);
        return { segment: b.segment, base: parseAddr(r.base), limit: parseAddr(r.end), scopes: [{ type: 1, enumId: 0, startBus: b.bus, path: [[b.devfn >> 3, b.devfn & 7]] as [number, number][] }] };
      }),
      corrupt: s.dmarDefect,
    });
    if (s.parts?.dmar !== false) this.write('DMAR', dmar);
  }

  writeRegisters(): void {
    if (this.s.parts?.registers === false) return;
    const units = this.s.units.map((u, i) => {
      const { gsts, maj, min, rtaddr } = this.unitRegs(i);
      return {
        name: `dmar${i}`,
        base: parseAddr(u.base),
        registers: {
          VER: BigInt((maj << 4) | min), CAP: BigInt(u.cap), ECAP: BigInt(u.ecap), GSTS: BigInt(gsts), RTADDR: rtaddr, FSTS: 0n,
          ...faultRegisters(u.faultRecords ?? []),
          ...Object.fromEntries(Object.entries(this.s.units[i].registers ?? {}).map(([k, v]) => [k, BigInt(v)])),
          ...(irtaOf(u) !== undefined ? { IRTA: irtaOf(u)! } : {}),
        } as Record<string, bigint>,
      };
    });
    this.write('registers.json', encodeRegistersJson(units));
  }

  /** The memory image (sparse dump or ELF core) of every page written, with the scenario's noise. */
  writeMemory(): void {
    const { s, phys } = this;
    const img = s.memoryImage;
    if (img?.noise) addNoise(phys, this.rand, { randomPages: img.noise.randomPages, at: parseAddr(img.noise.at), decoys: img.noise.decoys ?? false });
    this.writeQueueRing();
    if (s.parts?.memory === false || phys.pages.size === 0) return;
    if (img?.format === 'elf') {
      writeElfCore(path.join(this.dir, 'memory.elf'), phys.pages, img.zeroTail !== undefined ? parseSize(img.zeroTail) : 0);
      this.files.push('memory.elf');
    } else {
      writeSparseDump(path.join(this.dir, 'memory.sparse'), phys.pages);
      this.files.push('memory.sparse');
    }
  }

  /**
   * The invalidation queue's ring in host memory, where unit 0's IQA register (set by the
   * scenario) says the hardware fetches it: 128-bit descriptors, qw0 then qw1, little-endian.
   */
  private writeQueueRing(): void {
    const iqa = this.s.units[0]?.registers?.IQA;
    if (this.s.invalidationQueue === undefined || iqa === undefined) return;
    const base = Number(BigInt(iqa) & 0x000f_ffff_ffff_f000n);
    buildQueue(this.s.invalidationQueue).slots.forEach(([q0, q1], i) => {
      this.phys.writeQword(base + i * 16, q0);
      this.phys.writeQword(base + i * 16 + 8, q1);
    });
  }

  /** The text a capture script collects: dmardump, the PCI inventory, VM command lines, the memory map, the invalidation queue. */
  writeTextParts(): void {
    const s = this.s;
    const pciEntries = s.devices.map((dev) => {
      const b = bdfOf(dev.bdf);
      const ari = b.devfn > 7 && !dev.bdf.includes('.');
      const slot = ari ? 0 : b.devfn >> 3;
      const func = ari ? b.devfn : b.devfn & 7;
      return { dev, domain: b.segment, bus: b.bus, slot, func };
    });
    if (s.parts?.dmardump === true) this.writeDmardump(pciEntries);
    if (s.parts?.pci !== false && s.devices.length) {
      if (s.inventory === 'lspci') this.write('lspci.txt', formatLspci(s.devices.map((d) => ({ ...d, bdf: formatBdf(bdfOf(d.bdf)) }))));
      else this.write('pciconf-lv.txt', formatPciconf(pciEntries));
    }
    // `parts.vms: true` writes the process listing even with no VM running (a host whose VMs are gone).
    if (s.parts?.vms === true || (s.parts?.vms !== false && s.vms.length)) {
      if (s.vmCmdlines === 'proc') this.write('qemu-cmdline.txt', formatProcCmdlines(s.vms));
      else this.write('ps-args.txt', formatVmCommandLines(s.vms));
    }
    if (s.parts?.memoryMap !== false) this.writeMemoryMap();
    if (s.irTable) {
      const entries = s.irTable.entries.map((e) => {
        const b = bdfOf(e.bdf);
        const [lo, hi] = remappedIrte({ sid: (b.bus << 8) | b.devfn, vector: e.vector });
        return { index: e.index, lo, hi };
      });
      // The table itself lies in the unit's table area (never handed out); only its text is written.
      this.write('ir_translation_struct', formatIrTranslation(parseAddr(s.units[0].tableBase) + (62 << 20), entries));
    }
    const configured = s.devices.filter((d) => d.config !== undefined);
    if (configured.length > 0) {
      this.write('pci-config.txt', formatLspciHexDump(configured.map((d) => ({ bdf: formatBdf(bdfOf(d.bdf)), label: '(configuration space)', bytes: encodePciConfig(d, d.config as ScenarioConfig) }))));
    }
    if (s.invalidationQueue) {
      // The ring itself lies in the unit's table area (never handed out); only its text is written.
      const q = buildQueue(s.invalidationQueue);
      this.write('invalidation_queue', formatInvalidationQueue('dmar0', parseAddr(s.units[0].tableBase) + (63 << 20), q.head, q.tail, q.slots));
    }
  }

  private writeDmardump(pciEntries: { dev: ScenarioDevice; domain: number; bus: number; slot: number; func: number }[]): void {
    const units: DmardumpUnit[] = this.s.units.map((u, i) => {
      const r = this.unitRegs(i);
      return {
        base: parseAddr(u.base),
        segment: u.segment ?? 0,
        version: [r.maj, r.min],
        gsts: r.gsts,
        rtaddr: r.rtaddr,
        buses: u.rootTable ? readContexts(this.phys, this.rootTables[i]) : [],
      };
    });
    const lookup = (segment: number, bus: number, slot: number, func: number): { slot: number; func: number; name?: string } | undefined => {
      const e = pciEntries.find((x) => x.domain === segment && x.bus === bus && x.slot === slot && x.func === func);
      return e ? { slot, func, ...(e.dev.name !== undefined ? { name: e.dev.name } : {}) } : undefined;
    };
    this.write('dmardump.txt', formatDmardump(units, lookup));
  }

  private writeMemoryMap(): void {
    const s = this.s;
    if (s.memoryMapFormat !== 'iomem') {
      this.write('smap.txt', formatSmap(smapOf(this.ram)));
      return;
    }
    const devices = s.devices.filter((d) => d.bars?.length).map((d) => ({
      bdf: formatBdf(bdfOf(d.bdf)),
      bars: d.bars!.map((b) => ({ start: parseAddr(b.start), end: parseAddr(b.start) + parseSize(b.size), ...(b.claim !== undefined ? { claim: b.claim } : {}) })),
    }));
    this.write('iomem.txt', formatIomem({ ram: this.ram, units: s.units.map((u) => parseAddr(u.base)), devices }));
  }

  /** capture.json (the parts written) and the sample's README (what analyze must find). */
  writeManifest(): void {
    const s = this.s;
    const manifest = {
      notes: s.summary,
      parts: this.files.map((f) => ({ kind: kindOf(f), path: f })),
    };
    this.write('capture.json', JSON.stringify(manifest, null, 2) + '\n');
    const must = (e: [string, string | null][]): string => (e.length ? e.map(([c, b]) => `\`${c}\`${b ? ` on ${b}` : ''}`).join(', ') : 'no finding at warning or above');
    const pair = s.diff ? `\n\nExpected from \`dmarsift diff ${s.diff.before} ${s.name}\` (pair checks): ${must(s.diff.expect)}.` : '';
    this.write('README.md', `# ${s.name}\n\n${s.summary}\n\nGenerated by \`npm run samples\` from \`samples/scenarios/${s.name}.json\`; do not edit by hand.\n\nExpected from \`dmarsift analyze\`: ${must(s.expect)}.${pair}\n`);
  }
}

/** Host RAM as 2 MiB chunks; the low 16 MiB, each unit's table area and host pages a scenario places explicitly are never handed to VMs. */
function freeChunks(s: Scenario, ram: [number, number][]): number[] {
  const reserved: [number, number][] = [[0, 16 << 20], ...s.units.map((u) => [parseAddr(u.tableBase), parseAddr(u.tableBase) + (64 << 20)] as [number, number])];
  for (const d of s.domains) {
    for (const r of d.guest ?? []) if (r.hpa !== undefined) reserved.push([parseAddr(r.hpa), parseAddr(r.hpa) + parseSize(r.size)]);
  }
  for (const [a, b] of s.reserve ?? []) reserved.push([parseAddr(a), parseAddr(b) + 1]);
  const free: number[] = [];
  for (const [a, b] of ram) {
    for (let c = Math.ceil(a / (2 << 20)); (c + 1) * (2 << 20) <= b; c++) {
      const lo = c * (2 << 20);
      if (!reserved.some(([ra, rb]) => lo < rb && lo + (2 << 20) > ra)) free.push(c);
    }
  }
  return free;
}

/** The present root entries of a legacy root table and the raw context entries they point at, as dmardump reads them. */
function readContexts(phys: PhysBuilder, root: number): DmardumpUnit['buses'] {
  const out: DmardumpUnit['buses'] = [];
  for (let bus = 0; bus < 256; bus++) {
    const r = phys.readQword(root + bus * 16);
    if ((r & 1n) === 0n) continue;
    const table = Number(r & ~0xfffn);
    const contexts: DmardumpUnit['buses'][number]['contexts'] = [];
    for (let devfn = 0; devfn < 256; devfn++) {
      const lo = phys.readQword(table + devfn * 16);
      if (lo & 1n) contexts.push({ devfn, lo, hi: phys.readQword(table + devfn * 16 + 8) });
    }
    out.push({ bus, contexts });
  }
  return out;
}

function kindOf(file: string): string {
  return ({ DMAR: 'dmar', 'dmardump.txt': 'dmardump-text', 'registers.json': 'registers', 'memory.sparse': 'memory', 'pciconf-lv.txt': 'pci', 'lspci.txt': 'pci', 'memory.elf': 'memory', 'ps-args.txt': 'vm-cmdlines', 'smap.txt': 'memory-map',
    'qemu-cmdline.txt': 'vm-cmdlines', 'iomem.txt': 'memory-map', invalidation_queue: 'invalidation-queue', 'pci-config.txt': 'pci-config', ir_translation_struct: 'ir-translation' } as Record<string, string>)[file] ?? 'ignored';
}

function write(dir: string, name: string, data: string | Uint8Array, files: string[]): void {
  fs.writeFileSync(path.join(dir, name), data);
  files.push(name);
}

function mapGuestRange(t: SecondLevelTable, r: ScenarioRange, runs: Placed[], takeChunks: (n: number) => number[], placed: Record<string, Placed[]>): void {
  const gpaPfn = parseAddr(r.gpa) / 4096;
  const pages = parseSize(r.size) / 4096;
  const perms = { read: r.read ?? true, write: r.write ?? true };
  const size = PAGE_BYTES[r.pageSize];
  if (r.hpaOf !== undefined) {
    // The host pages another domain maps at [from, from + pages): walk its runs in order.
    const from = parseAddr(r.hpaOf.gpa) / 4096;
    let done = 0;
    for (const p of [...(placed[r.hpaOf.domain] ?? [])].sort((a, b) => a.gpaPfn - b.gpaPfn)) {
      const lo = Math.max(p.gpaPfn, from + done);
      const hi = Math.min(p.gpaPfn + p.pages, from + pages);
      if (lo !== from + done || hi <= lo) continue;
      const n = hi - lo;
      const hpaPfn = p.hpaPfn + (lo - p.gpaPfn);
      t.mapRange(gpaPfn + done, hpaPfn, n, size, perms);
      runs.push({ gpaPfn: gpaPfn + done, hpaPfn, pages: n, pageSize: r.pageSize });
      done += n;
    }
    if (done !== pages) throw new Error(`scenario: hpaOf ${r.hpaOf.domain}@${r.hpaOf.gpa}: that domain does not map ${r.size} there`);
    return;
  }
  if (r.hpa !== undefined) {
    const hpaPfn = parseAddr(r.hpa) / 4096;
    t.mapRange(gpaPfn, hpaPfn, pages, size, perms);
    runs.push({ gpaPfn, hpaPfn, pages, pageSize: r.pageSize });
    return;
  }
  if (r.pageSize === '1G') throw new Error('scenario: 1G guest ranges need an explicit hpa');
  const chunks = takeChunks(Math.ceil(pages / CHUNK));
  chunks.forEach((c, i) => {
    const g = gpaPfn + i * CHUNK;
    const n = Math.min(CHUNK, pages - i * CHUNK);
    t.mapRange(g, c * CHUNK, n, size, perms);
    const last = runs[runs.length - 1];
    if (last && last.pageSize === r.pageSize && last.gpaPfn + last.pages === g && last.hpaPfn + last.pages === c * CHUNK) last.pages += n;
    else runs.push({ gpaPfn: g, hpaPfn: c * CHUNK, pages: n, pageSize: r.pageSize });
  });
}

/** bhyve's host domain: 1:1 over all RAM, minus every page a VM domain owns (unless kept: a defect). */
function mapHostIdentity(t: SecondLevelTable, d: ScenarioDomain, ram: [number, number][], placed: Record<string, Placed[]>, s: Scenario): void {
  const owned = new Set<number>(); // 2 MiB chunk numbers owned by VMs
  for (const other of s.domains) {
    if (other.id === d.id || other.hostIdentity || d.hostIdentity!.keepVmPages?.includes(other.id)) continue;
    for (const p of placed[other.id] ?? []) {
      for (let pfn = p.hpaPfn; pfn < p.hpaPfn + p.pages; pfn += CHUNK) owned.add(Math.floor(pfn / CHUNK));
    }
  }
  const big = d.hostIdentity!.pageSize;
  for (const [a, b] of ram) {
    let pfn = a / 4096;
    const end = b / 4096;
    while (pfn < end) {
      const chunk = Math.floor(pfn / CHUNK);
      if (big === '1G' && pfn % 262144 === 0 && pfn + 262144 <= end && ![...Array(512).keys()].some((k) => owned.has(chunk + k))) {
        t.mapPage(pfn, pfn, 1073741824, { read: true, write: true });
        pfn += 262144;
      } else if (big !== '4K' && pfn % CHUNK === 0 && pfn + CHUNK <= end) {
        if (!owned.has(chunk)) t.mapPage(pfn, pfn, 2097152, { read: true, write: true });
        pfn += CHUNK;
      } else {
        if (!owned.has(chunk)) t.mapPage(pfn, pfn, 4096, { read: true, write: true });
        pfn += 1;
      }
    }
  }
}

function corruptLeaf(phys: PhysBuilder, t: SecondLevelTable, d: ScenarioDomain): void {
  const iovaPfn = parseAddr(d.corruptLeaf!.iova) / 4096;
  let table = t.root;
  for (let level = t.levels; level >= 1; level--) {
    const idx = Math.floor(iovaPfn / 512 ** (level - 1)) % 512;
    const entry = table + idx * 8;
    const v = phys.readQword(entry);
    if (level === 1 || (v & 0x80n) !== 0n) {
      const lo = BigInt(d.corruptLeaf!.orLo ?? '0');
      const hi = BigInt(d.corruptLeaf!.orHi ?? '0');
      phys.writeQword(entry, v | lo | (hi << 32n));
      return;
    }
    table = Number(v & 0xf_ffff_ffff_f000n);
  }
}

/** BIOS map: RAM ranges as type 1, the gaps below 4 GiB as reserved (type 2). */
function smapOf(ram: [number, number][]): { base: number; length: number; type: number }[] {
  const out: { base: number; length: number; type: number }[] = [];
  let prev = 0;
  for (const [a, b] of [...ram].sort((x, y) => x[0] - y[0])) {
    if (a > prev && prev < 0x100000000) out.push({ base: prev, length: Math.min(a, 0x100000000) - prev, type: 2 });
    out.push({ base: a, length: b - a, type: 1 });
    prev = b;
  }
  return out;
}

export { fromSlotFunc };
