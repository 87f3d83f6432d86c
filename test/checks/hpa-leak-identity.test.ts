import { describe, expect, it } from 'vitest';
import { hpaLeakIdentity } from '../../src/checks/hpa-leak-identity.js';
import { bhyveHost, PPT, UNIT, VM_ROOT } from './fixtures.js';
import { gibPages, mibPages, snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const vmWith = (maps: [number, number, number][]) =>
  snapshot().unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, maps)).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]);

describe('hpa-leak-identity', () => {
  it('fires for a VM domain mapping 1 GiB with IOVA = HPA (split in pieces)', () => {
    // Four 256 MiB - 4 KiB identity pieces with holes: no run reaches 256 MiB, the total ~1 GiB does not either,
    // so add one more page per piece to reach exactly 1 GiB in total.
    const piece = mibPages(256);
    const maps: [number, number, number][] = [0, 1, 2, 3].map((i) => [i * 2 * piece, i * 2 * piece, piece - 1]);
    maps.push([gibPages(100), gibPages(100), 4]);
    const f = findingsOf(hpaLeakIdentity, vmWith(maps).build());
    expect(summary(f)).toEqual([`hpa-leak-identity critical ${PPT}`]);
    expect(f[0].evidence.identityPages).toBe(gibPages(1));
  });
  it('fires for one contiguous 256 MiB identity run made of adjacent mappings', () => {
    const half = mibPages(128);
    const f = findingsOf(hpaLeakIdentity, vmWith([[0x10000, 0x10000, half], [0x10000 + half, 0x10000 + half, half]]).build());
    expect(summary(f)).toEqual([`hpa-leak-identity critical ${PPT}`]);
    expect(f[0].evidence.largestRun).toEqual({ start: '0x10000000', size: '0x10000000' });
  });
  it('stays quiet below the thresholds (e.g. an RMRR-sized identity map)', () => {
    expect(summary(findingsOf(hpaLeakIdentity, vmWith([[0x10000, 0x10000, mibPages(256) - 1], [gibPages(2), gibPages(8), gibPages(2)]]).build()))).toEqual([]);
  });
  it('its thresholds are options (minTotalPages, minRunPages), 1 GiB and 256 MiB by default', () => {
    const { minTotalPages, minRunPages } = hpaLeakIdentity.meta.options!;
    expect([minTotalPages.default, minRunPages.default]).toEqual([gibPages(1), mibPages(256)]);
    // A 16 MiB identity run: silent by default, reported with a 16 MiB run threshold.
    const s = vmWith([[0x10000, 0x10000, mibPages(16)]]).build();
    expect(findingsOf(hpaLeakIdentity, s)).toEqual([]);
    const f = findingsOf(hpaLeakIdentity, s, { minRunPages: mibPages(16) });
    expect(f.map((x) => x.messageId)).toEqual(['identityMap']);
    expect(findingsOf(hpaLeakIdentity, s, { minTotalPages: mibPages(16) + 1, minRunPages: mibPages(16) + 1 })).toEqual([]);
  });
  it("stays quiet for the host domain's 1:1 map", () => {
    expect(summary(findingsOf(hpaLeakIdentity, bhyveHost().build()))).toEqual([]);
  });
});
