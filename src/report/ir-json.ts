/**
 * A unit's interrupt remapping in `decode --format json` (docs/cli-contract.md "Interrupt
 * remapping"; schema/decode-model.schema.json `interruptRemapping`), and one IRTE as `translate
 * --msi` and `diff` print it. Present entries only; `raw` is the entry's two 64-bit halves as the
 * hardware stores them (bits 63:0, then 127:64).
 */
import type { InterruptRemapping, IrteEntry } from '../model/interrupt-remapping.js';
import type { Unit } from '../model/types.js';
import { bdfFromKey, formatBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { sourceToJson } from './format.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** A source-id (bus << 8 | devfn) as a BDF of the unit's segment (an IOAPIC's 0xff00 is `SSSS:ff:00.0`). */
export function sidBdf(segment: number, sid: number): string {
  return formatBdf({ ...bdfFromKey(sid & 0xffff), segment });
}

/**
 * The APIC id the hardware delivers to: DST[15:8] in xAPIC mode, all of DST with IRTA.EIME; null
 * when the capture does not say which mode the unit is in (no IRTA).
 */
export function apicIdOf(ir: Pick<InterruptRemapping, 'x2apic'>, dst: number): number | null {
  if (ir.x2apic === undefined) return null;
  return ir.x2apic ? dst : (dst >>> 8) & 0xff;
}

export function irteToJson(e: IrteEntry, ir: Pick<InterruptRemapping, 'x2apic'>, segment: number): { [k: string]: Json } {
  const x = e.irte;
  const remapped = x.mode === 'remapped' ? x : undefined;
  const posted = x.mode === 'posted' ? x : undefined;
  const apicId = remapped ? apicIdOf(ir, remapped.DST) : null;
  return {
    index: e.index,
    mode: x.mode,
    vector: remapped ? remapped.V : posted!.VV,
    destination: remapped ? hex(remapped.DST) : null,
    apicId: apicId === null ? null : hex(apicId),
    postedDescriptor: posted ? hex(posted.PDA) : null,
    sid: sidBdf(segment, x.SID),
    sq: x.SQ,
    svt: x.SVT,
    fpd: x.FPD,
    deliveryMode: remapped ? remapped.deliveryMode : null,
    destinationMode: remapped ? (remapped.DM ? 'logical' : 'physical') : null,
    triggerMode: remapped ? (remapped.TM ? 'level' : 'edge') : null,
    redirectionHint: remapped ? remapped.RH : null,
    urgent: posted ? posted.URG : null,
    reservedFields: [...x.reservedFields.map((f) => `${f.name} = ${hex(f.value)}`), ...x.reservedEncodings],
    addr: e.addr === undefined ? null : hex(e.addr),
    raw: [hex(e.lo), hex(e.hi)],
    source: sourceToJson(e.source),
  };
}

export function interruptRemappingToJson(u: Unit): Json {
  const ir = u.interruptRemapping;
  if (ir === undefined) return null;
  return {
    supported: orNull(ir.supported),
    enabled: orNull(ir.enabled),
    compatibilityFormat: orNull(ir.compatibilityFormat),
    x2apic: orNull(ir.x2apic),
    table: ir.table === undefined ? null : hex(ir.table),
    entryCount: orNull(ir.entryCount),
    x2apicSupported: orNull(ir.x2apicSupported),
    postedSupported: orNull(ir.postedSupported),
    tablePointerSet: orNull(ir.tablePointerSet),
    irta: ir.irta === undefined ? null : hex(ir.irta.raw),
    tableSource: sourceToJson(ir.tableSource),
    entrySources: [...ir.entrySources],
    unreadableEntries: ir.unreadableEntries,
    unreadable: ir.unreadable.map(([from, to]) => ({ from, to })),
    irtes: ir.irtes.map((e) => irteToJson(e, ir, u.segment)),
  };
}
