/**
 * What a remapping unit does with DMA as a whole, before any table is looked at — the first step of
 * "what does the hardware do with this request" (translate.ts takes it from there), and what the
 * checks say about a device's DMA (`ppt-unmapped`, `iommu-disabled`). One place, so `translate` and
 * `analyze` cannot disagree.
 *
 * VT-d spec §10.4 (GSTS, RTADDR, PMEN): with GSTS.TES = 0 requests are not translated (HPA = IOVA),
 * except that the protected memory regions (PMEN.EPM, PLMBASE/PLMLIMIT, PHMBASE/PHMLIMIT) block
 * every request into them; RTADDR.TTM = 11b (abort-DMA mode) blocks every request; TES = 1 with no
 * root table latched (GSTS.RTPS = 0) faults every request. With translation on, requests the context
 * entry passes through (TT = 10b, PGTT = 100b) are blocked in the protected regions as well; for
 * translated requests the spec leaves it to the implementation, so software must not rely on it.
 */
import type { Unit } from './types.js';
import { hex } from '../util/hex.js';

export type UnitDmaMode =
  /** GSTS.TES = 0: requests go to HPA = IOVA (protected regions excepted). */
  | { kind: 'untranslated'; why: string }
  /** Abort-DMA mode: every request is blocked. */
  | { kind: 'blocked'; why: string }
  /** TES = 1 but no root table latched: every request faults (reason 0x8 in legacy terms). */
  | { kind: 'faults'; why: string }
  /** TES = 1 (or unknown): the tables decide. */
  | { kind: 'translated' };

export function unitDmaMode(u: Unit): UnitDmaMode {
  if (u.translationEnabled === false) return { kind: 'untranslated', why: 'translation is disabled on this unit (GSTS.TES = 0): the DMA goes to the host-physical address unchanged' };
  if (u.registers?.RTADDR?.mode === 'abort') return { kind: 'blocked', why: 'RTADDR selects abort-DMA mode (TTM 11b): the unit blocks every request' };
  if (u.translationEnabled === true && u.rootTablePointerSet === false) return { kind: 'faults', why: 'translation is on (GSTS.TES = 1) but no root table is latched (GSTS.RTPS = 0)' };
  return { kind: 'translated' };
}

/** One protected memory region, bytes [start, end] inclusive. */
export interface ProtectedRegion {
  name: 'low' | 'high';
  start: bigint;
  end: bigint;
  /** The register values it comes from, for messages. */
  registers: string;
}

/**
 * Granularity of the protected regions. PLMBASE/PHMBASE bits N:0 read as 0 and PLMLIMIT/PHMLIMIT
 * bits N:0 are taken as 1s by the hardware; N is the implementation's (found by writing all 1s),
 * at least 20 — a 2 MiB granule, which is what a capture of the register values can assume.
 */
const GRANULE = (1n << 21n) - 1n;
const PMEN_EPM = 1n << 31n;
const PMEN_PRS = 1n;

/**
 * The protected memory regions the unit enforces now: PMEN.EPM set and PMEN.PRS reporting them
 * enabled, and a limit not below its base (a limit below the base disables that region).
 */
export function protectedRegions(u: Unit): ProtectedRegion[] {
  const raw = u.registers?.raw;
  const pmen = raw?.PMEN;
  if (raw === undefined || pmen === undefined || (pmen & PMEN_EPM) === 0n || (pmen & PMEN_PRS) === 0n) return [];
  const out: ProtectedRegion[] = [];
  const add = (name: ProtectedRegion['name'], base: bigint | undefined, limit: bigint | undefined, baseName: string, limitName: string): void => {
    if (base === undefined || limit === undefined) return;
    const start = base & ~GRANULE;
    const end = limit | GRANULE;
    if (limit < base) return;
    out.push({ name, start, end, registers: `${baseName} ${hex(base)}, ${limitName} ${hex(limit)}` });
  };
  add('low', raw.PLMBASE !== undefined ? raw.PLMBASE & 0xffff_ffffn : undefined, raw.PLMLIMIT !== undefined ? raw.PLMLIMIT & 0xffff_ffffn : undefined, 'PLMBASE', 'PLMLIMIT');
  add('high', raw.PHMBASE, raw.PHMLIMIT, 'PHMBASE', 'PHMLIMIT');
  return out;
}

/** The protected region holding host address `hpa`, if any. */
export function protectedRegionOf(u: Unit, hpa: bigint): ProtectedRegion | undefined {
  return protectedRegions(u).find((r) => hpa >= r.start && hpa <= r.end);
}

export function regionText(r: ProtectedRegion): string {
  return `the protected ${r.name}-memory region ${hex(r.start)}-${hex(r.end)} (PMEN.EPM = 1; ${r.registers})`;
}

/** What happens to DMA from a device that has no present context entry in `u` (the phrase the checks use). */
export function fateWithoutEntry(u: Unit | undefined): string {
  const mode = u === undefined ? ({ kind: 'translated' } as const) : unitDmaMode(u);
  switch (mode.kind) {
    case 'untranslated': {
      const regions = protectedRegions(u!);
      return `with translation off on its unit its DMA reaches host memory untranslated${regions.length > 0 ? ` (except ${regions.map(regionText).join(' and ')}, which the unit blocks)` : ''}`;
    }
    case 'blocked':
      return 'its unit is in abort-DMA mode: its DMA is blocked';
    case 'faults':
      return 'its unit has translation on but no root table latched: its DMA faults';
    default:
      return 'its DMA is blocked';
  }
}
