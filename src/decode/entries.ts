/**
 * Root, context and PASID structure entries (docs/vtd-formats.md §3–§5, VT-d spec §9.1–§9.6).
 * Pure functions of the raw qwords (bigint, lowest qword first). Pointers are byte addresses as
 * numbers (bits 63:12; at most 52 bits wide on real hardware). `reserved` holds the reserved bits
 * that are set, per qword (all zero in a well-formed entry) — evidence for `table-integrity`.
 */

/** A pointer field: bits 63:12 of its qword. */
export const PTR_MASK = 0xffff_ffff_ffff_f000n;
/** The address bits a pointer can really hold: 51:12 (no host address width exceeds 52 bits). */
const ADDR_MASK = 0x000f_ffff_ffff_f000n;

function bits(q: bigint, lo: number, hi: number): number {
  return Number((q >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

/**
 * Bits 51:12 of a pointer field as an address — an exact number. Bits 63:52 (and any at or above
 * the host address width) are reserved: `beyondHaw` reports them from the raw qword, which the
 * model keeps, so dropping them here loses nothing and keeps every writer's hex() exact.
 */
function pointerOf(q: bigint): number {
  return Number(q & ADDR_MASK);
}

/** A pointer field (bits 63:12) with any bit at or above the host address width set. */
export function beyondHaw(q: bigint, haw: number): boolean {
  return bitsBeyondHaw(q, haw) !== 0n;
}

/** The bits of a pointer field (bits 63:12) at or above the host address width: the bits at fault. */
export function bitsBeyondHaw(q: bigint, haw: number): bigint {
  if (haw >= 64) return 0n;
  return q & PTR_MASK & ~((1n << BigInt(Math.max(12, haw))) - 1n);
}

/** Levels and IOVA width for a second-level AW value (§4): levels = AW + 2, width = 30 + 9·AW. */
export function awToLevels(aw: number): number {
  return aw + 2;
}
export function awToWidth(aw: number): number {
  return Math.min(64, 30 + 9 * aw);
}

// ─── Root entries (§3) ─────────────────────────────────────────────────────────────────────────

export interface LegacyRootEntry {
  P: boolean;
  /** Context-table pointer. */
  CTP: number;
  reserved: [bigint, bigint];
}

export function decodeLegacyRootEntry(lo: bigint, hi: bigint): LegacyRootEntry {
  return { P: (lo & 1n) === 1n, CTP: pointerOf(lo), reserved: [lo & 0xffen, hi] };
}

export interface ScalableRootEntry {
  LP: boolean;
  LCTP: number;
  UP: boolean;
  UCTP: number;
  reserved: [bigint, bigint];
}

/** Scalable-mode root entry (and the VT-d 2.x extended root entry, which has the same shape). */
export function decodeScalableRootEntry(lo: bigint, hi: bigint): ScalableRootEntry {
  return {
    LP: (lo & 1n) === 1n,
    LCTP: pointerOf(lo),
    UP: (hi & 1n) === 1n,
    UCTP: pointerOf(hi),
    reserved: [lo & 0xffen, hi & 0xffen],
  };
}

// ─── Legacy context entry (§4) ─────────────────────────────────────────────────────────────────

export interface LegacyContextEntry {
  P: boolean;
  FPD: boolean;
  /** 0 multi-level (UNTR), 1 dev-IOTLB (TR), 2 pass-through, 3 reserved. */
  TT: number;
  SLPTPTR: number;
  AW: number;
  AVAIL: number;
  DID: number;
  /** Reserved bits set: lo 11:4; hi bit 7 and 63:24 (QEMU masks 0xff0 and 0xffffffffff000080). */
  reserved: [bigint, bigint];
}

export function decodeLegacyContextEntry(lo: bigint, hi: bigint): LegacyContextEntry {
  return {
    P: (lo & 1n) === 1n,
    FPD: (lo & 2n) === 2n,
    TT: bits(lo, 2, 3),
    SLPTPTR: pointerOf(lo),
    AW: bits(hi, 0, 2),
    AVAIL: bits(hi, 3, 6),
    DID: bits(hi, 8, 23),
    reserved: [lo & 0xff0n, hi & 0xffff_ffff_ff00_0080n],
  };
}

// ─── Scalable-mode context entry (§5.1) ────────────────────────────────────────────────────────

export interface ScalableContextEntry {
  P: boolean;
  FPD: boolean;
  DTE: boolean;
  PASIDE: boolean;
  PRE: boolean;
  /** PASID directory holds 2^(PDTS+7) entries. */
  PDTS: number;
  PASIDDIRPTR: number;
  RID_PASID: number;
  RID_PRIV: boolean;
  /** q0 8:5, q1 63:21, q2, q3. */
  reserved: [bigint, bigint, bigint, bigint];
}

export function decodeScalableContextEntry(q0: bigint, q1: bigint, q2: bigint, q3: bigint): ScalableContextEntry {
  return {
    P: (q0 & 1n) === 1n,
    FPD: (q0 & 2n) === 2n,
    DTE: (q0 & 4n) === 4n,
    PASIDE: (q0 & 8n) === 8n,
    PRE: (q0 & 16n) === 16n,
    PDTS: bits(q0, 9, 11),
    PASIDDIRPTR: pointerOf(q0),
    RID_PASID: bits(q1, 0, 19),
    RID_PRIV: ((q1 >> 20n) & 1n) === 1n,
    reserved: [q0 & 0x1e0n, q1 & 0xffff_ffff_ffe0_0000n, q2, q3],
  };
}

// ─── PASID directory and table entries (§5.2, §5.3) ────────────────────────────────────────────

export interface PasidDirEntry {
  P: boolean;
  FPD: boolean;
  /** PASID-table pointer. */
  PTP: number;
  reserved: bigint;
}

export function decodePasidDirEntry(q: bigint): PasidDirEntry {
  return { P: (q & 1n) === 1n, FPD: (q & 2n) === 2n, PTP: pointerOf(q), reserved: q & 0xffcn };
}

export interface PasidTableEntry {
  P: boolean;
  FPD: boolean;
  AW: number;
  SLEE: boolean;
  /** 1 first-level only, 2 second-level only, 3 nested, 4 pass-through. */
  PGTT: number;
  SLADE: boolean;
  SLPTPTR: number;
  DID: number;
  PWSNP: boolean;
  PGSNP: boolean;
  SRE: boolean;
  ERE: boolean;
  /** 0 four-level, 1 five-level first-level paging. */
  FLPM: number;
  WPE: boolean;
  NXE: boolean;
  FLPTPTR: number;
  /** q0 11:10, q1 22:16, q2 11:8, q3–q7. */
  reserved: bigint[];
}

export function decodePasidTableEntry(q: readonly bigint[]): PasidTableEntry {
  const [q0, q1, q2] = q;
  return {
    P: (q0 & 1n) === 1n,
    FPD: (q0 & 2n) === 2n,
    AW: bits(q0, 2, 4),
    SLEE: ((q0 >> 5n) & 1n) === 1n,
    PGTT: bits(q0, 6, 8),
    SLADE: ((q0 >> 9n) & 1n) === 1n,
    SLPTPTR: pointerOf(q0),
    DID: bits(q1, 0, 15),
    PWSNP: ((q1 >> 23n) & 1n) === 1n,
    PGSNP: ((q1 >> 24n) & 1n) === 1n,
    SRE: (q2 & 1n) === 1n,
    ERE: (q2 & 2n) === 2n,
    FLPM: bits(q2, 2, 3),
    WPE: ((q2 >> 4n) & 1n) === 1n,
    NXE: ((q2 >> 5n) & 1n) === 1n,
    FLPTPTR: pointerOf(q2),
    reserved: [q0 & 0xc00n, q1 & 0x7f_0000n, q2 & 0xf00n, ...q.slice(3)],
  };
}

export const PGTT_NAMES: Record<number, string> = {
  1: 'first-level',
  2: 'second-level',
  3: 'nested',
  4: 'pass-through',
};

export const TT_NAMES: Record<number, string> = { 0: 'UNTR', 1: 'TR', 2: 'PASS', 3: 'TT3?' };
