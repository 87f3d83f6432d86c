/**
 * What the interrupt-remapping checks share: a unit's IR state in one word, and which units take
 * an assigned device's interrupts (the unit covering it: coverage.ts, as for its DMA).
 */
import type { InterruptRemapping } from '../model/interrupt-remapping.js';
import type { Roles } from '../model/roles.js';
import type { Unit } from '../model/types.js';
import { byCodeUnits } from '../util/compare.js';

/** 'unsupported' (ECAP.IR = 0), 'off' (GSTS.IRES = 0), 'on', or 'unknown' (neither captured). */
export type IrState = 'unsupported' | 'off' | 'on' | 'unknown';

export function irState(u: Unit): IrState {
  const ir = u.interruptRemapping;
  if (ir?.supported === false) return 'unsupported';
  if (ir?.enabled === false) return 'off';
  if (ir?.enabled === true) return 'on';
  return 'unknown';
}

/** "interrupt remapping unsupported (ECAP.IR = 0)" / "… off (GSTS.IRES = 0)". */
export function irOffText(state: IrState): string {
  return state === 'unsupported' ? 'no interrupt remapping (ECAP.IR = 0)' : 'interrupt remapping off (GSTS.IRES = 0)';
}

/** An assigned device and the units that may take its interrupts. */
export interface AssignedUnits {
  bdf: string;
  vm?: string;
  /** The covering unit, or every unit that may cover it when the capture cannot tell which. */
  units: Unit[];
}

/** Every assigned device (sorted by BDF) with the units that may remap its interrupts. */
export function assignedUnits(r: Roles): AssignedUnits[] {
  const out: AssignedUnits[] = [];
  for (const [bdf, a] of [...r.assigned].sort(([x], [y]) => byCodeUnits(x, y))) {
    const cov = r.coverage(bdf);
    const bases = cov.status === 'covered' ? [cov.unit] : cov.status === 'unknown' ? cov.candidates : [];
    const units = bases.map((b) => r.unitByBase(b)).filter((u): u is Unit => u !== undefined);
    out.push({ bdf, vm: a.vm, units });
  }
  return out;
}

/** The units covering at least one assigned device, with those devices (BDF order). */
export function unitsCoveringAssigned(r: Roles): Map<Unit, string[]> {
  const out = new Map<Unit, string[]>();
  for (const a of assignedUnits(r)) for (const u of a.units) out.set(u, [...(out.get(u) ?? []), a.bdf]);
  return out;
}

/** The unit's IR table entries, when the capture holds any (memory image or debugfs). */
export function knownIr(u: Unit): InterruptRemapping | undefined {
  const ir = u.interruptRemapping;
  return ir !== undefined && ir.entrySources.length > 0 ? ir : undefined;
}

/** "5, 9, 12 and 3 more": the first few indices of a list. */
export function indicesText(indices: readonly number[], max = 8): string {
  const shown = indices.slice(0, max).join(', ');
  return indices.length > max ? `${shown} and ${indices.length - max} more` : shown;
}
