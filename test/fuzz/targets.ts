/**
 * Fuzz targets: every decoder of untrusted input (src/decode, src/text, the image readers, the
 * capture sniffers) and the table walkers over hostile memory, each with a generator that mixes
 * fully random input with mutations of valid seeds (so the fuzzer gets past the magic numbers and
 * into the structure checks).
 *
 * The property every target must hold: the decoder returns, or throws the project's InputError
 * carrying where the problem is — a byte offset for binary input, a line for text. Anything else
 * (a TypeError, a RangeError, an InputError with no position, a hang) is a crasher.
 *
 * Used by test/fuzz/fuzz.test.ts: a short run in the normal suite, and `npm run fuzz`
 * (DMARSIFT_FUZZ_RUNS, default there 1 000 000 per target) for the long campaign.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRegisterText, parseTextPart, sniffText } from '../../src/capture/text-parts.js';
import { decodeDmar } from '../../src/decode/dmar.js';
import {
  decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidDirEntry, decodePasidTableEntry, decodeScalableContextEntry, decodeScalableRootEntry,
} from '../../src/decode/entries.js';
import { buildUnitRegisters, decodeFaultRecord } from '../../src/decode/registers.js';
import { parseRegistersJson } from '../../src/decode/registers-json.js';
import { parseIommuRegset } from '../../src/decode/regset-text.js';
import { InputError } from '../../src/errors.js';
import { elfFromFile } from '../../src/image/elf.js';
import type { BlockFile } from '../../src/image/file.js';
import { limeFromFile } from '../../src/image/lime.js';
import { openMemoryImage, sniffImageFormat } from '../../src/image/open.js';
import { rawFromFile } from '../../src/image/raw.js';
import { sparseFromFile } from '../../src/image/sparse.js';
import { describeMissing, type PhysicalMemory } from '../../src/image/types.js';
import { readUnitTables } from '../../src/model/tables.js';
import { walkPageTable } from '../../src/model/walk.js';
import { parseDebugfsDomain } from '../../src/text/debugfs-domain.js';
import { parseDebugfsTranslation } from '../../src/text/debugfs-translation.js';
import { parseDmardump } from '../../src/text/dmardump.js';
import { parseDmesg } from '../../src/text/dmesg.js';
import { parseMemoryMap } from '../../src/text/memory-map.js';
import { parseBridgeSysctl, parsePciInventory } from '../../src/text/pci-inventory.js';
import { parseVmCommandLines } from '../../src/text/vm-cmdlines.js';
import { encodeDmar } from '../../src/synth/dmar-encode.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { encodeRegistersJson } from '../../src/synth/registers-json-encode.js';
import { buildSparseDump } from '../../src/synth/sparse-writer.js';
import { buildScalableRootTable } from '../../src/synth/scalable.js';
import { buildLegacyRootTable, SecondLevelTable } from '../../src/synth/tables.js';
import { formatPciconf, formatSmap, formatVmCommandLines } from '../../src/synth/text-formats.js';
import { CAPTURES } from '../helpers/captures.js';
import { concat, elfCore, limeHeader } from '../image/fixtures.js';

const REPO = path.resolve(import.meta.dirname, '../..');

export interface FuzzTarget {
  name: string;
  /** Where an InputError must point: a byte offset or a line. */
  position: 'offset' | 'line';
  arb: fc.Arbitrary<unknown>;
  run(input: unknown): void;
}

/** The property: returns, or throws InputError with a position. Returns the crasher's error. */
export function check(target: FuzzTarget, input: unknown): void {
  try {
    target.run(input);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    if (target.position === 'offset' && e.offset === undefined) throw new Error(`InputError without a byte offset: ${e.format()}`);
    if (target.position === 'line' && e.line === undefined) throw new Error(`InputError without a line: ${e.format()}`);
  }
}

// ------------------------------------------------------------------ generic mutators

const interesting32 = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 4096, 56, 64);

