/**
 * The host ranges a finding points at, read back from its evidence (whose layout the checks
 * define): what a picture marks as flagged. The rules, per evidence field:
 * - an object with `hpa` ("0x…") names [hpa, hpa + size) (size "0x…", default one page) in the
 *   finding's domain, at IOVA `iova` when given (hpa-leak-iommu-structures, hpa-leak-mmio,
 *   hpa-leak-outside-vm, rmrr-in-vm-domain, hpa-leak-shared);
 * - inside it, an object with a numeric `did` and an `iova` names the same host range in that
 *   domain of the same unit (hpa-leak-shared's examples name both owners' domains);
 * - hpa-leak-identity's `runs` ({start, end}) are IOVA = HPA ranges.
 * Anything else (layouts, windows, counts) is not a host range the finding flags.
 */
import { parseHex } from '../util/hex.js';
import type { EvidenceValue, Finding } from './types.js';

export interface FlaggedRange {
  /** Register base of the unit whose domain maps it. */
  unit?: number;
  did?: number;
  hpaPfn: number;
  pages: number;
  iovaPfn?: number;
}

/** At most this many ranges per finding (evidence lists are capped by the checks already). */
const MAX_FLAGGED_PER_FINDING = 64;

type Obj = { [key: string]: EvidenceValue };

function isObj(v: EvidenceValue | undefined): v is Obj {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

/** "0x…" → page number (addresses are page-aligned in evidence; a partial page counts whole). */
function pfnOf(v: EvidenceValue | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const n = parseHex(v) >> 12n;
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
  } catch {
    return undefined;
  }
}

function pagesOf(v: EvidenceValue | undefined): number {
  if (typeof v !== 'string') return 1;
  try {
    const b = parseHex(v);
    const p = (b + 4095n) >> 12n;
    return p >= 1n && p <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(p) : 1;
  } catch {
    return 1;
  }
}

export function flaggedRanges(f: Finding): FlaggedRange[] {
  const unit = f.unit !== undefined ? registerBaseOf(f.unit) : undefined;
  const out: FlaggedRange[] = [];
  const add = (r: FlaggedRange): void => {
    if (out.length < MAX_FLAGGED_PER_FINDING) out.push(r);
  };
  const base = (): Pick<FlaggedRange, 'unit' | 'did'> => ({ ...(unit !== undefined ? { unit } : {}), ...(f.did !== undefined ? { did: f.did } : {}) });

  if (f.check === 'hpa-leak-identity' && Array.isArray(f.evidence.runs)) {
    for (const r of f.evidence.runs) {
      if (!isObj(r)) continue;
      const s = pfnOf(r.start);
      const e = pfnOf(r.end);
      if (s !== undefined && e !== undefined && e > s) add({ ...base(), hpaPfn: s, pages: e - s, iovaPfn: s });
    }
    return out;
  }

  const visit = (v: EvidenceValue, depth: number): void => {
    if (depth > 4 || out.length >= MAX_FLAGGED_PER_FINDING) return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    if (!isObj(v)) return;
    const hpa = pfnOf(v.hpa);
    if (hpa === undefined) {
      for (const x of Object.values(v)) visit(x, depth + 1);
      return;
    }
    const pages = pagesOf(v.size);
    // The IOVA in the finding's own domain: top-level, or under the entry naming that domain.
    const own = Object.values(v).find((x): x is Obj => isObj(x) && x.did === f.did);
    const iova = pfnOf(v.iova) ?? pfnOf(own?.iova);
    add({ ...base(), hpaPfn: hpa, pages, ...(iova !== undefined ? { iovaPfn: iova } : {}) });
    for (const x of Object.values(v)) {
      if (!isObj(x) || typeof x.did !== 'number' || x.did === f.did) continue;
      const other = pfnOf(x.iova);
      add({ ...(unit !== undefined ? { unit } : {}), did: x.did, hpaPfn: hpa, pages, ...(other !== undefined ? { iovaPfn: other } : {}) });
    }
  };
  visit(f.evidence, 0);
  return out;
}

/** A finding's unit "0x…" → its register base. */
function registerBaseOf(text: string): number | undefined {
  try {
    const n = parseHex(text);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
  } catch {
    return undefined;
  }
}
