/**
 * remapInterrupt: the spec's checks in order (VT-d §5.1.4), over a hand-built table. The IRTE
 * qwords are composed from the layout in the comments; expected outcomes follow from the spec.
 */
import { describe, expect, it } from 'vitest';
import { remapInterrupt, sourceIdMatches, type IrUnitState } from '../../src/decode/ir-remap.js';
import { decodeMsi } from '../../src/decode/msi.js';

const P = 1n;
const FPD = 2n;
const svt = (v: number): bigint => BigInt(v) << 18n;
const sq = (v: number): bigint => BigInt(v) << 16n;

const TABLE = new Map<number, { lo: bigint; hi: bigint }>([
  // The e1000e's entry in qemu-linux61-debugfs (index 22): vector 0x27, DST 0x100, SID 01:00.0, SVT 01b
  [22, { lo: 0x000001000027000dn, hi: 0x40100n }],
  [5, { lo: 0n, hi: 0n }], // not present
  [6, { lo: FPD, hi: 0n }], // not present, FPD set
  [7, { lo: P | (1n << 24n), hi: 0n }], // present, reserved bit 24
  [8, { lo: P | (0x33n << 16n), hi: svt(2) | 0x0205n }], // bus range 02..05
  [9, { lo: P, hi: svt(1) | sq(3) | 0x0310n }], // 03:02.0, ignore bits 2:0
  [10, { lo: P, hi: svt(1) | sq(1) | 0x0310n }], // 03:02.0, ignore bit 2
  [11, { lo: P, hi: svt(1) | sq(2) | 0x0310n }], // 03:02.0, ignore bits 2:1
  // posted: P, IM (bit 15), VV 0x41; descriptor 0x1_2345_6780 (see irte.test.ts); SID 01:00.0 SVT 01b
  [12, { lo: 0x2345_6780_0041_8001n, hi: 0x0000_0001_0004_0100n }],
  [13, { lo: P | (0x44n << 16n), hi: 0n }], // SVT 00b: anyone
  [14, { lo: P, hi: svt(3) }], // reserved SVT
]);
const lookup = (i: number) => TABLE.get(i);
const UNIT: IrUnitState = { enabled: true, eime: false, cfis: false, entries: 256, postedInterrupts: true };

/** Remappable-format MSI naming IRTE `index` (< 0x8000, no SHV): address bits 19:5 = index, bit 4 = 1. */
const msiFor = (index: number) => decodeMsi(0xfee00000 + (index << 5) + 0x10, 0);
const sid = (bus: number, dev: number, fn: number) => (bus << 8) | (dev << 3) | fn;

describe('remapped delivery', () => {
  it('IRTE 22 from 01:00.0: vector 0x27 to APIC id 1 (xAPIC DST 0x100), logical, fixed, edge, RH', () => {
    const r = remapInterrupt(msiFor(22), lookup, UNIT, sid(1, 0, 0));
    expect(r).toMatchObject({
      outcome: 'remapped', index: 22, vector: 0x27, destination: 0x100, apicId: 1,
      destinationMode: 'logical', deliveryMode: 'fixed', triggerMode: 'edge', redirectionHint: true, sourceIdVerified: true,
    });
  });
  it('without a requester the entry is delivered but the source-id is not verified', () => {
    expect(remapInterrupt(msiFor(22), lookup, UNIT)).toMatchObject({ outcome: 'remapped', sourceIdVerified: false });
  });
  it('SVT 00b accepts any requester, unverified', () => {
    expect(remapInterrupt(msiFor(13), lookup, UNIT, sid(9, 9, 1))).toMatchObject({ outcome: 'remapped', vector: 0x44, sourceIdVerified: false });
  });
  it('with EIME the whole DST is the APIC id', () => {
    expect(remapInterrupt(msiFor(22), lookup, { ...UNIT, eime: true }, sid(1, 0, 0))).toMatchObject({ apicId: 0x100 });
  });
});

describe('faults, in the order the hardware checks', () => {
  it('0x26: IRTE 22 used by 02:00.0', () => {
    const r = remapInterrupt(msiFor(22), lookup, UNIT, sid(2, 0, 0));
    expect(r).toMatchObject({ outcome: 'fault', code: 0x26, index: 22, faultRecorded: true });
    expect(r.outcome === 'fault' && r.reason).toBe('interrupt blocked by source-id verification');
    expect(r.outcome === 'fault' && r.detail).toMatch(/requester 0000:01:00\.0 .*not 0000:02:00\.0$/);
  });
  it('0x21: index 256 on a 256-entry table (and 0x21 comes before the lookup)', () => {
    expect(remapInterrupt(msiFor(256), lookup, UNIT, 0)).toMatchObject({ outcome: 'fault', code: 0x21, index: 256 });
    expect(remapInterrupt(msiFor(255), lookup, UNIT, 0)).toMatchObject({ outcome: 'unknown', index: 255 });
  });
  it('no table size known: the 0x21 check is skipped', () => {
    expect(remapInterrupt(msiFor(256), lookup, { ...UNIT, entries: undefined }, 0)).toMatchObject({ outcome: 'unknown' });
  });
  it('0x22: not present; FPD in the entry says the fault is not recorded', () => {
    expect(remapInterrupt(msiFor(5), lookup, UNIT, 0)).toMatchObject({ outcome: 'fault', code: 0x22, faultRecorded: true });
    expect(remapInterrupt(msiFor(6), lookup, UNIT, 0)).toMatchObject({ outcome: 'fault', code: 0x22, faultRecorded: false });
  });
  it('0x24: reserved bit 24 set; reserved SVT 11b', () => {
    const r = remapInterrupt(msiFor(7), lookup, UNIT, 0);
    expect(r).toMatchObject({ outcome: 'fault', code: 0x24 });
    expect(r.outcome === 'fault' && r.detail).toContain('reserved 31:24 = 0x1');
    expect(remapInterrupt(msiFor(14), lookup, UNIT, 0)).toMatchObject({ outcome: 'fault', code: 0x24 });
  });
  it('0x24 before 0x26: a reserved-bit entry faults 0x24 whoever sends', () => {
    expect(remapInterrupt(msiFor(7), lookup, UNIT, sid(0xaa, 1, 1))).toMatchObject({ code: 0x24 });
  });
  it('0x20: SHV with data bits 31:16 set', () => {
    // handle 22, SHV: 0xfee002d8; data 0x10000
    expect(remapInterrupt(decodeMsi(0xfee002d8, 0x1_0000), lookup, UNIT, sid(1, 0, 0))).toMatchObject({ outcome: 'fault', code: 0x20 });
    // the same with data 0 is IRTE 22 itself
    expect(remapInterrupt(decodeMsi(0xfee002d8, 0), lookup, UNIT, sid(1, 0, 0))).toMatchObject({ outcome: 'remapped', index: 22 });
  });
});

