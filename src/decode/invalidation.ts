/**
 * Invalidation descriptors of the queued-invalidation interface (VT-d spec §6.5.2), from their raw
 * qwords (qw0 first). The type is 7 bits: Type[3:0] in bits 3:0 and Type[6:4] in bits 11:9.
 * Field names are the spec's; granularities as the spec encodes them in bits 5:4 (bit 4 for IEC).
 *
 * | type | descriptor | fields (qw0 unless noted) |
 * |---|---|---|
 * | 1 | context-cache invalidate | G 5:4 (01 global, 10 domain, 11 device), DID 31:16, SID 47:32, FM 49:48 |
 * | 2 | IOTLB invalidate | G 5:4 (01 global, 10 domain, 11 page), DW 6, DR 7, DID 31:16; qw1 ADDR 63:12, IH 6, AM 5:0 |
 * | 3 | device-TLB invalidate | PFSID 15:12 and 63:52, MIP 20:16, SID 47:32; qw1 ADDR 63:12, S 0 |
 * | 4 | interrupt entry cache invalidate | G 4 (0 global, 1 index), IM 31:27, IIDX 47:32 |
 * | 5 | invalidation wait | IF 4, SW 5, FN 6, PD 7, status data 63:32; qw1 status address 63:2 |
 * | 6 | PASID-based IOTLB invalidate | G 5:4 (10 PASID, 11 page), DID 31:16, PASID 51:32; qw1 ADDR, IH 6, AM 5:0 |
 * | 7 | PASID-cache invalidate | G 5:4 (00 domain, 01 PASID, 11 global), DID 31:16, PASID 51:32 |
 * | 8 | PASID-based device-TLB invalidate | SID 31:16, PASID 51:32, PFSID; qw1 ADDR, S |
 * | 9 | page group response | (page requests, not caches) |
 */
import { formatBusDevfn } from '../util/bdf.js';
import { hex } from '../util/hex.js';
export type DescriptorKind =
  | 'context-cache' | 'iotlb' | 'device-tlb' | 'iec' | 'wait' | 'pasid-iotlb' | 'pasid-cache' | 'pasid-device-tlb'
  | 'page-group-response' | 'page-stream-response' | 'reserved';

const KINDS: Record<number, DescriptorKind> = {
  1: 'context-cache', 2: 'iotlb', 3: 'device-tlb', 4: 'iec', 5: 'wait', 6: 'pasid-iotlb', 7: 'pasid-cache', 8: 'pasid-device-tlb',
  9: 'page-group-response', 10: 'page-stream-response',
};

export interface InvalidationDescriptor {
  /** The 7-bit descriptor type. */
  type: number;
  kind: DescriptorKind;
  /** Granularity as encoded (bits 5:4; bit 4 for IEC), and its meaning. */
  G?: number;
  granularity?: 'global' | 'domain' | 'device' | 'page' | 'pasid' | 'index';
  DID?: number;
  SID?: number;
  FM?: number;
  PASID?: number;
  /** Address (IOTLB, device-TLB, PASID-based): bits 63:12 of qw1, as a byte address. */
  ADDR?: bigint;
  AM?: number;
  IH?: boolean;
  DR?: boolean;
  DW?: boolean;
  S?: boolean;
  MIP?: number;
  PFSID?: number;
  IM?: number;
  IIDX?: number;
  IF?: boolean;
  SW?: boolean;
  FN?: boolean;
  PD?: boolean;
  statusData?: number;
  statusAddress?: bigint;
}

const bits = (v: bigint, hi: number, lo: number): number => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

