import type { Snapshot, Source, Unit } from '../model/types.js';
import { drhds } from '../model/coverage.js';
import { formatBdf, parseBdf, sourceId } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { finding, ranInPart } from './finding.js';
import { indicesText } from './ir-units.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

interface StaleData { unit: Unit; indices: number[]; sid: number; sq: number; bdf: string }
interface StaleRangeData { unit: Unit; indices: number[]; first: number; last: number }

/** SQ (bits 81:80) with SVT = 01b: which low bits of the SID the unit ignores (function number bits). */
const SQ_IGNORED = [0, 0b100, 0b110, 0b111];

const meta = checkMeta({
  id: 'irte-stale',
  defaultSeverity: 'warning',
  summary: 'a present IRTE whose source-id names a function the inventory does not have (or a bus range with no function)',
  description: `## What it means
A present interrupt remapping table entry verifies its requester (SVT = 01b: the source-id with
its SQ mask; SVT = 10b: a bus range, source-id bits 15:8 the first bus and 7:0 the last), but no
function of the capture's PCI inventory, and no I/O APIC or HPET, has that source-id. I/O APIC and
HPET source-ids are not PCI functions: they come from the DMAR table's device scopes (types 3
and 4). A PCIe-to-PCI bridge's DMA alias (its secondary bus, device 0 function 0) counts as
present when the bridge is.

## Why it matters
The entry outlived its device (hot-unplug, SR-IOV VFs destroyed, a driver that never freed its
vectors). Whatever appears next at that requester id — a hot-added card, a re-created VF handed
to a VM — can raise the entry's host vector on its CPU, and the vector may by then belong to
another driver. It is also a sign the OS's interrupt bookkeeping is off. Nothing uses the entry
today, so the default is \`warning\`.

## How to fix / where to look
Compare with the inventory and \`/proc/interrupts\` (Linux) at the same moment; \`dmarsift diff\`
shows when the device left and whether its entries went with it. Unbind/rebind the driver that
owned the vectors, or reboot.

Inputs: interrupt-remapping and the PCI inventory (required); the DMAR table (optional: without
it an entry whose source-id is no PCI function may be an I/O APIC's or HPET's, so such entries
are not judged and the check is partial). Units with interrupt remapping off are skipped (their
table is not used).`,
  needs: ['interrupt-remapping', 'inventory', 'dmar'],
  optional: ['dmar'],
  messages: {
    staleSource: (d: StaleData) =>
      `Remapping unit ${hex(d.unit.registerBase)} has ${d.indices.length} present IRTE${d.indices.length === 1 ? '' : 's'} (index ${indicesText(d.indices)}) verifying source-id ${hex(d.sid)} (${d.bdf}${d.sq !== 0 ? `, SQ = ${d.sq.toString(2).padStart(2, '0')}b` : ''}), but the capture has no such function, I/O APIC or HPET: a device appearing at that address could raise the entry's host vector; free the stale entries.`,
    staleBusRange: (d: StaleRangeData) =>
      `Remapping unit ${hex(d.unit.registerBase)} has ${d.indices.length} present IRTE${d.indices.length === 1 ? '' : 's'} (index ${indicesText(d.indices)}) verifying requesters on buses ${hex(d.first)}–${hex(d.last)} (SVT = 10b), but no function of the capture is on those buses: a device appearing there could raise the entry's host vector; free the stale entries.`,
  },
  example: { sample: 'irte-stale' },
});

/** Source-ids that exist in a segment: the inventory's functions, bridges' DMA aliases, I/O APICs and HPETs. */
interface KnownSources {
  sids: Set<number>;
  /** I/O APIC/HPET scopes whose path the capture cannot resolve (their source-id is unknown). */
  unresolvedSpecial: number;
}

