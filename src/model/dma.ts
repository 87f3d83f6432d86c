/**
 * What a remapping unit does with DMA as a whole, before any table is looked at — the first step of
 * "what does the hardware do with this request" (translate.ts takes it from there), and what the
 * checks say about a device's DMA (`ppt-unmapped`, `iommu-disabled`). One place, so `translate` and
 * `analyze` cannot disagree.
 *
 * VT-d spec, register chapter (Global Status, Root Table Address and Protected Memory Enable
 * registers): with GSTS.TES = 0 requests are not translated (HPA = IOVA) and RTADDR is not used, except that the protected memory regions (PMEN.EPM,
 * PLMBASE/PLMLIMIT, PHMBASE/PHMLIMIT) block every request into them. With TES = 1, RTADDR.TTM
 * (bits 11:10) decides before any table is read: 11b is abort-DMA mode (ADM, where ECAP.ADMS = 1):
 * every request is blocked and no table is read; a TTM the unit does not support — 01b without
 * ECAP.SMTS, 11b without ECAP.ADMS, 10b, reserved since VT-d 3.0 — is the spec's RTA.1 fault
 * condition: every request faults with reason 30h (the codes VirtualBox's DevIommuIntel and its
 * iommu-intel.h VTDADDRFAULT_RTA_1_x give it). 10b on a VT-d 2.x unit that reports ECAP bit 24
 * (ECS, extended context support; reserved since 3.0) is that revision's extended root table, a
 * layout dmarsift does not decode. TES = 1 with no root table latched (GSTS.RTPS = 0) faults every
 * request. With translation on, requests the context
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
  /**
   * TES = 1 but every request faults before any table is read: no root table latched (reason 0x8
   * in legacy terms), or an RTADDR.TTM the unit does not support (RTA.1, reason 0x30).
   */
  | { kind: 'faults'; why: string; code: number; cause: 'no-root-table' | 'ttm' }
  /** TES = 1 (or unknown): the tables decide. */
  | { kind: 'translated' };

export function unitDmaMode(u: Unit): UnitDmaMode {
  if (u.translationEnabled === false) return { kind: 'untranslated', why: 'translation is disabled on this unit (GSTS.TES = 0): the DMA goes to the host-physical address unchanged' };
  const ttm = unsupportedTtm(u);
  if (ttm !== undefined) return { kind: 'faults', why: ttm, code: 0x30, cause: 'ttm' };
  if (u.registers?.RTADDR?.mode === 'abort') return { kind: 'blocked', why: 'RTADDR selects abort-DMA mode (TTM 11b): the unit blocks every request' };
  if (u.translationEnabled === true && u.rootTablePointerSet === false) return { kind: 'faults', why: 'translation is on (GSTS.TES = 1) but no root table is latched (GSTS.RTPS = 0)', code: 0x8, cause: 'no-root-table' };
  return { kind: 'translated' };
}

/** ECAP bit 24: ECS (extended context support) in VT-d 2.x, reserved since 3.0. */
const ECAP_ECS = 1n << 24n;

/** True when RTADDR.TTM = 10b names a VT-d 2.x extended root table (ECAP.ECS set), not a reserved value. */
export function extendedRootTable(u: Unit): boolean {
  const r = u.registers;
  return r?.RTADDR?.TTM === 2 && r.ECAP !== undefined && (r.ECAP.raw & ECAP_ECS) !== 0n;
}

/** Why RTADDR.TTM is one the unit does not support (the RTA.1 fault condition), if it is. */
export function unsupportedTtm(u: Unit): string | undefined {
  const r = u.registers;
  const ttm = r?.RTADDR?.TTM;
  if (ttm === undefined) return undefined;
  const ecap = r?.ECAP;
  if (ttm === 2 && !extendedRootTable(u)) return 'RTADDR.TTM = 10b is reserved (VT-d 3.0 on; a VT-d 2.x extended root table needs ECAP bit 24, ECS): every request faults (RTA.1, reason 30h)';
  if (ttm === 3 && ecap !== undefined && !ecap.ADMS) return 'RTADDR.TTM = 11b (abort-DMA mode) but ECAP.ADMS = 0: the unit does not support the mode, so every request faults (RTA.1, reason 30h)';
  if (ttm === 1 && ecap !== undefined && !ecap.SMTS) return 'RTADDR.TTM = 01b (scalable mode) but ECAP.SMTS = 0: the unit does not support the mode, so every request faults (RTA.1, reason 30h)';
  return undefined;
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
      return mode.cause === 'ttm' ? `its DMA faults: ${mode.why}` : 'its unit has translation on but no root table latched: its DMA faults';
    default:
      return 'its DMA is blocked';
  }
}
