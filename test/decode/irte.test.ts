/**
 * IRTE decoding (VT-d spec ch. 9, remapped and posted formats). Every expected value is worked out
 * by hand in the comments from the bit layout, never taken from the decoder's output.
 */
import { describe, expect, it } from 'vitest';
import { decodeIrte, decodeIrteBytes, presentIrtes, type PostedIrte, type RemappedIrte } from '../../src/decode/irte.js';

function remapped(lo: bigint, hi: bigint, eime = false): RemappedIrte {
  const e = decodeIrte(lo, hi, { eime });
  if (e.mode !== 'remapped') throw new Error('expected a remapped IRTE');
  return e;
}
function posted(lo: bigint, hi: bigint): PostedIrte {
  const e = decodeIrte(lo, hi);
  if (e.mode !== 'posted') throw new Error('expected a posted IRTE');
  return e;
}

describe('remapped IRTE', () => {
  it('the IOAPIC entry QEMU/Linux wrote (index 1 of qemu-linux61-debugfs): lo 0x000001000030000d hi 0x4ff00', () => {
    // lo byte 0 = 0x0d = 0000_1101b: P (0) = 1, FPD (1) = 0, DM (2) = 1, RH (3) = 1, TM (4) = 0, DLM (7:5) = 000b fixed
    // lo byte 1 = 0x00: AVAIL (11:8) = 0, 14:12 = 0, IM (15) = 0 → remapped
    // lo byte 2 = 0x30: V = 0x30;  byte 3 = 0x00 (reserved 31:24)
    // lo bits 63:32 = 0x00000100: DST; xAPIC → APIC id = DST[15:8] = 0x01, DST[7:0] = DST[31:16] = 0
    // hi = 0x4ff00 = 0100_1111_1111_0000_0000b: SID (15:0) = 0xff00, SQ (17:16) = 00b, SVT (19:18) = 01b
    const e = remapped(0x000001000030000dn, 0x4ff00n);
    expect(e.P).toBe(true);
    expect(e.FPD).toBe(false);
    expect(e.DM).toBe(true);
    expect(e.RH).toBe(true);
    expect(e.TM).toBe(false);
    expect(e.DLM).toBe(0);
    expect(e.deliveryMode).toBe('fixed');
    expect(e.AVAIL).toBe(0);
    expect(e.IM).toBe(false);
    expect(e.V).toBe(0x30);
    expect(e.DST).toBe(0x100);
    expect(e.apicId).toBe(0x01);
    expect(e.SID).toBe(0xff00);
    expect(e.SQ).toBe(0);
    expect(e.SVT).toBe(1);
    expect(e.reserved).toEqual([0n, 0n]);
    expect(e.reservedFields).toEqual([]);
    expect(e.reservedEncodings).toEqual([]);
  });

  it('every field distinct: lo 0x00001200005c0a9b hi 0x60308', () => {
    // lo byte 0 = 0x9b = 1001_1011b: P 1, FPD 1, DM 0 (physical), RH 1, TM 1 (level), DLM = 100b = 4 NMI
    // lo byte 1 = 0x0a: AVAIL = 0xa, IM 0;  byte 2 = 0x5c: V;  DST = 0x00001200 → APIC id 0x12
    // hi = 0x60308: SID 0x0308 = bus 3, devfn 0x08 = 01.0; bits 19:16 = 0x6 = 0110b → SQ 10b, SVT 01b
    const e = remapped(0x0000_1200_005c_0a9bn, 0x6_0308n);
    expect([e.P, e.FPD, e.DM, e.RH, e.TM]).toEqual([true, true, false, true, true]);
    expect(e.DLM).toBe(4);
    expect(e.deliveryMode).toBe('NMI');
    expect(e.AVAIL).toBe(0xa);
    expect(e.V).toBe(0x5c);
    expect(e.DST).toBe(0x1200);
    expect(e.apicId).toBe(0x12);
    expect([e.SID, e.SQ, e.SVT]).toEqual([0x0308, 2, 1]);
    expect(e.reservedFields).toEqual([]);
  });

  it('DST 0x12345678: x2APIC (EIME) uses all 32 bits; xAPIC uses DST[15:8] and flags 7:0 and 31:16 as reserved', () => {
    const lo = 0x1234_5678_0000_0001n; // P = 1, DST = 0x12345678
    const x2 = remapped(lo, 0n, true);
    expect(x2.apicId).toBe(0x12345678);
    expect(x2.reservedFields).toEqual([]);
    const x1 = remapped(lo, 0n, false);
    // DST[15:8] = 0x56; DST[7:0] = 0x78 sits at entry bits 39:32; DST[31:16] = 0x1234 at entry bits 63:48
    expect(x1.apicId).toBe(0x56);
    expect(x1.reservedFields).toEqual([
      { name: 'DST[7:0] (reserved in xAPIC mode)', bits: '39:32', value: 0x78n },
      { name: 'DST[31:16] (reserved in xAPIC mode)', bits: '63:48', value: 0x1234n },
    ]);
    // masks: 0x78 << 32 = 0x78_0000_0000 and 0x1234 << 48 = 0x1234_0000_0000_0000
    expect(x1.reserved).toEqual([0x1234_0078_0000_0000n, 0n]);
  });

  it('reserved 14:12, 31:24 and 127:84 are named with the value of the field', () => {
    // lo bit 13 (field 14:12 = 010b = 2), lo bit 24 (field 31:24 = 1); hi bit 20 = entry bit 84 and hi bit 63 = entry bit 127
    const lo = (1n << 13n) | (1n << 24n) | 1n;
    const hi = (1n << 20n) | (1n << 63n);
    const e = remapped(lo, hi);
    expect(e.reservedFields).toEqual([
      { name: 'reserved 14:12', bits: '14:12', value: 2n },
      { name: 'reserved 31:24', bits: '31:24', value: 1n },
      // field 127:84 = hi bits 63:20: bit 20 → 1, bit 63 → 1 << 43
      { name: 'reserved 127:84', bits: '127:84', value: 1n | (1n << 43n) },
    ]);
    expect(e.reserved).toEqual([(1n << 13n) | (1n << 24n), (1n << 20n) | (1n << 63n)]);
  });

  it('reserved encodings: SVT 11b and DLM 011b / 110b', () => {
    expect(remapped(1n, 3n << 18n).reservedEncodings).toEqual(['SVT = 11b']);
    expect(remapped(1n | (3n << 5n), 0n).reservedEncodings).toEqual(['DLM = 011b']);
    expect(remapped(1n | (6n << 5n), 0n).deliveryMode).toBe('reserved');
    expect(remapped(1n | (7n << 5n), 0n).deliveryMode).toBe('ExtINT');
  });
});