type Edit =
  | { op: 'set'; pos: number; val: number }
  | { op: 'set32'; pos: number; val: number }
  | { op: 'set64'; pos: number; hi: number; lo: number }
  | { op: 'insert'; pos: number; bytes: Uint8Array }
  | { op: 'delete'; pos: number; len: number }
  | { op: 'copy'; from: number; to: number; len: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), pos: fc.nat(), val: fc.nat(255) }),
  fc.record({ op: fc.constant('set32' as const), pos: fc.nat(), val: fc.oneof(interesting32, fc.nat({ max: 0xffffffff })) }),
  fc.record({ op: fc.constant('set64' as const), pos: fc.nat(), hi: fc.oneof(interesting32, fc.nat({ max: 0xffffffff })), lo: fc.oneof(interesting32, fc.nat({ max: 0xffffffff })) }),
  fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);

function applyEdits(seed: Uint8Array, edits: Edit[], truncate: number | undefined): Uint8Array {
  let b = seed.slice();
  for (const e of edits) {
    const n = b.length;
    if (e.op === 'insert') {
      const at = n ? e.pos % (n + 1) : 0;
      const out = new Uint8Array(n + e.bytes.length);
      out.set(b.subarray(0, at));
      out.set(e.bytes, at);
      out.set(b.subarray(at), at + e.bytes.length);
      b = out;
      continue;
    }
    if (n === 0) continue;
    const at = (e.op === 'copy' ? e.to : e.pos) % n;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (e.op === 'set') b[at] = e.val;
    else if (e.op === 'set32' && at + 4 <= n) dv.setUint32(at - (at % 4), e.val, true);
    else if (e.op === 'set64' && at + 8 <= n) {
      const a = at - (at % 8);
      dv.setUint32(a, e.lo, true);
      dv.setUint32(a + 4, e.hi, true);
    } else if (e.op === 'delete') {
      const end = Math.min(n, at + e.len);
      const out = new Uint8Array(n - (end - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(end), at);
      b = out;
    }
    else if (e.op === 'copy') b.copyWithin(at, e.from % n, Math.min(n, (e.from % n) + e.len));
  }
  if (truncate !== undefined && b.length) b = b.subarray(0, truncate % (b.length + 1));
  return b;
}

/** Random bytes, or a seed with up to 8 edits and perhaps cut short. */
export function bytesFrom(seeds: Uint8Array[], maxRandom = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    {
      weight: 4,
      arbitrary: fc
        .record({ seed: fc.nat(seeds.length - 1), edits: fc.array(edit, { maxLength: 8 }), truncate: fc.option(fc.nat(), { freq: 5, nil: undefined }) })
        .map(({ seed, edits, truncate }) => applyEdits(seeds[seed], edits, truncate)),
    },
  );
}

type TextEdit =
  | { op: 'char'; pos: number; ch: string }
  | { op: 'insert'; pos: number; s: string }
  | { op: 'delete'; pos: number; len: number }
  | { op: 'dupLine'; line: number }
  | { op: 'dropLine'; line: number }
  | { op: 'swapLines'; a: number; b: number }
  | { op: 'number'; pos: number; s: string };

const token = fc.oneof(
  fc.constantFrom('0x', '0xffffffffffffffff', '0x1', '-1', '256', '99999999999999999999', 'ffff:ff:1f.7', '0000:00:00.0', '\t', '  ', ':', ',', '[', ']', '{', '}', '"', '\u0000', '\r\n', '\n', 'NaN', 'e308', '1e999', 'pci0:3:0:8', '3/0/8', 'ppt0', '-m', '-s', 'passthru,', 'IOMMU:', 'DMAR:', 'PTE', 'SMAP type='),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 20 }).map((h) => '0x' + h),
  fc.string({ maxLength: 12 }),
);

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('char' as const), pos: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
  fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), s: token }),
  fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('dupLine' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('dropLine' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('number' as const), pos: fc.nat(), s: token }),
);

