/**
 * Loads a capture: discovers its parts, hands each to its reader (image, DMAR decoder, register
 * parsers, text parsers) and builds the Snapshot. The memory image stays open only while the
 * model is built; every read from it is positioned and bounded.
 */
import { decodeDmar } from '../decode/dmar.js';
import { buildUnitRegisters } from '../decode/registers.js';
import { InputError, UsageError } from '../errors.js';
import { openMemoryImage } from '../image/open.js';
import { presentBytes, withReadProgress } from '../image/progress.js';
import type { PhysicalMemory } from '../image/types.js';
import { autoRootTable } from '../scan/auto.js';
import { explainFaults } from '../model/faults.js';
import { buildSnapshot, type BuildInput, type RegisterInput } from '../model/build.js';
import type { ModelWarning, Part, PartKind, Snapshot } from '../model/types.js';
import { type MemoryMapSource, mergeMemoryMaps, readMemoryMap } from '../text/memory-map.js';
import { sysfsConfigContribution } from '../text/pci-config-dump.js';
import type { Contribution } from '../model/contribution.js';
import { discoverParts } from './discover.js';
import { looksBinary } from './sniff.js';
import type { CaptureOptions } from './options.js';
import { fileText, readHead, readSmallFile } from './read.js';
import { parseRegisterText, parseTextPart, partText, readRegisterFile, type RegisterText } from './text-parts.js';
import { hex } from '../util/hex.js';
import { pushAll } from '../util/arrays.js';

/** Text parts in the order their facts rank when two sources disagree (the first one wins). */
const TEXT_RANK: PartKind[] = ['debugfs-translation', 'debugfs-domain', 'dmesg', 'dmardump-text', 'pci', 'bridges', 'vm-cmdlines', 'memory-map', 'invalidation-queue', 'ir-translation', 'pci-config'];
const DMAR_LIMIT = 1 << 20;
/** Images above this size get a progress display while their tables are walked. */
const PROGRESS_THRESHOLD = 2 ** 30;

export interface OpenCapture {
  snapshot: Snapshot;
  /** The memory image, still open (for `translate`); undefined when the capture has none. */
  memory?: PhysicalMemory;
  close(): void;
}

/** Load a capture into a Snapshot; the memory image is closed before returning. */
export function loadCapture(capturePath: string, opts: CaptureOptions = {}): Snapshot {
  const c = openCapture(capturePath, opts);
  c.close();
  return c.snapshot;
}

/** Load a capture and keep its memory image open for further reads; call close(). */
export function openCapture(capturePath: string, opts: CaptureOptions = {}): OpenCapture {
  const found = discoverParts(capturePath, opts);
  const parts: Part[] = found.map(({ absPath: _abs, warning: _w, ...p }) => p);
  const input: BuildInput = {
    capturePath, parts, registers: [], contributions: [], rtaddr: [], warnings: [],
  };
  // Files whose names say they are parts but whose content is not (never dropped in silence).
  for (const p of found) if (p.warning !== undefined) input.warnings.push({ message: p.warning, source: { part: p.path } });
  /** Every memory map of the capture (memory-map parts, the e820 lines of kernel logs): merged once. */
  const maps: { part: Part; sources: MemoryMapSource[] }[] = [];
  let mem: PhysicalMemory | undefined;
  try {
    const memoryParts = found.filter((p) => p.kind === 'memory');
    if (memoryParts.length > 1) {
      throw new InputError(`the capture holds ${memoryParts.length} memory images (${memoryParts.map((p) => p.path).join(', ')}): name one with --memory`, { file: capturePath });
    }
    for (const p of found) {
      switch (p.kind) {
        case 'dmar': {
          if (input.dmar) {
            input.warnings.push({ message: `a second DMAR table (${p.path}) is ignored; using ${input.dmar.part}`, source: { part: p.path } });
            break;
          }
          input.dmar = { table: decodeDmar(readSmallFile(p.absPath, DMAR_LIMIT, 'DMAR table'), p.path), part: p.path };
          break;
        }
        case 'registers':
          addRegisters(input, readRegisterFile(p.absPath, p.path), p.path);
          break;
        case 'memory': {
          mem = openMemoryImage(p.absPath, opts.base !== undefined ? { base: opts.base } : {});
          const size = presentBytes(mem);
          const onRead = opts.onImageRead;
          if (onRead !== undefined && size > PROGRESS_THRESHOLD) mem = withReadProgress(mem, (n) => onRead(n, size));
          input.memory = { mem, part: p.path };
          for (const w of mem.warnings) input.warnings.push({ message: w, source: { part: p.path } });
          if (mem.embeddedRegisters !== undefined) addRegisters(input, parseRegisterText(mem.embeddedRegisters, p.path), p.path);
          break;
        }
        case 'ignored':
          break;
        case 'pci-config':
          input.contributions.push({ part: p, contribution: readPciConfigPart(p) });
          break;
        case 'memory-map': {
          const r = readMemoryMap(fileText(p.absPath), p.path);
          maps.push({ part: p, sources: r.sources });
          pushAll(input.warnings, r.warnings);
          if (r.pciResources.length > 0) input.contributions.push({ part: p, contribution: { pciResources: r.pciResources, warnings: [] } });
          break;
        }
        default: {
          const contribution = parseTextPart(p.kind, partText(p.kind, p.absPath), p.path);
          input.contributions.push({ part: p, contribution });
          // A kernel log also carries the BIOS memory map (read again: the text is not kept).
          if (p.kind === 'dmesg') {
            const r = kernelLogMemoryMap(p.absPath, p.path);
            if (r.sources.length > 0) maps.push({ part: { ...p, kind: 'memory-map' }, sources: r.sources });
            pushAll(input.warnings, r.warnings);
          }
        }
      }
    }
    if (maps.length > 0) {
      const merged = mergeMemoryMaps(maps.flatMap((m) => m.sources));
      input.contributions.push({ part: maps[0].part, contribution: { memoryMap: merged.regions, warnings: merged.warnings } });
    }
    input.contributions.sort((a, b) => TEXT_RANK.indexOf(a.part.kind) - TEXT_RANK.indexOf(b.part.kind));
    let auto = false;
    for (const r of opts.rtaddr ?? []) {
      if ('auto' in r) {
        auto = true;
        continue;
      }
      input.rtaddr.push(rtaddrValue(r));
    }
    if (auto) {
      if (!input.memory) {
        const leftOut = opts.ignore?.includes('memory') ? ` --ignore ${opts.ignore.join(',')}` : opts.only && !opts.only.includes('memory') ? ` --only ${opts.only.join(',')}` : undefined;
        throw new UsageError(leftOut !== undefined
          ? `--rtaddr auto scans the memory image for root tables, and${leftOut} leaves it out`
          : '--rtaddr auto scans the memory image for root tables, and this capture has none (add --memory)');
      }
      const stated = input.contributions.flatMap(({ contribution }) => (contribution.units ?? []).filter((u) => u.rootTable !== undefined));
      const a = autoRootTable({
        mem: input.memory.mem, part: input.memory.part, ...(input.dmar ? { dmar: input.dmar.table } : {}),
        known: [
          ...input.registers.filter((r) => r.regs.RTADDR !== undefined && r.regs.RTADDR.RTA !== 0).map((r) => r.regs.base),
          ...stated.flatMap((u) => (u.registerBase !== undefined ? [u.registerBase] : [])),
          ...input.rtaddr.flatMap((r) => (r.base !== undefined ? [r.base] : [])),
        ],
        knownWithoutBase: stated.some((u) => u.registerBase === undefined) || input.rtaddr.some((r) => r.base === undefined),
      });
      if (a.rtaddr) input.rtaddr.push(a.rtaddr);
      pushAll(input.warnings, a.warnings);
    }
    if (found.every((p) => p.kind === 'ignored')) {
      throw new InputError('no capture part found (DMAR table, registers, memory image, dmardump or debugfs text, …)', { file: capturePath });
    }
    const snapshot = buildSnapshot(input);
    explainFaults(snapshot, input.memory?.mem);
    const opened = mem;
    mem = undefined;
    return { snapshot, ...(opened ? { memory: opened } : {}), close: () => opened?.close() };
  } finally {
    mem?.close(); // only on error: on success ownership passed to the caller
  }
}

