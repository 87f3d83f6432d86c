/**
 * Register field decoders. Every expected value is derived by hand, bit by bit, in the comments
 * (VT-d spec chapter 11 / docs/vtd-formats.md §2), from the real QEMU unit's values (captures' README).
 */
import { describe, expect, it } from 'vitest';
import {
  buildUnitRegisters, decodeCap, decodeEcap, decodeFaultRecord, decodeFsts, decodeGsts, decodeRtaddr, decodeVer, FAULT_REASONS,
} from '../../src/decode/registers.js';

describe('CAP 0xd2008c22260206 (QEMU 7.2 intel-iommu)', () => {
  // 64-bit value 0x00d2_008c_2226_0206, bytes from bit 0 up: 06 02 26 22 8c 00 d2 00
  //   byte0 0x06 = 0000_0110: ND (2:0) = 110b = 6; AFL(3) RWBF(4) PLMR(5) PHMR(6) CM(7) all 0
  //   byte1 0x02 = 0000_0010: SAGAW (12:8) = 00010b → only AW 1 (39-bit, 3-level); 15:13 = 0
  //   byte2 0x26 = 0010_0110: MGAW (21:16) = 100110b = 38 → 39 bits; ZLR (22) = 0; bit 23 = 0
  //   byte3 0x22 and byte4 bits 1:0 (0x8c & 3 = 0): FRO (33:24) = 0x22 = 34 → FRCD at 34 × 16 = 0x220
  //   byte4 0x8c = 1000_1100: SLLPS (37:34) = bits 2..5 of 0x8c = 0011b = 3 (2 MiB and 1 GiB); 38 = 0; PSI (39) = 1
  //   byte5 0x00: NFR (47:40) = 0 → 1 fault recording register
  //   byte6 0xd2 = 1101_0010: MAMV (53:48) = 010010b = 18; DWD (54) = 1; DRD (55) = 1
  //   byte7 0x00: FL1GP, PI, FL5LP, ECMDS, ESIRTPS, ESRTPS all 0
  const c = decodeCap(0xd2008c22260206n);
  it('fields', () => {
    expect(c.raw).toBe(0xd2008c22260206n);
    expect(c.ND).toBe(6);
    expect(c.domains).toBe(65536);
    expect([c.AFL, c.RWBF, c.PLMR, c.PHMR, c.CM]).toEqual([false, false, false, false, false]);
    expect(c.SAGAW).toBe(0b00010);
    expect(c.MGAW).toBe(38);
    expect(c.mgawBits).toBe(39);
    expect(c.ZLR).toBe(false);
    expect(c.FRO).toBe(0x22);
    expect(c.SLLPS).toBe(3);
    expect(c.PSI).toBe(true);
    expect(c.NFR).toBe(0);
    expect(c.MAMV).toBe(18);
    expect([c.DWD, c.DRD]).toEqual([true, true]);
    expect([c.FL1GP, c.PI, c.FL5LP, c.ECMDS, c.ESIRTPS, c.ESRTPS]).toEqual([false, false, false, false, false, false]);
  });
  it('ND uses 3 bits (Linux/VB width, not FreeBSD 2): ND 7 is read as 7 — reserved, so no 2^18 domains but the 16-bit DID field\'s 2^16', () => {
    expect(decodeCap(7n).ND).toBe(7);
    expect(decodeCap(7n).domains).toBe(2 ** 16);
    expect(decodeCap(0n).domains).toBe(16);
  });
  it('FRO uses 10 bits (33:24): 0x3ff << 24', () => {
    expect(decodeCap(0x3ffn << 24n).FRO).toBe(0x3ff);
  });
  it('single high bits', () => {
    expect(decodeCap(1n << 63n).ESRTPS).toBe(true);
    expect(decodeCap(1n << 62n).ESIRTPS).toBe(true);
    expect(decodeCap(1n << 61n).ECMDS).toBe(true);
    expect(decodeCap(1n << 60n).FL5LP).toBe(true);
    expect(decodeCap(1n << 59n).PI).toBe(true);
    expect(decodeCap(1n << 56n).FL1GP).toBe(true);
    expect(decodeCap(0xffn << 40n).NFR).toBe(255);
    expect(decodeCap(1n << 7n).CM).toBe(true);
  });
});

