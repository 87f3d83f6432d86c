import { describe, expect, it } from 'vitest';
import { missingContext } from '../../src/checks/missing-context.js';
import { bhyveHost, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const IGB = '0000:02:00.0';

describe('missing-context', () => {
  it('fires for a host-driver function without an entry when its unit peers have entries', () => {
    const s = bhyveHost().device(IGB, { driver: 'igb', classCode: 0x020000 }).build();
    const f = findingsOf(missingContext, s);
    expect(summary(f)).toEqual([`missing-context warning ${IGB}`]);
    expect(f[0].unit).toBe('0xfed90000');
    expect(f[0].evidence.peersWithEntries).toEqual(['0000:00:19.0']);
  });
  it('judges per unit: a function under a unit where no host function has entries is quiet', () => {
    const s = bhyveHost()
      .dmar((d) => d.drhd(0xfed91000, { endpoints: [IGB] }).drhd(UNIT, { includePciAll: true }))
      .unit(0xfed91000, (u) => u.regs())
      .device(IGB, { driver: 'igb' })
      .build();
    expect(summary(findingsOf(missingContext, s))).toEqual([]);
  });
  it('stays quiet for pass-through devices, driverless functions and bridges', () => {
    const s = bhyveHost()
      .device('0000:03:00.1', { driver: 'ppt' })
      .device('0000:00:1f.3', { driver: 'none' })
      .device('0000:00:1c.0', { driver: 'pcib', classCode: 0x060400 })
      .device('0000:00:1f.4', {})
      .noVms()
      .build();
    expect(summary(findingsOf(missingContext, s))).toEqual([]);
  });
  it('stays quiet when every host function has an entry', () => {
    expect(summary(findingsOf(missingContext, bhyveHost().build()))).toEqual([]);
  });
  it('without a DMAR table, a single unit is assumed to cover everything', () => {
    const s = snapshot().unit(UNIT, (u) => u.context('0000:00:19.0', { did: 0 })).device('0000:00:19.0', { driver: 'em' }).device(IGB, { driver: 'igb' }).build();
    expect(summary(findingsOf(missingContext, s))).toEqual([`missing-context warning ${IGB}`]);
  });
});
