/**
 * A remapping unit's invalidation queue as Linux's debugfs `invalidation_queue` shows it: the
 * descriptor ring (its base, the hardware's head and software's tail, in descriptor indices) and
 * every slot's raw qwords with the driver's per-slot status.
 *
 * Ring order: software writes at Tail, hardware fetches at Head. Slots [Head, Tail) (modulo the
 * length) are submitted and not yet fetched (pending); the others hold descriptors the hardware
 * has processed, the oldest at Tail. Chronologically the ring therefore reads from Tail around:
 * first the processed slots, then the pending ones.
 */
import { decodeDescriptor, type InvalidationDescriptor } from '../decode/invalidation.js';
import type { PhysicalMemory } from '../image/types.js';
import type { Source } from './types.js';

export interface QueueSlot {
  index: number;
  /** Raw qwords, qw0 first (2 for 128-bit descriptors, 4 for 256-bit ones in scalable mode). */
  qw: bigint[];
  /** The driver's desc_status for the slot (Linux: 0 free, 1 in use, 2 done, 3 abort). */
  status: number;
  line: number;
}

export interface InvalidationQueue {
  /** Unit name as printed (`dmar0`). */
  unitName: string;
  /** Physical address of the descriptor ring. */
  base: number;
  head: number;
  tail: number;
  /** Qwords per descriptor: 2 (128-bit) or 4 (256-bit, scalable mode). */
  qwords: 2 | 4;
  slots: QueueSlot[];
  source: Source;
}

export interface OrderedDescriptor {
  slot: QueueSlot;
  descriptor: InvalidationDescriptor;
  /** Submitted but not yet fetched by the hardware (between Head and Tail). */
  pending: boolean;
}

/** The ring's descriptors oldest first (see the file comment); empty (all-zero) slots left out. */
export function descriptorsInOrder(q: InvalidationQueue): OrderedDescriptor[] {
  const n = q.slots.length;
  const out: OrderedDescriptor[] = [];
  if (n === 0) return out;
  const byIndex = new Map(q.slots.map((s) => [s.index, s]));
  const tail = q.tail % n;
  const head = q.head % n;
  for (let k = 0; k < n; k++) {
    const index = (tail + k) % n;
    const slot = byIndex.get(index);
    if (slot === undefined || slot.qw.every((w) => w === 0n)) continue;
    // Pending: index in [head, tail) cyclically.
    const pending = head !== tail && (head < tail ? index >= head && index < tail : index >= head || index < tail);
    out.push({ slot, descriptor: decodeDescriptor(slot.qw), pending });
  }
  return out;
}

/**
 * The descriptors of `after` written since `before` was captured: slots whose contents changed
 * (an identical slot is taken as the old descriptor still there). Without a comparable earlier
 * queue (another unit, another ring) every descriptor counts.
 */
export function descriptorsSince(after: InvalidationQueue, before: InvalidationQueue | undefined): OrderedDescriptor[] {
  const all = descriptorsInOrder(after);
  if (before === undefined || before.base !== after.base || before.slots.length !== after.slots.length) return all;
  const old = new Map(before.slots.map((s) => [s.index, s.qw]));
  return all.filter((d) => {
    const prev = old.get(d.slot.index);
    return prev === undefined || prev.length !== d.slot.qw.length || prev.some((w, i) => w !== d.slot.qw[i]);
  });
}

/** One descriptor read from the ring in the memory image (at IQA + index × descriptor size). */
export interface MemoryQueueDescriptor {
  index: number;
  /** Raw qwords, qw0 first (2 or 4, as IQA.DW says). */
  qw: bigint[];
  /** Physical address of the descriptor. */
  addr: number;
  source: Source;
}

/**
 * The descriptors an invalidation queue error names, read from the ring in the memory image: the
 * one at IQH (IQE: the faulty descriptor; ITE: the one after the wait descriptor that timed out)
 * and up to `QUEUE_WINDOW_BEHIND` before it (ITE: the wait descriptor at IQH − 1 and the
 * device-TLB invalidations it waited for). Bounded: never more than that many descriptor reads.
 */
export interface QueueErrorWindow {
  /** Ring base (IQA bits 51:12) and its length in descriptors (IQA.QS, IQA.DW). */
  base: number;
  length: number;
  qwords: 2 | 4;
  /** IQH as a descriptor index. */
  head: number;
  /** Descriptors read, IQH first, then backwards (IQH − 1, IQH − 2 …). */
  descriptors: MemoryQueueDescriptor[];
  /** Indices whose bytes the image does not hold (unknown, not empty). */
  unreadable: number[];
}

/** How many descriptors before IQH are read (ITE: the wait descriptor and what it waited for). */
export const QUEUE_WINDOW_BEHIND = 15;

/** Read the descriptors around IQH from the memory image (see QueueErrorWindow). */
export function readQueueErrorWindow(
  mem: PhysicalMemory,
  part: string,
  ring: { base: number; length: number; descriptorBytes: 16 | 32; iqh: bigint },
): QueueErrorWindow {
  const qwords = ring.descriptorBytes === 32 ? 4 : 2;
  // IQH bits 18:4 (128-bit descriptors) or 18:5 (256-bit) hold the descriptor index.
  const head = Number((ring.iqh >> (ring.descriptorBytes === 32 ? 5n : 4n)) & 0x7fffn) % ring.length;
  const out: QueueErrorWindow = { base: ring.base, length: ring.length, qwords, head, descriptors: [], unreadable: [] };
  const n = Math.min(QUEUE_WINDOW_BEHIND + 1, ring.length);
  for (let k = 0; k < n; k++) {
    const index = (head - k + ring.length) % ring.length;
    const addr = ring.base + index * ring.descriptorBytes;
    const bytes = mem.read(addr, ring.descriptorBytes);
    if (bytes === undefined) {
      out.unreadable.push(index);
      continue;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const qw = Array.from({ length: qwords }, (_, i) => view.getBigUint64(i * 8, true));
    const offset = mem.fileOffsetOf(addr);
    out.descriptors.push({ index, qw, addr, source: offset === undefined ? { part } : { part, offset } });
  }
  return out;
}