describe('ECAP 0xf00f4a (QEMU)', () => {
  // 0x0000_0000_00f0_0f4a, bytes: 4a 0f f0 00 …
  //   byte0 0x4a = 0100_1010: C(0)=0 QI(1)=1 DT(2)=0 IR(3)=1 EIM(4)=0 (5)=0 PT(6)=1 SC(7)=0
  //   byte1 0x0f and byte2 bits 1:0 (0xf0 & 3 = 0): IRO (17:8) = 0x0f = 15 → IOTLB registers at 0xf0
  //   byte2 0xf0: bits 19:18 = 0; MHMV (23:20) = 0xf
  //   everything from bit 24 up is 0 (no scalable mode, no PASID, no nesting)
  const e = decodeEcap(0xf00f4an);
  it('fields', () => {
    expect([e.C, e.QI, e.DT, e.IR, e.EIM, e.PT, e.SC]).toEqual([false, true, false, true, false, true, false]);
    expect(e.IRO).toBe(15);
    expect(e.MHMV).toBe(15);
    expect([e.MTS, e.NEST, e.PRS, e.ERS, e.SRS, e.NWFS, e.EAFS, e.PASID, e.DIT, e.PDS, e.SMTS, e.VCS,
      e.SLADS, e.SLTS, e.FLTS, e.SMPWCS, e.RPS, e.PMS, e.ADMS, e.RPRIVS].every((x) => x === false)).toBe(true);
    expect(e.PSS).toBe(0);
  });
  it('PSS uses 5 bits (39:35); scalable-mode bits', () => {
    expect(decodeEcap(0x1fn << 35n).PSS).toBe(31);
    expect(decodeEcap(1n << 40n).PASID).toBe(true);
    expect(decodeEcap(1n << 43n).SMTS).toBe(true);
    expect(decodeEcap(1n << 46n).SLTS).toBe(true);
    expect(decodeEcap(1n << 47n).FLTS).toBe(true);
    expect(decodeEcap(1n << 52n).ADMS).toBe(true);
    expect(decodeEcap(1n << 53n).RPRIVS).toBe(true);
    // deprecated bit 28 (VT-d 2.x PASID) is not the PASID capability
    expect(decodeEcap(1n << 28n).PASID).toBe(false);
  });
});

describe('VER, GSTS, RTADDR, FSTS', () => {
  it('VER 0x10 → 1.0; 0x31 → 3.1', () => {
    expect(decodeVer(0x10n)).toEqual({ major: 1, minor: 0 });
    expect(decodeVer(0x31)).toEqual({ major: 3, minor: 1 });
  });
  it('GSTS 0xc7000000: 1100_0111 in bits 31:24 → TES RTPS QIES IRES IRTPS', () => {
    const g = decodeGsts(0xc7000000n);
    expect(g.raw).toBe(0xc7000000);
    expect([g.TES, g.RTPS, g.FLS, g.AFLS, g.WBFS, g.QIES, g.IRES, g.IRTPS, g.CFIS])
      .toEqual([true, true, false, false, false, true, true, true, false]);
    expect(decodeGsts(1 << 23).CFIS).toBe(true);
    expect(decodeGsts(0).TES).toBe(false);
  });
  it('RTADDR legacy 0x2643000 and 0x23c5000', () => {
    expect(decodeRtaddr(0x2643000n)).toEqual({ raw: 0x2643000n, TTM: 0, mode: 'legacy', RTA: 0x2643000, reserved: 0 });
    expect(decodeRtaddr(0x23c5000n).RTA).toBe(0x23c5000);
  });
  it('RTADDR TTM bits 11:10', () => {
    expect(decodeRtaddr(0x1234000n | (1n << 10n))).toMatchObject({ TTM: 1, mode: 'scalable', RTA: 0x1234000 });
    expect(decodeRtaddr(1n << 11n).mode).toBe('extended');
    expect(decodeRtaddr(3n << 10n).mode).toBe('abort');
    expect(decodeRtaddr(0x1000n | 0x3ffn).reserved).toBe(0x3ff);
  });
  it('FSTS 0x0302: PPF (bit 1), FRI (15:8) = 3', () => {
    const f = decodeFsts(0x0302n);
    expect([f.PFO, f.PPF, f.AFO, f.APF, f.IQE, f.ICE, f.ITE, f.PRO]).toEqual([false, true, false, false, false, false, false, false]);
    expect(f.FRI).toBe(3);
    expect(decodeFsts(0xffn).ITE).toBe(true);
  });
});

