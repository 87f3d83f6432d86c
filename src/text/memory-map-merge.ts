/**
 * One host memory map from several sources: a capture often holds /proc/iomem and the firmware's
 * e820 map (the BIOS-e820 lines of dmesg), or FreeBSD's SMAP. Concatenated, they count RAM twice.
 *
 * - Where sources overlap, the best-ranked one decides the type: /proc/iomem (the kernel's view,
 *   after its own reservations) over the firmware maps; among equals, the first given.
 * - Ranges only a lesser source covers are taken from it (iomem lists no hole the firmware map
 *   describes, and a capture may hold only part of a source).
 * - Where two sources disagree about whether a range is RAM, that is a warning naming both lines,
 *   except the disagreement every Linux boot shows: low memory (below 1 MiB) that the firmware
 *   calls usable and the kernel reserves for itself (page 0, the EBDA).
 *
 * A sweep over the region boundaries with a heap of active regions: O(n log n) for n regions.
 */
import type { MemoryRegion, ModelWarning } from '../model/types.js';
import { hex } from '../util/hex.js';
import { MinHeap } from '../util/min-heap.js';

export type MemoryMapOrigin = 'iomem' | 'e820' | 'smap';

export interface MemoryMapSource {
  origin: MemoryMapOrigin;
  /** The part the regions come from (for messages). */
  part: string;
  regions: MemoryRegion[];
}

const RANK: Record<MemoryMapOrigin, number> = { iomem: 0, e820: 1, smap: 1 };
const ORIGIN_NAME: Record<MemoryMapOrigin, string> = { iomem: '/proc/iomem', e820: 'the e820 map', smap: 'the SMAP' };
const LOW_MEMORY = 0x100000;
const MAX_DISAGREEMENTS = 10;

interface Active {
  r: MemoryRegion;
  /** Index of its source; smaller (rank, source, index) wins. */
  src: number;
  key: number;
}

const where = (r: MemoryRegion): string => (r.source.line !== undefined ? `${r.source.part}:${r.source.line}` : r.source.part);

export function mergeMemoryMaps(sources: MemoryMapSource[]): { regions: MemoryRegion[]; warnings: ModelWarning[] } {
  const order = sources.map((s, i) => ({ s, i })).sort((a, b) => RANK[a.s.origin] - RANK[b.s.origin] || a.i - b.i);
  const all: Active[] = [];
  order.forEach(({ s }, src) => {
    for (const r of s.regions) all.push({ r, src, key: all.length });
  });
  // key = position in (rank, source, region) order: the smallest active key wins.
  const byStart = [...all].sort((a, b) => a.r.start - b.r.start);
  const byEnd = [...all].sort((a, b) => a.r.end - b.r.end);
  const points = [...new Set(all.flatMap((x) => [x.r.start, x.r.end]))].sort((a, b) => a - b);

  const heap = new MinHeap<Active>((x) => x.key);
  /** Active regions per source whose type is RAM / not RAM (for disagreements). */
  const ramActive = new Array<number>(order.length).fill(0);
  const otherActive = new Array<number>(order.length).fill(0);
  const live = new Set<Active>();
  const out: MemoryRegion[] = [];
  const disagreements: { start: number; end: number; winner: MemoryRegion; winnerSrc: number; loser: MemoryMapSource; loserRam: boolean }[] = [];
  let next = 0;
  let ended = 0;

  for (let p = 0; p + 1 < points.length; p++) {
    const at = points[p];
    const to = points[p + 1];
    // Regions starting here enter, regions ending here leave (from the heap lazily).
    while (next < byStart.length && byStart[next].r.start <= at) {
      const x = byStart[next++];
      if (x.r.end <= at) continue;
      live.add(x);
      heap.push(x);
      if (x.r.type === 'ram') ramActive[x.src]++;
      else otherActive[x.src]++;
    }
    while (ended < byEnd.length && byEnd[ended].r.end <= at) {
      const x = byEnd[ended++];
      if (!live.delete(x)) continue;
      if (x.r.type === 'ram') ramActive[x.src]--;
      else otherActive[x.src]--;
    }
    while (heap.size > 0 && !live.has(heap.peek()!)) heap.pop();
    const win = heap.peek();
    if (!win) continue;
    const w = win.r;
    // Extend the previous piece when the same region goes on; otherwise start a new piece.
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.end === at && prev.source === w.source && prev.type === w.type && prev.name === w.name) prev.end = to;
    else out.push({ start: at, end: to, type: w.type, name: w.name, source: w.source });

    for (let src = 0; src < order.length; src++) {
      if (src === win.src) continue;
      const wRam = w.type === 'ram';
      const conflict = wRam ? otherActive[src] > 0 : ramActive[src] > 0;
      if (!conflict) continue;
      // The kernel reserving low firmware RAM for itself is expected, not a disagreement.
      if (!wRam && w.type === 'reserved' && order[win.src].s.origin === 'iomem' && to <= LOW_MEMORY) continue;
      const last = disagreements[disagreements.length - 1];
      if (last && last.end === at && last.winner === w && last.loser === order[src].s) last.end = to;
      else disagreements.push({ start: at, end: to, winner: w, winnerSrc: win.src, loser: order[src].s, loserRam: !wRam });
    }
  }

  const warnings: ModelWarning[] = [];
  for (const d of disagreements.slice(0, MAX_DISAGREEMENTS)) {
    const other = d.loser.regions.find((r) => r.start < d.end && r.end > d.start && (r.type === 'ram') === d.loserRam);
    const winner = order[d.winnerSrc].s;
    const range = `${hex(d.start)}-${hex(d.end - 1)}`;
    warnings.push({
      message: `memory map sources disagree on ${range}: ${d.winner.type} (${d.winner.name}) in ${where(d.winner)}, ` +
        `${other ? `${other.type} (${other.name}) in ${where(other)}` : `${d.loserRam ? 'RAM' : 'not RAM'} in ${d.loser.part}`}; ` +
        `using ${where(d.winner)}${RANK[winner.origin] < RANK[d.loser.origin] ? ` (${ORIGIN_NAME[winner.origin]} wins over ${ORIGIN_NAME[d.loser.origin]})` : ' (given first)'}`,
      source: other?.source ?? { part: d.loser.part },
    });
  }
  if (disagreements.length > MAX_DISAGREEMENTS) {
    warnings.push({ message: `${disagreements.length - MAX_DISAGREEMENTS} more memory map disagreements not shown`, source: { part: order[0].s.part } });
  }
  return { regions: out, warnings };
}
