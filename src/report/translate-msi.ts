/**
 * `translate --msi` output: the MSI decoded, the IRTE it names (where it was read), then the
 * delivery — vector, destination, posted or remapped — or the fault that blocks it (VT-d fault
 * reasons 0x20–0x26). JSON: docs/interrupt-remapping.md "translate --msi".
 */
import { decodeIrte } from '../decode/irte.js';
import type { DecodedMsi } from '../decode/msi.js';
import type { MsiTranslation } from '../model/translate-msi.js';
import type { Unit } from '../model/types.js';
import { formatBdf, type Bdf } from '../util/bdf.js';
import { hex, hexPad } from '../util/hex.js';
import { sourceLabel, sourceToJson, unitBaseText, type ShowPath } from './format.js';
import { destinationText, modeText, sourceIdText } from './ir-table.js';

export interface MsiTranslationInput {
  unit: Unit;
  bdf: Bdf;
  msi: DecodedMsi;
}

function msiJson(m: DecodedMsi): Record<string, unknown> {
  const base = { address: hex(m.address), data: hex(m.data), format: m.format };
  if (m.format === 'compatibility') {
    return {
      ...base, vector: m.vector, destinationId: m.destinationId, destinationMode: m.DM ? 'logical' : 'physical', redirectionHint: m.RH,
      deliveryMode: m.deliveryMode, triggerMode: m.levelTriggered ? 'level' : 'edge',
    };
  }
  return { ...base, handle: m.handle, shv: m.SHV, subhandle: m.subhandle ?? null, interruptIndex: m.interruptIndex };
}

export function msiTranslationToJson(i: MsiTranslationInput, t: MsiTranslation): Record<string, unknown> {
  const r = t.result;
  const out: Record<string, unknown> = {
    bdf: formatBdf(i.bdf),
    unit: hex(i.unit.registerBase),
    msi: msiJson(i.msi),
    irte: t.irte
      ? { index: t.irte.index, addr: t.irte.addr === undefined ? null : hex(t.irte.addr), present: (t.irte.lo & 1n) === 1n, raw: [hex(t.irte.lo), hex(t.irte.hi)], source: sourceToJson(t.irte.source) }
      : null,
    outcome: r.outcome,
  };
  switch (r.outcome) {
    case 'remapped':
      Object.assign(out, {
        vector: r.vector, destination: hex(r.destination), apicId: t.apicIdUnknown ? null : hex(r.apicId),
        destinationMode: r.destinationMode, deliveryMode: r.deliveryMode, triggerMode: r.triggerMode, redirectionHint: r.redirectionHint,
        sourceIdVerified: r.sourceIdVerified,
      });
      break;
    case 'posted':
      Object.assign(out, { vector: r.virtualVector, postedDescriptor: hex(r.descriptor), urgent: r.urgent, sourceIdVerified: r.sourceIdVerified });
      break;
    case 'not-remapped':
      out.why = r.why;
      out.detail = r.detail;
      if (r.msi.format === 'compatibility') Object.assign(out, { vector: r.msi.vector, destination: hex(r.msi.destinationId), apicId: hex(r.msi.destinationId) });
      break;
    case 'fault':
      out.fault = { code: r.code, reason: r.reason, detail: r.detail, recorded: r.faultRecorded ?? null };
      break;
    case 'unknown':
      break;
  }
  return out;
}

function msiLine(m: DecodedMsi): string {
  if (m.format === 'compatibility') {
    return `compatibility format: vector ${hexPad(m.vector, 2)} to APIC id ${hex(m.destinationId)} (${m.DM ? 'logical' : 'physical'}, ${m.deliveryMode}, ${m.levelTriggered ? 'level' : 'edge'})`;
  }
  const sub = m.SHV ? ` + subhandle ${m.subhandle}` : ' (SHV = 0)';
  return `remappable format: handle ${m.handle}${sub} → interrupt index ${m.interruptIndex}`;
}

export function renderMsiTranslation(i: MsiTranslationInput, t: MsiTranslation, opts: { color: boolean; showPath?: ShowPath }): string {
  const red = (s: string): string => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const green = (s: string): string => (opts.color ? `\x1b[32m${s}\x1b[0m` : s);
  const ir = i.unit.interruptRemapping;
  const lines = [`${formatBdf(i.bdf)} MSI write ${hex(i.msi.address)} data ${hex(i.msi.data)} (unit ${unitBaseText(i.unit)})`];
  lines.push(`  MSI    ${msiLine(i.msi)}`);
  if (t.irte) {
    const e = t.irte;
    const where = e.source ? ` (${sourceLabel(e.source, opts.showPath)})` : '';
    const table = ir?.table !== undefined ? `table ${hex(ir.table)} ` : '';
    lines.push(`  IRTE   ${table}[${e.index}] = ${hexPad(e.hi, 16)}:${hexPad(e.lo, 16)}${where}`);
    if ((e.lo & 1n) === 1n) {
      const x = decodeIrte(e.lo, e.hi, { eime: ir?.x2apic === true });
      lines.push(`         ${modeText(x)}; source-id ${sourceIdText(i.unit.segment, x)}; ${destinationText(ir ?? {}, x)}`);
    }
  }
  const r = t.result;
  const verified = (v: boolean): string => (v ? 'source-id verified' : 'no source-id verification');
  switch (r.outcome) {
    case 'remapped': {
      const to = t.apicIdUnknown ? `DST ${hex(r.destination)} (APIC id unknown: IRTA.EIME not captured)` : `APIC id ${hex(r.apicId)} (DST ${hex(r.destination)})`;
      lines.push(green(`  → remapped: vector ${hexPad(r.vector, 2)} to ${to}, ${r.deliveryMode}, ${r.destinationMode}, ${r.triggerMode}${r.redirectionHint ? ', RH' : ''}; ${verified(r.sourceIdVerified)}`));
      break;
    }
    case 'posted':
      lines.push(green(`  → posted: virtual vector ${hexPad(r.virtualVector, 2)} into the descriptor at ${hex(r.descriptor)}${r.urgent ? ' (urgent)' : ''}; ${verified(r.sourceIdVerified)}`));
      break;
    case 'not-remapped':
      lines.push(green(`  → not remapped: ${r.detail}`));
      break;
    case 'fault':
      // The detail often begins with the reason's own words ("compatibility-format interrupt blocked: …").
      lines.push(red(`  → fault ${hex(r.code)}: ${r.detail.startsWith(r.reason) ? r.detail : `${r.reason}: ${r.detail}`}${r.faultRecorded === false ? ' (not recorded: the IRTE has FPD set)' : ''}`));
      break;
    case 'unknown':
      lines.push(`  → unknown: ${r.detail}`);
      break;
  }
  return lines.join('\n') + '\n';
}
