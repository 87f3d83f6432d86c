/**
 * Interrupt Remapping Table Entries (VT-d spec chapter 9, "Interrupt Remapping Table Entry (IRTE)
 * for Remapped Interrupts" and "… for Posted Interrupts"). An IRTE is 128 bits: qword 0 (`lo`,
 * bits 63:0) then qword 1 (`hi`, bits 127:64), each little-endian in memory. Bit 15 (IM, IRTE
 * Mode) selects the format: 0 remapped, 1 posted.
 *
 * Remapped:  0 P · 1 FPD · 2 DM · 3 RH · 4 TM · 7:5 DLM · 11:8 AVAIL · 14:12 rsvd · 15 IM=0 ·
 *            23:16 V · 31:24 rsvd · 63:32 DST · 79:64 SID · 81:80 SQ · 83:82 SVT · 127:84 rsvd
 *            DST in xAPIC mode (IRTA.EIME = 0): DST[15:8] is the APIC id, DST[7:0] and
 *            DST[31:16] are reserved; with EIME = 1 all 32 bits are the x2APIC id.
 * Posted:    0 P · 1 FPD · 7:2 rsvd · 11:8 AVAIL · 13:12 rsvd · 14 URG · 15 IM=1 · 23:16 VV ·
 *            37:24 rsvd · 63:38 PDA-L (descriptor address bits 31:6) · 79:64 SID · 81:80 SQ ·
 *            83:82 SVT · 95:84 rsvd · 127:96 PDA-H (descriptor address bits 63:32)
 *
 * Cross-checked with Linux `struct irte` (include/linux/dmar.h) and QEMU's VTD_IR_TableEntry:
 * they agree with the layouts above. Linux's remapped view names bits 15:12 one reserved field
 * (`r_res0`), folding IM in; here IM is its own bit in both formats, as in the spec.
 *
 * Reserved bits are reported (`reserved` masks and named `reservedFields`) whatever P says: the
 * hardware only faults on them (0x24) for a present entry, which is the caller's business.
 */

export const IRTE_BYTES = 16;

export type IrteMode = 'remapped' | 'posted';

/** A reserved field with bits set: `bits` is `hi:lo` in the 128-bit entry, `value` the field. */
export interface IrteReservedField {
  name: string;
  bits: string;
  value: bigint;
}

/** Delivery modes (DLM, bits 7:5); 3 and 6 are reserved encodings. */
export const DELIVERY_MODES: readonly string[] = ['fixed', 'lowest-priority', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];

interface IrteCommon {
  lo: bigint;
  hi: bigint;
  /** Present (bit 0). */
  P: boolean;
  /** Fault Processing Disable (bit 1): faults for requests using this entry are not recorded. */
  FPD: boolean;
  /** Available to software (bits 11:8). */
  AVAIL: number;
  /** IRTE Mode (bit 15). */
  IM: boolean;
  /** Source identifier (bits 79:64): a requester id (bus << 8 | devfn), or a bus range with SVT = 10b. */
  SID: number;
  /** Source-id qualifier (bits 81:80), used with SVT = 01b. */
  SQ: number;
  /** Source validation type (bits 83:82): 00 none, 01 SID/SQ, 10 bus range, 11 reserved. */
  SVT: number;
  /** Reserved bits that are set, per qword: [bits 63:0, bits 127:64]. */
  reserved: [bigint, bigint];
  reservedFields: IrteReservedField[];
  /** Fields holding a reserved encoding (SVT = 11b, DLM = 011b or 110b). */
  reservedEncodings: string[];
}

export interface RemappedIrte extends IrteCommon {
  mode: 'remapped';
  /** Destination Mode (bit 2): false physical, true logical. */
  DM: boolean;
  /** Redirection Hint (bit 3). */
  RH: boolean;
  /** Trigger Mode (bit 4): false edge, true level. */
  TM: boolean;
  /** Delivery Mode (bits 7:5) and its name. */
  DLM: number;
  deliveryMode: string;
  /** Vector (bits 23:16). */
  V: number;
  /** The raw 32-bit Destination ID field (bits 63:32). */
  DST: number;
  /** The APIC id the hardware uses: DST[15:8] in xAPIC mode, all of DST with EIME. */
  apicId: number;
}

export interface PostedIrte extends IrteCommon {
  mode: 'posted';
  /** Urgent (bit 14). */
  URG: boolean;
  /** Virtual vector (bits 23:16), posted into the descriptor's PIR. */
  VV: number;
  /** PDA-L (bits 63:38): posted-descriptor address bits 31:6. */
  PDAL: number;
  /** PDA-H (bits 127:96): posted-descriptor address bits 63:32. */
  PDAH: number;
  /** Posted-interrupt descriptor address (64-byte aligned), exact as a bigint. */
  PDA: bigint;
}

export type Irte = RemappedIrte | PostedIrte;

export interface IrteDecodeOptions {
  /** IRTA.EIME of the unit (x2APIC mode). Default false: xAPIC, the reset value. */
  eime?: boolean;
}

function field(q: bigint, hi: number, lo: number): bigint {
  return (q >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);
}
function num(q: bigint, hi: number, lo: number): number {
  return Number(field(q, hi, lo));
}
function mask(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}

