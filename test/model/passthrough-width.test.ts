/**
 * Pass-through is not "any address goes": the VT-d spec's CAP.MGAW text (repeated in Intel's
 * datasheets: "untranslated and translated DMA requests to addresses above 2^(x+1)-1 are always
 * blocked by hardware") bounds every request, and a legacy context entry with TT = 10b carries in
 * AW the width of the pass-through window (the spec: AW "must be programmed to indicate the
 * largest AGAW value supported by hardware"; Linux writes iommu->msagaw there, VirtualBox's
 * DevIommuIntel checks it). An untranslated request at or above 2^min(MGAW + 1, 30 + 9·AW) is the
 * address-width fault: reason 4h in legacy mode (LGN.1.x), 83h in scalable mode (SGN.4.x,
 * "SM: Address beyond the DMA hardware max" in Linux's dmar.c). Scalable PGTT = 100b entries carry
 * AW too (Linux writes iommu->agaw); an AW outside SAGAW's bits 1–3 bounds nothing there.
 *
 * Tables, by hand (legacy, root 0x100000):
 *   bus 3: lo = CTP 0x101000 | P = 0x101001
 *   context table 0x101000, 16-byte entries at devfn · 16:
 *     03:01.0 (devfn 8, 0x101080): lo = TT 10b << 2 | P = 0x9, hi = DID 1 << 8 | AW 2 (48-bit) = 0x102
 *     03:01.1 (devfn 9, 0x101090): lo = 0x9, hi = 0x101 (AW 1, 39-bit: not the largest SAGAW width)
 *     03:01.2 (devfn 10, 0x1010a0): lo = 0x9, hi = 0x103 (AW 3, 57-bit: not in SAGAW 0b00110)
 * Scalable (root 0x200000, TTM 01b):
 *   bus 3: lo = LCTP 0x201000 | LP = 0x201001
 *   03:00.0 (index 0, 0x201000): q0 = PASIDDIRPTR 0x203000 | P = 0x203001, q1 = RID_PASID 0
 *   03:00.1 (index 1, 0x201020): q0 = 0x205001, q1 = 0
 *   dir 0x203000 [0] = 0x204001; PASID 0 at 0x204000: q0 = PGTT 4 << 6 (0x100) | AW 2 << 2 (0x8) | P = 0x109, q1 = DID 1
 *   dir 0x205000 [0] = 0x206001; PASID 0 at 0x206000: q0 = 0x101 (PGTT 100b, AW 0), q1 = DID 2
 */
import { describe, expect, it } from 'vitest';
import { translate } from '../../src/model/translate.js';
import type { Unit } from '../../src/model/types.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { makeRegisters, snapshot } from '../checks/snapshot-builder.js';
import { memoryOf } from '../helpers/memory.js';

const BASE = 0xfed90000;

function tables(): PhysBuilder {
  const p = new PhysBuilder();
  const q = (addr: number, v: bigint): void => p.writeQword(addr, v);
  q(0x100000 + 3 * 16, 0x101001n);
  q(0x101080, 0x9n);
  q(0x101088, 0x102n);
  q(0x101090, 0x9n);
  q(0x101098, 0x101n);
  q(0x1010a0, 0x9n);
  q(0x1010a8, 0x103n);
  q(0x200000 + 3 * 16, 0x201001n);
  q(0x201000, 0x203001n);
  q(0x201020, 0x205001n);
  q(0x203000, 0x204001n);
  q(0x204000, 0x109n);
  q(0x204008, 1n);
  q(0x205000, 0x206001n);
  q(0x206000, 0x101n);
  q(0x206008, 2n);
  return p;
}
const mem = memoryOf(tables());

