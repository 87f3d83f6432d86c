/**
 * What a snapshot knows, as opposed to what it holds: a context entry that is not in the tables
 * is absent only if the table that would hold it was read. "Could not be read" is unknown, never
 * absent (issue 11 item 18): checks ask these before claiming a device has no entry.
 */
import type { Unit, UnreadableTable } from './types.js';
import { hex } from '../util/hex.js';
import { unitDmaMode } from './dma.js';

export type ContextsState = 'complete' | 'partial' | 'unknown';

/**
 * What the unit's context entries are known to be. Snapshots built from a capture set
 * `contextsKnown`; on hand-made ones (tests) contexts or a root table mean the tables were read.
 */
export function contextsState(u: Unit): ContextsState {
  if (u.contextsKnown !== undefined) return u.contextsKnown;
  // Abort-DMA mode, or an RTADDR.TTM the unit does not support: no table is read (dma.ts), so no
  // context entry is in use — known, not missing.
  if (usesNoTables(u)) return 'complete';
  return u.contexts.length > 0 || u.rootEntries.length > 0 || u.rootTable !== undefined ? 'complete' : 'unknown';
}

/** The unreadable table that would hold the context entry of (bus, devfn), if any. */
export function unreadableContextTable(u: Unit, bus: number, devfn: number): UnreadableTable | undefined {
  const state = contextsState(u);
  if (state === 'complete') return undefined;
  const list = u.unreadableTables ?? [];
  if (state === 'unknown') {
    return list.find((t) => t.structure === 'root') ?? { structure: 'root', addr: u.rootTable ?? 0, message: `the capture has no root table of unit ${hex(u.registerBase)}` };
  }
  return list.find((t) => t.structure === 'context' && t.bus === bus && (t.devfns === undefined || (devfn >= t.devfns[0] && devfn <= t.devfns[1])));
}

/** True when the capture can tell whether (bus, devfn) has a context entry in `u`. */
export function contextKnown(u: Unit, bus: number, devfn: number): boolean {
  return unreadableContextTable(u, bus, devfn) === undefined;
}

/**
 * True when the capture tells how the unit handles DMA: translation off or no root table latched
 * (per its registers or a text source), abort-DMA mode, or its context entries are known.
 */
export function dmaHandlingKnown(u: Unit): boolean {
  if (u.translationEnabled === false) return true;
  if (u.translationEnabled === true && u.rootTablePointerSet === false) return true;
  if (usesNoTables(u)) return true;
  if (u.contextsKnown === 'partial') return someContextTableRead(u);
  return u.contextsKnown !== undefined ? u.contextsKnown !== 'unknown' : u.contexts.length > 0 || u.rootEntries.length > 0;
}

/**
 * True when a context table some present root entry points at was read. A root table read whose
 * every context table is lost (an ELF core cut short after the root page) tells nothing of any
 * device that has a root entry: that is not a capture the checks examined.
 */
function someContextTableRead(u: Unit): boolean {
  if (u.contexts.length > 0) return true;
  const lost = (u.unreadableTables ?? []).filter((t) => t.structure === 'context');
  return u.rootEntries.some((re) =>
    [re.lowerContextTable, re.upperContextTable].some((addr) => addr !== undefined && !lost.some((t) => t.bus === re.bus && t.addr === addr)),
  );
}

/** True when the unit reads no table for any request: abort-DMA mode, or a TTM it does not support. */
export function usesNoTables(u: Unit): boolean {
  const mode = unitDmaMode(u);
  return mode.kind === 'blocked' || (mode.kind === 'faults' && mode.cause === 'ttm' && u.registers?.RTADDR?.TTM !== 1);
}
