/**
 * diffSnapshots and the pair checks on hand-made before/after snapshots. Expected ranges are
 * worked out by hand in the comments: a page is unchanged only when it maps to the same host page
 * with the same permissions in both captures.
 */
import { describe, expect, it } from 'vitest';
import { didReused } from '../../src/checks/pair/did-reused.js';
import { domainSurvivedTeardown } from '../../src/checks/pair/domain-survived-teardown.js';
import { staleAfterUnplug } from '../../src/checks/pair/stale-after-unplug.js';
import { diffSnapshots, subtractMappings } from '../../src/model/diff.js';
import type { Mapping } from '../../src/model/types.js';
import { snapshot } from '../checks/snapshot-builder.js';
import { pairFindingsOf } from '../checks/check-tester.js';

const m = (iovaPfn: number, hpaPfn: number, pages: number, write = true, pageSize: Mapping['pageSize'] = 4096): Mapping => ({ iovaPfn, hpaPfn, pages, read: true, write, pageSize });
const r = (iovaPfn: number, hpaPfn: number, pages: number, write = true) => ({ iovaPfn, hpaPfn, pages, read: true, write });

describe('subtractMappings', () => {
  it('identical lists leave nothing, whatever the coalescing or page size', () => {
    // One 2 MiB page (512 × 4 KiB) against the same translation as two 256-page runs.
    expect(subtractMappings([m(0, 0x1000, 512, true, 2097152)], [m(0, 0x1000, 256), m(256, 0x1100, 256)])).toEqual([]);
  });

  it('a hole in B is lost from A', () => {
    // A: IOVA 0..99 → 1000..1099. B maps 0..9 and 20..99 the same way: pages 10..19 are lost.
    expect(subtractMappings([m(0, 1000, 100)], [m(0, 1000, 10), m(20, 1020, 80)])).toEqual([r(10, 1010, 10)]);
  });

  it('a page moved to another host page counts, permissions count', () => {
    // B maps page 5 elsewhere (→ 7777) and pages 6..7 read-only: pages 5..7 of A are not in B.
    const a = [m(0, 1000, 10)];
    const b = [m(0, 1000, 5), m(5, 7777, 1), m(6, 1006, 2, false), m(8, 1008, 2)];
    expect(subtractMappings(a, b)).toEqual([r(5, 1005, 3)]);
    // And the other way: B's three pages are what A does not have, as two ranges (not contiguous in HPA).
    expect(subtractMappings(b, a)).toEqual([r(5, 7777, 1), r(6, 1006, 2, false)]);
  });

  it('B wider than A on both sides, several A ranges against one B range', () => {
    expect(subtractMappings([m(10, 110, 5), m(20, 120, 5)], [m(0, 100, 100)])).toEqual([]);
    expect(subtractMappings([m(0, 100, 100)], [m(10, 110, 5), m(20, 120, 5)])).toEqual([r(0, 100, 10), r(15, 115, 5), r(25, 125, 75)]);
  });

  it('unsorted input is handled; 2^40-page IOVAs stay exact', () => {
    const big = 2 ** 40;
    expect(subtractMappings([m(big + 5, 9, 1), m(big, 1, 2)], [m(big, 1, 1)])).toEqual([r(big + 1, 2, 1), r(big + 5, 9, 1)]);
  });
});

const BASE = 0xfed90000;

