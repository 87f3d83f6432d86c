/**
 * did-reused decides with AFTER's invalidation queue (debugfs invalidation_queue). Descriptors are
 * written by hand from the VT-d spec's layouts (§6.5.2): context-cache invalidate = type 1, G in
 * bits 5:4 (11b device-selective), DID 31:16, SID 47:32; IOTLB invalidate = type 2, G 5:4 (10b
 * domain-selective, 11b page-selective), DID 31:16; invalidation wait = type 5.
 */
import { describe, expect, it } from 'vitest';
import { didReused } from '../../src/checks/pair/did-reused.js';
import { diffSnapshots } from '../../src/model/diff.js';
import type { InvalidationQueue } from '../../src/model/invalidation-queue.js';
import type { Snapshot } from '../../src/model/types.js';
import { snapshot } from '../checks/snapshot-builder.js';
import { pairFindingsOf } from '../checks/check-tester.js';

const BASE = 0xfed90000;
/** Context-cache device-selective for DID `did`, SID 04:00.0 (0x0400). */
const CC = (did: number): bigint => (0x0400n << 32n) | (BigInt(did) << 16n) | 0x31n;
/** IOTLB domain-selective (with DR/DW) and page-selective for DID `did`. */
const IOTLB_DSI = (did: number): bigint => (BigInt(did) << 16n) | 0xe2n;
const IOTLB_PSI = (did: number): bigint => (BigInt(did) << 16n) | 0xf2n;
const WAIT = 0x200000025n;

function queue(qw0s: bigint[], head: number, tail: number, size = 8): InvalidationQueue {
  const slots = Array.from({ length: size }, (_, i) => ({ index: i, qw: [qw0s[i] ?? 0n, qw0s[i] === WAIT ? 0x14ec04n + BigInt(i * 8) : 0n], status: 0, line: 4 + i }));
  return { unitName: 'dmar0', base: 0x15e000, head, tail, qwords: 2, slots, source: { part: 'invalidation_queue', line: 1 } };
}

const before = snapshot().unit(BASE, (u) => u.regs().context('0000:04:00.0', { did: 1, root: 0x200000 })).build();
const afterWith = (q?: InvalidationQueue): Snapshot => {
  const s = snapshot().unit(BASE, (u) => u.regs().context('0000:04:00.0', { did: 1, root: 0x300000 })).build();
  if (q) s.units[0].invalidationQueue = q;
  return s;
};
const run = (a: Snapshot, b: Snapshot) => pairFindingsOf(didReused, a, b, diffSnapshots(a, b));

describe('did-reused with the invalidation queue', () => {
  it('context-cache and IOTLB invalidations for the DID in the ring: info, naming the slots', () => {
    const f = run(before, afterWith(queue([CC(1), WAIT, IOTLB_DSI(1), WAIT], 4, 4)));
    expect(f.map((x) => [x.severity, x.did, x.bdf])).toEqual([['info', 1, '0000:04:00.0']]);
    expect(f[0].message).toContain('context-cache invalidation (slot 0: context-cache device-selective DID 1 SID 04:00.0) and an IOTLB invalidation (slot 2: iotlb domain-selective DID 1)');
    expect(f[0].evidence.contextCacheInvalidations).toEqual([{ slot: 0, qw: ['0x40000010031', '0x0'], descriptor: 'context-cache device-selective DID 1 SID 04:00.0' }]);
  });

  it('only page-selective IOTLB invalidations, or another DID\'s: warning, saying which is missing', () => {
    const psi = run(before, afterWith(queue([CC(1), WAIT, IOTLB_PSI(1), WAIT], 4, 4)));
    expect(psi.map((x) => x.severity)).toEqual(['warning']);
    expect(psi[0].message).toMatch(/no IOTLB \(only 1 page-selective ones.*\) invalidation covering DID 1/);
    const other = run(before, afterWith(queue([CC(2), WAIT, IOTLB_DSI(2), WAIT], 4, 4)));
    expect(other[0].message).toMatch(/no context-cache nor IOTLB invalidation covering DID 1/);
  });

  it('invalidations still between Head and Tail (not fetched) do not count', () => {
    // Head 0, Tail 4: slots 0..3 are pending.
    const f = run(before, afterWith(queue([CC(1), WAIT, IOTLB_DSI(1), WAIT], 0, 4)));
    expect(f.map((x) => x.severity)).toEqual(['warning']);
    expect(f[0].message).toMatch(/2 still pending/);
  });

  it('with BEFORE\'s queue, only slots written since count: the same invalidations already there before are old', () => {
    const q = queue([CC(1), WAIT, IOTLB_DSI(1), WAIT], 4, 4);
    const old = snapshot().unit(BASE, (u) => u.regs().context('0000:04:00.0', { did: 1, root: 0x200000 })).build();
    old.units[0].invalidationQueue = queue([CC(1), WAIT, IOTLB_DSI(1), WAIT], 4, 4);
    const f = run(old, afterWith(q));
    expect(f.map((x) => x.severity)).toEqual(['warning']);
    expect(f[0].evidence.queue).toMatchObject({ considered: 0, sinceBefore: true });
    // Rewritten since (other status addresses in the wait slots, the invalidations new in 4..7): info.
    const later = queue([WAIT, 0n, 0n, 0n, CC(1), WAIT, IOTLB_DSI(1), WAIT], 0, 0);
    expect(run(old, afterWith(later)).map((x) => x.severity)).toEqual(['info']);
  });

  it('no queue in AFTER: cannot tell, info', () => {
    const f = run(before, afterWith());
    expect(f.map((x) => [x.severity, x.severityReason])).toEqual([['info', 'AFTER holds no invalidation queue: whether the caches were invalidated cannot be told']]);
    expect(f[0].message).toContain('cannot be told');
  });
});
