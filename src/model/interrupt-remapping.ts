/**
 * A remapping unit's interrupt remapping, as the capture tells it (docs/interrupt-remapping.md):
 * the registers' view (ECAP.IR/EIM, CAP.PI, GSTS.IRES/IRTPS/CFIS, IRTA) and the present entries of
 * the interrupt remapping table (IRT), read from the memory image at IRTA and from Linux debugfs
 * `ir_translation_struct`.
 *
 * Sources rank as everywhere in the model: registers first, then the memory image, then the
 * kernel's text. When both the image and debugfs give an entry, the image's is kept and a
 * disagreement is a warning naming both. An entry on a table page the image lacks is unknown, not
 * absent: debugfs (which lists every present entry of a table it prints) fills it in, otherwise it
 * is counted in `unreadableEntries`. The table is read page by page with bounded, positioned reads
 * (at most 256 pages: 2^16 entries of 16 bytes).
 */
import { decodeIrta, type Irta } from '../decode/ir-registers.js';
import { decodeIrte, IRTE_BYTES, presentIrtes, type Irte } from '../decode/irte.js';
import type { UnitRegisters } from '../decode/registers-types.js';
import type { PhysicalMemory } from '../image/types.js';
import type { IrTextUnit } from './contribution.js';
import { hex } from '../util/hex.js';
import { sourceText } from './source.js';
import type { ModelWarning, Source } from './types.js';

/** One present IRTE. */
export interface IrteEntry {
  index: number;
  /** Bits 63:0 and 127:64, as the hardware stores them. */
  lo: bigint;
  hi: bigint;
  /** Decoded with the unit's IRTA.EIME (xAPIC when unknown: see InterruptRemapping.x2apic). */
  irte: Irte;
  /** Physical address of the entry, when it was read from the memory image. */
  addr?: number;
  source: Source;
}

export interface InterruptRemapping {
  /** ECAP.IR (or: debugfs lists the unit among those with interrupt remapping). */
  supported?: boolean;
  /** ECAP.EIM: the unit supports x2APIC (extended interrupt) mode. */
  x2apicSupported?: boolean;
  /** CAP.PI (or: debugfs lists the unit among those with posted interrupts). */
  postedSupported?: boolean;
  /** GSTS.IRES (or debugfs: the table is listed, or "Interrupt Remapping is not enabled"). */
  enabled?: boolean;
  /** GSTS.IRTPS: the table pointer is latched. */
  tablePointerSet?: boolean;
  /** GSTS.CFIS: compatibility-format interrupts pass through unremapped (only while EIME is clear). */
  compatibilityFormat?: boolean;
  /** IRTA.EIME: x2APIC mode (all 32 DST bits are the APIC id; compatibility format is blocked). */
  x2apic?: boolean;
  /** The IRTA register, decoded, when captured. */
  irta?: Irta;
  /** Table address: IRTA bits 63:12, or debugfs' `IR table address` when IRTA was not captured. */
  table?: number;
  tableSource?: Source;
  /** 2^(IRTA.S + 1); unknown without IRTA. */
  entryCount?: number;
  /** Present entries, by index. */
  irtes: IrteEntry[];
  /** Where the entries come from (empty when no source holds the table). */
  entrySources: ('memory' | 'debugfs')[];
  /**
   * Index ranges [from, to) whose entries the capture does not hold: table pages the memory image
   * lacks (and no debugfs dump), or the whole table when neither holds it. Unknown, not absent.
   */
  unreadable: [number, number][];
  /** How many entries `unreadable` covers. */
  unreadableEntries: number;
}

/** The debugfs view of one unit (src/text/ir-translation.ts) with the part it came from. */
export interface IrTextInput {
  unit: IrTextUnit;
  part: string;
}

export interface IrBuildInput {
  registers?: UnitRegisters;
  registersSource?: Source;
  texts: IrTextInput[];
  memory?: { mem: PhysicalMemory; part: string };
  /** For messages: "unit 0xfed90000". */
  label: string;
}

/** At most this many entry disagreements are named one by one; the rest are counted. */
const MAX_NAMED_DISAGREEMENTS = 16;
/** The most entries a table holds (IRTA.S ≤ 15). */
export const MAX_IRT_ENTRIES = 65536;
const PAGE = 4096;
const ENTRIES_PER_PAGE = PAGE / IRTE_BYTES;

/**
 * The unit's interrupt remapping, or undefined when the capture says nothing about it (no
 * ECAP/GSTS/IRTA and no debugfs block for the unit).
 */