describe('fault records', () => {
  it('read fault of 01:00.0 at 0xbadd000, reason 6 (the fault in qemu-linux61-dmar-fault/dmesg.txt)', () => {
    // hi = F(63) | T1(62) | FR 0x06 << 32 | SID 0x0100 = 0xc000_0006_0000_0100; lo = 0xbadd000
    const r = decodeFaultRecord(0, 0xbadd000n, 0xc000000600000100n);
    expect(r).toMatchObject({
      index: 0, F: true, FIpfn: 0xbadd, SID: 0x100, bus: 1, devfn: 0, FR: 6, type: 'read',
      PP: false, PV: 0, EXE: false, PRIV: false, AT: 0,
    });
    expect(r.reason).toMatch(/read/i);
  });
  it('every hi field at its own bit', () => {
    const hi = (1n << 63n) | (2n << 60n) | (0x12345n << 40n) | (0x59n << 32n) | (1n << 31n) | (1n << 30n) | (1n << 29n) | (1n << 28n) | 0x02a3n;
    const r = decodeFaultRecord(5, 0xffff_ffff_ffff_f123n, hi);
    expect(r).toMatchObject({
      index: 5, F: true, AT: 2, PV: 0x12345, FR: 0x59, PP: true, EXE: true, PRIV: true, type: 'page-request',
      SID: 0x2a3, bus: 2, devfn: 0xa3, FIpfn: 0xf_ffff_ffff_ffff,
    });
    expect(decodeFaultRecord(0, 0n, (1n << 62n) | (1n << 28n)).type).toBe('atomic');
    expect(decodeFaultRecord(0, 0n, 0n).type).toBe('write');
    expect(decodeFaultRecord(0, 0n, 0n).F).toBe(false);
  });
  it('unknown reason codes get a name too', () => {
    expect(decodeFaultRecord(0, 0n, 0xffn << 32n).reason).toMatch(/0xff/);
  });
});

describe('FAULT_REASONS', () => {
  it('covers the legacy, interrupt-remapping and scalable-mode ranges', () => {
    for (let c = 1; c <= 0xe; c++) expect(FAULT_REASONS[c], `0x${c.toString(16)}`).toBeTypeOf('string');
    for (let c = 0x20; c <= 0x26; c++) expect(FAULT_REASONS[c]).toBeTypeOf('string');
    for (const c of [0x30, 0x31, 0x32, 0x38, 0x39, 0x3a, 0x40, 0x41, 0x47, 0x50, 0x51, 0x52, 0x58, 0x59, 0x5a, 0x5b, 0x70, 0x78, 0x80, 0x87, 0x90]) {
      expect(FAULT_REASONS[c], `0x${c.toString(16)}`).toBeTypeOf('string');
    }
    expect(FAULT_REASONS[0]).toBeUndefined();
    expect(FAULT_REASONS[0x1]).toMatch(/root/);
    expect(FAULT_REASONS[0x2]).toMatch(/context/);
    expect(FAULT_REASONS[0x5]).toMatch(/write/);
    expect(FAULT_REASONS[0x6]).toMatch(/read/);
    expect(FAULT_REASONS[0x5b]).toMatch(/invalid PASID table entry/);
    expect(FAULT_REASONS[0x58]).toMatch(/accessing a PASID table entry/);
  });
});

describe('buildUnitRegisters', () => {
  it('decodes what is present and leaves the rest undefined', () => {
    const u = buildUnitRegisters(0xfed90000, { VER: 0x10n, CAP: 0xd2008c22260206n, GSTS: 0xc7000000n }, 'dmar0');
    expect(u.base).toBe(0xfed90000);
    expect(u.name).toBe('dmar0');
    expect(u.VER).toEqual({ major: 1, minor: 0 });
    expect(u.CAP?.mgawBits).toBe(39);
    expect(u.GSTS?.TES).toBe(true);
    expect(u.ECAP).toBeUndefined();
    expect(u.RTADDR).toBeUndefined();
    expect(u.FSTS).toBeUndefined();
    expect(u.faultRecords).toEqual([]);
    expect('name' in buildUnitRegisters(0, {})).toBe(false);
  });
  it('FRCDn_LO/_HI pairs and 128-bit FRCDn, sorted by index', () => {
    const u = buildUnitRegisters(0x1000, {
      FRCD2: (0xc000000600000100n << 64n) | 0xbadd000n,
      FRCD0_HI: 0x8000000500000008n,
      FRCD0_LO: 0x7000n,
      FRCD1_LO: 0x5000n,
    });
    expect(u.faultRecords.map((r) => [r.index, r.F, r.FIpfn, r.FR, r.SID])).toEqual([
      [0, true, 7, 5, 8],
      [1, false, 5, 0, 0],
      [2, true, 0xbadd, 6, 0x100],
    ]);
  });
  it('the _LO/_HI pair wins over a 128-bit value of the same index', () => {
    const u = buildUnitRegisters(0x1000, { FRCD0: (1n << 127n) | 0x1000n, FRCD0_LO: 0x2000n });
    expect(u.faultRecords).toHaveLength(1);
    expect(u.faultRecords[0].FIpfn).toBe(2);
    expect(u.faultRecords[0].F).toBe(false);
  });
});
