import { describe, expect, it } from 'vitest';
import { dmarIntegrity } from '../../src/checks/dmar-integrity.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('dmar-integrity', () => {
  it('maps decoder errors to error and warnings to warning, with the offset', () => {
    const s = snapshot().dmar((d) => d.problem(9, 'checksum is 0x12, table sums to 0x5', 'error').problem(0x40, 'DRHD scope overlaps another', 'warning')).build();
    const f = findingsOf(dmarIntegrity, s);
    expect(summary(f)).toEqual(['dmar-integrity error -', 'dmar-integrity warning -']);
    expect(f[0].evidence.offset).toBe('0x9');
    expect(f[1].severityReason).toBeDefined();
  });
  it('stays quiet for a clean table', () => {
    expect(summary(findingsOf(dmarIntegrity, snapshot().dmar().build()))).toEqual([]);
  });
});
