/**
 * What the interrupt-remapping hardware does with one MSI (VT-d spec §5.1.4 "Interrupt-Remapping
 * Hardware Operation" with its table of interrupt-remapping fault conditions, and the fault
 * reason codes 0x20–0x26): either the delivery it produces or the fault that blocks it. Pure: the
 * IRTE comes from a lookup callback (the model supplies it; `undefined` = not in the capture).
 *
 * Checks, in the spec's order:
 *  - IR disabled (GSTS.IRES = 0): nothing is remapped.
 *  - Compatibility format: blocked (0x25) when IRTA.EIME is set or GSTS.CFIS is clear; otherwise it
 *    passes through unremapped.
 *  - Remappable format: reserved request fields (0x20: data bits 31:16 with SHV set, as QEMU
 *    checks them), index ≥ table size (0x21), IRTE not present (0x22), reserved IRTE fields or
 *    encodings, or a posted IRTE on a unit without CAP.PI (0x24), source-id verification (0x26).
 *
 * Source-id verification (IRTE SVT/SQ/SID):
 *  - SVT 00b: none. SVT 01b: requester id = SID, ignoring function bits per SQ (01b: bit 2,
 *    10b: bits 2:1, 11b: bits 2:0). SVT 10b: the requester's bus within SID[15:8] (start bus) …
 *    SID[7:0] (end bus) — the spec's reading and Linux's (`set_irte_verify_bus` writes
 *    start << 8 | end); QEMU 7.2 reads them the other way round (SID[15:8] as the maximum).
 *  - SVT 11b is a reserved encoding: treated as a reserved-field fault (0x24). QEMU reports it as
 *    a source-id failure (0x26) instead; either way the interrupt is blocked.
 * 0x23 (error accessing the table) is a hardware event the capture cannot show; an IRTE the
 * image lacks gives outcome `unknown`, not a fault.
 */
