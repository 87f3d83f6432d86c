import { describe, expect, it } from 'vitest';
import { pptEmptyDomain } from '../../src/checks/ppt-empty-domain.js';
import { bhyveHost, PPT, UNIT, VM_ROOT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';

describe('ppt-empty-domain', () => {
  it('fires when the assigned device translates through a domain that maps nothing', () => {
    const s = snapshot().unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, [])).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).build();
    const f = pptEmptyDomain.run(s);
    expect(summary(f)).toEqual([`ppt-empty-domain warning ${PPT}`]);
    expect(f[0].did).toBe(1);
    expect(f[0].evidence.root).toBe('0x100000');
  });
  it('stays quiet when the domain maps the guest', () => {
    expect(summary(pptEmptyDomain.run(bhyveHost().build()))).toEqual([]);
  });
  it('stays quiet when the tables were not captured (mappings unknown)', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(PPT, { did: 1, root: VM_ROOT })).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).build();
    expect(summary(pptEmptyDomain.run(s))).toEqual([]);
  });
  it('stays quiet for an empty host domain', () => {
    const s = snapshot().unit(UNIT, (u) => u.context('0000:00:19.0', { did: 0, root: 0x200000 }).domain(0, 0x200000, [])).device('0000:00:19.0', { driver: 'em' }).noVms().build();
    expect(summary(pptEmptyDomain.run(s))).toEqual([]);
  });
});
