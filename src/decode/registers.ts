/**
 * Field decoders for the remapping-unit registers (docs/vtd-formats.md §2). Pure functions of raw values.
 * Where FreeBSD and Linux disagree (§9) the VT-d spec / Linux widths are used: CAP.ND 3 bits,
 * CAP.FRO 10 bits, ECAP.PSS 5 bits.
 *
 * Register naming in RawRegisters: upper-case spec names (VER, CAP, ECAP, GSTS, RTADDR, FSTS, …).
 * Fault recording registers are 128 bits wide; they are named `FRCD<n>_LO` (bits 63:0) and
 * `FRCD<n>_HI` (bits 127:64), n decimal. `buildUnitRegisters` also accepts a single 128-bit
 * `FRCD<n>` value (lo = low 64 bits); when both spellings are present the _LO/_HI pair wins.
 */
import type {
  Cap, Ecap, FaultRecord, Fsts, Gsts, RawRegisters, Rtaddr, TranslationTableMode, UnitRegisters, Version,
} from './registers-types.js';
import { hex } from '../util/hex.js';

/** Bits hi..lo of v (inclusive) as a number (fields here are at most 20 bits wide). */
function bits(v: bigint, hi: number, lo: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}
function bit(v: bigint, n: number): boolean {
  return ((v >> BigInt(n)) & 1n) === 1n;
}
const big = (v: number | bigint): bigint => (typeof v === 'bigint' ? v : BigInt(v >>> 0));

/** VER: bits 7:4 major, 3:0 minor. */
export function decodeVer(v: number | bigint): Version {
  const b = big(v);
  return { major: bits(b, 7, 4), minor: bits(b, 3, 0) };
}

/**
 * CAP (offset 0x08). ND = 7 is reserved (VT-d spec, Capability Register: 000b–110b give 16 … 64 Ki
 * domain ids): `domains` is then the 16-bit DID field's 65536, no narrower bound being known, and
 * capabilityWarnings says so.
 */
export function decodeCap(raw: bigint): Cap {
  const ND = bits(raw, 2, 0);
  const MGAW = bits(raw, 21, 16);
  return {
    raw,
    ND, domains: ND === 7 ? 65536 : 2 ** (4 + 2 * ND),
    AFL: bit(raw, 3), RWBF: bit(raw, 4), PLMR: bit(raw, 5), PHMR: bit(raw, 6), CM: bit(raw, 7),
    SAGAW: bits(raw, 12, 8),
    MGAW, mgawBits: MGAW + 1,
    ZLR: bit(raw, 22),
    FRO: bits(raw, 33, 24),
    SLLPS: bits(raw, 37, 34),
    PSI: bit(raw, 39),
    NFR: bits(raw, 47, 40),
    MAMV: bits(raw, 53, 48),
    DWD: bit(raw, 54), DRD: bit(raw, 55), FL1GP: bit(raw, 56), PI: bit(raw, 59), FL5LP: bit(raw, 60),
    ECMDS: bit(raw, 61), ESIRTPS: bit(raw, 62), ESRTPS: bit(raw, 63),
  };
}

/** ECAP (offset 0x10). Bits 5, 24 and 28 are deprecated (VT-d 2.x meanings) and not decoded. */
export function decodeEcap(raw: bigint): Ecap {
  return {
    raw,
    C: bit(raw, 0), QI: bit(raw, 1), DT: bit(raw, 2), IR: bit(raw, 3), EIM: bit(raw, 4), PT: bit(raw, 6), SC: bit(raw, 7),
    IRO: bits(raw, 17, 8),
    MHMV: bits(raw, 23, 20),
    MTS: bit(raw, 25), NEST: bit(raw, 26), PRS: bit(raw, 29), ERS: bit(raw, 30), SRS: bit(raw, 31),
    NWFS: bit(raw, 33), EAFS: bit(raw, 34),
    PSS: bits(raw, 39, 35),
    PASID: bit(raw, 40), DIT: bit(raw, 41), PDS: bit(raw, 42), SMTS: bit(raw, 43), VCS: bit(raw, 44),
    SLADS: bit(raw, 45), SLTS: bit(raw, 46), FLTS: bit(raw, 47), SMPWCS: bit(raw, 48), RPS: bit(raw, 49),
    PMS: bit(raw, 51), ADMS: bit(raw, 52), RPRIVS: bit(raw, 53),
  };
}