import type { DecodedMsi } from './msi.js';
import { decodeIrte, type PostedIrte, type RemappedIrte } from './irte.js';
import { faultReasonName } from './registers.js';
import { bdfFromKey, formatBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';

/** The interrupt-remapping state of one unit, from its registers. */
export interface IrUnitState {
  /** GSTS.IRES. */
  enabled: boolean;
  /** IRTA.EIME (x2APIC mode). */
  eime: boolean;
  /** GSTS.CFIS (compatibility-format interrupts pass through). */
  cfis: boolean;
  /** IRTA: 2^(S+1) entries; undefined when IRTA was not captured (the 0x21 check is skipped). */
  entries?: number;
  /** CAP.PI; undefined when unknown (posted IRTEs are then accepted). */
  postedInterrupts?: boolean;
}

/** The two qwords of IRTE `index`, or undefined when the capture does not hold it. */
export type IrteLookup = (index: number) => { lo: bigint; hi: bigint } | undefined;

export const IR_FAULT = {
  RESERVED_REQUEST: 0x20,
  INDEX_BEYOND_TABLE: 0x21,
  NOT_PRESENT: 0x22,
  TABLE_ACCESS: 0x23,
  RESERVED_IRTE: 0x24,
  COMPATIBILITY_BLOCKED: 0x25,
  SOURCE_ID: 0x26,
} as const;

export interface RemappedDelivery {
  outcome: 'remapped';
  index: number;
  irte: RemappedIrte;
  vector: number;
  /** Raw DST field and the APIC id the hardware uses (DST[15:8] in xAPIC mode, DST with EIME). */
  destination: number;
  apicId: number;
  destinationMode: 'physical' | 'logical';
  deliveryMode: string;
  triggerMode: 'edge' | 'level';
  redirectionHint: boolean;
  /** False when no requester was given, or the IRTE asks for no verification (SVT = 00b). */
  sourceIdVerified: boolean;
}

export interface PostedDelivery {
  outcome: 'posted';
  index: number;
  irte: PostedIrte;
  /** The vector posted into the descriptor (VV) and the descriptor's address. */
  virtualVector: number;
  descriptor: bigint;
  urgent: boolean;
  sourceIdVerified: boolean;
}

export interface NotRemapped {
  outcome: 'not-remapped';
  /** `ir-disabled`: GSTS.IRES clear. `compatibility-pass-through`: CFIS set, EIME clear. */
  why: 'ir-disabled' | 'compatibility-pass-through';
  msi: DecodedMsi;
  detail: string;
}

export interface IrFault {
  outcome: 'fault';
  /** Fault reason code (0x20–0x26) and its name in the spec's table. */
  code: number;
  reason: string;
  detail: string;
  index?: number;
  /** The IRTE's FPD bit, when the entry was read: with FPD set the fault is not recorded. */
  faultRecorded?: boolean;
}

export interface UnknownIrte {
  outcome: 'unknown';
  index: number;
  detail: string;
}

export type RemapResult = RemappedDelivery | PostedDelivery | NotRemapped | IrFault | UnknownIrte;

function fault(code: number, detail: string, extra: { index?: number; fpd?: boolean } = {}): IrFault {
  const f: IrFault = { outcome: 'fault', code, reason: faultReasonName(code), detail };
  if (extra.index !== undefined) f.index = extra.index;
  if (extra.fpd !== undefined) f.faultRecorded = !extra.fpd;
  return f;
}

/** A source-id (bus << 8 | devfn) as a BDF; the IRTE carries no segment, so it reads 0000. */
const bdfText = (sid: number): string => formatBdf(bdfFromKey(sid & 0xffff));

/** Requester-id mask per SQ (SVT = 01b): which bits of the 16-bit id are compared. */
const SQ_MASKS = [0xffff, 0xfffb, 0xfff9, 0xfff8] as const;

/**
 * Whether `requester` (bus << 8 | devfn) passes the IRTE's source-id verification. SVT 11b is a
 * reserved encoding and passes nothing.
 */
export function sourceIdMatches(irte: { SID: number; SQ: number; SVT: number }, requester: number): boolean {
  switch (irte.SVT) {
    case 0:
      return true;
    case 1: {
      const m = SQ_MASKS[irte.SQ & 3];
      return (requester & m) === (irte.SID & m);
    }
    case 2: {
      const bus = requester >> 8;
      return bus >= irte.SID >> 8 && bus <= (irte.SID & 0xff);
    }
    default:
      return false;
  }
}

/** What the source-id check of an IRTE accepts, in words (for messages). */
export function describeSourceCheck(irte: { SID: number; SQ: number; SVT: number }): string {
  switch (irte.SVT) {
    case 0:
      return 'no source-id verification (SVT = 00b)';
    case 1: {
      const ignored = ['', ' ignoring function bit 2', ' ignoring function bits 2:1', ' ignoring function bits 2:0'][irte.SQ & 3];
      return `requester ${bdfText(irte.SID)}${ignored} (SVT = 01b, SQ = ${(irte.SQ & 3).toString(2).padStart(2, '0')}b)`;
    }
    case 2:
      return `requester bus ${hex(irte.SID >> 8)}-${hex(irte.SID & 0xff)} (SVT = 10b)`;
    default:
      return 'reserved SVT = 11b';
  }
}

/**
 * Remap one MSI on a unit. `requester` is the source-id (bus << 8 | devfn) the request carries;
 * undefined skips the source-id check (the result then says `sourceIdVerified: false`).
 */
export function remapInterrupt(msi: DecodedMsi, lookup: IrteLookup, unit: IrUnitState, requester?: number): RemapResult {
  if (!unit.enabled) {
    return {
      outcome: 'not-remapped', why: 'ir-disabled', msi,
      detail: msi.format === 'compatibility'
        ? `interrupt remapping is off (GSTS.IRES = 0): vector ${hex(msi.vector)} goes to APIC id ${hex(msi.destinationId)} as the device wrote it`
        : 'interrupt remapping is off (GSTS.IRES = 0): the remappable-format request reaches the interrupt controller unremapped (no IRTE is used)',
    };
  }

  if (msi.format === 'compatibility') {
    if (unit.eime) {
      return fault(IR_FAULT.COMPATIBILITY_BLOCKED, 'compatibility-format interrupt blocked: extended interrupt mode is on (IRTA.EIME = 1), which blocks them whatever CFIS says');
    }
    if (!unit.cfis) {
      return fault(IR_FAULT.COMPATIBILITY_BLOCKED, 'compatibility-format interrupt blocked: GSTS.CFIS = 0');
    }
    return {
      outcome: 'not-remapped', why: 'compatibility-pass-through', msi,
      detail: `compatibility-format interrupts pass through unremapped (GSTS.CFIS = 1, IRTA.EIME = 0): vector ${hex(msi.vector)} goes to APIC id ${hex(msi.destinationId)} with no source-id check`,
    };
  }

  if (msi.SHV && msi.dataReserved !== 0) {
    return fault(IR_FAULT.RESERVED_REQUEST, `remappable-format request with SHV = 1 has reserved data bits 31:16 = ${hex(msi.dataReserved)}`);
  }
  const index = msi.interruptIndex;
  if (unit.entries !== undefined && index >= unit.entries) {
    return fault(IR_FAULT.INDEX_BEYOND_TABLE, `interrupt index ${index} is beyond the table's ${unit.entries} entries`, { index });
  }
  const raw = lookup(index);
  if (raw === undefined) return { outcome: 'unknown', index, detail: `IRTE ${index} is not in the capture` };

  const irte = decodeIrte(raw.lo, raw.hi, { eime: unit.eime });
  if (!irte.P) return fault(IR_FAULT.NOT_PRESENT, `IRTE ${index} is not present (P = 0)`, { index, fpd: irte.FPD });

  const bad = irte.reservedFields.map((f) => `${f.name} = ${hex(f.value)}`);
  bad.push(...irte.reservedEncodings);
  if (irte.mode === 'posted' && unit.postedInterrupts === false) bad.push('IM = 1 (posted format) on a unit without posted interrupts (CAP.PI = 0)');
  if (bad.length > 0) return fault(IR_FAULT.RESERVED_IRTE, `IRTE ${index}: ${bad.join('; ')}`, { index, fpd: irte.FPD });

  let sourceIdVerified = false;
  if (requester !== undefined && irte.SVT !== 0) {
    if (!sourceIdMatches(irte, requester)) {
      return fault(IR_FAULT.SOURCE_ID, `IRTE ${index} accepts ${describeSourceCheck(irte)}, not ${bdfText(requester)}`, { index, fpd: irte.FPD });
    }
    sourceIdVerified = true;
  }

  if (irte.mode === 'posted') {
    return { outcome: 'posted', index, irte, virtualVector: irte.VV, descriptor: irte.PDA, urgent: irte.URG, sourceIdVerified };
  }
  return {
    outcome: 'remapped', index, irte,
    vector: irte.V,
    destination: irte.DST,
    apicId: irte.apicId,
    destinationMode: irte.DM ? 'logical' : 'physical',
    deliveryMode: irte.deliveryMode,
    triggerMode: irte.TM ? 'level' : 'edge',
    redirectionHint: irte.RH,
    sourceIdVerified,
  };
}