export function decodeDescriptor(qw: readonly bigint[]): InvalidationDescriptor {
  const q0 = qw[0] ?? 0n;
  const q1 = qw[1] ?? 0n;
  const type = bits(q0, 3, 0) | (bits(q0, 11, 9) << 4);
  const d: InvalidationDescriptor = { type, kind: KINDS[type] ?? 'reserved' };
  const g = bits(q0, 5, 4);
  const addr = (): void => {
    d.ADDR = q1 & ~0xfffn;
    d.IH = bit(q1, 6);
    d.AM = bits(q1, 5, 0);
  };
  switch (d.kind) {
    case 'context-cache':
      Object.assign(d, { G: g, DID: bits(q0, 31, 16), SID: bits(q0, 47, 32), FM: bits(q0, 49, 48) });
      d.granularity = g === 1 ? 'global' : g === 2 ? 'domain' : g === 3 ? 'device' : undefined;
      break;
    case 'iotlb':
      Object.assign(d, { G: g, DID: bits(q0, 31, 16), DW: bit(q0, 6), DR: bit(q0, 7) });
      d.granularity = g === 1 ? 'global' : g === 2 ? 'domain' : g === 3 ? 'page' : undefined;
      addr();
      break;
    case 'device-tlb':
      Object.assign(d, { SID: bits(q0, 47, 32), MIP: bits(q0, 20, 16), PFSID: bits(q0, 15, 12) | (bits(q0, 63, 52) << 4), ADDR: q1 & ~0xfffn, S: bit(q1, 0) });
      break;
    case 'iec':
      Object.assign(d, { G: bits(q0, 4, 4), IM: bits(q0, 31, 27), IIDX: bits(q0, 47, 32) });
      d.granularity = d.G === 0 ? 'global' : 'index';
      break;
    case 'wait':
      Object.assign(d, { IF: bit(q0, 4), SW: bit(q0, 5), FN: bit(q0, 6), PD: bit(q0, 7), statusData: bits(q0, 63, 32), statusAddress: q1 & ~3n });
      break;
    case 'pasid-iotlb':
      Object.assign(d, { G: g, DID: bits(q0, 31, 16), PASID: bits(q0, 51, 32) });
      d.granularity = g === 2 ? 'pasid' : g === 3 ? 'page' : undefined;
      addr();
      break;
    case 'pasid-cache':
      Object.assign(d, { G: g, DID: bits(q0, 31, 16), PASID: bits(q0, 51, 32) });
      d.granularity = g === 0 ? 'domain' : g === 1 ? 'pasid' : g === 3 ? 'global' : undefined;
      break;
    case 'pasid-device-tlb':
      Object.assign(d, { SID: bits(q0, 31, 16), PASID: bits(q0, 51, 32), PFSID: bits(q0, 15, 12) | (bits(q0, 63, 52) << 4), ADDR: q1 & ~0xfffn, S: bit(q1, 0) });
      break;
    default:
      break;
  }
  return d;
}

/**
 * Does the descriptor drop the context-cache (or, in scalable mode, PASID-cache) entries tagged
 * with `did`? Global invalidations do; domain- and device-selective ones do for their DID.
 */
export function invalidatesContextCache(d: InvalidationDescriptor, did: number): boolean {
  if (d.kind === 'context-cache') return d.granularity === 'global' || ((d.granularity === 'domain' || d.granularity === 'device') && d.DID === did);
  if (d.kind === 'pasid-cache') return d.granularity === 'global' || d.DID === did;
  return false;
}

/**
 * How much of the IOTLB entries tagged with `did` the descriptor drops: 'all' (global,
 * domain-selective, a PASID-selective PASID-based one), 'pages' (page-selective: only a range),
 * or undefined.
 */
export function invalidatesIotlb(d: InvalidationDescriptor, did: number): 'all' | 'pages' | undefined {
  if (d.kind === 'iotlb') {
    if (d.granularity === 'global' || (d.granularity === 'domain' && d.DID === did)) return 'all';
    if (d.granularity === 'page' && d.DID === did) return 'pages';
  }
  if (d.kind === 'pasid-iotlb' && d.DID === did) return d.granularity === 'pasid' ? 'all' : d.granularity === 'page' ? 'pages' : undefined;
  return undefined;
}

/** One line a person can read: `context-cache device-selective DID 6 SID 01:00.0`. */
export function describeDescriptor(d: InvalidationDescriptor): string {
  const parts: string[] = [d.kind];
  if (d.granularity !== undefined) parts.push(`${d.granularity}${d.granularity === 'global' ? '' : '-selective'}`);
  if (d.DID !== undefined && d.granularity !== 'global') parts.push(`DID ${d.DID}`);
  if (d.SID !== undefined && (d.kind !== 'context-cache' || d.granularity === 'device')) {
    parts.push(`SID ${formatBusDevfn(d.SID >> 8, d.SID & 0xff)}`);
  }
  if (d.PASID !== undefined && d.granularity !== 'global' && d.granularity !== 'domain') parts.push(`PASID ${d.PASID}`);
  if (d.ADDR !== undefined && (d.granularity === 'page' || d.kind.endsWith('device-tlb'))) parts.push(`ADDR ${hex(d.ADDR)}${d.AM !== undefined ? ` AM ${d.AM}` : ''}`);
  if (d.kind === 'wait') parts.push(`status ${hex(d.statusData ?? 0)} → ${hex(d.statusAddress ?? 0n)}`);
  return parts.join(' ');
}
