import { describe, expect, it } from 'vitest';
import { unitDisabledWithTables } from '../../src/checks/unit-disabled-with-tables.js';
import { UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('unit-disabled-with-tables', () => {
  it('fires for RTPS = 1 with TES = 0', () => {
    const f = findingsOf(unitDisabledWithTables, snapshot().unit(UNIT, (u) => u.regs({ tes: false, rtps: true, rtaddr: 0x7000 })).build());
    expect(summary(f)).toEqual(['unit-disabled-with-tables warning -']);
    expect(f[0]).toMatchObject({ unit: '0xfed90000', evidence: { rootTable: '0x7000', gsts: '0x40000000' } });
  });
  it('fires for a known root table when TES is known off (no register dump)', () => {
    expect(summary(findingsOf(unitDisabledWithTables, snapshot().unit(UNIT, (u) => u.state(false).rootTable(0x7000)).build()))).toEqual(['unit-disabled-with-tables warning -']);
  });
  it('stays quiet for an enabled unit, an unprogrammed disabled unit, or unknown state', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.regs({ tes: true }))
      .unit(0xfed91000, (u) => u.regs({ tes: false, rtps: false }))
      .unit(0xfed92000, (u) => u.rootTable(0x8000))
      .build();
    expect(summary(findingsOf(unitDisabledWithTables, s))).toEqual([]);
  });
});