export function buildInterruptRemapping(input: IrBuildInput): { ir?: InterruptRemapping; warnings: ModelWarning[] } {
  const warnings: ModelWarning[] = [];
  const r = input.registers;
  const ir: InterruptRemapping = { irtes: [], entrySources: [], unreadable: [], unreadableEntries: 0 };
  if (r?.ECAP) {
    ir.supported = r.ECAP.IR;
    ir.x2apicSupported = r.ECAP.EIM;
  }
  if (r?.CAP) ir.postedSupported = r.CAP.PI;
  if (r?.GSTS) {
    ir.enabled = r.GSTS.IRES;
    ir.tablePointerSet = r.GSTS.IRTPS;
    ir.compatibilityFormat = r.GSTS.CFIS;
  }
  const rawIrta = r?.raw.IRTA;
  if (rawIrta !== undefined) {
    ir.irta = decodeIrta(rawIrta);
    ir.x2apic = ir.irta.EIME;
    ir.entryCount = ir.irta.entries;
    // A zero address is a table only when the unit latched it (as RTADDR and RTPS).
    if (ir.irta.IRTA !== 0 || ir.tablePointerSet === true) {
      ir.table = ir.irta.IRTA;
      ir.tableSource = input.registersSource;
    }
  }
  const text = mergeTextFacts(ir, input, warnings);
  const nothing = r?.ECAP === undefined && r?.CAP === undefined && r?.GSTS === undefined && rawIrta === undefined && input.texts.length === 0;
  if (nothing) return { warnings };

  const fromMemory = readTable(ir, input);
  mergeEntries(ir, fromMemory, text, input, warnings);
  return { ir, warnings };
}

/** Registers' facts against debugfs': fill what the registers do not say, warn where they disagree. */
function mergeTextFacts(ir: InterruptRemapping, input: IrBuildInput, warnings: ModelWarning[]): IrTextInput | undefined {
  const listed = input.texts.find((t) => t.unit.tableAddress !== undefined) ?? input.texts[0];
  for (const { unit: t, part } of input.texts) {
    const src: Source = { part, line: t.line };
    const disagree = (what: string, mine: string, theirs: string): void => {
      warnings.push({ message: `${input.label}: ${what} is ${mine} in ${sourceText(input.registersSource ?? { part: 'registers' })} but ${theirs} in ${sourceText(src)}; keeping the registers'`, source: src });
    };
    if (t.remappedSection) {
      if (ir.supported === false) disagree('ECAP.IR', '0', `listed as "Remapped Interrupt supported"`);
      ir.supported ??= true;
    }
    if (t.postedSection) {
      if (ir.postedSupported === false) disagree('CAP.PI', '0', `listed as "Posted Interrupt supported"`);
      ir.postedSupported ??= true;
    }
    if (t.enabled !== undefined) {
      if (ir.enabled !== undefined && ir.enabled !== t.enabled) disagree('GSTS.IRES', ir.enabled ? '1' : '0', t.enabled ? 'a listed table' : '"Interrupt Remapping is not enabled"');
      ir.enabled ??= t.enabled;
    }
    if (t.tableAddress !== undefined) {
      if (ir.table !== undefined && ir.table !== t.tableAddress) disagree('the IR table address (IRTA)', hex(ir.table), hex(t.tableAddress));
      if (ir.table === undefined) {
        ir.table = t.tableAddress;
        ir.tableSource = src;
      }
    }
  }
  return listed;
}

/** Present entries read from the image, and which index ranges it could not read. */
interface MemoryRead {
  entries: Map<number, IrteEntry>;
  /** Index ranges read (so absent there means not present). */
  read: [number, number][];
  /** Addresses of the table pages the image lacks. */
  missing: number[];
}

function readTable(ir: InterruptRemapping, input: IrBuildInput): MemoryRead | undefined {
  const m = input.memory;
  if (m === undefined || ir.table === undefined) return undefined;
  // Without IRTA the size is unknown: Linux always allocates 2^16 entries (INTR_REMAP_TABLE_ENTRIES).
  const count = ir.entryCount ?? MAX_IRT_ENTRIES;
  const eime = ir.x2apic === true;
  const out: MemoryRead = { entries: new Map(), read: [], missing: [] };
  const missing = out.missing;
  for (let first = 0; first < count; first += ENTRIES_PER_PAGE) {
    const n = Math.min(ENTRIES_PER_PAGE, count - first);
    const addr = ir.table + first * IRTE_BYTES;
    const bytes = m.mem.read(addr, n * IRTE_BYTES);
    if (bytes === undefined) {
      missing.push(addr);
      continue;
    }
    const last = out.read[out.read.length - 1];
    if (last !== undefined && last[1] === first) last[1] = first + n;
    else out.read.push([first, first + n]);
    for (const e of presentIrtes(bytes, first)) {
      const entryAddr = ir.table + e.index * IRTE_BYTES;
      const offset = m.mem.fileOffsetOf(entryAddr);
      out.entries.set(e.index, {
        index: e.index, lo: e.lo, hi: e.hi, irte: decodeIrte(e.lo, e.hi, { eime }), addr: entryAddr,
        source: offset === undefined ? { part: m.part } : { part: m.part, offset },
      });
    }
  }
  return out;
}

