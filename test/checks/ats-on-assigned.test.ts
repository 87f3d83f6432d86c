import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { atsOnAssigned } from '../../src/checks/ats-on-assigned.js';
import { resultOf } from './check-tester.js';

const sample = (name: string) => loadCapture(path.resolve(import.meta.dirname, '../../samples', name));

describe('ats-on-assigned', () => {
  it('bhyve-host (as vtd.c leaves it: TT = 01b everywhere) warns for the assigned VF, saying it is bhyve\'s design', () => {
    const f = resultOf(atsOnAssigned, sample('bhyve-host')).findings;
    expect(f.map((x) => [x.bdf, x.messageId, x.severity, x.evidence.tt])).toEqual([['0000:03:01.0', 'bhyve', 'warning', 1]]);
    expect(f[0].message).toMatch(/bhyve's vtd\.c sets TT = 01b .* its design, not a misconfiguration/);
  });
  it('no finding for TT = 01b on devices no VM is given (the host\'s own em0, AHCI)', () => {
    const s = sample('bhyve-host');
    const ttOne = s.units.flatMap((u) => u.contexts).filter((c) => c.present && c.tt === 1).map((c) => c.bdf);
    expect(ttOne.length).toBeGreaterThan(1);
    expect(resultOf(atsOnAssigned, s).findings.map((x) => x.bdf)).toEqual(['0000:03:01.0']);
  });
  it('silent with TT = 00b (kvm-vfio-host), and the "other" message for a QEMU VM with TT = 01b', () => {
    expect(resultOf(atsOnAssigned, sample('kvm-vfio-host')).findings).toEqual([]);
    const s = sample('kvm-vfio-host');
    const ctx = s.units[0].contexts.find((c) => c.bdf === '0000:01:00.0');
    if (ctx) ctx.tt = 1;
    expect(resultOf(atsOnAssigned, s).findings.map((x) => [x.bdf, x.messageId])).toEqual([['0000:01:00.0', 'other']]);
  });
  it('the ATS Enable bit grants nothing: TT = 00b with ATS enabled in config space is silent; with TT = 01b it is only evidence', () => {
    const s = sample('kvm-vfio-host');
    const dev = s.devices.find((d) => d.bdf === '0000:01:00.0');
    if (!dev) throw new Error('kvm-vfio-host lost its NIC');
    dev.config = { ...(dev.config ?? {}), ats: { offset: 0x100, invalidateQueueDepth: 0, pageAlignedRequest: false, globalInvalidate: false, enabled: true, STU: 0 } } as typeof dev.config;
    expect(resultOf(atsOnAssigned, s).findings).toEqual([]);
    const ctx = s.units[0].contexts.find((c) => c.bdf === '0000:01:00.0');
    if (ctx) ctx.tt = 1;
    expect(resultOf(atsOnAssigned, s).findings.map((x) => x.evidence.atsEnable)).toEqual([true]);
  });
  it('scalable mode: the context entry\'s DTE bit (bit 2 of qword 0)', () => {
    const s = sample('scalable-kvm-host');
    expect(resultOf(atsOnAssigned, s).findings).toEqual([]);
    const assigned = s.vms.flatMap((v) => v.passthru);
    for (const c of s.units[0].contexts) if (assigned.includes(c.bdf)) c.dte = true; // the model's DTE (qword 0 bit 2)
    expect(resultOf(atsOnAssigned, s).findings.map((x) => x.bdf)).toEqual(assigned.sort());
  });
});
