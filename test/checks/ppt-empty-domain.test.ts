import { describe, expect, it } from 'vitest';
import { pptEmptyDomain } from '../../src/checks/ppt-empty-domain.js';
import { bhyveHost, PPT, UNIT, VM_ROOT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { NIC as VFIO_NIC, vfioHost } from './vfio-fixture.js';
import { findingsOf } from './check-tester.js';

describe('ppt-empty-domain', () => {
  it('fires when the assigned device translates through a domain that maps nothing', () => {
    const s = snapshot().unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, [])).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).build();
    const f = findingsOf(pptEmptyDomain, s);
    expect(summary(f)).toEqual([`ppt-empty-domain warning ${PPT}`]);
    expect(f[0].did).toBe(1);
    expect(f[0].evidence.root).toBe('0x100000');
  });
  it('stays quiet when the domain maps the guest', () => {
    expect(summary(findingsOf(pptEmptyDomain, bhyveHost().build()))).toEqual([]);
  });
  it('stays quiet when the tables were not captured (mappings unknown)', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(PPT, { did: 1, root: VM_ROOT })).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).build();
    expect(summary(findingsOf(pptEmptyDomain, s))).toEqual([]);
  });
  it('stays quiet for an empty host domain', () => {
    const s = snapshot().unit(UNIT, (u) => u.context('0000:00:19.0', { did: 0, root: 0x200000 }).domain(0, 0x200000, [])).device('0000:00:19.0', { driver: 'em' }).noVms().build();
    expect(summary(findingsOf(pptEmptyDomain, s))).toEqual([]);
  });
});

describe('ppt-empty-domain on VFIO\'s idle state (the real capture qemu-linux61-vfio-teardown, rebuilt)', () => {
  // After the VM exited: 0000:01:00.0 stays bound to vfio-pci, its context entry points at an empty domain (DID 6, root 0xa15000).
  const teardown = (vms: 'none' | 'unknown' | 'running') => vfioHost({ vms, extra: (u) => {
    const c = u.unit.contexts.find((x) => x.bdf === VFIO_NIC)!;
    c.slptptr = 0xa15000;
    u.unit.domains = u.unit.domains.filter((d) => d.did !== 6);
    u.domain(6, 0xa15000, []);
  } }).build();

  it('VMs known (an empty VM command-line part) and none using the device: silent', () => {
    expect(findingsOf(pptEmptyDomain, teardown('none'))).toEqual([]);
  });
  it('without VM command lines a vfio-pci device in an empty domain may be idle: info, saying so', () => {
    const f = findingsOf(pptEmptyDomain, teardown('unknown'));
    expect(summary(f)).toEqual([`ppt-empty-domain info ${VFIO_NIC}`]);
    expect(f[0].message).toMatch(/no VM uses/);
  });
  it('a running VM using it with an empty domain: the warning stays', () => {
    expect(summary(findingsOf(pptEmptyDomain, teardown('running')))).toEqual([`ppt-empty-domain warning ${VFIO_NIC}`]);
  });
});