/** A reserved range of the 128-bit entry, in entry bit numbers (hi ≥ 64 means qword 1). */
interface ReservedRange {
  name: string;
  hi: number;
  lo: number;
}

const REMAPPED_RESERVED: readonly ReservedRange[] = [
  { name: 'reserved 14:12', hi: 14, lo: 12 },
  { name: 'reserved 31:24', hi: 31, lo: 24 },
  { name: 'reserved 127:84', hi: 127, lo: 84 },
];
/** In xAPIC mode (EIME clear) DST[7:0] (entry bits 39:32) and DST[31:16] (63:48) are reserved. */
const XAPIC_DST_RESERVED: readonly ReservedRange[] = [
  { name: 'DST[7:0] (reserved in xAPIC mode)', hi: 39, lo: 32 },
  { name: 'DST[31:16] (reserved in xAPIC mode)', hi: 63, lo: 48 },
];
const POSTED_RESERVED: readonly ReservedRange[] = [
  { name: 'reserved 7:2', hi: 7, lo: 2 },
  { name: 'reserved 13:12', hi: 13, lo: 12 },
  { name: 'reserved 37:24', hi: 37, lo: 24 },
  { name: 'reserved 95:84', hi: 95, lo: 84 },
];

function checkReserved(lo: bigint, hi: bigint, ranges: readonly ReservedRange[]): Pick<IrteCommon, 'reserved' | 'reservedFields'> {
  const reserved: [bigint, bigint] = [0n, 0n];
  const reservedFields: IrteReservedField[] = [];
  for (const r of ranges) {
    const q = r.lo >= 64 ? 1 : 0;
    const qlo = r.lo - 64 * q;
    const qhi = r.hi - 64 * q;
    const set = (q === 0 ? lo : hi) & mask(qhi, qlo);
    if (set === 0n) continue;
    reserved[q] |= set;
    reservedFields.push({ name: r.name, bits: `${r.hi}:${r.lo}`, value: set >> BigInt(qlo) });
  }
  return { reserved, reservedFields };
}

/** Decode one IRTE from its two qwords (bits 63:0, bits 127:64). */
export function decodeIrte(lo: bigint, hi: bigint, opts: IrteDecodeOptions = {}): Irte {
  const IM = num(lo, 15, 15) === 1;
  const SVT = num(hi, 19, 18);
  const common = {
    lo, hi,
    P: num(lo, 0, 0) === 1,
    FPD: num(lo, 1, 1) === 1,
    AVAIL: num(lo, 11, 8),
    IM,
    SID: num(hi, 15, 0),
    SQ: num(hi, 17, 16),
    SVT,
  };
  const reservedEncodings: string[] = [];
  if (SVT === 3) reservedEncodings.push('SVT = 11b');
  if (IM) {
    const PDAL = num(lo, 63, 38);
    const PDAH = num(hi, 63, 32);
    return {
      ...common,
      mode: 'posted',
      ...checkReserved(lo, hi, POSTED_RESERVED),
      reservedEncodings,
      URG: num(lo, 14, 14) === 1,
      VV: num(lo, 23, 16),
      PDAL,
      PDAH,
      PDA: (BigInt(PDAH) << 32n) | (BigInt(PDAL) << 6n),
    };
  }
  const eime = opts.eime === true;
  const DLM = num(lo, 7, 5);
  if (DLM === 3 || DLM === 6) reservedEncodings.push(`DLM = ${DLM.toString(2).padStart(3, '0')}b`);
  const DST = num(lo, 63, 32);
  return {
    ...common,
    mode: 'remapped',
    ...checkReserved(lo, hi, eime ? REMAPPED_RESERVED : [...REMAPPED_RESERVED, ...XAPIC_DST_RESERVED]),
    reservedEncodings,
    DM: num(lo, 2, 2) === 1,
    RH: num(lo, 3, 3) === 1,
    TM: num(lo, 4, 4) === 1,
    DLM,
    deliveryMode: DELIVERY_MODES[DLM],
    V: num(lo, 23, 16),
    DST,
    apicId: eime ? DST : (DST >>> 8) & 0xff,
  };
}

/** Decode the IRTE at `offset` of `bytes` (16 bytes, two little-endian qwords). */
export function decodeIrteBytes(bytes: Uint8Array, offset = 0, opts: IrteDecodeOptions = {}): Irte {
  if (offset < 0 || offset + IRTE_BYTES > bytes.length) {
    throw new RangeError(`IRTE at byte ${offset} does not fit in ${bytes.length} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, IRTE_BYTES);
  return decodeIrte(dv.getBigUint64(0, true), dv.getBigUint64(8, true), opts);
}

/** The two qwords of every present IRTE in a table page (or any run of whole entries). */
export function presentIrtes(bytes: Uint8Array, firstIndex = 0): { index: number; lo: bigint; hi: bigint }[] {
  const out: { index: number; lo: bigint; hi: bigint }[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.length / IRTE_BYTES);
  for (let i = 0; i < n; i++) {
    // P is bit 0 of the first byte: test it before building any bigint.
    if ((bytes[i * IRTE_BYTES] & 1) === 0) continue;
    out.push({ index: firstIndex + i, lo: dv.getBigUint64(i * IRTE_BYTES, true), hi: dv.getBigUint64(i * IRTE_BYTES + 8, true) });
  }
  return out;
}