function applyTextEdits(seed: string, edits: TextEdit[], truncate: number | undefined): string {
  let t = seed;
  for (const e of edits) {
    const n = t.length;
    if (e.op === 'dupLine' || e.op === 'dropLine' || e.op === 'swapLines') {
      const lines = t.split('\n');
      if (e.op === 'dupLine') lines.splice(e.line % lines.length, 0, lines[e.line % lines.length]);
      else if (e.op === 'dropLine') lines.splice(e.line % lines.length, 1);
      else {
        const a = e.a % lines.length;
        const b = e.b % lines.length;
        [lines[a], lines[b]] = [lines[b], lines[a]];
      }
      t = lines.join('\n');
      continue;
    }
    const at = n ? (e.op === 'insert' ? e.pos % (n + 1) : e.pos % n) : 0;
    if (e.op === 'char') t = t.slice(0, at) + e.ch + t.slice(at + 1);
    else if (e.op === 'insert') t = t.slice(0, at) + e.s + t.slice(at);
    else if (e.op === 'delete') t = t.slice(0, at) + t.slice(at + e.len);
    else {
      // Replace the number-ish word at `at` (hex, decimal, BDF) with a token.
      const m = /[0-9a-fA-Fx:./]+/.exec(t.slice(at));
      if (m) t = t.slice(0, at + m.index) + e.s + t.slice(at + m.index + m[0].length);
    }
  }
  if (truncate !== undefined) t = t.slice(0, truncate % (t.length + 1));
  return t;
}

/** Seeds stay small (a real debugfs dump has thousands of rows): the head is what varies. */
const MAX_SEED_LINES = 120;

/** Random text, random lines of the format's words, or a seed with up to 8 edits. */
export function textFrom(allSeeds: string[]): fc.Arbitrary<string> {
  const seeds = allSeeds.map((s) => s.split('\n').slice(0, MAX_SEED_LINES).join('\n'));
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.array(fc.oneof(token, ...seeds.map((s) => fc.constantFrom(...s.split('\n').filter(Boolean).slice(0, 200)))), { maxLength: 30 }).map((parts) => parts.join(' \n'.charAt(parts.length % 2))) },
    {
      weight: 4,
      arbitrary: fc
        .record({ seed: fc.nat(seeds.length - 1), edits: fc.array(textEdit, { maxLength: 8 }), truncate: fc.option(fc.nat(), { freq: 6, nil: undefined }) })
        .map(({ seed, edits, truncate }) => applyTextEdits(seeds[seed], edits, truncate)),
    },
  );
}

// ------------------------------------------------------------------ seeds

function readIf(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
function bytesIf(p: string): Uint8Array | undefined {
  try {
    return new Uint8Array(fs.readFileSync(p));
  } catch {
    return undefined;
  }
}
const defined = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);
const fixture = (...p: string[]): string | undefined => readIf(path.join(REPO, 'test', 'fixtures', ...p));
const real = (name: string, file: string): string | undefined => readIf(path.join(CAPTURES, name, file));
const realBytes = (name: string, file: string): Uint8Array | undefined => bytesIf(path.join(CAPTURES, name, file));

function seedsDmar(): Uint8Array[] {
  const scope = (type: number, bus: number, path: [number, number][]) => ({ type, enumId: 0, startBus: bus, path });
  return defined([
    encodeDmar({
      haw: 46, flags: 1,
      drhd: [{ flags: 0, segment: 0, base: 0xfed90000, scopes: [scope(1, 0, [[2, 0]]), scope(2, 0, [[1, 0], [0, 0]])] }, { flags: 1, segment: 0, base: 0xfed91000, scopes: [scope(3, 0xf0, [[0x1f, 0]])] }],
      rmrr: [{ segment: 0, base: 0x7c000000, limit: 0x7c7fffff, scopes: [scope(1, 0, [[0x14, 0]])] }],
      atsr: [{ flags: 0, segment: 0, scopes: [scope(2, 0, [[3, 0]])] }],
      rhsa: [{ base: 0xfed90000, proximityDomain: 0 }],
      andd: [{ deviceNumber: 1, name: '\\_SB.PCI0.I2C0' }],
      satc: [{ flags: 1, segment: 0, scopes: [scope(1, 0, [[2, 0]])] }],
      sidp: [{ segment: 0, scopes: [scope(1, 0, [[4, 0]])] }],
    }),
    encodeDmar({ haw: 39, drhd: [{ flags: 1, base: 0xfed90000 }] }),
    bytesIf(path.join(REPO, 'samples', 'bhyve-host', 'DMAR')),
    realBytes('qemu-linux61-legacy', 'DMAR'),
  ]);
}

