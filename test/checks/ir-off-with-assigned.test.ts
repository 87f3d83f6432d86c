import { describe, expect, it } from 'vitest';
import { irOffWithAssigned } from '../../src/checks/ir-off-with-assigned.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { resultOf, findingsOf } from './check-tester.js';
import { snapshot, summary } from './snapshot-builder.js';

describe('ir-off-with-assigned', () => {
  it('a bhyve host (IRES = 0, as vtd.c leaves it): a warning that says it is bhyve\'s design', () => {
    const f = findingsOf(irOffWithAssigned, bhyveHost((u) => u.ir({ enabled: false })).build());
    expect(summary(f)).toEqual([`ir-off-with-assigned warning ${PPT}`]);
    expect(f[0].messageId).toBe('bhyve');
    expect(f[0].message).toMatch(/interrupt remapping off \(GSTS\.IRES = 0\)/);
    expect(f[0].message).toMatch(/bhyve's design .*vtd\.c.* not a misconfiguration/);
    expect(f[0]).toMatchObject({ unit: '0xfed90000', evidence: { state: 'off', gstsIRES: false, vm: 'vm1', host: 'bhyve' } });
  });

  it('a unit without interrupt remapping (ECAP.IR = 0) says so', () => {
    const f = findingsOf(irOffWithAssigned, bhyveHost((u) => u.ir({ supported: false, enabled: false })).build());
    expect(f.map((x) => x.evidence.state)).toEqual(['unsupported']);
    expect(f[0].message).toMatch(/no interrupt remapping \(ECAP\.IR = 0\)/);
  });

  it('a QEMU/VFIO VM: still a warning, and the message names allow_unsafe_interrupts', () => {
    const s = snapshot()
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
      .unit(UNIT, (u) => u.regs().ir({ enabled: false }).context(PPT, { did: 1, root: 0x100000 }))
      .device(PPT, { driver: 'vfio-pci' })
      .vm('l2', [PPT], { hypervisor: 'qemu' })
      .build();
    const f = findingsOf(irOffWithAssigned, s);
    expect(summary(f)).toEqual([`ir-off-with-assigned warning ${PPT}`]);
    expect(f[0].messageId).toBe('vfio');
    expect(f[0].message).toMatch(/allow_unsafe_interrupts=1/);
  });

  it('without VM data, a ppt device with a present context entry counts as assigned (FreeBSD: the bhyve message)', () => {
    const s = snapshot()
      .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
      .unit(UNIT, (u) => u.regs().ir({ enabled: false }).context(PPT, { did: 1, root: 0x100000 }))
      .device(PPT, { driver: 'ppt' })
      .build();
    expect(findingsOf(irOffWithAssigned, s).map((f) => [f.bdf, f.messageId])).toEqual([[PPT, 'bhyve']]);
  });

  it('stays quiet when interrupt remapping is on, and when the unit with IR off covers no assigned device', () => {
    expect(findingsOf(irOffWithAssigned, bhyveHost().build())).toEqual([]);
    const s = bhyveHost()
      .dmar((d) => d.drhd(UNIT, { endpoints: [PPT] }).drhd(0xfed91000, { includePciAll: true }))
      .unit(0xfed91000, (u) => u.regs().ir({ enabled: false }))
      .build();
    expect(findingsOf(irOffWithAssigned, s)).toEqual([]);
  });

  it('is partial, not silent-and-complete, when the capture does not say whether IR is on', () => {
    const s = bhyveHost((u) => u.ir({ supported: undefined, enabled: undefined })).build();
    const r = resultOf(irOffWithAssigned, s);
    expect(r.findings).toEqual([]);
    expect(r.status).toBe('partial');
    expect(r.reasons[0]).toContain(PPT);
  });
});
