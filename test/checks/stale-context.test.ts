import { describe, expect, it } from 'vitest';
import { staleContext } from '../../src/checks/stale-context.js';
import { bhyveHost, HOST_ROOT, NIC, UNIT, VM_ROOT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const VF = '0000:04:10.1';

describe('stale-context', () => {
  it('fires (error) for a present entry of a function the inventory lacks, pointing at the host domain', () => {
    const s = bhyveHost((u) => u.context(VF, { did: 0, root: HOST_ROOT })).build();
    const f = findingsOf(staleContext, s);
    expect(summary(f)).toEqual([`stale-context error ${VF}`]);
    expect(f[0].source).toEqual({ part: 'tables.txt', line: 3 });
  });
  it('is critical when the stale entry points at a VM domain', () => {
    const s = bhyveHost((u) => u.context(VF, { did: 1, root: VM_ROOT })).build();
    const f = findingsOf(staleContext, s);
    expect(summary(f)).toEqual([`stale-context critical ${VF}`]);
    expect(f[0].severityReason).toMatch(/VM domain/);
    expect(f[0].evidence.vmDomain).toMatchObject({ did: 1, root: '0x100000', vms: ['vm1'] });
  });
  it('fires from a dmardump "(absent)" hint even without an inventory', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(VF, { did: 3, root: 0x300000, hint: 'absent' })).build();
    expect(summary(findingsOf(staleContext, s))).toEqual([`stale-context error ${VF}`]);
  });
  it('is only info for devfn 0 on a bridge secondary bus (possible PCIe-to-PCI alias)', () => {
    const s = bhyveHost((u) => u.context('0000:05:00.0', { did: 0, root: HOST_ROOT }))
      .device('0000:00:1c.0', { driver: 'pcib', classCode: 0x060400, secondaryBus: 5, subordinateBus: 5 })
      .build();
    expect(summary(findingsOf(staleContext, s))).toEqual(['stale-context info 0000:05:00.0']);
  });
  it('stays quiet when every entry has its function', () => {
    expect(summary(findingsOf(staleContext, bhyveHost().build()))).toEqual([]);
  });
  it('stays quiet for non-present entries and without an inventory', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(VF, { present: false, hint: 'absent' }).context(NIC, { did: 0 })).build();
    expect(summary(findingsOf(staleContext, s))).toEqual([]);
  });
});