function seedsRegistersJson(): string[] {
  return defined([
    encodeRegistersJson([{ name: 'dmar0', base: 0xfed90000, registers: { VER: 0x10n, CAP: 0xd2078c406f0666n, ECAP: 0xf050den, GSTS: 0xc7000000n, RTADDR: 0x2643000n, FSTS: 0n, FRCD0_LO: 0x1000n, FRCD0_HI: 0x8000000600000010n } }], { frcd128: true }),
    readIf(path.join(REPO, 'samples', 'bhyve-host', 'registers.json')),
  ]);
}

function seedsRegset(): string[] {
  const synthetic = ['IOMMU: dmar0 Register Base Address: fed90000', 'Name\t\t\tOffset\t\tContents', 'VER             \t0x00\t\t0x0000000000000010', 'CAP             \t0x08\t\t0x00d2008c22260206', 'ECAP            \t0x10\t\t0x0000000000f00f4a', 'GSTS            \t0x1c\t\t0x00000000c7000000', 'RTADDR          \t0x20\t\t0x0000000002643000', 'FRCD0           \t0x400\t\t0x80000006000000100000000000001000', 'IOMMU: Invalid base address', ''].join('\n');
  return defined([synthetic, real('qemu-linux61-legacy', 'iommu_regset'), real('qemu-linux61-dmar-fault', 'iommu_regset')]);
}

function seedsText(kind: string): string[] {
  switch (kind) {
    case 'debugfs-domain':
      return defined([fixture('debugfs', 'domain-cut.txt'), fixture('debugfs', 'domain-newer-device.txt'), fixture('debugfs', 'domain-newer-pasid.txt'), real('qemu-linux61-debugfs', 'domain_translation_struct')]);
    case 'debugfs-translation':
      return defined([fixture('debugfs', 'translation-scalable.txt'), real('qemu-linux61-debugfs', 'dmar_translation_struct'), real('qemu-linux61-dmar-fault', 'dmar_translation_struct')]);
    case 'dmardump':
      return defined([fixture('text', 'dmardump-two-segments.txt')]);
    case 'dmesg':
      return defined([fixture('text', 'dmesg-e820.txt'), fixture('debugfs', 'dmesg-kernel-versions.txt'), real('qemu-linux61-legacy', 'dmesg.txt'), real('qemu-linux61-dmar-fault', 'dmesg.txt')]);
    case 'memory-map':
      return defined([fixture('text', 'proc-iomem.txt'), fixture('text', 'sysctl-smap.txt'), fixture('text', 'dmesg-e820.txt'), formatSmap([{ base: 0, length: 0x9f000, type: 1 }, { base: 0x100000, length: 0xbff00000, type: 1 }, { base: 0xfed00000, length: 0x100000, type: 2 }])]);
    case 'pci':
      return defined([fixture('text', 'lspci-Dnnk.txt'), fixture('text', 'lspci-vmmnnk.txt'), fixture('text', 'lspci-vv.txt'), fixture('text', 'pciconf-lvc.txt'), fixture('text', 'pciconf-old.txt'), fixture('text', 'sysfs-pci.txt'),
        formatPciconf([{ dev: { bdf: '0000:03:00.0', name: 'ppt0', vendor: '0x8086', device: '0x1520', class: '0x020000', vendorName: 'Intel', deviceName: 'VF' }, domain: 0, bus: 3, slot: 0, func: 8 }])]);
    case 'bridges':
      return defined([fixture('text', 'sysctl-dev-pcib.txt')]);
    case 'vm-cmdlines':
      return defined([fixture('text', 'ps-args.txt'), fixture('text', 'qemu-ps.txt'), fixture('text', 'xl-guest.cfg'),
        formatVmCommandLines([{ name: 'vm1', memory: '2G', passthru: ['3/0/8', 'ppt1'] }, { name: 'q', memory: '4096', passthru: ['0000:04:00.0'], style: 'qemu' }, { name: 'r', memory: '1G', passthru: ['5/0/0'], style: 'vmrun' }])]);
    default:
      return [];
  }
}

