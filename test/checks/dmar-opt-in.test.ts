import { describe, expect, it } from 'vitest';
import { dmarOptIn } from '../../src/checks/dmar-opt-in.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('dmar-opt-in', () => {
  it('fires (info) when DMA_CTRL_PLATFORM_OPT_IN is clear', () => {
    const f = findingsOf(dmarOptIn, snapshot().dmar((d) => d.optInFlag(false)).build());
    expect(summary(f)).toEqual(['dmar-opt-in info -']);
    expect(f[0].evidence.flags).toBe('0x1');
  });
  it('stays quiet when the flag is set, or without a DMAR table', () => {
    expect(summary(findingsOf(dmarOptIn, snapshot().dmar((d) => d.optInFlag(true)).build()))).toEqual([]);
    expect(summary(findingsOf(dmarOptIn, snapshot().build()))).toEqual([]);
  });
});
