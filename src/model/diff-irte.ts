/**
 * Interrupt remapping table entries between two snapshots, compared like context entries: by unit
 * and index, present ones only; added, removed, or changed (which fields). An entry one capture
 * holds and the other cannot tell (a table page its image lacks and no debugfs dump, or no IR data
 * for that unit at all) is unknown there: neither added nor removed, only counted.
 */
import { irteState, type InterruptRemapping, type IrteEntry } from './interrupt-remapping.js';
import type { Snapshot, Unit } from './types.js';

export interface IrteView {
  unit: number;
  segment: number;
  index: number;
  mode: 'remapped' | 'posted';
  /** V, or VV of a posted entry. */
  vector: number;
  /** Source-id (bus << 8 | devfn, or a bus range with SVT 10b), SQ, SVT. */
  sid: number;
  sq: number;
  svt: number;
  /** Remapped: the raw DST field. */
  destination?: number;
  /** Posted: the descriptor address. */
  postedDescriptor?: bigint;
  fpd: boolean;
  raw: [bigint, bigint];
}

export interface IrteChange {
  before: IrteView;
  after: IrteView;
  /** mode, vector, sid (SID/SQ/SVT), destination, postedDescriptor, fpd; `other` for any other bit. */
  fields: string[];
}

export interface IrteDiff {
  added: IrteView[];
  removed: IrteView[];
  changed: IrteChange[];
  /** Entries one side holds that the other cannot tell. */
  unknown: number;
}

function view(unit: Unit, e: IrteEntry): IrteView {
  const x = e.irte;
  return {
    unit: unit.registerBase, segment: unit.segment, index: e.index, mode: x.mode, vector: x.mode === 'remapped' ? x.V : x.VV,
    sid: x.SID, sq: x.SQ, svt: x.SVT, fpd: x.FPD, raw: [e.lo, e.hi],
    ...(x.mode === 'remapped' ? { destination: x.DST } : { postedDescriptor: x.PDA }),
  };
}

function fields(a: IrteView, b: IrteView): string[] {
  const f: string[] = [];
  if (a.mode !== b.mode) f.push('mode');
  if (a.vector !== b.vector) f.push('vector');
  if (a.sid !== b.sid || a.sq !== b.sq || a.svt !== b.svt) f.push('sid');
  if (a.destination !== b.destination) f.push('destination');
  if (a.postedDescriptor !== b.postedDescriptor) f.push('postedDescriptor');
  if (a.fpd !== b.fpd) f.push('fpd');
  if (f.length === 0 && (a.raw[0] !== b.raw[0] || a.raw[1] !== b.raw[1])) f.push('other');
  return f;
}

const unitKey = (u: Unit): string => `${u.segment}:${u.registerBase}`;

/** Present entries of every unit, by unit and index. */
function entries(s: Snapshot): Map<string, IrteView> {
  const out = new Map<string, IrteView>();
  for (const u of s.units) for (const e of u.interruptRemapping?.irtes ?? []) out.set(`${unitKey(u)}:${e.index}`, view(u, e));
  return out;
}

/** Whether `ir` says entry `index` is absent (not unknown). */
function knownAbsent(ir: InterruptRemapping | undefined, index: number): boolean {
  if (ir === undefined) return false;
  const st = irteState(ir, index).state;
  return st === 'absent' || st === 'beyond-table';
}

export function diffIrtes(before: Snapshot, after: Snapshot): IrteDiff {
  const irOf = (s: Snapshot): Map<string, InterruptRemapping | undefined> => new Map(s.units.map((u) => [unitKey(u), u.interruptRemapping]));
  const irA = irOf(before);
  const irB = irOf(after);
  const a = entries(before);
  const b = entries(after);
  const out: IrteDiff = { added: [], removed: [], changed: [], unknown: 0 };
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y === undefined) {
      if (knownAbsent(irB.get(`${x.segment}:${x.unit}`), x.index)) out.removed.push(x);
      else out.unknown++;
      continue;
    }
    const f = fields(x, y);
    if (f.length > 0) out.changed.push({ before: x, after: y, fields: f });
  }
  for (const [k, y] of b) {
    if (a.has(k)) continue;
    if (knownAbsent(irA.get(`${y.segment}:${y.unit}`), y.index)) out.added.push(y);
    else out.unknown++;
  }
  return out;
}
