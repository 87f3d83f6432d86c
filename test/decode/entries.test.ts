import { describe, expect, it } from 'vitest';
import {
  decodeLegacyContextEntry, decodeLegacyRootEntry, decodePasidDirEntry, decodePasidTableEntry,
  decodeScalableContextEntry, decodeScalableRootEntry, beyondHaw,
} from '../../src/decode/entries.js';

// Expected values below are worked out by hand from the bit layouts in docs/vtd-formats.md §3–§5.
describe('legacy root entry', () => {
  it('decodes the real bus-0 root entry of qemu-linux61-legacy (0x265b001)', () => {
    const r = decodeLegacyRootEntry(0x265b001n, 0n);
    expect(r.P).toBe(true);
    expect(r.CTP).toBe(0x265b000);
    expect(r.reserved).toEqual([0n, 0n]);
  });
  it('flags reserved bits 11:1 and any high-qword bit', () => {
    const r = decodeLegacyRootEntry(0x1000_0003n, 5n);
    expect(r.reserved).toEqual([2n, 5n]);
  });
});

describe('legacy context entry', () => {
  it('decodes the real 01:00.0 entry of the fault capture: hi 0x601, lo 0x285b001', () => {
    // hi 0x601: AW = bits 2:0 = 1; DID = bits 23:8 = 0x6. lo: P=1, FPD=0, TT=0, SLPTPTR=0x285b000.
    const c = decodeLegacyContextEntry(0x285b001n, 0x601n);
    expect(c).toMatchObject({ P: true, FPD: false, TT: 0, SLPTPTR: 0x285b000, AW: 1, DID: 6 });
    expect(c.reserved).toEqual([0n, 0n]);
  });
  it('decodes TT=2 (pass-through), FPD, a 16-bit DID and AVAIL bits', () => {
    // lo = 0x1234_5000 | TT 2 << 2 (0x8) | FPD (0x2) | P = 0x1234500b
    // hi = DID 0xbeef << 8 = 0xbeef00, AVAIL 0b1010 << 3 = 0x50, AW 2 → 0xbeef52
    const c = decodeLegacyContextEntry(0x1234500bn, 0xbeef52n);
    expect(c).toMatchObject({ P: true, FPD: true, TT: 2, SLPTPTR: 0x12345000, AW: 2, AVAIL: 0xa, DID: 0xbeef });
  });
  it('reports reserved bits lo 11:4, hi 7 and 63:24', () => {
    const c = decodeLegacyContextEntry(0x1011n, (1n << 7n) | (1n << 40n));
    expect(c.reserved[0]).toBe(0x10n);
    expect(c.reserved[1]).toBe((1n << 7n) | (1n << 40n));
  });
  it('keeps 52-bit pointers exact', () => {
    const c = decodeLegacyContextEntry(0x000f_ffff_ffff_f001n, 1n);
    expect(c.SLPTPTR).toBe(0xf_ffff_ffff_f000);
    expect(beyondHaw(0x000f_ffff_ffff_f001n, 39)).toBe(true);
    expect(beyondHaw(0x0000_007f_ffff_f001n, 39)).toBe(false);
    expect(beyondHaw(0x0000_0080_0000_0001n, 39)).toBe(true);
  });
});

describe('scalable-mode structures', () => {
  it('root entry: lower and upper context-table pointers', () => {
    const r = decodeScalableRootEntry(0x5000_1001n, 0x6000_2001n);
    expect(r).toMatchObject({ LP: true, LCTP: 0x50001000, UP: true, UCTP: 0x60002000 });
  });
  it('context entry: PASIDE, PDTS, directory pointer, RID_PASID', () => {
    // q0 = 0x777000 | PDTS 3 << 9 (0x600) | PASIDE (8) | P (1) = 0x777609
    // q1 = RID_PASID 0x12345 | RID_PRIV bit 20 = 0x112345
    const c = decodeScalableContextEntry(0x777609n, 0x112345n, 0n, 0n);
    expect(c).toMatchObject({ P: true, FPD: false, DTE: false, PASIDE: true, PRE: false, PDTS: 3, PASIDDIRPTR: 0x777000, RID_PASID: 0x12345, RID_PRIV: true });
    expect(c.reserved).toEqual([0n, 0n, 0n, 0n]);
  });
  it('context entry: DTE is qword 0 bit 2 (device-TLB: translated requests allowed)', () => {
    // q0 = 0x5000 | DTE (4) | P (1) = 0x5005; FPD (2) clear, PASIDE (8) clear.
    expect(decodeScalableContextEntry(0x5005n, 0n, 0n, 0n)).toMatchObject({ P: true, FPD: false, DTE: true, PASIDE: false, PASIDDIRPTR: 0x5000 });
    expect(decodeScalableContextEntry(0x5003n, 0n, 0n, 0n)).toMatchObject({ FPD: true, DTE: false });
  });
  it('PASID directory entry', () => {
    expect(decodePasidDirEntry(0xabc003n)).toMatchObject({ P: true, FPD: true, PTP: 0xabc000, reserved: 0n });
  });
  it('PASID table entry: second-level and first-level fields', () => {
    // q0 = SLPTPTR 0x2000000 | SLADE (0x200) | PGTT 2 << 6 (0x80) | AW 2 << 2 (0x8) | P = 0x2000289
    // q1 = DID 0x42 | PGSNP bit 24
    // q2 = FLPTPTR 0x3000000 | FLPM 1 << 2 | SRE = 0x3000005
    const e = decodePasidTableEntry([0x2000289n, 0x42n | (1n << 24n), 0x3000005n, 0n, 0n, 0n, 0n, 0n]);
    expect(e).toMatchObject({ P: true, AW: 2, PGTT: 2, SLADE: true, SLPTPTR: 0x2000000, DID: 0x42, PGSNP: true, SRE: true, FLPM: 1, FLPTPTR: 0x3000000 });
    expect(e.reserved.every((r) => r === 0n)).toBe(true);
  });
});
