/**
 * Host physical memory maps → MemoryRegion[] with [start, end) exclusive ends.
 *
 * - Linux /proc/iomem: `00000000-00000fff : Reserved` (inclusive end), children indented by two
 *   spaces per level. Only top-level entries are kept — they partition the address space and
 *   define its type: `System RAM` → ram, `Reserved`/`RAM buffer`/ROMs → reserved, `ACPI Tables`
 *   → acpi, `ACPI Non-volatile Storage` → nvs, `Unusable memory` → unusable, `Persistent Memory`
 *   / unknown E820 types → other, everything else (PCI Bus, PCI MMCONFIG/ECAM, IOAPIC, HPET,
 *   dmar0, pnp…) → mmio. Read by a non-root user, every address prints as zero: InputError.
 * - dmesg `BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable` (inclusive end; 3.x+)
 *   and the older `BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)` (exclusive end):
 *   usable → ram, reserved, ACPI data → acpi, ACPI NVS → nvs, unusable, others → other. Other
 *   lines of a kernel log are skipped silently (the capture reader hands whole dmesg files here).
 * - FreeBSD `sysctl machdep.smap` (sbin/sysctl S_bios_smap_xattr):
 *   `SMAP type=01, xattr=01, base=0000000000000000, len=000000000009fc00`; also the forms
 *   without xattr and commas (verbose boot, loader `smap`). Types 1 ram, 2 reserved, 3 acpi,
 *   4 nvs, 5 unusable, others other.
 */