describe('diffSnapshots', () => {
  const before = snapshot()
    .unit(BASE, (u) => u.regs().context('0000:00:19.0', { did: 0, root: 0x100000 }).context('0000:03:01.0', { did: 1, root: 0x200000 })
      .domain(0, 0x100000, [[0, 0, 1000]]).domain(1, 0x200000, [[0, 0x5000, 512]]))
    .device('0000:00:19.0', { driver: 'em' }).device('0000:03:01.0', { driver: 'ppt' })
    .vm('vm1', ['0000:03:01.0'])
    .build();
  // After: the VF left the inventory, its entry survived; em0 moved to DID 2; VM domain lost 12 pages.
  const after = snapshot()
    .unit(BASE, (u) => u.regs().context('0000:00:19.0', { did: 2, root: 0x100000 }).context('0000:03:01.0', { did: 1, root: 0x200000 })
      .context('0000:00:1f.2', { did: 2, root: 0x100000 })
      .domain(2, 0x100000, [[0, 0, 1000]]).domain(1, 0x200000, [[0, 0x5000, 500]]))
    .device('0000:00:19.0', { driver: 'em' }).device('0000:00:1f.2', { driver: 'ahci' })
    .noVms()
    .build();
  const d = diffSnapshots(before, after);

  it('entries added, removed and changed', () => {
    expect(d.entries.added.map((e) => e.bdf)).toEqual(['0000:00:1f.2']);
    expect(d.entries.removed).toEqual([]);
    expect(d.entries.changed.map((c) => [c.before.bdf, c.fields])).toEqual([['0000:00:19.0', ['did']]]);
  });

  it('domains: DID 0 removed, DID 2 added, DID 1 lost 12 pages at IOVA 500', () => {
    const byDid = new Map(d.domains.map((x) => [x.did, x]));
    expect(byDid.get(0)).toMatchObject({ status: 'removed', lostPages: 1000, gainedPages: 0 });
    expect(byDid.get(2)).toMatchObject({ status: 'added', gainedPages: 1000, lostPages: 0 });
    expect(byDid.get(1)).toMatchObject({ status: 'changed', lostPages: 12, gainedPages: 0, lost: [r(500, 0x5000 + 500, 12)] });
  });

  it('devices left and arrived', () => {
    expect(d.devices.left.map((x) => x.bdf)).toEqual(['0000:03:01.0']);
    expect(d.devices.arrived.map((x) => x.bdf)).toEqual(['0000:00:1f.2']);
  });

  it('stale-after-unplug: the VF entry survived its removal, pointing at the VM domain (critical)', () => {
    const f = pairFindingsOf(staleAfterUnplug, before, after, d);
    expect(f.map((x) => [x.check, x.bdf, x.severity])).toEqual([['stale-after-unplug', '0000:03:01.0', 'critical']]);
    expect(f[0].evidence.unchanged).toBe(true);
  });

  it('domain-survived-teardown: vm1 is gone but the VF still translates through its domain', () => {
    const f = pairFindingsOf(domainSurvivedTeardown, before, after, d);
    expect(f.map((x) => [x.check, x.bdf, x.did])).toEqual([['domain-survived-teardown', '0000:03:01.0', 1]]);
    expect(f[0].evidence.goneVms).toEqual(['vm1']);
    expect(f[0].evidence.pagesAfter).toBe(500);
  });

  it('domain-survived-teardown: a new VM domain on a recycled root page and DID is not a survival', () => {
    // vm1 is gone; vm2 now owns DID 1 at the same root address, but every translation is new.
    const recycled = snapshot()
      .unit(BASE, (u) => u.regs().context('0000:03:01.0', { did: 1, root: 0x200000 }).domain(1, 0x200000, [[0, 0x9000, 256]]))
      .device('0000:03:01.0', { driver: 'ppt' })
      .vm('vm2', ['0000:03:01.0'])
      .build();
    expect(pairFindingsOf(domainSurvivedTeardown, before, recycled, diffSnapshots(before, recycled))).toEqual([]);
    // The same, but 12 of vm1's pages are still mapped in the recycled tables: a survival of 12 pages.
    const partial = snapshot()
      .unit(BASE, (u) => u.regs().context('0000:03:01.0', { did: 1, root: 0x200000 }).domain(1, 0x200000, [[0, 0x9000, 256], [500, 0x5000 + 500, 12]]))
      .device('0000:03:01.0', { driver: 'em' })
      .noVms()
      .build();
    const f = pairFindingsOf(domainSurvivedTeardown, before, partial, diffSnapshots(before, partial));
    expect(f.map((x) => x.evidence.survivedPages)).toEqual([12]);
  });

  it('did-reused: nothing here (DID 0 vanished, DID 2 is new)', () => {
    expect(pairFindingsOf(didReused, before, after, d)).toEqual([]);
  });

  it('did-reused: DID 1 on the same unit moves from one table root to another', () => {
    const a = snapshot().unit(BASE, (u) => u.regs().context('0000:03:00.0', { did: 1, root: 0x200000 })).build();
    const b = snapshot().unit(BASE, (u) => u.regs().context('0000:04:00.0', { did: 1, root: 0x300000 })).build();
    const f = pairFindingsOf(didReused, a, b, diffSnapshots(a, b));
    expect(f.map((x) => [x.did, x.bdf, x.evidence.rootsBefore, x.evidence.rootsAfter])).toEqual([[1, '0000:04:00.0', ['0x200000'], ['0x300000']]]);
    // A different root table (another boot): still reported, but only as info.
    const rebooted = snapshot().unit(BASE, (u) => u.regs({ rtaddr: 0x20000 }).context('0000:04:00.0', { did: 1, root: 0x300000 })).build();
    const g = pairFindingsOf(didReused, a, rebooted, diffSnapshots(a, rebooted));
    expect(g.map((x) => [x.severity, x.did])).toEqual([['info', 1]]);
    // Both roots still in use after: a DID with two roots is did-conflict's business, not a re-use.
    const c = snapshot().unit(BASE, (u) => u.regs().context('0000:03:00.0', { did: 1, root: 0x200000 }).context('0000:04:00.0', { did: 1, root: 0x300000 })).build();
    expect(pairFindingsOf(didReused, a, c, diffSnapshots(a, c))).toEqual([]);
  });

  it('the same snapshot twice: no change, no finding', () => {
    const same = diffSnapshots(before, before);
    expect(same.entries).toEqual({ added: [], removed: [], changed: [] });
    expect(same.domains).toEqual([]);
    expect(same.devices).toEqual({ left: [], arrived: [], changed: [] });
    for (const c of [staleAfterUnplug, domainSurvivedTeardown, didReused]) expect(pairFindingsOf(c, before, before, same)).toEqual([]);
  });

  it('without an inventory on one side, device changes and stale-after-unplug are not guessed', () => {
    const noInv = snapshot().unit(BASE, (u) => u.regs().context('0000:03:01.0', { did: 1, root: 0x200000 })).inventory(false).build();
    const dd = diffSnapshots(before, noInv);
    expect(dd.devices.left).toEqual([]);
    expect(pairFindingsOf(staleAfterUnplug, before, noInv, dd)).toEqual([]);
  });
});
