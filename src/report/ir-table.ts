/**
 * The interrupt-remapping section of a unit in `decode`'s table: the unit's IR state in one line,
 * then one row per present IRTE (index, source-id with SQ/SVT, vector, destination or
 * posted-descriptor address, mode). Also the phrases `translate --msi` and `diff` share.
 */
import type { Irte } from '../decode/irte.js';
import type { InterruptRemapping, IrteEntry } from '../model/interrupt-remapping.js';
import type { Unit } from '../model/types.js';
import { hex, hexPad } from '../util/hex.js';
import { columns, dim, plural } from './format.js';
import { apicIdOf, sidBdf } from './ir-json.js';

const bits2 = (v: number): string => `${(v & 3).toString(2).padStart(2, '0')}b`;

/** "0000:01:00.0 SQ 00b SVT 01b", "buses 0x2-0x3 (SVT 10b)", "0000:01:00.0 SVT 00b (not verified)". */
export function sourceIdText(segment: number, x: Pick<Irte, 'SID' | 'SQ' | 'SVT'>): string {
  const bdf = sidBdf(segment, x.SID);
  switch (x.SVT) {
    case 0:
      return `${bdf} SVT 00b (not verified)`;
    case 1:
      return `${bdf} SQ ${bits2(x.SQ)} SVT 01b`;
    case 2:
      return `buses ${hexPad(x.SID >> 8, 2)}-${hexPad(x.SID & 0xff, 2)} SVT 10b`;
    default:
      return `${bdf} SVT 11b (reserved)`;
  }
}

/** Where an IRTE sends its interrupt: "APIC 0x1 (DST 0x100)" or "descriptor 0x…". */
export function destinationText(ir: Pick<InterruptRemapping, 'x2apic'>, x: Irte): string {
  if (x.mode === 'posted') return `descriptor ${hex(x.PDA)}`;
  const apic = apicIdOf(ir, x.DST);
  return apic === null ? `DST ${hex(x.DST)} (APIC id: IRTA.EIME unknown)` : `APIC ${hex(apic)} (DST ${hex(x.DST)})`;
}

/** "remapped fixed logical edge RH", "posted URG", with FPD and reserved bits named. */
export function modeText(x: Irte): string {
  const parts: string[] = [x.mode];
  if (x.mode === 'remapped') parts.push(x.deliveryMode, x.DM ? 'logical' : 'physical', x.TM ? 'level' : 'edge', ...(x.RH ? ['RH'] : []));
  else if (x.URG) parts.push('URG');
  if (x.FPD) parts.push('FPD');
  if (x.reservedFields.length + x.reservedEncodings.length > 0) parts.push('RESERVED BITS SET');
  return parts.join(' ');
}

export function irteRow(segment: number, ir: Pick<InterruptRemapping, 'x2apic'>, e: IrteEntry): string[] {
  const v = e.irte.mode === 'remapped' ? e.irte.V : e.irte.VV;
  return [String(e.index), sourceIdText(segment, e.irte), hexPad(v, 2), destinationText(ir, e.irte), modeText(e.irte)];
}

const yesNo = (v: boolean | undefined, yes: string, no: string, unknown: string): string => (v === undefined ? unknown : v ? yes : no);

function stateLine(ir: InterruptRemapping): string {
  const parts: string[] = [];
  if (ir.supported === false) parts.push('not supported (ECAP.IR = 0)');
  else parts.push(yesNo(ir.enabled, 'on (GSTS.IRES = 1)', 'OFF (GSTS.IRES = 0)', 'state unknown (no GSTS)'));
  if (ir.table !== undefined) parts.push(`table @ ${hex(ir.table)}${ir.entryCount !== undefined ? `, ${ir.entryCount} entries` : ''}`);
  if (ir.x2apic !== undefined) parts.push(ir.x2apic ? 'x2APIC mode (EIME)' : 'xAPIC mode');
  if (ir.enabled === true && ir.x2apic !== true && ir.compatibilityFormat !== undefined) {
    parts.push(ir.compatibilityFormat ? 'compatibility-format interrupts pass UNREMAPPED (CFIS = 1)' : 'compatibility format blocked (CFIS = 0)');
  }
  if (ir.postedSupported) parts.push('posted interrupts (CAP.PI)');
  return `    interrupt remapping: ${parts.join(', ')}`;
}

export function interruptRemappingLines(u: Unit, opts: { color: boolean }): string[] {
  const ir = u.interruptRemapping;
  if (ir === undefined) return [];
  const out = [stateLine(ir)];
  const known = ir.entrySources.length > 0 ? ` (from ${ir.entrySources.join(' and ')})` : '';
  const unknown = ir.unreadableEntries > 0 ? `; ${plural(ir.unreadableEntries, 'entry', 'entries')} unknown (not in the capture)` : '';
  if (ir.irtes.length === 0 && ir.entrySources.length === 0) {
    if (unknown !== '') out.push(`        IRTEs${unknown.slice(1)}`);
    return out;
  }
  out.push(`        ${plural(ir.irtes.length, 'present IRTE')}${known}${unknown}`);
  if (ir.irtes.length === 0) return out;
  const rows = [['index', 'source-id', 'vector', 'destination', 'mode'], ...ir.irtes.map((e) => irteRow(u.segment, ir, e))];
  const laid = columns(rows, { indent: '        ', right: [0] });
  out.push(dim(laid[0], opts.color), ...laid.slice(1));
  return out;
}