/** The image's entries where it holds the table, debugfs' elsewhere; disagreements as warnings. */
function mergeEntries(ir: InterruptRemapping, mem: MemoryRead | undefined, text: IrTextInput | undefined, input: IrBuildInput, warnings: ModelWarning[]): void {
  const eime = ir.x2apic === true;
  const readByMemory = (index: number): boolean => mem?.read.some(([a, b]) => index >= a && index < b) === true;
  // debugfs lists every present entry of the table it prints (remapped and, with CAP.PI, posted).
  const textListsTable = text !== undefined && text.unit.tableAddress !== undefined;
  const byIndex = new Map<number, IrteEntry>(mem?.entries ?? []);
  const disagreements: string[] = [];
  let firstSource: Source | undefined;
  const note = (message: string, src: Source): void => {
    disagreements.push(message);
    firstSource ??= src;
  };

  if (text !== undefined) {
    const listed = new Set<number>();
    for (const e of text.unit.entries) {
      const src: Source = { part: text.part, line: e.line };
      listed.add(e.index);
      if (ir.entryCount !== undefined && e.index >= ir.entryCount) {
        note(`IRTE ${e.index} is listed in ${sourceText(src)} but the table holds ${ir.entryCount} entries (IRTA.S)`, src);
        continue;
      }
      if (!readByMemory(e.index)) {
        byIndex.set(e.index, { index: e.index, lo: e.lo, hi: e.hi, irte: decodeIrte(e.lo, e.hi, { eime }), source: src });
        continue;
      }
      const mine = byIndex.get(e.index);
      if (mine === undefined) note(`IRTE ${e.index} is listed in ${sourceText(src)} but not present in the image (${sourceText({ part: input.memory!.part })})`, src);
      else if (mine.lo !== e.lo || mine.hi !== e.hi) {
        note(`IRTE ${e.index} is ${hex(mine.hi)}:${hex(mine.lo)} in ${sourceText(mine.source)} but ${hex(e.hi)}:${hex(e.lo)} in ${sourceText(src)}`, src);
      }
    }
    if (textListsTable && mem !== undefined) {
      for (const e of mem.entries.values()) {
        // Posted entries appear only in the posted section, which exists only with CAP.PI.
        if (listed.has(e.index) || (e.irte.mode === 'posted' && !text.unit.postedSection)) continue;
        note(`IRTE ${e.index} is present in ${sourceText(e.source)} but not listed in ${text.part}`, e.source);
      }
    }
  }
  if (disagreements.length > 0) {
    const named = disagreements.slice(0, MAX_NAMED_DISAGREEMENTS).join('; ');
    const more = disagreements.length > MAX_NAMED_DISAGREEMENTS ? `; and ${disagreements.length - MAX_NAMED_DISAGREEMENTS} more` : '';
    warnings.push({ message: `${input.label}: the image and debugfs disagree on the interrupt remapping table (the image is kept): ${named}${more}`, source: firstSource });
  }
  ir.irtes = [...byIndex.values()].sort((a, b) => a.index - b.index);
  if (mem !== undefined && mem.read.length > 0) ir.entrySources.push('memory');
  if (textListsTable) ir.entrySources.push('debugfs');

  // What stays unknown: nothing when debugfs lists the table, nor when IR is off with no table;
  // else whatever the image could not give (all of it without an image).
  if (textListsTable || (mem === undefined && ir.table === undefined && ir.enabled === false)) return;
  if (mem !== undefined && mem.missing.length > 0) {
    const part = input.memory!.part;
    const what = mem.read.length === 0 ? `the interrupt remapping table at ${hex(ir.table!)} is not in the image ${part}` : `${mem.missing.length} of the interrupt remapping table's pages are not in the image ${part} (first ${hex(mem.missing[0])})`;
    warnings.push({ message: `${input.label}: ${what}: its entries there are unknown`, source: { part } });
  }
  const count = ir.entryCount ?? MAX_IRT_ENTRIES;
  const unread: [number, number][] = [];
  let pos = 0;
  for (const [a, b] of mem?.read ?? []) {
    if (a > pos) unread.push([pos, a]);
    pos = b;
  }
  if (pos < count) unread.push([pos, count]);
  ir.unreadable = unread;
  ir.unreadableEntries = unread.reduce((n, [a, b]) => n + (b - a), 0);
}

/** Whether entry `index` is present, absent, or unknown in the capture. */
export function irteState(ir: InterruptRemapping, index: number): { state: 'present'; entry: IrteEntry } | { state: 'absent' | 'unknown' | 'beyond-table' } {
  if (ir.entryCount !== undefined && index >= ir.entryCount) return { state: 'beyond-table' };
  const entry = ir.irtes.find((e) => e.index === index);
  if (entry !== undefined) return { state: 'present', entry };
  if (ir.unreadable.some(([a, b]) => index >= a && index < b)) return { state: 'unknown' };
  return { state: 'absent' };
}
