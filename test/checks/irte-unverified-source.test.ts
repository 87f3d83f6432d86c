import { describe, expect, it } from 'vitest';
import { irteUnverifiedSource } from '../../src/checks/irte-unverified-source.js';
import { postedIrte, remappedIrte } from '../../src/synth/ir-encode.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { findingsOf, resultOf } from './check-tester.js';
import { summary } from './snapshot-builder.js';

// PPT is 03:00.0: source-id 0x300.
const verified = remappedIrte({ sid: 0x300, vector: 0x30 });
// SVT = 00b: the unit checks no source. Vector 0xec, DST 0x200 (xAPIC: APIC id 2).
const unverified = remappedIrte({ sid: 0, svt: 0, vector: 0xec, dst: 0x200 });

describe('irte-unverified-source', () => {
  it('a present remapped IRTE with SVT = 00b on the unit of an assigned device: error, with the entry', () => {
    const f = findingsOf(irteUnverifiedSource, bhyveHost((u) => u.ir({ entries: [[1, verified], [7, unverified]] })).build());
    expect(summary(f)).toEqual([`irte-unverified-source error ${PPT}`]);
    expect(f[0].message).toMatch(/1 present remapped IRTE that verifies no source \(SVT = 00b; index 7\)/);
    // Bits 23:16 V = 0xec, 4:2 DM|RH set as Linux writes them, P; DST 0x200 in bits 63:32; SID 0, SVT 0.
    expect(f[0].evidence).toEqual({ count: 1, assigned: [PPT], entries: [{ index: 7, vector: 0xec, apicId: 2, raw: ['0x20000ec000d', '0x0'] }] });
  });

  it('quiet for verified entries, for posted entries, and with IR off (the table is not used)', () => {
    const posted = postedIrte({ sid: 0, svt: 0, vector: 0x40, pda: 0x401040n });
    expect(findingsOf(irteUnverifiedSource, bhyveHost((u) => u.ir({ entries: [[1, verified], [2, posted]] })).build())).toEqual([]);
    expect(findingsOf(irteUnverifiedSource, bhyveHost((u) => u.ir({ enabled: false, entries: [[7, unverified]] })).build())).toEqual([]);
  });

  it('quiet on a unit that covers no assigned device', () => {
    const s = bhyveHost()
      .dmar((d) => d.drhd(UNIT, { endpoints: [PPT] }).drhd(0xfed91000, { includePciAll: true }))
      .unit(0xfed91000, (u) => u.regs().ir({ entries: [[7, unverified]] }))
      .build();
    expect(findingsOf(irteUnverifiedSource, s)).toEqual([]);
  });

  it('partial when the unit of an assigned device has IR on but its table is not in the capture', () => {
    const r = resultOf(irteUnverifiedSource, bhyveHost((u) => u.ir({ entrySources: [] })).build());
    expect(r.status).toBe('partial');
    expect(r.reasons).toEqual(['the interrupt remapping table of unit 0xfed90000 is not in the capture']);
  });
});
