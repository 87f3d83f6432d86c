import { describe, expect, it } from 'vitest';
import { pptPassthrough } from '../../src/checks/ppt-passthrough.js';
import { bhyveHost, NIC, PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('ppt-passthrough', () => {
  it('fires for an assigned device with TT = 10b, with the raw entry', () => {
    const s = snapshot().unit(UNIT, (u) => u.regs().context(PPT, { did: 1, tt: 2, root: 0 })).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).build();
    const f = findingsOf(pptPassthrough, s);
    expect(summary(f)).toEqual([`ppt-passthrough critical ${PPT}`]);
    // lo = P | TT=2 << 2 = 0x9; hi = AW 2 | DID 1 << 8 = 0x102 (computed by hand)
    expect(f[0].evidence.raw).toEqual(['0x9', '0x102']);
  });
  it('fires for a scalable-mode PASID entry with PGTT = 100b', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.regs({ smts: true, ttm: 1 }).scalableContext(PPT, [{ pasid: 0, pgtt: 4, did: 1 }]))
      .device(PPT, { driver: 'vfio-pci' })
      .vm('vm1', [PPT], { hypervisor: 'qemu' })
      .build();
    const f = findingsOf(pptPassthrough, s);
    expect(summary(f)).toEqual([`ppt-passthrough critical ${PPT}`]);
    expect(f[0].evidence.pasid).toBe(0);
  });
  it('without VM data a pass-through device with a pass-through entry counts as assigned', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(PPT, { did: 1, tt: 2 })).device(PPT, { driver: 'ppt' }).build();
    expect(summary(findingsOf(pptPassthrough, s))).toEqual([`ppt-passthrough critical ${PPT}`]);
  });
  it('stays quiet for a host device in the pass-through identity domain (iommu=pt)', () => {
    const s = bhyveHost((u) => u.context('0000:00:1f.0', { did: 1, tt: 2 })).device('0000:00:1f.0', { driver: 'ahci' }).build();
    expect(summary(findingsOf(pptPassthrough, s))).toEqual([]);
  });
  it('stays quiet for translated entries and first-level PASID entries', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.scalableContext(PPT, [{ pasid: 0, pgtt: 2, did: 1, slptptr: 0x100000 }, { pasid: 5, pgtt: 1, did: 2, flptptr: 0x400000 }]).context(NIC, { did: 0 }))
      .device(PPT, { driver: 'vfio-pci' })
      .vm('vm1', [PPT])
      .build();
    expect(summary(findingsOf(pptPassthrough, s))).toEqual([]);
  });
});
