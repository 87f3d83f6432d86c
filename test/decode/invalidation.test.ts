/**
 * Invalidation descriptors decoded against the VT-d spec's layouts (§6.5.2), with values worked out
 * by hand from descriptors the real captures hold (qemu-linux61-vfio*, invalidation_queue).
 */
import { describe, expect, it } from 'vitest';
import { decodeDescriptor, describeDescriptor, invalidatesContextCache, invalidatesIotlb } from '../../src/decode/invalidation.js';

describe('decodeDescriptor', () => {
  it('IOTLB page-selective: 0x600f2 / 0xbd7006 = type 2, G 11b, DR, DW, DID 6, ADDR 0xbd7000, AM 6', () => {
    // 0xf2 = 1111 0010b: type 0010b, G (5:4) = 11b, DW (6) = 1, DR (7) = 1; DID = 0x6 (31:16).
    expect(decodeDescriptor([0x600f2n, 0xbd7006n])).toEqual({ type: 2, kind: 'iotlb', G: 3, granularity: 'page', DID: 6, DW: true, DR: true, ADDR: 0xbd7000n, IH: false, AM: 6 });
  });
  it('IOTLB domain-selective: 0x600e2 (G 10b)', () => {
    expect(decodeDescriptor([0x600e2n, 0n])).toMatchObject({ kind: 'iotlb', G: 2, granularity: 'domain', DID: 6 });
  });
  it('context-cache device-selective: 0x10000060031 = type 1, G 11b, DID 6, SID 0x0100 (01:00.0), FM 0', () => {
    expect(decodeDescriptor([0x10000060031n, 0n])).toEqual({ type: 1, kind: 'context-cache', G: 3, granularity: 'device', DID: 6, SID: 0x100, FM: 0 });
    expect(describeDescriptor(decodeDescriptor([0x10000060031n, 0n]))).toBe('context-cache device-selective DID 6 SID 01:00.0');
  });
  it('invalidation wait: 0x200000025 / 0x14ec04 = type 5, SW, status data 2 to 0x14ec04', () => {
    // 0x25 = 10 0101b: type 0101b, IF (4) = 0, SW (5) = 1.
    expect(decodeDescriptor([0x200000025n, 0x14ec04n])).toEqual({ type: 5, kind: 'wait', IF: false, SW: true, FN: false, PD: false, statusData: 2, statusAddress: 0x14ec04n });
  });
  it('interrupt entry cache, index-selective: 0x1600000014 = type 4, G 1, IIDX 0x16', () => {
    expect(decodeDescriptor([0x1600000014n, 0n])).toEqual({ type: 4, kind: 'iec', G: 1, granularity: 'index', IM: 0, IIDX: 0x16 });
  });
  it('the type is 7 bits: Type[6:4] in bits 11:9', () => {
    expect(decodeDescriptor([(1n << 9n) | 1n, 0n])).toMatchObject({ type: 0x11, kind: 'reserved' });
    // PASID-cache global (type 7, G 11b) and PASID-based IOTLB PASID-selective (type 6, G 10b) of DID 9, PASID 5.
    expect(decodeDescriptor([0x37n, 0n])).toMatchObject({ kind: 'pasid-cache', granularity: 'global' });
    expect(decodeDescriptor([(5n << 32n) | (9n << 16n) | 0x26n, 0n])).toMatchObject({ kind: 'pasid-iotlb', granularity: 'pasid', DID: 9, PASID: 5 });
  });
  it('device-TLB: SID 47:32, MIP 20:16, PFSID split over 15:12 and 63:52', () => {
    const q0 = (0xabcn << 52n) | (0x0300n << 32n) | (0x1fn << 16n) | (0xdn << 12n) | 3n;
    expect(decodeDescriptor([q0, 0x12345001n])).toMatchObject({ kind: 'device-tlb', SID: 0x300, MIP: 0x1f, PFSID: 0xabcd, ADDR: 0x12345000n, S: true });
  });
});

describe('which caches a descriptor drops for a DID', () => {
  it('context cache: global, or domain/device-selective for that DID', () => {
    expect(invalidatesContextCache(decodeDescriptor([0x10000060031n, 0n]), 6)).toBe(true);
    expect(invalidatesContextCache(decodeDescriptor([0x10000060031n, 0n]), 7)).toBe(false);
    expect(invalidatesContextCache(decodeDescriptor([0x11n, 0n]), 7)).toBe(true); // global
    expect(invalidatesContextCache(decodeDescriptor([0x600e2n, 0n]), 6)).toBe(false); // an IOTLB one
  });
  it('IOTLB: global or domain-selective drops all of it; page-selective only pages', () => {
    expect(invalidatesIotlb(decodeDescriptor([0x600e2n, 0n]), 6)).toBe('all');
    expect(invalidatesIotlb(decodeDescriptor([0x600f2n, 0xbd7006n]), 6)).toBe('pages');
    expect(invalidatesIotlb(decodeDescriptor([0x12n, 0n]), 1234)).toBe('all');
    expect(invalidatesIotlb(decodeDescriptor([0x600e2n, 0n]), 5)).toBeUndefined();
  });
});