function knownSources(snapshot: Snapshot, segment: number): KnownSources {
  const sids = new Set<number>();
  for (const d of snapshot.devices) {
    const b = parseBdf(d.bdf);
    if (b.segment !== segment) continue;
    sids.add(sourceId(b));
    if (d.secondaryBus !== undefined) sids.add(d.secondaryBus << 8); // a PCIe-to-PCI bridge's alias
  }
  let unresolvedSpecial = 0;
  for (const drhd of drhds(snapshot)) {
    if (drhd.segment !== segment) continue;
    for (const s of drhd.scopes) {
      if (s.type !== 3 && s.type !== 4) continue;
      if (s.resolved === undefined) unresolvedSpecial++;
      else sids.add((s.resolved.bus << 8) | s.resolved.devfn);
    }
  }
  return { sids, unresolvedSpecial };
}

/** Whether some known source matches the entry's source validation; undefined for SVT 00b/11b (none). */
function matches(svt: number, sid: number, sq: number, known: Set<number>): boolean | undefined {
  if (svt === 1) {
    const mask = 0xffff & ~SQ_IGNORED[sq];
    for (const k of known) if ((k & mask) === (sid & mask)) return true;
    return false;
  }
  if (svt === 2) {
    const first = sid >> 8;
    const last = sid & 0xff;
    for (const k of known) if (k >> 8 >= first && k >> 8 <= last) return true;
    return false;
  }
  return undefined;
}

interface Group { svt: number; sid: number; sq: number; indices: number[]; source: Source }

export const irteStale = defineCheck({
  meta,
  run(snapshot) {
    const out: Finding[] = [];
    const reasons: string[] = [];
    for (const unit of snapshot.units) {
      const ir = unit.interruptRemapping;
      if (ir === undefined || ir.enabled === false || ir.entrySources.length === 0) continue;
      const known = knownSources(snapshot, unit.segment);
      const groups = new Map<string, Group>();
      for (const e of ir.irtes) {
        const { SVT, SID, SQ } = e.irte;
        if (matches(SVT, SID, SQ, known.sids) !== false) continue;
        const key = `${SVT}:${SID}:${SVT === 1 ? SQ : 0}`;
        const g = groups.get(key) ?? { svt: SVT, sid: SID, sq: SVT === 1 ? SQ : 0, indices: [], source: e.source };
        g.indices.push(e.index);
        groups.set(key, g);
      }
      if (groups.size === 0) continue;
      // Without the DMAR table (or with an I/O APIC/HPET path it cannot resolve) a source-id that
      // is no PCI function may be an I/O APIC's or HPET's: unknown, not stale.
      if (snapshot.dmar === undefined || known.unresolvedSpecial > 0) {
        const n = [...groups.values()].reduce((a, g) => a + g.indices.length, 0);
        reasons.push(`unit ${hex(unit.registerBase)}: ${n} IRTE${n === 1 ? '' : 's'} name${n === 1 ? 's' : ''} a source-id that is no PCI function of the capture; without ${snapshot.dmar === undefined ? 'the DMAR table' : 'a resolvable path for every I/O APIC and HPET scope of the DMAR table'} ${n === 1 ? 'it' : 'they'} may belong to an I/O APIC or HPET`);
        continue;
      }
      for (const g of groups.values()) out.push(staleFinding(unit, g));
    }
    return ranInPart(reasons, out);
  },
});

function staleFinding(unit: Unit, g: Group): Finding {
  const evidence = { svt: g.svt, sid: hex(g.sid), sq: g.sq, indices: g.indices.slice(0, 64), count: g.indices.length };
  if (g.svt === 2) {
    return finding(meta, {
      messageId: 'staleBusRange', data: { unit, indices: g.indices, first: g.sid >> 8, last: g.sid & 0xff },
      unit, source: g.source, evidence,
    });
  }
  const bdf = formatBdf({ segment: unit.segment, bus: g.sid >> 8, devfn: g.sid & 0xff });
  return finding(meta, {
    messageId: 'staleSource', data: { unit, indices: g.indices, sid: g.sid, sq: g.sq, bdf },
    unit, bdf, source: g.source, evidence,
  });
}