// ------------------------------------------------------------------ images in memory

/**
 * A BlockFile over bytes in memory, with BlockFile's contract (InputError with the offset for a
 * read past the end), so the image parsers can be fuzzed without a file per input. The real
 * BlockFile is fuzzed separately through openMemoryImage on a temporary file.
 */
export function memFile(bytes: Uint8Array, name = 'fuzz.img'): BlockFile {
  const f = {
    path: name,
    size: bytes.length,
    cachedBlocks: 0,
    read(offset: number, length: number, what = 'data'): Uint8Array {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new InputError(`${what}: invalid file range`, { file: name, offset: 0 });
      if (offset + length > bytes.length) throw new InputError(`${what}: past the end`, { file: name, offset });
      return bytes.subarray(offset, offset + length);
    },
    readInto(offset: number, dest: Uint8Array, what = 'data'): void {
      dest.set(f.read(offset, dest.length, what));
    },
    // BlockFile.readPagesAt's contract, one page at a time: negative offsets are left alone.
    readPagesAt(offsets: Float64Array, count: number, pageSize: number, dest: Uint8Array, what = 'data'): void {
      for (let s = 0; s < count; s++) if (offsets[s] >= 0) dest.set(f.read(offsets[s], pageSize, what), s * pageSize);
    },
    close(): void {},
  };
  return f as unknown as BlockFile;
}

/** Use an opened image the way dmarsift does: ranges, reads in and around them, provenance. */
function exercise(mem: PhysicalMemory, salt: number): void {
  const r = mem.ranges;
  const page = new Uint8Array(4096);
  const probes: number[] = [0, 4096, 2 ** 52, -1, 0.5, NaN];
  for (let i = 0; i < Math.min(r.length, 8); i++) probes.push(r[i].start, r[i].end - 1, r[i].end, r[i].start + ((salt * 4099) % Math.max(1, r[i].end - r[i].start)));
  for (const a of probes) {
    mem.read(a, 8);
    mem.read(a, 4096);
    mem.read(a, (salt % 9000) + 1);
    mem.readInto?.(a, page);
    mem.fileOffsetOf(a);
    if (Number.isSafeInteger(a) && a >= 0) describeMissing(mem, a);
  }
}

function imageSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  // ELF core: two PT_LOADs (one with a zero tail), one PT_NOTE, overlapping a little.
  const elf = elfCore([
    { type: 4, offset: 64, paddr: 0, filesz: 16 }, // PT_NOTE
    { offset: 4096, paddr: 0x1000, filesz: 4096, memsz: 8192 },
    { offset: 8192, paddr: 0x2000, filesz: 8192 },
  ], [], { size: 64 + 56 * 3 + 3 * 4096 });
  seeds.push(elf);
  // LiME: two ranges.
  seeds.push(concat(...[1, 2].flatMap((i) => [limeHeader(BigInt(0x10000 * i), BigInt(0x10000 * i + 4095)), new Uint8Array(4096)])));
  // Sparse dump: three pages and a registers blob.
  const pages = new Map<number, Uint8Array>([[1, new Uint8Array(4096).fill(1)], [2, new Uint8Array(4096).fill(2)], [9, new Uint8Array(4096).fill(9)]]);
  seeds.push(buildSparseDump(pages, '{"format":"dmarsift-registers","version":1,"units":[]}'));
  // FreeBSD kerneldumpheader in front of an ELF core; a minidump magic; a kdump magic.
  const kdh = new Uint8Array(512 + elf.length);
  kdh.set(new TextEncoder().encode('FreeBSD Kernel Dump\0'));
  kdh.set(elf, 512);
  seeds.push(kdh, new TextEncoder().encode('minidump FreeBSD/amd64\0' + '\0'.repeat(100)), new TextEncoder().encode('KDUMP   ' + '\0'.repeat(100)));
  return seeds;
}

