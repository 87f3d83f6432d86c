import { describe, expect, it } from 'vitest';
import { irteStale } from '../../src/checks/irte-stale.js';
import { remappedIrte } from '../../src/synth/ir-encode.js';
import { bhyveHost, NIC, PPT, UNIT } from './fixtures.js';
import { findingsOf, resultOf } from './check-tester.js';
import { snapshot, summary } from './snapshot-builder.js';

// The fixture host has 00:19.0 (NIC, source-id 0x00c8) and 03:00.0 (PPT, 0x0300).
const irte = (sid: number, o: { svt?: number; sq?: number } = {}) => remappedIrte({ sid, vector: 0x30, ...o });
const host = (entries: [number, [bigint, bigint]][], dmar = (d: import('./snapshot-builder.js').DmarBuilder) => d.drhd(UNIT, { includePciAll: true, ioapics: [[8, '0000:f0:1f.0']], hpets: [[0, '0000:00:1f.7']] })) =>
  bhyveHost((u) => u.ir({ entries })).dmar(dmar);

describe('irte-stale', () => {
  it('an entry verifying a source-id no function has (05:00.0 = 0x500): warning naming the BDF and the entries', () => {
    const f = findingsOf(irteStale, host([[1, irte(0x300)], [4, irte(0x500)], [5, irte(0x500)]]).build());
    expect(summary(f)).toEqual(['irte-stale warning 0000:05:00.0']);
    expect(f[0].message).toMatch(/2 present IRTEs \(index 4, 5\) verifying source-id 0x500 \(0000:05:00\.0\)/);
    expect(f[0].evidence).toMatchObject({ svt: 1, sid: '0x500', sq: 0, indices: [4, 5], count: 2 });
  });

  it("the I/O APIC's and HPET's source-ids come from the DMAR scopes (types 3 and 4), not the inventory", () => {
    // f0:1f.0 = 0xf0f8 (I/O APIC 8), 00:1f.7 = 0x00ff (HPET 0): neither is a PCI function of the inventory.
    expect(findingsOf(irteStale, host([[0, irte(0xf0f8)], [1, irte(0x00ff)]]).build())).toEqual([]);
    // Without those scopes the same entries are stale.
    const noScopes = host([[0, irte(0xf0f8)], [1, irte(0x00ff)]], (d) => d.drhd(UNIT, { includePciAll: true })).build();
    expect(summary(findingsOf(irteStale, noScopes))).toEqual(['irte-stale warning 0000:00:1f.7', 'irte-stale warning 0000:f0:1f.0']);
  });

  it('SQ masks function bits: 03:00.4 with SQ = 11b (ignore bits 2:0) matches 03:00.0, with SQ = 00b it does not', () => {
    expect(findingsOf(irteStale, host([[2, irte(0x304, { sq: 3 })]]).build())).toEqual([]);
    expect(summary(findingsOf(irteStale, host([[2, irte(0x304, { sq: 0 })]]).build()))).toEqual(['irte-stale warning 0000:03:00.4']);
    // SQ = 01b ignores bit 2 only: 03:00.5 (0x305) is 0x301 under the mask, which no function is.
    expect(summary(findingsOf(irteStale, host([[2, irte(0x305, { sq: 1 })]]).build()))).toEqual(['irte-stale warning 0000:03:00.5']);
  });

  it('SVT = 10b is a bus range (first bus in bits 15:8, last in 7:0): stale only when no function lies on those buses', () => {
    expect(findingsOf(irteStale, host([[3, irte(0x0203, { svt: 2 })]]).build())).toEqual([]); // buses 2-3: PPT on bus 3
    const f = findingsOf(irteStale, host([[3, irte(0x0405, { svt: 2 })]]).build());
    expect(f.map((x) => [x.messageId, x.bdf, x.evidence.svt])).toEqual([['staleBusRange', undefined, 2]]);
    expect(f[0].message).toMatch(/buses 0x4–0x5 \(SVT = 10b\)/);
  });

  it('SVT = 00b names no source: nothing to be stale (irte-unverified-source judges it)', () => {
    expect(findingsOf(irteStale, host([[3, irte(0x0900, { svt: 0 })]]).build())).toEqual([]);
  });

  it("a PCIe-to-PCI bridge's DMA alias (its secondary bus, 00.0) counts as present", () => {
    const s = host([[6, irte(0x0600)]]).device('0000:00:1e.0', { driver: 'pcib', classCode: 0x060400, secondaryBus: 6, subordinateBus: 6 }).build();
    expect(findingsOf(irteStale, s)).toEqual([]);
  });

  it('without the DMAR table a source-id that is no PCI function may be an I/O APIC: not judged, partial', () => {
    const s = snapshot().unit(UNIT, (u) => u.regs().ir({ entries: [[0, irte(0xf0f8)], [1, irte(0x300)]] })).device(NIC).device(PPT, { driver: 'ppt' }).build();
    const r = resultOf(irteStale, s);
    expect(r.findings).toEqual([]);
    expect(r.status).toBe('partial');
    expect(r.reasons[0]).toMatch(/1 IRTE names a source-id that is no PCI function .* I\/O APIC or HPET/);
  });

  it('skips a unit with IR off (its table is not used)', () => {
    expect(findingsOf(irteStale, bhyveHost((u) => u.ir({ enabled: false, entries: [[4, irte(0x500)]] })).build())).toEqual([]);
  });
});
