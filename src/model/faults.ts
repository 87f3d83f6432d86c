/**
 * Explains each recorded DMA fault with the capture's own tables: the request is walked as the
 * hardware would walk it (translate.ts — root, context, PASID structures, each paging level), and
 * the explanation says where that walk stops and why, whether that names the same condition as the
 * recorded reason, and whether the entries the kernel dumped for the fault (CONFIG_DMAR_DEBUG) are
 * the entries the walk read. Without a memory image the decoded mappings answer (no steps).
 *
 * The tables were captured after the fault, so a walk that now translates the address means the
 * mapping changed in between (or the fault came through another unit or PASID): the explanation
 * says so instead of pretending to agree.
 */
import { faultReasonName } from '../decode/registers.js';
import { InputError } from '../errors.js';
import type { PhysicalMemory } from '../image/types.js';
import { formatBdf, isBdfNotation, parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { unitFor } from './coverage.js';
import { unitDmaMode } from './dma.js';
import { sameFaultReason, translate, type TranslateResult } from './translate.js';
import type { Fault, FaultExplanation, Snapshot, Unit, WalkStep as TranslateStep } from './types.js';

const LEVEL_NAMES: Record<number, string> = { 5: 'PML5E', 4: 'PML4E', 3: 'PDPE', 2: 'PDE', 1: 'PTE' };

/** The unit that recorded the fault: named by its record, else the one covering the device (coverage.ts). */
function unitOf(s: Snapshot, f: Fault): { unit: Unit } | { unit?: undefined; reason: string } {
  if (f.unit !== undefined) {
    const unit = s.units.find((u) => u.registerBase === f.unit);
    return unit !== undefined ? { unit } : { reason: `the capture has nothing of remapping unit ${hex(f.unit)} that recorded it` };
  }
  return unitFor(s, f.bdf);
}

function stepText(s: TranslateStep): string {
  const where = `entry [${s.index}] of ${s.structure === 'page-table' ? `the level-${s.level} table` : `the ${s.structure === 'pasid' ? 'PASID table' : s.structure === 'pasid-dir' ? 'PASID directory' : s.structure + ' table'}`} at ${hex(s.table)}`;
  return s.structure === 'page-table' ? `${LEVEL_NAMES[s.level ?? 0] ?? 'entry'} ${where}` : where;
}

/** Compare the kernel's dump with the walk's entries: root lo, context lo/hi, one entry per level. */
function compareDump(f: Fault, steps: TranslateStep[]): FaultExplanation['dump'] {
  const d = f.dumped;
  if (!d) return undefined;
  const out: NonNullable<FaultExplanation['dump']> = { compared: 0, matching: 0, mismatches: [] };
  const check = (what: string, dumped: bigint | undefined, walked: bigint | undefined): void => {
    if (dumped === undefined) return;
    out.compared++;
    if (walked === dumped) out.matching++;
    else out.mismatches.push(`${what}: the kernel dumped ${hex(dumped)}, the capture's tables hold ${walked === undefined ? 'nothing (the walk stopped earlier)' : hex(walked)}`);
  };
  const root = steps.find((s) => s.structure === 'root');
  const ctx = steps.find((s) => s.structure === 'context');
  check('root entry', d.root, root?.entry[0]);
  check('context entry (low)', d.contextLo, ctx?.entry[0]);
  check('context entry (high)', d.contextHi, ctx?.entry[1]);
  for (const l of d.levels) check(`level-${l.level} entry`, l.entry, steps.find((s) => s.structure === 'page-table' && s.level === l.level)?.entry[0]);
  return out;
}

function explainOne(s: Snapshot, f: Fault, mem: PhysicalMemory | undefined): FaultExplanation {
  const { unit, ...why } = unitOf(s, f);
  if (!unit) return { method: 'none', text: `not explained: the capture does not say which remapping unit reported it${'reason' in why ? ` (${why.reason})` : ''}` };
  if (!isBdfNotation(f.bdf)) return { method: 'none', text: `not explained: ${f.bdf} is no PCI address` };
  const bdf = parseBdf(f.bdf);
  if (unitDmaMode(unit).kind === 'translated' && mem === undefined && unit.contexts.length === 0) return { method: 'none', text: 'not explained: the capture has neither a memory image nor decoded tables for this unit' };
  const iova = (BigInt(f.iovaPfn) << 12n) + BigInt(f.iovaOffset);
  const access = f.type === 'write' || f.type === 'atomic' ? 'write' : 'read';
  let r: TranslateResult;
  try {
    r = translate(mem, { unit, bdf, iova, ...(f.pasid !== undefined ? { pasid: f.pasid } : {}), access, haw: s.haw });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { method: mem ? 'walk' : 'mappings', text: `not explained: ${e.message}` };
  }
  const method: FaultExplanation['method'] = r.steps.length > 0 ? 'walk' : 'mappings';
  const base: FaultExplanation = { method, text: '', steps: r.steps };
  const dump = r.steps.length > 0 ? compareDump(f, r.steps) : undefined;
  if (dump) base.dump = dump;
  const dumpText = dump && dump.compared > 0
    ? dump.mismatches.length === 0
      ? `; the ${dump.compared} entries the kernel dumped are the ones the walk read`
      : `; the kernel's dump differs from the capture's tables (${dump.mismatches.join('; ')})`
    : '';
  if (r.blocked !== undefined) {
    return { ...base, text: `the unit as captured blocks ${hex(iova)} for ${formatBdf(bdf)} without a translation fault (${r.blocked}), so it does not reproduce the recorded reason ${hex(f.reason)}${dumpText}` };
  }
  if (r.untranslated) {
    return {
      ...base, hpa: r.hpa,
      text: `translation is off on this unit in the capture (GSTS.TES = 0): ${hex(iova)} from ${formatBdf(bdf)} would go untranslated to ${hex(r.hpa ?? 0n)}, so no table explains the recorded fault (translation was turned off after it, or the registers come from another moment)`,
    };
  }
  if (!r.fault) {
    return {
      ...base, hpa: r.hpa,
      text: `the capture's tables translate ${hex(iova)} for ${formatBdf(bdf)} to ${hex(r.hpa ?? 0n)}${r.passThrough ? ' (pass-through)' : ''}: the mapping changed after the fault was recorded (or the fault came through another unit or PASID)${dumpText}`,
    };
  }
  const last = r.steps[r.steps.length - 1];
  const agrees = sameFaultReason(r.fault.code, f.reason);
  const lastDumped = f.dumped?.levels[f.dumped.levels.length - 1];
  const where = last
    ? `at ${stepText(last)} (${hex(last.entry[0])})`
    : `in the decoded mappings (no memory image, so no walk${lastDumped ? `; the kernel's dump ends at the level-${lastDumped.level} entry ${hex(lastDumped.entry)}` : ''})`;
  const stoppedAt = last
    ? { structure: last.structure, ...(last.level !== undefined ? { level: last.level } : {}), table: last.table, index: last.index, entry: last.entry }
    : undefined;
  return {
    ...base, code: r.fault.code, reason: r.fault.reason, agrees, ...(stoppedAt ? { stoppedAt } : {}),
    text: `the walk of the capture's tables stops ${where}: ${r.fault.reason} (reason ${hex(r.fault.code)}, ${agrees ? 'the same condition as' : 'not what'} the recorded reason ${hex(f.reason)}${agrees ? '' : ' names'})${dumpText}`,
  };
}

/** Name every fault's reason after the spec's table and attach its explanation (in place). */
export function explainFaults(s: Snapshot, mem: PhysicalMemory | undefined): void {
  for (const f of s.faults) {
    f.reasonName = faultReasonName(f.reason);
    f.explanation = explainOne(s, f, mem);
  }
}