/**
 * `--rtaddr` takes what RTADDR would hold: bits 11:10 (TTM) = 01 select the scalable layout;
 * 00 keeps whatever mode the capture states (legacy when nothing does).
 */
function rtaddrValue(r: { base?: number; addr: number }): BuildInput['rtaddr'][number] {
  const ttm = Math.floor(r.addr / 1024) % 4;
  if (ttm >= 2) throw new UsageError(`--rtaddr ${hex(r.addr)}: TTM ${ttm.toString(2)}b (bits 11:10) is ${ttm === 2 ? 'reserved' : 'abort-DMA mode, which uses no tables'}`);
  if (r.addr % 1024 !== 0) throw new UsageError(`--rtaddr ${hex(r.addr)}: bits 9:0 of a root table address must be 0`);
  const addr = r.addr - (r.addr % 4096);
  return { ...(r.base !== undefined ? { base: r.base } : {}), addr, ...(ttm === 1 ? { mode: 'scalable' as const } : {}) };
}

function toRegisterInput(u: { name?: string; base: number; raw: Record<string, bigint>; line?: number }, part: string): RegisterInput {
  return {
    regs: buildUnitRegisters(u.base, u.raw, u.name),
    source: u.line !== undefined ? { part, line: u.line } : { part },
  };
}

/** The e820 lines of a kernel log, if it has any (a log without them is no error). */
function kernelLogMemoryMap(absPath: string, part: string): { sources: MemoryMapSource[]; warnings: ModelWarning[] } {
  try {
    return readMemoryMap(fileText(absPath), part, { kernelLog: true });
  } catch (e) {
    if (e instanceof InputError) return { sources: [], warnings: [] };
    throw e;
  }
}

function addRegisters(input: BuildInput, r: RegisterText, part: string): void {
  input.registers.push(...r.units.map((u) => toRegisterInput(u, part)));
  pushAll(input.warnings, r.warnings);
}

/** A sysfs `config` file is at most 4096 bytes; anything much larger is no such file. */
const SYSFS_CONFIG_LIMIT = 65536;

/**
 * A configuration-space part: a sysfs `config` file (binary: the sniffer says `sysfs`, or a NUL in
 * its first bytes when a manifest declares it) or a text dump (lspci -x…, pciconf -r).
 */
function readPciConfigPart(p: Part & { absPath: string }): Contribution {
  // The sniffer's own test of binary content, so a declared part is judged as a found one is.
  if (p.format === 'sysfs' || looksBinary(readHead(p.absPath, 8192))) return sysfsConfigContribution(readSmallFile(p.absPath, SYSFS_CONFIG_LIMIT, 'PCI configuration space'), p.path);
  return parseTextPart('pci-config', partText('pci-config', p.absPath), p.path);
}
