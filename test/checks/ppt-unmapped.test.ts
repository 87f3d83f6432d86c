import { describe, expect, it } from 'vitest';
import { pptUnmapped } from '../../src/checks/ppt-unmapped.js';
import { NIC, PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const base = () =>
  snapshot()
    .unit(UNIT, (u) => u.regs().context(NIC, { did: 0, root: 0x200000 }))
    .device(NIC, { driver: 'em' })
    .device(PPT, { driver: 'ppt' });

describe('ppt-unmapped', () => {
  it('fires (error) for an assigned device with no present entry, with the recorded fault as evidence', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { includePciAll: true })).vm('vm1', [PPT]).fault(PPT, { iovaPfn: 0x1234 }).build();
    const f = findingsOf(pptUnmapped, s);
    expect(summary(f)).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(f[0].evidence.faults).toEqual([{ iova: '0x1234000', reason: '0x2', reasonName: 'context entry not present', type: 'read', recordedIn: 'dmesg:1' }]);
    expect(f[0].unit).toBe('0xfed90000');
  });
  it('says the DMA is untranslated, not blocked, when the unit has tables but translation off', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.regs({ tes: false }).context(NIC, { did: 0, root: 0x200000 }))
      .device(NIC, { driver: 'em' })
      .device(PPT, { driver: 'ppt' })
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
      .vm('vm1', [PPT])
      .build();
    const f = findingsOf(pptUnmapped, s);
    expect(summary(f)).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(f[0].message).toMatch(/untranslated/);
    expect(f[0].message).not.toMatch(/blocked/);
    expect(findingsOf(pptUnmapped, base().dmar((d) => d.drhd(UNIT, { includePciAll: true })).vm('vm1', [PPT]).build())[0].message).toMatch(/blocked/);
  });
  it('fires (error) for an assigned device that no DRHD covers', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { endpoints: [NIC] })).vm('vm1', [PPT]).build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(findingsOf(pptUnmapped, s)[0].evidence.coverage).toBe('none');
    expect(findingsOf(pptUnmapped, s)[0].messageId).toBe('assignedUncovered');
  });
  it('says info when coverage is unknown (bridge scope without bus range)', () => {
    const s = base()
      .dmar((d) => d.drhd(UNIT, { bridges: ['0000:00:01.0'] }))
      .device('0000:00:01.0', { driver: 'pcib', classCode: 0x060400 })
      .vm('vm1', [PPT])
      .build();
    const f = findingsOf(pptUnmapped, s);
    expect(summary(f)).toEqual([`ppt-unmapped info ${PPT}`]);
    expect(f[0].severityReason).toMatch(/coverage unknown/);
    expect(f[0].messageId).toBe('assignedCoverageUnknown');
  });
  it('resolves bridge coverage from the inventory bus range', () => {
    const s = base()
      .dmar((d) => d.drhd(UNIT, { bridges: ['0000:00:01.0'] }))
      .device('0000:00:01.0', { driver: 'pcib', classCode: 0x060400, secondaryBus: 3, subordinateBus: 3 })
      .vm('vm1', [PPT])
      .build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(findingsOf(pptUnmapped, s)[0].evidence.coverage).toBe('covered');
    expect(findingsOf(pptUnmapped, s)[0].messageId).toBe('assignedNoEntry');
  });
  it('an idle ppt device that no unit covers is a warning', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { endpoints: [NIC] })).noVms().build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([`ppt-unmapped warning ${PPT}`]);
    expect(findingsOf(pptUnmapped, s)[0].messageId).toBe('idleUncovered');
  });
  it('without VM data, a ppt device with no entry is info; error when it faulted', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { includePciAll: true }));
    expect(summary(findingsOf(pptUnmapped, s.build()))).toEqual([`ppt-unmapped info ${PPT}`]);
    expect(findingsOf(pptUnmapped, s.build()).map((f) => f.messageId)).toEqual(['noEntryMaybeIdle']);
    const faulted = findingsOf(pptUnmapped, s.fault(PPT).build());
    expect(summary(faulted)).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(faulted.map((f) => f.messageId)).toEqual(['noEntryWithFaults']);
  });
  it('takes pass-through devices from dmardump driver hints when there is no inventory', () => {
    const s = snapshot()
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
      .unit(UNIT, (u) => u.regs().context(PPT, { present: false, hint: 'ppt0' }))
      .vm('vm1', [PPT])
      .build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([`ppt-unmapped error ${PPT}`]);
  });
  it('stays quiet for an idle ppt device (VM data present, no VM names it)', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { includePciAll: true })).noVms().build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([]);
  });
  it('stays quiet for an assigned device with a present entry', () => {
    const s = base().dmar((d) => d.drhd(UNIT, { includePciAll: true })).unit(0xfed91000, (u) => u.context(PPT, { did: 1, root: 0x100000 })).vm('vm1', [PPT]).build();
    expect(summary(findingsOf(pptUnmapped, s))).toEqual([]);
  });
});