/** A unit with SAGAW 39/48-bit and MGAW field `mgaw` (width mgaw + 1). */
function unit(mode: 'legacy' | 'scalable', mgaw = 47): Unit {
  const registers = makeRegisters(BASE, { sagaw: 0b00110, ttm: mode === 'scalable' ? 1 : 0, smts: mode === 'scalable', rtaddr: mode === 'scalable' ? 0x200000 : 0x100000 });
  registers.CAP = { ...registers.CAP!, MGAW: mgaw, mgawBits: mgaw + 1 };
  return {
    segment: 0, registerBase: BASE, rootTable: mode === 'scalable' ? 0x200000 : 0x100000, mode, registers, translationEnabled: true, rootTablePointerSet: true,
    rootEntries: [], contexts: [], domains: [], tableProblems: [],
  };
}
const tr = (u: Unit, devfn: number, iova: bigint) => translate(mem, { unit: u, bdf: { segment: 0, bus: 3, devfn }, iova, access: 'read', haw: 46 });
const P48 = 1n << 48n;
const P39 = 1n << 39n;

describe('legacy TT = 10b: bounded by MGAW and the entry\'s AW (fault 0x4)', () => {
  it('AW 2 (48-bit), MGAW 48-bit: the last page below 2^48 passes, 2^48 faults with 0x4', () => {
    expect(tr(unit('legacy'), 8, P48 - 0x1000n)).toMatchObject({ hpa: P48 - 0x1000n, passThrough: true });
    const r = tr(unit('legacy'), 8, P48);
    expect(r.hpa).toBeUndefined();
    expect(r.fault?.code).toBe(0x4);
  });

  it('MGAW 39-bit bounds it below what AW says: 2^39 faults with 0x4', () => {
    expect(tr(unit('legacy', 38), 8, P39).fault?.code).toBe(0x4);
    expect(tr(unit('legacy', 38), 8, P39 - 1n).hpa).toBe(P39 - 1n);
  });

  it('AW 1 (39-bit, not the largest SAGAW width): 2^39 faults with 0x4; below it passes, noted', () => {
    expect(tr(unit('legacy'), 9, P39).fault?.code).toBe(0x4);
    const ok = tr(unit('legacy'), 9, P39 - 0x1000n);
    expect(ok.hpa).toBe(P39 - 0x1000n);
    expect(ok.note).toMatch(/largest/);
  });

  it('AW 3 (57-bit) that SAGAW does not offer: an invalid context entry (0x3)', () => {
    expect(tr(unit('legacy'), 10, 0x1000n).fault?.code).toBe(0x3);
  });

  it('an address past the platform\'s HAW (46) but inside the window passes, and the note says no memory is there', () => {
    const r = tr(unit('legacy'), 8, 1n << 46n);
    expect(r.hpa).toBe(1n << 46n);
    expect(r.note).toMatch(/host address width/);
  });

  it('without a memory image (decoded contexts only) the same bound holds', () => {
    const s = snapshot().unit(BASE, (u) => u.regs({ sagaw: 0b00110 }).context('0000:03:01.0', { tt: 2, aw: 1, did: 1 })).build();
    const t = (iova: bigint) => translate(undefined, { unit: s.units[0], bdf: { segment: 0, bus: 3, devfn: 8 }, iova, access: 'read', haw: 46 });
    expect(t(P39).fault?.code).toBe(0x4);
    expect(t(P39 - 1n).hpa).toBe(P39 - 1n);
  });
});

describe('scalable PGTT = 100b: bounded by MGAW and AW (fault 0x83)', () => {
  it('AW 2: 2^48 faults with 0x83, below passes', () => {
    expect(tr(unit('scalable'), 0, P48).fault?.code).toBe(0x83);
    expect(tr(unit('scalable'), 0, P48 - 0x1000n)).toMatchObject({ hpa: P48 - 0x1000n, passThrough: true });
  });

  it('AW 0 (not a SAGAW width): MGAW alone bounds it', () => {
    expect(tr(unit('scalable'), 1, P48 - 0x1000n).hpa).toBe(P48 - 0x1000n);
    expect(tr(unit('scalable'), 1, P48).fault?.code).toBe(0x83);
    expect(tr(unit('scalable', 38), 1, P39).fault?.code).toBe(0x83);
  });
});
