/**
 * Writes Linux's debugfs `invalidation_queue` for generated samples: invalidation descriptors
 * encoded from the VT-d spec's layouts (§6.5.2, independently of src/decode/invalidation.ts) and
 * printed as drivers/iommu/intel/debugfs.c does (invalidation_queue_show, 128-bit descriptors).
 */
import { parseBdf } from '../util/bdf.js';
import type { ScenarioDescriptor } from './scenario.js';
import { hex, hexDigits } from '../util/hex.js';

/** Linux's ring length (QI_LENGTH). */
export const QI_LENGTH = 256;
/** Where Linux's desc_status array would sit: a wait descriptor of slot i writes QI_DONE (2) to STATUS_BASE + 4·i. */
const STATUS_BASE = 0x14ec00n;

const G: Record<string, bigint> = { global: 1n, domain: 2n, device: 3n, page: 3n };

/** [qw0, qw1] of one descriptor written at `slot`. */
export function encodeDescriptor(d: ScenarioDescriptor, slot: number): [bigint, bigint] {
  switch (d.type) {
    case 'context-cache': {
      // Type 1; G 5:4; DID 31:16; SID 47:32 (device-selective).
      const b = d.bdf !== undefined ? parseBdf(d.bdf) : undefined;
      const sid = b !== undefined ? BigInt((b.bus << 8) | b.devfn) : 0n;
      return [1n | (G[d.granularity] << 4n) | (BigInt(d.did ?? 0) << 16n) | (sid << 32n), 0n];
    }
    case 'iotlb':
      // Type 2; G 5:4; DW 6 and DR 7 (Linux sets both when the unit drains); DID 31:16; qw1 ADDR 63:12, AM 5:0.
      return [2n | (G[d.granularity] << 4n) | (1n << 6n) | (1n << 7n) | (BigInt(d.did ?? 0) << 16n), (d.addr !== undefined ? BigInt(d.addr) & ~0xfffn : 0n) | BigInt(d.am ?? 0)];
    case 'wait':
      // Type 5; SW 5; status data 63:32 = QI_DONE (2); qw1 status address.
      return [5n | (1n << 5n) | (2n << 32n), STATUS_BASE + 4n * BigInt(slot)];
    case 'raw':
      return [BigInt(d.qw0), BigInt(d.qw1)];
  }
}

/** What Linux leaves in a slot in steady state: a page-selective IOTLB invalidation, then a wait. */
function routineSlot(slot: number, did: number): [bigint, bigint] {
  if (slot % 2 === 1) return encodeDescriptor({ type: 'wait' }, slot);
  return encodeDescriptor({ type: 'iotlb', granularity: 'page', did, addr: hex((slot / 2) * 0x200000 + 0x1000000), am: 9 }, slot);
}

/**
 * The ring of a scenario: routine slots, `descriptors` from `at`; Head = Tail after them — or, for a
 * `stalled` queue (the unit stopped on an error), Head at the first of them and Tail after them.
 */
export function buildQueue(q: { at: number; descriptors: ScenarioDescriptor[]; routineDid?: number; stalled?: boolean }): { slots: [bigint, bigint][]; head: number; tail: number } {
  const slots = Array.from({ length: QI_LENGTH }, (_, i) => routineSlot(i, q.routineDid ?? 1));
  q.descriptors.forEach((d, k) => {
    const slot = (q.at + k) % QI_LENGTH;
    slots[slot] = encodeDescriptor(d, slot);
  });
  const tail = (q.at + q.descriptors.length) % QI_LENGTH;
  return { slots, head: q.stalled ? q.at % QI_LENGTH : tail, tail };
}

/** invalidation_queue_show for one unit with 128-bit descriptors (status 0: reclaimed). */
export function formatInvalidationQueue(unitName: string, base: number, head: number, tail: number, slots: [bigint, bigint][]): string {
  let out = `Invalidation queue on IOMMU: ${unitName}\n Base: ${hex(base)}\tHead: ${head}\tTail: ${tail}\nIndex\t\tqw0\t\t\tqw1\t\t\tstatus\n`;
  slots.forEach(([a, b], i) => {
    out += `${String(i).padStart(5)}\t${hexDigits(a, 16)}\t${hexDigits(b, 16)}\t${hexDigits(0n, 16)}\n`;
  });
  return out + '\n';
}