describe('posted IRTE', () => {
  // Descriptor at 0x1_2345_6780 (64-byte aligned: 0x80 & 0x3f = 0).
  //   PDA-L = address bits 31:6 = 0x23456780 >> 6, at entry bits 63:38 → lo bits 63:32 read 0x23456780
  //   PDA-H = address bits 63:32 = 0x1, at entry bits 127:96 → hi bits 63:32
  // lo low half: P (bit 0) 1, URG (14) 1, IM (15) 1 → 0xc001; VV (23:16) = 0x41 → 0x41_c001
  // hi low half: SID 0x0100 (01:00.0), SVT 01b (bit 18) → 0x4_0100
  const lo = 0x2345_6780_0041_c001n;
  const hi = 0x0000_0001_0004_0100n;

  it('fields', () => {
    const e = posted(lo, hi);
    expect(e.P).toBe(true);
    expect(e.IM).toBe(true);
    expect(e.URG).toBe(true);
    expect(e.VV).toBe(0x41);
    expect(e.PDAL).toBe(0x23456780 >> 6);
    expect(e.PDAH).toBe(1);
    expect(e.PDA).toBe(0x1_2345_6780n);
    expect([e.SID, e.SQ, e.SVT]).toEqual([0x0100, 0, 1]);
    expect(e.reservedFields).toEqual([]);
  });

  it('its own reserved fields: 7:2 (DM/RH/TM/DLM in the remapped format), 13:12, 37:24, 95:84', () => {
    // bit 2 → field 7:2 = 1; bit 12 → 13:12 = 1; bit 24 → 37:24 = 1; hi bit 31 = entry bit 95 → 95:84 = 1 << 11
    const e = posted(lo | (1n << 2n) | (1n << 12n) | (1n << 24n), hi | (1n << 31n));
    expect(e.reservedFields.map((f) => [f.bits, f.value])).toEqual([
      ['7:2', 1n], ['13:12', 1n], ['37:24', 1n], ['95:84', 1n << 11n],
    ]);
    // PDA-H (hi 63:32) is an address, not reserved
    expect(e.reserved[1]).toBe(1n << 31n);
  });
});

describe('bytes', () => {
  it('decodeIrteBytes reads two little-endian qwords', () => {
    // entry 1 of qemu-linux61-debugfs as memory holds it
    const b = Uint8Array.from([0x0d, 0x00, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const e = decodeIrteBytes(b);
    expect(e.lo).toBe(0x000001000030000dn);
    expect(e.hi).toBe(0x4ff00n);
    expect(() => decodeIrteBytes(b, 1)).toThrow(RangeError);
  });

  it('presentIrtes lists only entries with P = 1, by index', () => {
    const b = new Uint8Array(64);
    b[16] = 0x01; // entry 1: P
    b[32] = 0x02; // entry 2: FPD only, not present
    b[48] = 0x0d; // entry 3: P
    b[63] = 0x80; // entry 3 hi bit 63
    expect(presentIrtes(b, 100)).toEqual([
      { index: 101, lo: 1n, hi: 0n },
      { index: 103, lo: 0xdn, hi: 1n << 63n },
    ]);
  });
});