/** Hostile physical memory for the walkers: table pages of random and mutated entries. */
function tableSeeds(): Uint8Array[] {
  const phys = new PhysBuilder(0);
  const t = new SecondLevelTable(phys, 4);
  t.mapRange(0x100, 0x5000, 600, 4096, { read: true, write: true });
  t.mapRange(0x40000, 0x80000, 1024, 2 * 1024 * 1024, { read: true, write: false });
  buildLegacyRootTable(phys, [{ bus: 0, devfn: 8, tt: 0, aw: 2, did: 1, slptptr: t.root }, { bus: 3, devfn: 0, tt: 2, aw: 2, did: 2, slptptr: 0 }]);
  const flat = (p: PhysBuilder): Uint8Array => {
    const max = Math.max(...p.pages.keys());
    const out = new Uint8Array((max + 1) * 4096);
    for (const [pfn, data] of p.pages) out.set(data, pfn * 4096);
    return out;
  };
  const scal = new PhysBuilder(0);
  const s2 = new SecondLevelTable(scal, 4);
  s2.mapRange(0, 0x9000, 8, 4096, { read: true, write: true });
  buildScalableRootTable(scal, [{ bus: 0, devfn: 0x10, pasids: [{ pasid: 0, pgtt: 2, aw: 2, did: 5, slptptr: s2.root }, { pasid: 65, pgtt: 1, aw: 2, did: 6, flptptr: s2.root }] }]);
  return [flat(phys), flat(scal)];
}

// ------------------------------------------------------------------ targets

// In the current test file's temporary directory (test/helpers/setup-tmp.ts), made again if gone.
let tmpRoot: string | undefined;
const tmpDir = (): string => {
  if (tmpRoot === undefined || !fs.existsSync(tmpRoot)) tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-fuzz-'));
  return tmpRoot;
};
let tmpN = 0;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function textTarget(name: string, parse: (t: string, part: string) => unknown, seeds: string[]): FuzzTarget {
  return { name, position: 'line', arb: textFrom(seeds.length ? seeds : ['']), run: (t) => void parse(t as string, 'fuzz.txt') };
}

