import { describe, expect, it } from 'vitest';
import { unitCapabilityMismatch } from '../../src/checks/unit-capability-mismatch.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('unit-capability-mismatch', () => {
  it('fires once per differing field (PR 229852: only one unit has device-IOTLB)', () => {
    const s = snapshot().unit(0xfed90000, (u) => u.regs({ dt: true, sllps: 3 })).unit(0xfed91000, (u) => u.regs({ dt: false, sllps: 1 })).build();
    const f = findingsOf(unitCapabilityMismatch, s);
    expect(summary(f)).toEqual(['unit-capability-mismatch warning -', 'unit-capability-mismatch warning -']);
    expect(f.map((x) => x.evidence.field).sort()).toEqual(['CAP.SLLPS', 'ECAP.DT']);
    expect(f.find((x) => x.evidence.field === 'ECAP.DT')!.evidence.units).toEqual([{ unit: '0xfed90000', value: true }, { unit: '0xfed91000', value: false }]);
  });
  it('stays quiet for identical units, a single unit, or units without registers', () => {
    expect(summary(findingsOf(unitCapabilityMismatch, snapshot().unit(1 << 20, (u) => u.regs()).unit(2 << 20, (u) => u.regs()).build()))).toEqual([]);
    expect(summary(findingsOf(unitCapabilityMismatch, snapshot().unit(1 << 20, (u) => u.regs({ dt: false })).unit(2 << 20).build()))).toEqual([]);
  });
});
