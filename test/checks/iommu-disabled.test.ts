import { describe, expect, it } from 'vitest';
import { iommuDisabled } from '../../src/checks/iommu-disabled.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const run = (s: ReturnType<ReturnType<typeof bhyveHost>['build']>) => summary(findingsOf(iommuDisabled, s));

describe('iommu-disabled', () => {
  it('fires when the unit covering an assigned device has TES = 0', () => {
    const s = bhyveHost((u) => u.regs({ tes: false })).build();
    expect(run(s)).toEqual([`iommu-disabled critical ${PPT}`]);
    expect(findingsOf(iommuDisabled, s)[0].unit).toBe('0xfed90000');
  });
  it('fires when translation is on but no root table is latched', () => {
    expect(run(bhyveHost((u) => u.regs({ tes: true, rtps: false })).build())).toEqual([`iommu-disabled critical ${PPT}`]);
  });
  it('without VM data, an unassigned ppt device under a disabled unit is an error', () => {
    const s = snapshot().dmar((d) => d.drhd(UNIT, { includePciAll: true })).unit(UNIT, (u) => u.regs({ tes: false })).device(PPT, { driver: 'ppt' }).build();
    const f = findingsOf(iommuDisabled, s);
    expect(summary(f)).toEqual([`iommu-disabled error ${PPT}`]);
    expect(f[0].severityReason).toMatch(/not known to be in a VM/);
  });
  it('stays quiet when the unit translates', () => {
    expect(run(bhyveHost().build())).toEqual([]);
  });
  it('stays quiet for a disabled unit that covers no assigned device', () => {
    const s = bhyveHost()
      .dmar((d) => d.drhd(UNIT, { endpoints: [PPT] }).drhd(0xfed91000, { includePciAll: true }))
      .unit(0xfed91000, (u) => u.regs({ tes: false }))
      .build();
    expect(run(s)).toEqual([]);
  });
  it('stays quiet when the registers do not say (TES unknown)', () => {
    const s = bhyveHost((u) => u.state(undefined)).build();
    expect(run(s)).toEqual([]);
  });
});