export function fuzzTargets(): FuzzTarget[] {
  const images = imageSeeds();
  const tables = tableSeeds();
  return [
    { name: 'decode/dmar', position: 'offset', arb: bytesFrom(seedsDmar()), run: (b) => void decodeDmar(b as Uint8Array, 'DMAR') },
    textTarget('decode/registers-json', parseRegistersJson, seedsRegistersJson()),
    textTarget('decode/regset-text', parseIommuRegset, seedsRegset()),
    {
      name: 'decode/entries+registers', position: 'offset',
      arb: fc.record({ q: fc.array(u64, { minLength: 8, maxLength: 8 }), regs: fc.dictionary(fc.constantFrom('VER', 'CAP', 'ECAP', 'GSTS', 'RTADDR', 'FSTS', 'IQA', 'IRTA', 'FRCD0_LO', 'FRCD0_HI', 'FRCD9_LO', 'FRCD9_HI', 'PMEN', 'x'), u64), base: fc.nat() }),
      run: (x) => {
        const { q, regs, base } = x as { q: bigint[]; regs: Record<string, bigint>; base: number };
        decodeLegacyRootEntry(q[0], q[1]);
        decodeScalableRootEntry(q[0], q[1]);
        decodeLegacyContextEntry(q[2], q[3]);
        decodeScalableContextEntry(q[0], q[1], q[2], q[3]);
        decodePasidDirEntry(q[4]);
        decodePasidTableEntry(q);
        decodeFaultRecord(0, q[5], q[6]);
        buildUnitRegisters(base, regs, 'dmar0');
      },
    },
    textTarget('text/debugfs-domain', parseDebugfsDomain, seedsText('debugfs-domain')),
    textTarget('text/debugfs-translation', parseDebugfsTranslation, seedsText('debugfs-translation')),
    textTarget('text/dmardump', parseDmardump, seedsText('dmardump')),
    textTarget('text/dmesg', parseDmesg, seedsText('dmesg')),
    textTarget('text/memory-map', parseMemoryMap, seedsText('memory-map')),
    textTarget('text/pci-inventory', parsePciInventory, seedsText('pci')),
    textTarget('text/bridge-sysctl', parseBridgeSysctl, seedsText('bridges')),
    textTarget('text/vm-cmdlines', parseVmCommandLines, seedsText('vm-cmdlines')),
    {
      // What a capture directory does with a text file it does not know: sniff, then parse as that kind.
      name: 'capture/sniff+parse', position: 'line',
      arb: textFrom([...seedsText('dmesg'), ...seedsText('pci'), ...seedsText('vm-cmdlines'), ...seedsText('memory-map'), ...seedsText('debugfs-domain'), ...seedsRegset()]),
      run: (t) => {
        const s = sniffText(t as string);
        if (s?.kind === 'registers') parseRegisterText(t as string, 'fuzz.txt');
        else if (s) parseTextPart(s.kind, t as string, 'fuzz.txt');
      },
    },
    ...(['elf', 'lime', 'sparse', 'raw'] as const).map((kind): FuzzTarget => ({
      name: `image/${kind}`, position: 'offset', arb: bytesFrom(images, 1024),
      run: (b) => {
        const bytes = b as Uint8Array;
        const file = memFile(bytes);
        sniffImageFormat(bytes.subarray(0, 4096));
        const mem = kind === 'elf' ? elfFromFile(file) : kind === 'lime' ? limeFromFile(file) : kind === 'sparse' ? sparseFromFile(file) : rawFromFile(file, 0);
        exercise(mem, bytes.length);
      },
    })),
    {
      name: 'image/openMemoryImage (file)', position: 'offset', arb: bytesFrom(images, 1024),
      run: (b) => {
        const p = path.join(tmpDir(), `img-${tmpN++ % 4}`);
        fs.writeFileSync(p, b as Uint8Array);
        let mem: PhysicalMemory | undefined;
        try {
          mem = openMemoryImage(p);
          exercise(mem, (b as Uint8Array).length);
        } finally {
          mem?.close();
        }
      },
    },
    {
      // Hostile translation structures: walking them must end, bounded, without throwing.
      name: 'model/tables+walk', position: 'offset',
      arb: fc.record({ bytes: bytesFrom(tables, 8192), root: fc.nat(40), levels: fc.integer({ min: 2, max: 6 }), scalable: fc.boolean(), haw: fc.constantFrom(39, 46, 52) }),
      run: (x) => {
        const { bytes, root, levels, scalable, haw } = x as { bytes: Uint8Array; root: number; levels: number; scalable: boolean; haw: number };
        const mem = rawFromFile(memFile(bytes), 0);
        const r = walkPageTable(mem, root * 4096, levels, { haw, maxRevisits: 256 });
        if (r.pagesVisited > r.tablePfns.length + 256 + 1) throw new Error(`walk visited ${r.pagesVisited} pages for ${r.tablePfns.length} distinct ones`);
        readUnitTables(mem, { segment: 0, rootTable: root * 4096, mode: scalable ? 'scalable' : 'legacy', haw, part: 'fuzz.img' });
      },
    },
  ];
}
