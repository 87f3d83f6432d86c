import { describe, expect, it } from 'vitest';
import { didConflict } from '../../src/checks/did-conflict.js';
import { NIC, PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('did-conflict', () => {
  it('fires for one DID with two second-level roots in one unit', () => {
    const s = snapshot().unit(UNIT, (u) => u.context(NIC, { did: 5, root: 0x200000 }).context(PPT, { did: 5, root: 0x100000 })).build();
    const f = findingsOf(didConflict, s);
    expect(summary(f)).toEqual([`did-conflict error ${PPT}`]);
    expect(f[0].evidence.roots).toEqual([{ root: '0x100000', devices: [PPT] }, { root: '0x200000', devices: [NIC] }]);
  });
  it('counts scalable second-level and nested PASID entries', () => {
    const s = snapshot().unit(UNIT, (u) => u.scalableContext(PPT, [{ pasid: 0, pgtt: 2, did: 7, slptptr: 0x100000 }, { pasid: 1, pgtt: 3, did: 7, slptptr: 0x110000 }])).build();
    expect(summary(findingsOf(didConflict, s))).toEqual([`did-conflict error ${PPT}`]);
  });
  it('stays quiet for pass-through and first-level entries, shared tables, and other units', () => {
    const s = snapshot()
      .unit(UNIT, (u) =>
        u.context(NIC, { did: 1, root: 0x200000 })
          .context('0000:00:1f.2', { did: 1, root: 0x200000 })
          .context('0000:00:1f.3', { did: 1, tt: 2 })
          .scalableContext(PPT, [{ pasid: 3, pgtt: 1, did: 1, flptptr: 0x500000 }, { pasid: 4, pgtt: 4, did: 1 }]),
      )
      .unit(0xfed91000, (u) => u.context('0000:80:00.0', { did: 1, root: 0x900000 }))
      .build();
    expect(summary(findingsOf(didConflict, s))).toEqual([]);
  });
});