/** GSTS (offset 0x1C, 32 bits; debugfs prints it zero-extended to 64). */
export function decodeGsts(v: number | bigint): Gsts {
  const b = big(v) & 0xffff_ffffn;
  return {
    raw: Number(b),
    TES: bit(b, 31), RTPS: bit(b, 30), FLS: bit(b, 29), AFLS: bit(b, 28), WBFS: bit(b, 27),
    QIES: bit(b, 26), IRES: bit(b, 25), IRTPS: bit(b, 24), CFIS: bit(b, 23),
  };
}

/**
 * CAP.SAGAW bits the spec defines (VT-d 3.0 on, Capability Register): 1 = 39-bit (3-level),
 * 2 = 48-bit (4-level), 3 = 57-bit (5-level). Bits 0 and 4 are reserved (VT-d 1.x/2.x named them
 * 30-bit/2-level and 64-bit/6-level, which no unit implemented; Linux's intel-iommu and VirtualBox's
 * DevIommuIntel accept only bits 1–3).
 */
export const SAGAW_DEFINED = 0b01110;

/** True when the unit supports second-level AW value `aw`: a SAGAW bit the spec defines and the unit sets. */
export function sagawAllows(cap: Cap, aw: number): boolean {
  return aw >= 0 && aw <= 4 && (((cap.SAGAW & SAGAW_DEFINED) >> aw) & 1) === 1;
}

/** CAP.SLLPS bits the spec defines: 0 = 2 MiB, 1 = 1 GiB (bits 2–3 reserved). */
const SLLPS_DEFINED = 0b0011;

/** "bit 4", "bits 0 and 4" for the set bits of `v`. */
function bitList(v: number): string {
  const set = [0, 1, 2, 3, 4].filter((k) => (v >> k) & 1);
  return `${set.length > 1 ? 'bits' : 'bit'} ${set.length > 1 ? `${set.slice(0, -1).join(', ')} and ${set[set.length - 1]}` : set[0]}`;
}

/**
 * Reserved CAP/ECAP encodings, one sentence per field (register and field named), for the model's
 * warnings. The values derived from them are not used: `domains` for ND = 7, the reserved SAGAW
 * and SLLPS bits (sagawAllows, the walks' SLLPS tests of bits 0–1).
 */
export function capabilityWarnings(r: UnitRegisters): string[] {
  const out: string[] = [];
  const cap = r.CAP;
  if (cap !== undefined) {
    if (cap.ND === 7) out.push('CAP.ND = 7 is reserved (the spec defines 0–6: 16 to 64 Ki domain ids): DIDs are judged only against the 16-bit DID field');
    const sagaw = cap.SAGAW & ~SAGAW_DEFINED;
    if (sagaw !== 0) out.push(`CAP.SAGAW = ${hex(cap.SAGAW)} sets reserved ${bitList(sagaw)} (the spec defines bits 1–3: 39-, 48- and 57-bit tables; VT-d 1.x/2.x read bits 0 and 4 as 30-bit and 64-bit, which no unit implemented): the reserved bits are not taken as supported widths`);
    const sllps = cap.SLLPS & ~SLLPS_DEFINED;
    if (sllps !== 0) out.push(`CAP.SLLPS = ${hex(cap.SLLPS)} sets reserved ${bitList(sllps)} (the spec defines bit 0, 2 MiB, and bit 1, 1 GiB): ignored`);
  }
  const ecap = r.ECAP;
  if (ecap?.PASID && ecap.PSS > 19) out.push(`ECAP.PSS = ${ecap.PSS} claims ${ecap.PSS + 1}-bit PASIDs, but a PASID has 20 bits (PSS at most 19)`);
  return out;
}

const TTM_MODES: TranslationTableMode[] = ['legacy', 'scalable', 'extended', 'abort'];

/**
 * RTADDR (offset 0x20). TTM bits 11:10: 00 legacy, 01 scalable, 10 VT-d 2.x extended root table
 * (reserved since 3.0; FreeBSD's RTT bit), 11 abort-DMA. RTA keeps bits 51:12 (no HAW is wider;
 * bits 63:52 are reserved) so it is an exact number.
 */
export function decodeRtaddr(raw: bigint): Rtaddr {
  const TTM = bits(raw, 11, 10);
  return {
    raw, TTM, mode: TTM_MODES[TTM],
    RTA: Number(raw & 0x000f_ffff_ffff_f000n),
    reserved: bits(raw, 9, 0),
  };
}

