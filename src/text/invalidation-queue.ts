/**
 * Linux debugfs `invalidation_queue` (drivers/iommu/intel/debugfs.c invalidation_queue_show) →
 * one InvalidationQueue per unit. Per unit with queued invalidation:
 *
 *     Invalidation queue on IOMMU: dmar0
 *      Base: 0x15e000⇥Head: 232⇥Tail: 232
 *     Index⇥⇥qw0⇥⇥⇥qw1⇥⇥⇥status
 *         0⇥00000000000600f2⇥0000000000bd7006⇥0000000000000000
 *     …
 *
 * then a blank line. Head and Tail are descriptor indices (the registers shifted by the descriptor
 * size). Rows are `%5d` index, the qwords as 16 hex digits (qw0, qw1, and qw2, qw3 when the unit
 * runs in scalable mode — the header says which), then the slot's status (`%016x`). Linux's ring
 * holds 256 descriptors (QI_LENGTH); the hardware allows up to 32768 (IQA.QS = 7), which bounds a
 * ring here.
 */
import { InputError } from '../errors.js';
import type { Contribution, UnitContribution } from '../model/contribution.js';
import type { InvalidationQueue } from '../model/invalidation-queue.js';
import { parseHex, toSafeNumber } from '../util/hex.js';
import { headLines, LineWarnings, textLines } from './lines.js';

const UNIT_RE = /^Invalidation queue on IOMMU: (\S+)\s*$/;
const REGS_RE = /^\s*Base:\s*0x([0-9a-f]{1,16})\s+Head:\s*(\d{1,10})\s+Tail:\s*(\d{1,10})\s*$/i;
const HEADER_RE = /^Index\s+qw0\s+qw1\s+(?:qw2\s+qw3\s+)?status\s*$/;
const ROW_RE = /^\s*(\d{1,10})((?:\s+[0-9a-f]{16}){3,5})\s*$/i;
/** Most descriptors a ring can hold: 2^QS × 256 with QS ≤ 7 (IQA register). */
const MAX_QUEUE_SLOTS = 32768;

export function looksLikeInvalidationQueue(text: string): boolean {
  const head = headLines(text, 5);
  return head.some((l) => UNIT_RE.test(l)) && head.some((l) => HEADER_RE.test(l));
}

export function parseInvalidationQueue(text: string, part: string): Contribution {
  const w = new LineWarnings(part);
  const units: UnitContribution[] = [];
  let q: InvalidationQueue | undefined;
  const withRegs = new Set<InvalidationQueue>();
  const full = new Set<InvalidationQueue>();
  for (const l of textLines(text)) {
    const t = l.text;
    if (t.trim() === '') continue;
    let m: RegExpExecArray | null;
    if ((m = UNIT_RE.exec(t))) {
      q = { unitName: m[1], base: 0, head: 0, tail: 0, qwords: 2, slots: [], source: { part, line: l.no } };
      units.push({ name: m[1], invalidationQueue: q, source: { part, line: l.no } });
      continue;
    }
    if (!q) {
      w.unrecognised('an invalidation queue (expected "Invalidation queue on IOMMU: <name>" first)', l);
      continue;
    }
    if ((m = REGS_RE.exec(t))) {
      try {
        q.base = toSafeNumber(parseHex(m[1]));
      } catch {
        w.warn(`queue base 0x${m[1]} is beyond 2^53, kept as 0`, l.no);
      }
      q.head = Number(m[2]);
      q.tail = Number(m[3]);
      withRegs.add(q);
      continue;
    }
    if (HEADER_RE.test(t)) {
      q.qwords = /qw3/.test(t) ? 4 : 2;
      continue;
    }
    if ((m = ROW_RE.exec(t))) {
      const fields = m[2].trim().split(/\s+/);
      if (fields.length !== q.qwords + 1) {
        w.warn(`row has ${fields.length - 1} qwords where the header announces ${q.qwords}, skipped`, l.no);
        continue;
      }
      const index = Number(m[1]);
      if (q.slots.length >= MAX_QUEUE_SLOTS) {
        if (!full.has(q)) w.warn(`more than ${MAX_QUEUE_SLOTS} descriptors (the most a queue can hold), the rest skipped`, l.no);
        full.add(q);
        continue;
      }
      const prev = q.slots[q.slots.length - 1];
      if (index !== (prev === undefined ? 0 : prev.index + 1)) w.warn(`descriptor index ${index} where ${prev === undefined ? 0 : prev.index + 1} was expected`, l.no);
      const status = parseHex(fields[fields.length - 1]);
      q.slots.push({ index, qw: fields.slice(0, -1).map((f) => parseHex(f)), status: status > 0xffffffffn ? -1 : Number(status), line: l.no });
      continue;
    }
    w.unrecognised('an invalidation queue row', l);
  }
  for (const u of units) {
    const iq = u.invalidationQueue!;
    if (!withRegs.has(iq)) w.warn(`queue of ${iq.unitName} has no "Base: … Head: … Tail: …" line: the ring's order is unknown (read from slot 0)`, iq.source.line ?? 1);
    if (iq.slots.length > 0 && (iq.head >= iq.slots.length || iq.tail >= iq.slots.length)) {
      w.warn(`Head ${iq.head} / Tail ${iq.tail} lie outside the ${iq.slots.length} descriptors listed`, iq.source.line ?? 1);
    }
  }
  if (units.length === 0) throw new InputError('does not look like an invalidation queue (debugfs invalidation_queue: "Invalidation queue on IOMMU: <name>")', { file: part, line: 1 });
  return { units, warnings: w.done() };
}
