/**
 * What the hardware does with one request — the one function `translate`, the fault explanations
 * (faults.ts) and, through unitDmaMode, `analyze`'s checks share. First the unit as a whole
 * (dma.ts: translation off → HPA = IOVA, abort mode, no root table), then the walk as the hardware
 * would do it (VT-d spec §3.4–§3.7 and the fault conditions of chapter 7): root entry, context
 * entry, PASID structures in scalable mode, then each paging level, every step with its table
 * address, index and raw entry; last the protected memory regions, which block untranslated and
 * pass-through requests into them. Without a memory image the answer comes from the decoded
 * mappings (debugfs text), with no steps; a context entry the capture could not read is unknown,
 * and translating through it is an error, not a "not present" fault.
 */
import {
  awToLevels, awToWidth, beyondHaw, decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidDirEntry,
  decodePasidTableEntry, decodeScalableContextEntry, decodeScalableRootEntry,
} from '../decode/entries.js';
import { FAULT_REASONS, sagawAllows } from '../decode/registers.js';
import { InputError } from '../errors.js';
import type { PhysicalMemory } from '../image/types.js';
import type { Bdf } from '../util/bdf.js';
import { hex, hexPad } from '../util/hex.js';
import { extendedRootTable, protectedRegionOf, regionText, unitDmaMode } from './dma.js';
import { contextKnown } from './known.js';
import type { Unit, WalkStep } from './types.js';

/** One step of the walk (the model's WalkStep: fault explanations record the same). */
export type TranslateStep = WalkStep;

export interface TranslateFault {
  /** Fault reason code (VT-d spec table; Linux/QEMU numbering). */
  code: number;
  reason: string;
  /** Paging level where the walk stopped, when it stopped in the page table. */
  level?: number;
}

export interface TranslateResult {
  steps: TranslateStep[];
  /**
   * Set when the request is blocked without a translation fault: abort-DMA mode, or an untranslated
   * or pass-through request into a protected memory region. The sentence says why.
   */
  blocked?: string;
  /** True when translation is off on the unit (GSTS.TES = 0): `hpa` is the IOVA, no table was used. */
  untranslated?: boolean;
  /** Set when the translation resolves. */
  hpa?: bigint;
  pageSize?: number;
  read?: boolean;
  write?: boolean;
  passThrough?: boolean;
  fault?: TranslateFault;
  /** Where the answer came from when there was no memory image. */
  note?: string;
}

export type Access = 'read' | 'write';

function fault(code: number, level?: number, detail?: string): TranslateFault {
  const base = FAULT_REASONS[code] ?? `fault reason ${hex(code)}`;
  return { code, reason: detail ? `${base}: ${detail}` : base, ...(level !== undefined ? { level } : {}) };
}

