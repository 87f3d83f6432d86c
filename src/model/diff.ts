/**
 * What changed between two snapshots of the same machine: units, context (and PASID) entries,
 * domains and their mappings, and the PCI inventory. Pure structure; judging the changes is the
 * pair checks' job (src/checks/pair/).
 *
 * Mappings are compared as translations, not as records: an IOVA page counts as unchanged when it
 * maps to the same host page with the same permissions in both captures, whatever the page size
 * or how the ranges were coalesced. Gained and lost translations come out as coalesced ranges,
 * computed by a merge over the two sorted range lists (never page by page).
 */
import { diffIrtes, type IrteDiff } from './diff-irte.js';
import { contextKnown, contextsState } from './known.js';
import type { ContextEntry, Domain, Mapping, PasidEntry, PciFunction, Snapshot, Unit } from './types.js';
import { isBdfNotation, parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';

export type ContextKey = string;

/** One context entry, or one PASID entry of a scalable-mode context, as the diff sees it. */
export interface EntryView {
  key: ContextKey;
  unit: number;
  bdf: string;
  pasid?: number;
  /** TT (legacy) or PGTT (PASID entry). */
  mode: number;
  modeName: string;
  did: number;
  /** Table root: SLPTPTR, or FLPTPTR for first-level-only PASID entries; 0 for pass-through. */
  root: number;
  aw: number;
  fpd: boolean;
  raw: bigint[];
}

export interface EntryChange {
  before: EntryView;
  after: EntryView;
  /** Names of the fields that differ: tt/pgtt, did, root, aw, fpd. */
  fields: string[];
}

export interface RangeChange {
  iovaPfn: number;
  hpaPfn: number;
  pages: number;
  read: boolean;
  write: boolean;
}

export interface DomainChange {
  unit: number;
  did: number;
  root: number;
  kind: Domain['kind'];
  status: 'added' | 'removed' | 'changed';
  pagesBefore: number;
  pagesAfter: number;
  gained: RangeChange[];
  lost: RangeChange[];
  gainedPages: number;
  lostPages: number;
  /** False when either side's mappings are unknown or incomplete (then gained/lost are partial). */
  exact: boolean;
}

export interface DeviceChange {
  bdf: string;
  before?: PciFunction;
  after?: PciFunction;
  /** driver, vm, passThrough, vendor/device ids. */
  fields: string[];
}

export interface UnitChange {
  unit: number;
  status: 'added' | 'removed' | 'changed';
  fields: { name: string; before: string; after: string }[];
}

export interface SnapshotDiff {
  units: UnitChange[];
  entries: { added: EntryView[]; removed: EntryView[]; changed: EntryChange[] };
  domains: DomainChange[];
  devices: { left: DeviceChange[]; arrived: DeviceChange[]; changed: DeviceChange[] };
  /** Interrupt remapping table entries (diff-irte.ts); `unknown` counts those one side cannot tell. */
  irtes: IrteDiff;
  /**
   * Whether each side had an inventory / VM data / page tables (what the diff can speak for), and
   * whether every context table of each side could be read: an entry whose table one side could not
   * read is unknown there, so it is neither added nor removed (`unknownEntries` counts them).
   */
  known: { inventory: [boolean, boolean]; vms: [boolean, boolean]; mappings: [boolean, boolean]; tables: [boolean, boolean]; unknownEntries: number };
}

const TT_NAMES = ['untranslated', 'all', 'pass-through', 'reserved'];
const PGTT_NAMES = ['reserved', 'first-level', 'second-level', 'nested', 'pass-through', 'reserved', 'reserved', 'reserved'];

function entryKey(unit: Unit, bdf: string, pasid?: number): ContextKey {
  return `${unit.segment}:${unit.registerBase}:${bdf}${pasid === undefined ? '' : `:${pasid}`}`;
}

/** Every present context entry (legacy) or present PASID entry (scalable) of a snapshot. */
export function entryViews(s: Snapshot): Map<ContextKey, EntryView> {
  const out = new Map<ContextKey, EntryView>();
  for (const unit of s.units) {
    for (const ctx of unit.contexts) {
      if (!ctx.present) continue;
      if (ctx.pasids === undefined) {
        out.set(entryKey(unit, ctx.bdf), legacyView(unit, ctx));
        continue;
      }
      for (const p of ctx.pasids) if (p.present) out.set(entryKey(unit, ctx.bdf, p.pasid), pasidView(unit, ctx, p));
    }
  }
  return out;
}

function legacyView(unit: Unit, ctx: ContextEntry): EntryView {
  const tt = ctx.tt ?? 0;
  return {
    key: entryKey(unit, ctx.bdf), unit: unit.registerBase, bdf: ctx.bdf, mode: tt, modeName: TT_NAMES[tt] ?? 'reserved',
    did: ctx.did, root: tt === 2 ? 0 : ctx.slptptr, aw: ctx.aw, fpd: ctx.fpd, raw: ctx.raw,
  };
}

function pasidView(unit: Unit, ctx: ContextEntry, p: PasidEntry): EntryView {
  return {
    key: entryKey(unit, ctx.bdf, p.pasid), unit: unit.registerBase, bdf: ctx.bdf, pasid: p.pasid, mode: p.pgtt,
    modeName: PGTT_NAMES[p.pgtt] ?? 'reserved', did: p.did, root: p.pgtt === 1 ? p.flptptr : p.pgtt === 4 ? 0 : p.slptptr,
    aw: p.aw, fpd: p.fpd, raw: p.raw,
  };
}

function entryFields(a: EntryView, b: EntryView): string[] {
  const f: string[] = [];
  if (a.mode !== b.mode) f.push(a.pasid === undefined ? 'tt' : 'pgtt');
  if (a.did !== b.did) f.push('did');
  if (a.root !== b.root) f.push('root');
  if (a.aw !== b.aw) f.push('aw');
  if (a.fpd !== b.fpd) f.push('fpd');
  return f;
}

function domainId(unit: Unit, d: Domain): string {
  return `${unit.segment}:${unit.registerBase}:${d.kind}:${d.did}:${d.root}`;
}

/** Sorted by IOVA (the walker emits them so; sort a copy when a text source did not). */
function sortedByIova(ms: readonly Mapping[]): readonly Mapping[] {
  for (let i = 1; i < ms.length; i++) if (ms[i].iovaPfn < ms[i - 1].iovaPfn) return [...ms].sort((x, y) => x.iovaPfn - y.iovaPfn);
  return ms;
}

/**
 * Translations of `a` that `b` does not have (same IOVA page → same host page with the same
 * read/write), as coalesced ranges. Both lists sorted by IOVA, ranges within a list disjoint.
 */
export function subtractMappings(aIn: readonly Mapping[], bIn: readonly Mapping[]): RangeChange[] {
  const a = sortedByIova(aIn);
  const b = sortedByIova(bIn);
  const out: RangeChange[] = [];
  const emit = (m: Mapping, from: number, to: number): void => {
    if (to <= from) return;
    const hpa = m.hpaPfn + (from - m.iovaPfn);
    const last = out[out.length - 1];
    if (last && last.iovaPfn + last.pages === from && last.hpaPfn + last.pages === hpa && last.read === m.read && last.write === m.write) {
      last.pages += to - from;
    } else out.push({ iovaPfn: from, hpaPfn: hpa, pages: to - from, read: m.read, write: m.write });
  };
  let j = 0;
  for (const m of a) {
    const end = m.iovaPfn + m.pages;
    while (j < b.length && b[j].iovaPfn + b[j].pages <= m.iovaPfn) j++;
    let pos = m.iovaPfn;
    for (let k = j; k < b.length && b[k].iovaPfn < end; k++) {
      const o = b[k];
      const oEnd = o.iovaPfn + o.pages;
      if (o.iovaPfn > pos) emit(m, pos, o.iovaPfn);
      const from = Math.max(pos, o.iovaPfn);
      const to = Math.min(end, oEnd);
      const same = o.hpaPfn - o.iovaPfn === m.hpaPfn - m.iovaPfn && o.read === m.read && o.write === m.write;
      if (!same) emit(m, from, to);
      pos = Math.max(pos, to);
    }
    emit(m, pos, end);
  }
  return out;
}

const sumPages = (r: readonly RangeChange[]): number => r.reduce((n, x) => n + x.pages, 0);

function deviceFields(a: PciFunction, b: PciFunction): string[] {
  const f: string[] = [];
  if ((a.driver ?? '') !== (b.driver ?? '')) f.push('driver');
  if ((a.vm ?? '') !== (b.vm ?? '')) f.push('vm');
  if (a.passThrough !== b.passThrough) f.push('passThrough');
  if (a.vendorId !== b.vendorId || a.deviceId !== b.deviceId) f.push('id');
  return f;
}

function unitFields(a: Unit, b: Unit): UnitChange['fields'] {
  const f: UnitChange['fields'] = [];
  const show = (v: boolean | number | string | undefined): string => (v === undefined ? 'unknown' : typeof v === 'number' ? `${hex(v)}` : String(v));
  if (a.translationEnabled !== b.translationEnabled) f.push({ name: 'translationEnabled', before: show(a.translationEnabled), after: show(b.translationEnabled) });
  if (a.rootTable !== b.rootTable) f.push({ name: 'rootTable', before: show(a.rootTable), after: show(b.rootTable) });
  if (a.mode !== b.mode) f.push({ name: 'mode', before: show(a.mode), after: show(b.mode) });
  return f;
}

export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff {
  const unitKey = (u: Unit): string => `${u.segment}:${u.registerBase}`;
  const unitsA = new Map(before.units.map((u) => [unitKey(u), u]));
  const unitsB = new Map(after.units.map((u) => [unitKey(u), u]));
  const units: UnitChange[] = [];
  for (const [k, u] of unitsA) {
    const v = unitsB.get(k);
    if (!v) units.push({ unit: u.registerBase, status: 'removed', fields: [] });
    else {
      const fields = unitFields(u, v);
      if (fields.length) units.push({ unit: u.registerBase, status: 'changed', fields });
    }
  }
  for (const [k, v] of unitsB) if (!unitsA.has(k)) units.push({ unit: v.registerBase, status: 'added', fields: [] });

  const ea = entryViews(before);
  const eb = entryViews(after);
  const entries: SnapshotDiff['entries'] = { added: [], removed: [], changed: [] };
  // An entry one side holds and the other could not read is unknown there: not added, not removed.
  const readableIn = (units: Map<string, Unit>, e: EntryView): boolean => {
    const u = [...units.values()].find((x) => x.registerBase === e.unit);
    if (u === undefined || !isBdfNotation(e.bdf)) return true;
    const b = parseBdf(e.bdf);
    return contextKnown(u, b.bus, b.devfn);
  };
  let unknownEntries = 0;
  for (const [k, a] of ea) {
    const b = eb.get(k);
    if (!b) {
      if (readableIn(unitsB, a)) entries.removed.push(a);
      else unknownEntries++;
    } else {
      const fields = entryFields(a, b);
      if (fields.length) entries.changed.push({ before: a, after: b, fields });
    }
  }
  for (const [k, b] of eb) {
    if (ea.has(k)) continue;
    if (readableIn(unitsA, b)) entries.added.push(b);
    else unknownEntries++;
  }

  const domainsOf = (s: Snapshot): Map<string, { unit: Unit; d: Domain }> => {
    const m = new Map<string, { unit: Unit; d: Domain }>();
    for (const unit of s.units) for (const d of unit.domains) m.set(domainId(unit, d), { unit, d });
    return m;
  };
  const da = domainsOf(before);
  const db = domainsOf(after);
  const domains: DomainChange[] = [];
  const none: Mapping[] = [];
  for (const [k, { unit, d }] of da) {
    const other = db.get(k)?.d;
    const gained = other ? subtractMappings(other.mappings, d.mappings) : [];
    const lost = subtractMappings(d.mappings, other?.mappings ?? none);
    const exact = d.mappingsKnown && d.complete && (other === undefined || (other.mappingsKnown && other.complete));
    if (other && gained.length === 0 && lost.length === 0) continue;
    domains.push({
      unit: unit.registerBase, did: d.did, root: d.root, kind: d.kind, status: other ? 'changed' : 'removed',
      pagesBefore: d.pageCount, pagesAfter: other?.pageCount ?? 0, gained, lost, gainedPages: sumPages(gained), lostPages: sumPages(lost), exact,
    });
  }
  for (const [k, { unit, d }] of db) {
    if (da.has(k)) continue;
    const gained = subtractMappings(d.mappings, none);
    domains.push({
      unit: unit.registerBase, did: d.did, root: d.root, kind: d.kind, status: 'added', pagesBefore: 0, pagesAfter: d.pageCount,
      gained, lost: [], gainedPages: sumPages(gained), lostPages: 0, exact: d.mappingsKnown && d.complete,
    });
  }

  const devA = new Map(before.devices.map((d) => [d.bdf, d]));
  const devB = new Map(after.devices.map((d) => [d.bdf, d]));
  const devices: SnapshotDiff['devices'] = { left: [], arrived: [], changed: [] };
  if (before.inventoryKnown && after.inventoryKnown) {
    for (const [bdf, a] of devA) {
      const b = devB.get(bdf);
      if (!b) devices.left.push({ bdf, before: a, fields: [] });
      else {
        const fields = deviceFields(a, b);
        if (fields.length) devices.changed.push({ bdf, before: a, after: b, fields });
      }
    }
    for (const [bdf, b] of devB) if (!devA.has(bdf)) devices.arrived.push({ bdf, after: b, fields: [] });
  }
  const hasMappings = (s: Snapshot): boolean => s.units.some((u) => u.domains.some((d) => d.mappingsKnown));
  return {
    units, entries, domains, devices, irtes: diffIrtes(before, after),
    known: {
      inventory: [before.inventoryKnown, after.inventoryKnown],
      vms: [before.vmsKnown, after.vmsKnown],
      mappings: [hasMappings(before), hasMappings(after)],
      tables: [before.units.every((u) => contextsState(u) === 'complete'), after.units.every((u) => contextsState(u) === 'complete')],
      unknownEntries,
    },
  };
}
