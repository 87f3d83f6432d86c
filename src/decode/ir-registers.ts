/**
 * Field decoders for the interrupt-remapping and invalidation-queue registers (VT-d spec §11.4.8
 * "Interrupt Remapping Table Address Register", §11.4.9 "Invalidation Queue Address Register" and
 * "Invalidation Queue Error Record Register"; vtd-formats.md §2 lists the same layouts).
 *
 * Kept apart from registers.ts so this issue adds files only; the unit-register fields IR needs
 * beyond these are decoded there already: GSTS.IRES/IRTPS/CFIS (`decodeGsts`), ECAP.IR/EIM
 * (`decodeEcap`), CAP.PI (`decodeCap`).
 */

/** Bits 51:12 of a 64-bit register: a table address (no HAW is wider than 52 bits). */
const ADDR_MASK = 0x000f_ffff_ffff_f000n;

function field(v: bigint, hi: number, lo: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

/** IRTA (offset 0xB8). */
export interface Irta {
  raw: bigint;
  /** Size field S (bits 3:0). */
  S: number;
  /** Number of IRTEs: 2^(S+1) (2 … 65,536). */
  entries: number;
  /** Table size in bytes (16 bytes per IRTE). */
  bytes: number;
  /** Extended Interrupt Mode Enable (bit 11): x2APIC mode, all 32 DST bits are interpreted. */
  EIME: boolean;
  /** Interrupt remapping table address (bits 51:12). */
  IRTA: number;
  /** Bits 10:4, reserved (zero in a well-formed register). */
  reserved: number;
  /** Bits 63:52: beyond any host address width; hardware ignores them (HAW ≤ 52). */
  aboveHaw: number;
}

export function decodeIrta(raw: bigint): Irta {
  const S = field(raw, 3, 0);
  const entries = 2 ** (S + 1);
  return {
    raw,
    S,
    entries,
    bytes: entries * 16,
    EIME: field(raw, 11, 11) === 1,
    IRTA: Number(raw & ADDR_MASK),
    reserved: field(raw, 10, 4),
    aboveHaw: field(raw, 63, 52),
  };
}

/** IQA (offset 0x90). */
export interface Iqa {
  raw: bigint;
  /** Queue Size QS (bits 2:0): the queue is 2^QS pages of 4 KiB. */
  QS: number;
  /** Descriptor Width (bit 11): 0 = 128-bit descriptors, 1 = 256-bit (scalable-mode units only). */
  DW: boolean;
  /** Descriptor size in bytes (16 or 32). */
  descriptorBytes: number;
  /** Number of descriptors: 2^QS pages × 4096 / descriptor size. */
  descriptors: number;
  /** Queue base address (bits 51:12). */
  IQA: number;
  /** Bits 10:3, reserved. */
  reserved: number;
}

export function decodeIqa(raw: bigint): Iqa {
  const QS = field(raw, 2, 0);
  const DW = field(raw, 11, 11) === 1;
  const descriptorBytes = DW ? 32 : 16;
  return {
    raw,
    QS,
    DW,
    descriptorBytes,
    descriptors: (2 ** QS * 4096) / descriptorBytes,
    IQA: Number(raw & ADDR_MASK),
    reserved: field(raw, 10, 3),
  };
}

/**
 * IQEI values (IQERCD bits 3:0), as the spec's table names them. Meaningful only while FSTS.IQE
 * is set (the faulty descriptor is the one IQH points at).
 */
export const IQEI_NAMES: Readonly<Record<number, string>> = {
  0: 'no information available',
  1: 'invalid tail pointer (IQT)',
  2: 'error fetching the descriptor',
  3: 'invalid descriptor type',
  4: 'reserved field set in the descriptor',
  5: 'invalid descriptor width (128-bit descriptor with IQA.DW = 1, or the reverse)',
  6: 'invalid tail pointer alignment (IQT bit 4 set with 256-bit descriptors)',
};

/** IQERCD (offset 0xB0): which descriptor went wrong and why. */
export interface Iqercd {
  raw: bigint;
  /** Invalidation queue error info (bits 3:0), with FSTS.IQE. */
  IQEI: number;
  iqeiName: string;
  /** Source-id of the device-TLB invalidation that timed out (bits 47:32), with FSTS.ITE. */
  ITESID: number;
  /** Source-id of the device that sent the invalid completion (bits 63:48), with FSTS.ICE. */
  ICESID: number;
}

export function decodeIqercd(raw: bigint): Iqercd {
  const IQEI = field(raw, 3, 0);
  return {
    raw,
    IQEI,
    iqeiName: IQEI_NAMES[IQEI] ?? `reserved IQEI value ${IQEI}`,
    ITESID: field(raw, 47, 32),
    ICESID: field(raw, 63, 48),
  };
}