/** FSTS (offset 0x34, 32 bits). */
export function decodeFsts(v: number | bigint): Fsts {
  const b = big(v) & 0xffff_ffffn;
  return {
    raw: Number(b),
    PFO: bit(b, 0), PPF: bit(b, 1), AFO: bit(b, 2), APF: bit(b, 3), IQE: bit(b, 4), ICE: bit(b, 5), ITE: bit(b, 6),
    PRO: bit(b, 7), FRI: bits(b, 15, 8),
  };
}

/**
 * Fault reason codes (VT-d spec table "Fault reasons"; the same codes Linux's dmar.c and QEMU's
 * intel_iommu_internal.h use). 0x1–0xD legacy-mode translation, 0x20–0x26 interrupt remapping,
 * 0x30–0x90 scalable mode.
 */
export const FAULT_REASONS: Readonly<Record<number, string>> = {
  0x1: 'root entry not present',
  0x2: 'context entry not present',
  0x3: 'invalid context entry',
  0x4: 'address beyond MGAW / adjusted guest address width',
  0x5: 'write access denied (W = 0 in a paging entry)',
  0x6: 'read access denied (R = 0 in a paging entry)',
  0x7: 'error accessing a paging entry (invalid next-level pointer)',
  0x8: 'error accessing the root table (invalid root-table address)',
  0x9: 'error accessing the context table (invalid context-table pointer)',
  0xa: 'non-zero reserved field in a root entry',
  0xb: 'non-zero reserved field in a context entry',
  0xc: 'non-zero reserved field in a paging entry',
  0xd: 'translation request blocked by the context entry translation type',
  0xe: 'output address in the interrupt address range',
  0x20: 'interrupt request with reserved fields set',
  0x21: 'interrupt index beyond the interrupt remapping table size',
  0x22: 'interrupt remapping table entry not present',
  0x23: 'error accessing the interrupt remapping table (IRTA)',
  0x24: 'non-zero reserved field in an interrupt remapping table entry',
  0x25: 'compatibility-format interrupt blocked',
  0x26: 'interrupt blocked by source-id verification',
  0x30: 'SM: invalid root-table address',
  // Linux (after the spec): "TTM 0 for request with PASID"; QEMU raises 0x31 for any invalid RTADDR.TTM.
  0x31: 'SM: RTADDR translation table mode does not allow the request (TTM 0 for a request with PASID)',
  0x32: 'SM: TTM 0 for a page group request',
  0x38: 'SM: error accessing a root entry',
  0x39: 'SM: root entry not present',
  0x3a: 'SM: non-zero reserved field in a root entry',
  0x40: 'SM: error accessing a context entry',
  0x41: 'SM: context entry not present',
  0x42: 'SM: non-zero reserved field in a context entry',
  0x43: 'SM: invalid context entry',
  0x44: 'SM: DTE clear in the context entry for a translation request',
  0x45: 'SM: PASIDE clear in the context entry for a request with PASID',
  0x46: 'SM: PASID beyond the context entry PDTS',
  0x47: 'SM: PRE clear in the context entry for a page request',
  0x48: 'SM: RID_PASID field error in the context entry',
  0x50: 'SM: error accessing a PASID directory entry',
  0x51: 'SM: PASID directory entry not present',
  0x52: 'SM: non-zero reserved field in a PASID directory entry',
  0x58: 'SM: error accessing a PASID table entry',
  0x59: 'SM: PASID table entry not present',
  0x5a: 'SM: non-zero reserved field in a PASID table entry',
  0x5b: 'SM: invalid PASID table entry',
  0x5c: 'SM: ERE clear in the PASID table entry for an execute request',
  0x5d: 'SM: SRE clear in the PASID table entry for a supervisor request',
  0x70: 'SM: error accessing a first-stage paging entry',
  0x71: 'SM: first-stage paging entry not present',
  0x72: 'SM: non-zero reserved field in a first-stage paging entry',
  0x73: 'SM: error accessing a first-stage FL-PML4/PML5 entry',
  0x74: 'SM: first-stage entry address beyond MGAW in nested translation',
  0x75: 'SM: read permission error in a first-stage FL-PML4 entry (nested)',
  0x76: 'SM: read permission error in a first-stage paging entry (nested)',
  0x77: 'SM: write permission error in a first-stage paging entry (nested)',
  0x78: 'SM: error accessing a second-stage paging entry',
  0x79: 'SM: read/write permission error in a second-stage paging entry',
  0x7a: 'SM: non-zero reserved field in a second-stage paging entry',
  0x7b: 'SM: invalid second-stage page table pointer',
  0x7c: 'SM: A/D update needed in a second-stage entry set up for no-snoop',
  0x80: 'SM: non-canonical address in first-stage translation',
  0x81: 'SM: user request to a supervisor first-stage page (U/S = 0)',
  0x82: 'SM: execute permission denied for a request with PASID and ER = 1',
  0x83: 'SM: address beyond the maximum supported by the hardware',
  0x84: 'SM: second-stage entry address beyond the maximum',
  0x85: 'SM: write permission denied for a write or atomic request',
  0x86: 'SM: read permission denied for a read or atomic request',
  0x87: 'SM: output address in the interrupt address range',
  0x90: 'SM: A/D update needed in a first-stage entry set up for no-snoop',
};