import { InputError } from '../errors.js';
import type { Contribution } from '../model/contribution.js';
import type { MemoryRegion, MemoryType, PciResource } from '../model/types.js';
import { parseHex, toSafeNumber } from '../util/hex.js';
import { type IomemEntry, iomemPciResources } from './iomem-resources.js';
import { eachLine, excerpt, headLines, type Line, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';
import { type MemoryMapSource, mergeMemoryMaps } from './memory-map-merge.js';

export { type MemoryMapOrigin, type MemoryMapSource, mergeMemoryMaps } from './memory-map-merge.js';

// Matched against lines without trailing blanks (no `\s*$` after a lazy group: that is quadratic).
const IOMEM_RE = /^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/i;
const E820_NEW_RE = /BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (.+)$/i;
const E820_OLD_RE = /BIOS-e820: ([0-9a-f]{8,16}) - ([0-9a-f]{8,16}) \((.+)\)$/i;
const SMAP_RE = /SMAP type=([0-9a-f]+),? (?:xattr=([0-9a-f]+),? )?base=([0-9a-f]+),? len=([0-9a-f]+)(?:,? attr=[0-9a-f]+)?$/i;
/** Lines that say they are e820/SMAP entries: when they do not parse, that is worth a warning even in a kernel log. */
const MAP_WORD_RE = /BIOS-e820:|SMAP type=/;

export function looksLikeMemoryMap(text: string): boolean {
  let iomem = 0;
  for (const raw of headLines(text)) {
    const l = raw.trimEnd();
    if (E820_NEW_RE.test(l) || E820_OLD_RE.test(l) || SMAP_RE.test(l) || /^machdep\.smap:/.test(l)) return true;
    if (IOMEM_RE.test(l)) iomem++;
  }
  return iomem >= 2;
}

function iomemType(name: string): MemoryType {
  const n = name.toLowerCase();
  if (n === 'system ram') return 'ram';
  if (n === 'reserved' || n === 'ram buffer' || n === 'soft reserved' || /\brom$/.test(n)) return 'reserved';
  if (n === 'acpi tables') return 'acpi';
  if (n === 'acpi non-volatile storage') return 'nvs';
  if (n === 'unusable memory' || n === 'unusable') return 'unusable';
  if (n.startsWith('persistent memory') || n.startsWith('unknown e820 type')) return 'other';
  return 'mmio';
}

function e820Type(name: string): MemoryType {
  const n = name.toLowerCase();
  if (n === 'usable') return 'ram';
  if (n === 'reserved' || n === 'soft reserved') return 'reserved';
  if (n === 'acpi data') return 'acpi';
  if (n === 'acpi nvs') return 'nvs';
  if (n === 'unusable') return 'unusable';
  return 'other';
}

const SMAP_TYPES: Record<number, [MemoryType, string]> = {
  1: ['ram', 'memory'], 2: ['reserved', 'reserved'], 3: ['acpi', 'ACPI reclaim'], 4: ['nvs', 'ACPI NVS'], 5: ['unusable', 'unusable'],
};

export interface MemoryMapRead {
  /** One source per kind of map found in the text (iomem, e820, smap), in that order. */
  sources: MemoryMapSource[];
  /** PCI BARs /proc/iomem names by BDF (see iomem-resources.ts). */
  pciResources: PciResource[];
  warnings: ReturnType<LineWarnings['done']>;
}

/** Lines none of the shapes that are kept for a warning at the end (only the first ones: bounded). */
const MAX_UNKNOWN = 100;

/**
 * Read the memory maps a text holds, one source per kind. `kernelLog`: the text is a whole kernel
 * log read for its e820 lines, so other lines are expected and not warned about.
 */
export function readMemoryMap(input: TextInput, part: string, opts: { kernelLog?: boolean } = {}): MemoryMapRead {
  const w = new LineWarnings(part);
  const byOrigin = { iomem: [] as MemoryRegion[], e820: [] as MemoryRegion[], smap: [] as MemoryRegion[] };
  let iomemLines = 0;
  let iomemNonZero = 0;
  let firstIomem: Line | undefined;
  let e820Lines = 0;
  let smapLines = 0;
  const unknown: Line[] = [];
  const iomem: IomemEntry[] = [];
  let unknownMore = 0;

  /** Region from hex texts; warns (and skips) what cannot be an exact host address. */
  const add = (into: MemoryRegion[], startHex: string, endHex: string, inclusive: boolean, type: MemoryType, name: string, l: Line): void => {
    let start: number;
    let end: number;
    try {
      start = toSafeNumber(parseHex(startHex));
      const e = parseHex(endHex) + (inclusive ? 1n : 0n);
      end = toSafeNumber(e);
    } catch {
      w.warn(`range ${startHex.slice(0, 20)}-${endHex.slice(0, 20)} is beyond 2^53, skipped`, l.no);
      return;
    }
    if (end < start) { w.warn(`range ${startHex}-${endHex} ends before it starts, skipped`, l.no); return; }
    if (end === start) return; // zero-length entries carry nothing
    into.push({ start, end, type, name, source: { part, line: l.no } });
  };

  for (const l of eachLine(input, (x) => w.tooLong(x))) {
    const t = l.text.trimEnd();
    if (t.trim() === '') continue;
    let m: RegExpExecArray | null;
    if ((m = E820_NEW_RE.exec(t))) {
      e820Lines++;
      add(byOrigin.e820, m[1], m[2], true, e820Type(m[3]), m[3], l);
    } else if ((m = E820_OLD_RE.exec(t))) {
      e820Lines++;
      add(byOrigin.e820, m[1], m[2], false, e820Type(m[3]), m[3], l);
    } else if ((m = SMAP_RE.exec(t))) {
      smapLines++;
      const type = parseInt(m[1], 16);
      const [mt, name] = SMAP_TYPES[type] ?? ['other', `type ${type}`];
      const base = parseHex(m[3]);
      add(byOrigin.smap, m[3], (base + parseHex(m[4])).toString(16), false, mt, name, l);
    } else if ((m = IOMEM_RE.exec(t))) {
      iomemLines++;
      firstIomem ??= l;
      if (!/^0+$/.test(m[2]) || !/^0+$/.test(m[3])) iomemNonZero++;
      if (m[1].length === 0) add(byOrigin.iomem, m[2], m[3], true, iomemType(m[4]), m[4], l);
      iomem.push({ depth: m[1].length, startHex: m[2], endHex: m[3], name: m[4], line: l.no });
    } else if (/^machdep\.smap:\s*$/.test(t)) {
      // sysctl prints the name, then each entry on its own line.
    } else if (MAP_WORD_RE.test(t)) {
      w.warn(`cannot parse memory map line: ${excerpt(t.slice(Math.max(0, t.search(MAP_WORD_RE))), 100)}`, l.no);
    } else if (unknown.length < MAX_UNKNOWN) {
      unknown.push(l);
    } else {
      unknownMore++;
    }
  }

  if (iomemLines > 0 && iomemNonZero === 0) {
    throw new InputError('/proc/iomem addresses are all zero: capture /proc/iomem as root', { file: part, line: firstIomem!.no });
  }
  if (iomemLines === 0 && e820Lines === 0 && smapLines === 0) {
    throw new NotRecognisedError('does not look like a memory map (/proc/iomem, BIOS-e820 lines, sysctl machdep.smap)', { file: part, line: 1 });
  }
  // In a kernel log everything but the e820 lines is expected; elsewhere it is worth a warning.
  if (!opts.kernelLog && e820Lines === 0) {
    for (const l of unknown) w.unrecognised('memory map', l);
    if (unknownMore > 0) w.warn(`${unknownMore} more lines not recognised as memory map`, unknown[unknown.length - 1].no);
  }
  const sources: MemoryMapSource[] = [];
  for (const origin of ['iomem', 'e820', 'smap'] as const) {
    if (byOrigin[origin].length > 0) sources.push({ origin, part, regions: byOrigin[origin] });
  }
  return { sources, pciResources: iomemPciResources(iomem, part), warnings: w.done() };
}

/** A memory map part as one Contribution: its sources merged (see memory-map-merge.ts). */
export function parseMemoryMap(input: TextInput, part: string, opts: { kernelLog?: boolean } = {}): Contribution {
  const r = readMemoryMap(input, part, opts);
  const m = mergeMemoryMaps(r.sources);
  return { memoryMap: m.regions, ...(r.pciResources.length > 0 ? { pciResources: r.pciResources } : {}), warnings: [...r.warnings, ...m.warnings] };
}