function qwords(mem: PhysicalMemory, addr: number, count: number, what: string): bigint[] {
  const b = mem.read(addr, count * 8);
  if (b === undefined) {
    throw new InputError(`cannot finish the walk: the ${what} at ${hex(addr)} is not in the memory image`, { file: mem.path });
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(dv.getBigUint64(i * 8, true));
  return out;
}

export interface TranslateInput {
  unit: Unit;
  bdf: Bdf;
  iova: bigint;
  pasid?: number;
  access: Access;
  haw: number;
}

export function translate(mem: PhysicalMemory | undefined, t: TranslateInput): TranslateResult {
  const mode = unitDmaMode(t.unit);
  if (mode.kind === 'untranslated') {
    return guarded(t, { steps: [], hpa: t.iova, passThrough: true, untranslated: true, read: true, write: true, note: mode.why });
  }
  if (mode.kind === 'blocked') return { steps: [], blocked: mode.why };
  if (mode.kind === 'faults') return { steps: [], fault: fault(mode.code, undefined, mode.why) };
  if (t.unit.mode === 'extended' || extendedRootTable(t.unit)) {
    throw new InputError(`cannot translate: unit ${hex(t.unit.registerBase)} uses a VT-d 2.x extended root table (RTADDR.TTM = 10b with ECAP.ECS), a layout dmarsift does not decode`, t.unit.rootTableSource !== undefined ? { file: t.unit.rootTableSource.part } : {});
  }
  return guarded(t, mem === undefined || t.unit.rootTable === undefined ? fromMappings(t) : walkTables(mem, t));
}

/**
 * The protected memory regions (dma.ts): an untranslated or pass-through request into one is
 * blocked; a translated one may or may not be (the spec leaves it to the implementation), which the
 * note says.
 */
function guarded(t: TranslateInput, r: TranslateResult): TranslateResult {
  if (r.hpa === undefined) return r;
  const region = protectedRegionOf(t.unit, r.hpa);
  if (region === undefined) return r;
  if (r.passThrough) {
    const { hpa: _hpa, pageSize: _ps, read: _r, write: _w, ...rest } = r;
    return { ...rest, blocked: `${r.untranslated ? 'untranslated' : 'pass-through'} request into ${regionText(region)}: the unit blocks it` };
  }
  const note = `the host address lies in ${regionText(region)}, which may or may not block translated requests (the spec leaves it to the implementation)`;
  return { ...r, note: r.note ? `${r.note}; ${note}` : note };
}

function walkTables(mem: PhysicalMemory, t: TranslateInput): TranslateResult {
  const u = t.unit;
  const steps: TranslateStep[] = [];
  const root = u.rootTable!;
  const [lo, hi] = qwords(mem, root + t.bdf.bus * 16, 2, 'root entry');
  steps.push({ structure: 'root', table: root, index: t.bdf.bus, entry: [lo, hi] });
  const scalable = u.mode === 'scalable';
  if (!scalable) {
    const r = decodeLegacyRootEntry(lo, hi);
    if (!r.P) return { steps, fault: fault(0x1) };
    if (r.reserved[0] !== 0n || r.reserved[1] !== 0n || beyondHaw(lo, t.haw)) return { steps, fault: fault(0xa) };
    const [clo, chi] = qwords(mem, r.CTP + t.bdf.devfn * 16, 2, 'context entry');
    steps.push({ structure: 'context', table: r.CTP, index: t.bdf.devfn, entry: [clo, chi] });
    const c = decodeLegacyContextEntry(clo, chi);
    if (!c.P) return { steps, fault: fault(0x2) };
    if (c.reserved[0] !== 0n || c.reserved[1] !== 0n) return { steps, fault: fault(0xb) };
    if (c.TT === 3) return { steps, fault: fault(0x3, undefined, 'TT 11b is reserved') };
    if (c.TT === 2) {
      if (u.registers?.ECAP && !u.registers.ECAP.PT) return { steps, fault: fault(0x3, undefined, 'TT pass-through but ECAP.PT is clear') };
      const cap = u.registers?.CAP;
      if (c.AW > 4 || (cap && !sagawAllows(cap, c.AW))) return { steps, fault: fault(0x3, undefined, `AW ${c.AW} is not in CAP.SAGAW (bits 1–3)`) };
      return passThrough(t, steps, c.AW, 'legacy', 'context entry TT = 10b (pass-through): the DMA goes to the host-physical address unchanged');
    }
    if (t.pasid !== undefined) return { steps, fault: fault(0x3, undefined, 'requests with PASID need scalable mode') };
    const cap = u.registers?.CAP;
    if (cap && !sagawAllows(cap, c.AW)) return { steps, fault: fault(0x3, undefined, `AW ${c.AW} is not in CAP.SAGAW (bits 1–3)`) };
    if (c.AW > 4) return { steps, fault: fault(0x3, undefined, `AW ${c.AW} is reserved`) };
    if (beyondHaw(clo, t.haw)) return { steps, fault: fault(0xb) };
    return walk(mem, t, steps, c.SLPTPTR, awToLevels(c.AW), Math.min(awToWidth(c.AW), cap ? cap.mgawBits : 64), 'second');
  }
  // Scalable mode reports the SM fault reasons of the spec (0x30–0x90, the names Linux prints from
  // dma_remap_sm_fault_reasons), not the legacy 0x1–0xE ones. QEMU's emulation reports the legacy
  // codes for root/context faults in either mode; see FAULT_EQUIVALENT for comparing them.
  const r = decodeScalableRootEntry(lo, hi);
  const upper = t.bdf.devfn >= 0x80;
  if (!(upper ? r.UP : r.LP)) return { steps, fault: fault(0x39, undefined, `${upper ? 'UP' : 'LP'} is clear for devfn ${hex2(t.bdf.devfn)}`) };
  if ((upper ? r.reserved[1] : r.reserved[0]) !== 0n || beyondHaw(upper ? hi : lo, t.haw)) return { steps, fault: fault(0x3a) };
  const ctp = upper ? r.UCTP : r.LCTP;
  const ce = qwords(mem, ctp + (t.bdf.devfn & 0x7f) * 32, 4, 'scalable-mode context entry');
  steps.push({ structure: 'context', table: ctp, index: t.bdf.devfn & 0x7f, entry: ce });
  const c = decodeScalableContextEntry(ce[0], ce[1], ce[2], ce[3]);
  if (!c.P) return { steps, fault: fault(0x41) };
  if (c.reserved.some((x) => x !== 0n) || beyondHaw(ce[0], t.haw)) return { steps, fault: fault(0x42) };
  if (t.pasid !== undefined && !c.PASIDE) return { steps, fault: fault(0x45) };
  const pasid = t.pasid ?? c.RID_PASID;
  const dirIndex = pasid >> 6;
  if (dirIndex >= 2 ** (c.PDTS + 7)) return { steps, fault: fault(0x46, undefined, `PASID ${pasid} needs directory entry ${dirIndex}, the directory has ${2 ** (c.PDTS + 7)}`) };
  const [de] = qwords(mem, c.PASIDDIRPTR + dirIndex * 8, 1, 'PASID directory entry');
  steps.push({ structure: 'pasid-dir', table: c.PASIDDIRPTR, index: dirIndex, entry: [de] });
  const d = decodePasidDirEntry(de);
  if (!d.P) return { steps, fault: fault(0x51) };
  if (d.reserved !== 0n || beyondHaw(de, t.haw)) return { steps, fault: fault(0x52) };
  const pe = qwords(mem, d.PTP + (pasid & 0x3f) * 64, 8, 'PASID table entry');
  steps.push({ structure: 'pasid', table: d.PTP, index: pasid & 0x3f, entry: pe });
  const p = decodePasidTableEntry(pe);
  if (!p.P) return { steps, fault: fault(0x59) };
  if (p.reserved.some((x) => x !== 0n)) return { steps, fault: fault(0x5a) };
  const ecap = u.registers?.ECAP;
  const need: Record<number, [keyof NonNullable<typeof ecap>, string]> = { 1: ['FLTS', 'first-level'], 2: ['SLTS', 'second-level'], 3: ['NEST', 'nested'], 4: ['PT', 'pass-through'] };
  if (p.PGTT === 0 || p.PGTT > 4) return { steps, fault: fault(0x5b, undefined, `PGTT ${p.PGTT} is reserved`) };
  const [capName, what] = need[p.PGTT];
  if (ecap && ecap[capName] === false) return { steps, fault: fault(0x5b, undefined, `PGTT ${what} but ECAP.${String(capName)} is clear`) };
  if (p.PGTT === 4) return passThrough(t, steps, p.AW, 'scalable', 'PASID entry PGTT = 100b (pass-through): the DMA goes to the host-physical address unchanged');
  if (p.PGTT === 1) {
    if (p.FLPM > 1) return { steps, fault: fault(0x5b, undefined, `FLPM ${p.FLPM} is reserved`) };
    if (p.FLPM === 1 && u.registers?.CAP && !u.registers.CAP.FL5LP) return { steps, fault: fault(0x5b, undefined, '5-level first-level paging but CAP.FL5LP is clear') };
    if (beyondHaw(pe[2], t.haw)) return { steps, fault: fault(0x5a) };
    return walk(mem, t, steps, p.FLPTPTR, p.FLPM === 1 ? 5 : 4, p.FLPM === 1 ? 57 : 48, 'first');
  }
  // Second-level only, or nested: the second-level table is what the capture holds (the
  // first-level tables of a nested entry live in guest-physical space).
  const cap = u.registers?.CAP;
  if (p.AW > 4 || (cap && !sagawAllows(cap, p.AW))) return { steps, fault: fault(0x5b, undefined, `AW ${p.AW} is not supported`) };
  if (beyondHaw(pe[0], t.haw)) return { steps, fault: fault(0x5a) };
  const note = p.PGTT === 3 ? 'nested entry: only the second-level table is walked (IOVA taken as guest-physical)' : undefined;
  const res = walk(mem, t, steps, p.SLPTPTR, awToLevels(p.AW), Math.min(awToWidth(p.AW), cap ? cap.mgawBits : 64), 'second-sm');
  return note ? { ...res, note } : res;
}

const hex2 = (n: number): string => hexPad(n, 2);

/**
 * An untranslated request through a pass-through entry (legacy TT = 10b, scalable PGTT = 100b).
 * HPA = IOVA only inside the window the unit allows: the spec's CAP.MGAW text — "untranslated and
 * translated DMA requests to addresses above 2^(MGAW+1) − 1 are always blocked by hardware" — and
 * the entry's AW, which for pass-through "must be programmed to indicate the largest AGAW value
 * supported by hardware" (Linux writes msagaw/agaw there; VirtualBox's DevIommuIntel checks it).
 * Beyond the window it is the address-width fault: 0x4 in legacy mode (the spec's LGN.1.x
 * conditions), 0x83 in scalable mode (SGN.4.x; Linux: "SM: Address beyond the DMA hardware max").
 * Where the spec is silent we choose: an AW the unit supports bounds the window even when it is not
 * the largest (the note says so); an AW outside SAGAW's defined bits bounds nothing in a PASID
 * entry (legacy entries fault on it first, 0x3); an address past the DMAR table's HAW but inside
 * the window passes, with a note that no memory answers there.
 */
function passThrough(t: TranslateInput, steps: TranslateStep[], aw: number, mode: 'legacy' | 'scalable', note: string): TranslateResult {
  const cap = t.unit.registers?.CAP;
  const limits: string[] = [];
  let width = 64;
  if (cap !== undefined) {
    width = cap.mgawBits;
    limits.push(`CAP.MGAW ${cap.MGAW}: ${cap.mgawBits}-bit`);
  }
  const awKnown = aw >= 0 && aw <= 4 && (cap === undefined ? mode === 'legacy' || aw >= 1 : sagawAllows(cap, aw));
  if (awKnown) {
    width = Math.min(width, awToWidth(aw));
    limits.push(`AW ${aw}: ${awToWidth(aw)}-bit`);
  }
  if (width < 64 && t.iova >> BigInt(width) !== 0n) {
    return { steps, fault: fault(mode === 'legacy' ? 0x4 : 0x83, undefined, `pass-through request to ${hex(t.iova)}, at or above 2^${width} (${limits.join(', ')})`) };
  }
  const notes = [note];
  const largest = cap === undefined ? undefined : [3, 2, 1].find((k) => sagawAllows(cap, k));
  if (awKnown && largest !== undefined && aw !== largest) notes.push(`AW ${aw} (${awToWidth(aw)}-bit) is not the largest width CAP.SAGAW offers (${awToWidth(largest)}-bit), which the spec asks of a pass-through entry`);
  if (t.haw < 64 && t.iova >> BigInt(t.haw) !== 0n) notes.push(`the address is at or above 2^${t.haw}, past the platform's host address width (DMAR HAW): no memory answers there`);
  return { steps, hpa: t.iova, passThrough: true, read: true, write: true, note: notes.join('; ') };
}

/**
 * Legacy and scalable-mode reasons that name the same condition (QEMU reports the legacy codes in
 * scalable mode for root and context faults; the spec has SM codes): the classes are used to tell
 * whether a recorded fault agrees with a walk of the captured tables.
 */
const FAULT_EQUIVALENT: readonly (readonly number[])[] = [
  [0x1, 0x39],
  [0x2, 0x41],
  [0xa, 0x3a],
  [0xb, 0x42],
  [0x3, 0x43, 0x5b],
  [0x6, 0x86, 0x71],
  [0x5, 0x85],
  [0xc, 0x7a, 0x72],
  [0x4, 0x83, 0x80],
  [0xe, 0x87],
];

/** True when two fault reason codes name the same condition (equal, or in one FAULT_EQUIVALENT class). */
export function sameFaultReason(a: number, b: number): boolean {
  if (a === b) return true;
  return FAULT_EQUIVALENT.some((cls) => cls.includes(a) && cls.includes(b));
}

type WalkFormat = 'second' | 'second-sm' | 'first';

function walk(mem: PhysicalMemory, t: TranslateInput, steps: TranslateStep[], root: number, levels: number, width: number, format: WalkFormat): TranslateResult {
  const first = format === 'first';
  const sm = format !== 'second';
  // Reason codes per format: legacy second level, SM second-stage, SM first-stage.
  const code = {
    notPresent: first ? 0x71 : sm ? (t.access === 'write' ? 0x85 : 0x86) : t.access === 'write' ? 0x5 : 0x6,
    write: sm ? 0x85 : 0x5,
    read: sm ? 0x86 : 0x6,
    reserved: first ? 0x72 : sm ? 0x7a : 0xc,
    width: first ? 0x80 : sm ? 0x83 : 0x4,
    interrupt: sm ? 0x87 : 0xe,
  };
  if (first) {
    // First level takes canonical addresses: bits 63:width-1 all equal (§6.2).
    const top = t.iova >> BigInt(width - 1);
    if (top !== 0n && top !== (1n << BigInt(65 - width)) - 1n) return { steps, fault: fault(code.width, levels, `IOVA is not canonical for ${levels}-level first-level paging`) };
  } else if (width < 64 && t.iova >> BigInt(width) !== 0n) {
    return { steps, fault: fault(code.width, levels, `IOVA is wider than ${width} bits`) };
  }
  let table = root;
  let read = true;
  let write = true;
  const sllps = t.unit.registers?.CAP?.SLLPS;
  const fl1gp = t.unit.registers?.CAP?.FL1GP;
  for (let level = levels; level >= 1; level--) {
    const index = Number((t.iova >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
    const [e] = qwords(mem, table + index * 8, 1, `level-${level} table page`);
    steps.push({ structure: 'page-table', level, table, index, entry: [e] });
    const present = first ? (e & 1n) === 1n : (e & 3n) !== 0n;
    if (!present) return { steps, fault: fault(code.notPresent, level, `entry not present at level ${level}`) };
    read &&= first ? true : (e & 1n) === 1n;
    write &&= (e & 2n) === 2n;
    const ps = (e & 0x80n) !== 0n && level > 1;
    // Only bits 51:12 are address: 63:52 are XD/ignored (first level) or ignored/TM (second level).
    if (beyondHaw(e & 0x000f_ffff_ffff_f000n, t.haw)) return { steps, fault: fault(code.reserved, level, 'address bits above the host address width') };
    const leaf = level === 1 || ps;
    if (ps && (level > 3 || (!first && sllps !== undefined && (sllps & (level === 2 ? 1 : 2)) === 0) || (first && level === 3 && fl1gp === false))) {
      return { steps, fault: fault(code.reserved, level, `PS set at level ${level}, which this unit does not support`) };
    }
    if (!leaf && !first && (e & 0x800n) !== 0n) return { steps, fault: fault(code.reserved, level, 'bit 11 is reserved in a non-leaf entry') };
    if (leaf) {
      const pageSize = 4096 * 512 ** (level - 1);
      const lowMask = BigInt(pageSize - 1);
      const base = e & 0x000f_ffff_ffff_f000n & ~lowMask;
      // Large leaves: the address bits below the page size are reserved (first level: bit 12 is PAT).
      const low = e & 0x000f_ffff_ffff_f000n & lowMask & (first ? ~0x1000n : ~0n);
      if (level > 1 && low !== 0n) return { steps, fault: fault(code.reserved, level, 'superpage address not aligned (reserved bits set)') };
      if (t.access === 'read' && !read) return { steps, fault: fault(code.read, level) };
      if (t.access === 'write' && !write) return { steps, fault: fault(code.write, level) };
      const hpa = base | (t.iova & lowMask);
      if (hpa >= 0xfee00000n && hpa <= 0xfeefffffn) return { steps, fault: fault(code.interrupt, level) };
      return { steps, hpa, pageSize, read, write };
    }
    table = Number(e & 0x000f_ffff_ffff_f000n);
  }
  return { steps, fault: fault(code.reserved) };
}

/** Without a memory image: look the IOVA up in the decoded mappings of the device's domain. */
function fromMappings(t: TranslateInput): TranslateResult {
  const u = t.unit;
  const ctx = u.contexts.find((c) => c.bus === t.bdf.bus && c.devfn === t.bdf.devfn && c.present);
  if (!ctx) {
    // Absent only if the table that would hold it was read: otherwise nobody knows.
    if (!contextKnown(u, t.bdf.bus, t.bdf.devfn)) {
      throw new InputError(`cannot translate: the capture does not hold the context entry of this device (no root or context table of unit ${hex(u.registerBase)} could be read; add a memory image holding them, or dmar_translation_struct)`, u.rootTableSource !== undefined ? { file: u.rootTableSource.part } : {});
    }
    return { steps: [], fault: fault(0x2), note: 'no present context entry for this device in the capture' };
  }
  if (ctx.tt === 2) return passThrough(t, [], ctx.aw, 'legacy', 'context entry TT = 10b (pass-through)');
  const dom = u.domains.find((d) => d.did === ctx.did && d.root === ctx.slptptr);
  if (!dom?.mappingsKnown) {
    throw new InputError('cannot translate: the capture has neither a memory image nor the page tables of this device (add memory or domain_translation_struct)', { file: ctx.source.part });
  }
  const iovaPfn = Number(t.iova >> 12n);
  const m = dom.mappings.find((x) => iovaPfn >= x.iovaPfn && iovaPfn < x.iovaPfn + x.pages);
  const note = `resolved from the decoded mappings of ${dom.source?.part ?? 'the capture'} (no memory image, so no walk steps)`;
  if (!m) return { steps: [], fault: fault(t.access === 'write' ? 0x5 : 0x6), note };
  if ((t.access === 'read' && !m.read) || (t.access === 'write' && !m.write)) return { steps: [], fault: fault(t.access === 'write' ? 0x5 : 0x6), note };
  const hpa = (BigInt(m.hpaPfn + (iovaPfn - m.iovaPfn)) << 12n) | (t.iova & 0xfffn);
  return { steps: [], hpa, pageSize: m.pageSize, read: m.read, write: m.write, note };
}