/** The name of a fault reason code, or `reserved fault reason 0x…` for codes not in the table. */
export function faultReasonName(code: number): string {
  return FAULT_REASONS[code] ?? `reserved fault reason ${hex(code)}`;
}

const FAULT_TYPES: FaultRecord['type'][] = ['write', 'page-request', 'read', 'atomic'];

/**
 * One 128-bit fault recording register. lo: 63:12 FI. hi (bit 64+k is hi bit k): 15:0 SID,
 * 28 T2, 29 PRIV, 30 EXE, 31 PP, 39:32 FR, 59:40 PV, 61:60 AT, 62 T1, 63 F.
 * Type from (T1, T2): (0,0) write, (0,1) page request, (1,0) read, (1,1) atomic.
 */
export function decodeFaultRecord(index: number, lo: bigint, hi: bigint): FaultRecord {
  const SID = bits(hi, 15, 0);
  const FR = bits(hi, 39, 32);
  const t1 = bits(hi, 62, 62), t2 = bits(hi, 28, 28);
  return {
    index, lo, hi,
    F: bit(hi, 63),
    FIpfn: Number((lo >> 12n) & ((1n << 52n) - 1n)),
    SID, bus: SID >> 8, devfn: SID & 0xff,
    FR, reason: faultReasonName(FR),
    type: FAULT_TYPES[(t1 << 1) | t2],
    PP: bit(hi, 31), PV: bits(hi, 59, 40), EXE: bit(hi, 30), PRIV: bit(hi, 29), AT: bits(hi, 61, 60),
  };
}

const MASK64 = (1n << 64n) - 1n;

/** Fault recording registers present in `raw`, by index (see the naming note at the top). */
function faultRecordsOf(raw: RawRegisters): FaultRecord[] {
  const halves = new Map<number, { lo?: bigint; hi?: bigint; whole?: bigint }>();
  for (const [name, value] of Object.entries(raw)) {
    const m = /^FRCD(\d{1,3})(?:_(LO|HI))?$/.exec(name);
    if (!m) continue;
    const idx = Number(m[1]);
    const h = halves.get(idx) ?? {};
    if (m[2] === 'LO') h.lo = value;
    else if (m[2] === 'HI') h.hi = value;
    else h.whole = value;
    halves.set(idx, h);
  }
  return [...halves.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([idx, h]) => {
      const pair = h.lo !== undefined || h.hi !== undefined;
      const lo = pair ? h.lo ?? 0n : (h.whole ?? 0n) & MASK64;
      const hi = pair ? h.hi ?? 0n : ((h.whole ?? 0n) >> 64n) & MASK64;
      return decodeFaultRecord(idx, lo & MASK64, hi & MASK64);
    });
}

/** Decode whatever registers `raw` holds; absent registers leave their field undefined. */
export function buildUnitRegisters(base: number, raw: RawRegisters, name?: string): UnitRegisters {
  const out: UnitRegisters = { base, raw, faultRecords: faultRecordsOf(raw) };
  if (name !== undefined) out.name = name;
  if (raw.VER !== undefined) out.VER = decodeVer(raw.VER);
  if (raw.CAP !== undefined) out.CAP = decodeCap(raw.CAP);
  if (raw.ECAP !== undefined) out.ECAP = decodeEcap(raw.ECAP);
  if (raw.GSTS !== undefined) out.GSTS = decodeGsts(raw.GSTS);
  if (raw.RTADDR !== undefined) out.RTADDR = decodeRtaddr(raw.RTADDR);
  if (raw.FSTS !== undefined) out.FSTS = decodeFsts(raw.FSTS);
  return out;
}
