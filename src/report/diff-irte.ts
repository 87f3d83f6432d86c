/** IRTE changes in `diff` output: JSON (schema/diff-report.schema.json `irtes`) and one line each for the table and Markdown. */
import type { IrteChange, IrteDiff, IrteView } from '../model/diff-irte.js';
import { hex, hexPad } from '../util/hex.js';
import { sidBdf } from './ir-json.js';
import { sourceIdText } from './ir-table.js';

export function irteViewJson(v: IrteView): Record<string, unknown> {
  return {
    unit: hex(v.unit), index: v.index, mode: v.mode, vector: v.vector, sid: sidBdf(v.segment, v.sid), sq: v.sq, svt: v.svt,
    destination: v.destination === undefined ? null : hex(v.destination),
    postedDescriptor: v.postedDescriptor === undefined ? null : hex(v.postedDescriptor),
    fpd: v.fpd, raw: [hex(v.raw[0]), hex(v.raw[1])],
  };
}

export function irteDiffJson(d: IrteDiff): Record<string, unknown> {
  return {
    added: d.added.map(irteViewJson),
    removed: d.removed.map(irteViewJson),
    changed: d.changed.map((c) => ({ fields: c.fields, before: irteViewJson(c.before), after: irteViewJson(c.after) })),
    unknown: d.unknown,
  };
}

const target = (v: IrteView): string => (v.mode === 'posted' ? `descriptor ${hex(v.postedDescriptor ?? 0n)}` : `DST ${hex(v.destination ?? 0)}`);

/** "IRTE 19 (unit 0xfed90000): remapped vector 0x22 from 0000:02:00.0 SQ 00b SVT 01b to DST 0x100". */
export function irteViewText(v: IrteView): string {
  return `IRTE ${v.index} (unit ${hex(v.unit)}): ${v.mode} vector ${hexPad(v.vector, 2)} from ${sourceIdText(v.segment, { SID: v.sid, SQ: v.sq, SVT: v.svt })} to ${target(v)}${v.fpd ? ' FPD' : ''}`;
}

export function irteChangeText(c: IrteChange): string {
  const a = c.before;
  const b = c.after;
  const parts = c.fields.map((f) => {
    switch (f) {
      case 'mode': return `${a.mode} → ${b.mode}`;
      case 'vector': return `vector ${hexPad(a.vector, 2)} → ${hexPad(b.vector, 2)}`;
      case 'sid': return `source-id ${sourceIdText(a.segment, { SID: a.sid, SQ: a.sq, SVT: a.svt })} → ${sourceIdText(b.segment, { SID: b.sid, SQ: b.sq, SVT: b.svt })}`;
      case 'destination':
      case 'postedDescriptor': return `${target(a)} → ${target(b)}`;
      case 'fpd': return `FPD ${a.fpd ? 1 : 0} → ${b.fpd ? 1 : 0}`;
      default: return `raw ${hex(a.raw[1])}:${hex(a.raw[0])} → ${hex(b.raw[1])}:${hex(b.raw[0])}`;
    }
  });
  return `IRTE ${a.index} (unit ${hex(a.unit)}): ${[...new Set(parts)].join(', ')}`;
}

/** "+ …", "- …", "~ …" lines, adds first. */
export function irteDiffLines(d: IrteDiff): string[] {
  return [...d.added.map((v) => `+ ${irteViewText(v)}`), ...d.removed.map((v) => `- ${irteViewText(v)}`), ...d.changed.map((c) => `~ ${irteChangeText(c)}`)];
}