describe('source-id verification', () => {
  it('SVT 10b: bus between SID[15:8] (start) and SID[7:0] (end)', () => {
    for (const [bus, ok] of [[1, false], [2, true], [4, true], [5, true], [6, false]] as const) {
      expect(remapInterrupt(msiFor(8), lookup, UNIT, sid(bus, 3, 1)).outcome).toBe(ok ? 'remapped' : 'fault');
    }
  });
  it('SVT 10b with start > end accepts no bus', () => {
    expect(sourceIdMatches({ SID: 0x0502, SQ: 0, SVT: 2 }, 0x0300)).toBe(false);
  });
  it('SQ 11b ignores function bits 2:0 (03:02.7 passes, 03:03.0 does not)', () => {
    expect(remapInterrupt(msiFor(9), lookup, UNIT, sid(3, 2, 7)).outcome).toBe('remapped');
    expect(remapInterrupt(msiFor(9), lookup, UNIT, sid(3, 3, 0)).outcome).toBe('fault');
  });
  it('SQ 01b ignores bit 2 only (03:02.4 passes, 03:02.2 does not)', () => {
    expect(remapInterrupt(msiFor(10), lookup, UNIT, sid(3, 2, 4)).outcome).toBe('remapped');
    expect(remapInterrupt(msiFor(10), lookup, UNIT, sid(3, 2, 2)).outcome).toBe('fault');
  });
  it('SQ 10b ignores bits 2:1 (03:02.6 passes, 03:02.1 does not)', () => {
    expect(remapInterrupt(msiFor(11), lookup, UNIT, sid(3, 2, 6)).outcome).toBe('remapped');
    expect(remapInterrupt(msiFor(11), lookup, UNIT, sid(3, 2, 1)).outcome).toBe('fault');
  });
  it('SQ 00b compares all 16 bits', () => {
    expect(sourceIdMatches({ SID: 0x0310, SQ: 0, SVT: 1 }, 0x0310)).toBe(true);
    expect(sourceIdMatches({ SID: 0x0310, SQ: 0, SVT: 1 }, 0x0311)).toBe(false);
  });
});

describe('posted entries', () => {
  it('delivered as posted: VV 0x41 into the descriptor at 0x1_2345_6780', () => {
    expect(remapInterrupt(msiFor(12), lookup, UNIT, sid(1, 0, 0))).toMatchObject({
      outcome: 'posted', virtualVector: 0x41, descriptor: 0x1_2345_6780n, urgent: false, sourceIdVerified: true,
    });
  });
  it('on a unit without CAP.PI, IM = 1 is a reserved bit: 0x24', () => {
    expect(remapInterrupt(msiFor(12), lookup, { ...UNIT, postedInterrupts: false }, sid(1, 0, 0))).toMatchObject({ outcome: 'fault', code: 0x24 });
  });
});

describe('compatibility format and IR off', () => {
  const compat = decodeMsi(0xfee01000, 0x0031); // APIC id 1, vector 0x31
  it('0x25 with CFIS clear', () => {
    expect(remapInterrupt(compat, lookup, UNIT)).toMatchObject({ outcome: 'fault', code: 0x25, reason: 'compatibility-format interrupt blocked' });
  });
  it('0x25 with EIME set, even with CFIS set (VT-d 5.1.4)', () => {
    expect(remapInterrupt(compat, lookup, { ...UNIT, cfis: true, eime: true })).toMatchObject({ outcome: 'fault', code: 0x25 });
  });
  it('passes through unremapped with CFIS set and EIME clear', () => {
    expect(remapInterrupt(compat, lookup, { ...UNIT, cfis: true })).toMatchObject({ outcome: 'not-remapped', why: 'compatibility-pass-through' });
  });
  it('IR disabled: nothing is remapped, whatever the format', () => {
    const off = { ...UNIT, enabled: false };
    expect(remapInterrupt(compat, lookup, off)).toMatchObject({ outcome: 'not-remapped', why: 'ir-disabled' });
    expect(remapInterrupt(msiFor(5), lookup, off)).toMatchObject({ outcome: 'not-remapped', why: 'ir-disabled' });
  });
});
