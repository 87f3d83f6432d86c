import { describe, expect, it } from 'vitest';
import { rmrrInVmDomain } from '../../src/checks/rmrr-in-vm-domain.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('rmrr-in-vm-domain', () => {
  it('fires when a VM domain maps host pages of an RMRR region', () => {
    const s = bhyveHost((u) => u.domain(1, 0x100000, [[0x100, 0x7b800, 2]]))
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }).rmrr(0x7b800000, 0x7b80ffff, [PPT]))
      .build();
    s.units[0].domains = s.units[0].domains.filter((d) => !(d.did === 1 && d.mappings.length === 1 && d.mappings[0].pages !== 2));
    const f = findingsOf(rmrrInVmDomain, s);
    expect(summary(f)).toEqual([`rmrr-in-vm-domain warning ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ hpa: '0x7b800000', size: '0x2000', deviceInScope: true, rmrrDevices: [PPT] });
  });
  it('stays quiet when only the host domain maps the RMRR (identity), or no RMRR exists', () => {
    const s = bhyveHost().dmar((d) => d.drhd(UNIT, { includePciAll: true }).rmrr(0x7b800000, 0x7b80ffff, ['0000:00:14.0'])).build();
    expect(summary(findingsOf(rmrrInVmDomain, s))).toEqual([]);
    expect(summary(findingsOf(rmrrInVmDomain, bhyveHost().build()))).toEqual([]);
  });
});
