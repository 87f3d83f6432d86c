/** IRTA / IQA / IQERCD field decoding (VT-d spec §11.4.8–§11.4.9); values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { decodeIqa, decodeIqercd, decodeIrta } from '../../src/decode/ir-registers.js';

describe('IRTA', () => {
  it('0x210000f (qemu-linux61-debugfs): S 15 → 65,536 entries (1 MiB), xAPIC, table 0x2100000', () => {
    // bits 3:0 = 0xf → 2^(15+1) = 65536 entries × 16 bytes = 0x100000; bit 11 = 0 (0x00f has no 0x800)
    const r = decodeIrta(0x210000fn);
    expect(r.S).toBe(15);
    expect(r.entries).toBe(65536);
    expect(r.bytes).toBe(0x100000);
    expect(r.EIME).toBe(false);
    expect(r.IRTA).toBe(0x2100000);
    expect(r.reserved).toBe(0);
    expect(r.aboveHaw).toBe(0);
  });

  it('EIME (bit 11), S 0 → 2 entries, reserved 10:4 and bits above 52', () => {
    const r = decodeIrta(0xfff0_0000_1234_5800n | 0x1f0n);
    // 0x800 → EIME; 0x1f0 >> 4 = 0x1f in bits 10:4; S = 0 → 2 entries; bits 63:52 = 0xfff
    expect(r.EIME).toBe(true);
    expect(r.S).toBe(0);
    expect(r.entries).toBe(2);
    expect(r.reserved).toBe(0x1f);
    expect(r.aboveHaw).toBe(0xfff);
    expect(r.IRTA).toBe(0x1234_5000);
  });
});

describe('IQA', () => {
  it('0x206a000 (qemu-linux61-debugfs): one page of 128-bit descriptors = 256', () => {
    const q = decodeIqa(0x206a000n);
    expect([q.QS, q.DW, q.descriptorBytes, q.descriptors, q.IQA, q.reserved]).toEqual([0, false, 16, 256, 0x206a000, 0]);
  });
  it('QS 2, DW 1: 4 pages of 256-bit descriptors = 512', () => {
    const q = decodeIqa(0x1_0000_0802n);
    expect([q.QS, q.DW, q.descriptorBytes, q.descriptors, q.IQA]).toEqual([2, true, 32, 512, 0x1_0000_0000]);
  });
});

describe('IQERCD', () => {
  it('ICESID 63:48, ITESID 47:32, IQEI 3:0', () => {
    const e = decodeIqercd(0xabcd_1234_0000_0004n);
    expect([e.ICESID, e.ITESID, e.IQEI]).toEqual([0xabcd, 0x1234, 4]);
    expect(e.iqeiName).toBe('reserved field set in the descriptor');
    expect(decodeIqercd(0xfn).iqeiName).toBe('reserved IQEI value 15');
  });
});
