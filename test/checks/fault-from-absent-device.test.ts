/**
 * Recorded faults as check evidence: fault-from-absent-device (new, info), and the faults that
 * stale-context and ppt-unmapped cite — with the explanation a walk of the tables attached.
 */
import { describe, expect, it } from 'vitest';
import { faultFromAbsentDevice } from '../../src/checks/fault-from-absent-device.js';
import { pptUnmapped } from '../../src/checks/ppt-unmapped.js';
import { runChecksWithStatus } from '../../src/checks/run.js';
import { staleContext } from '../../src/checks/stale-context.js';
import type { Snapshot } from '../../src/model/types.js';
import { PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

const GONE = '0000:05:00.0';

/** What src/model/faults.ts attaches when the walk stops at a non-present context entry. */
function explainAtContext(s: Snapshot): Snapshot {
  for (const f of s.faults) {
    f.reasonName = 'context entry not present';
    f.explanation = {
      method: 'walk', text: 'the walk of the capture\'s tables stops at entry [0] of the context table at 0x5000 (0x0): context entry not present',
      steps: [], stoppedAt: { structure: 'context', table: 0x5000, index: 0, entry: [0n, 0n] }, code: 2, reason: 'context entry not present', agrees: true,
    };
  }
  return s;
}

describe('fault-from-absent-device', () => {
  const host = () => snapshot().unit(UNIT, (u) => u.regs().context('0000:00:19.0', { did: 1 })).device('0000:00:19.0', { driver: 'em' });

  it('fires (info) for faults whose source the inventory lacks, one finding per function, with each fault', () => {
    const s = host().fault(GONE, { iovaPfn: 0xbadd, reason: 6, unit: UNIT }).fault(GONE, { iovaPfn: 0xffe00 }).fault('0000:00:19.0').build();
    const f = findingsOf(faultFromAbsentDevice, s);
    expect(summary(f)).toEqual([`fault-from-absent-device info ${GONE}`]);
    expect(f[0].message).toContain('2 DMA faults recorded from 0000:05:00.0');
    expect(f[0].evidence.faults).toEqual([
      { iova: '0xbadd000', reason: '0x6', reasonName: 'context entry not present', type: 'read', recordedIn: 'dmesg:1', unit: '0xfed90000' },
      { iova: '0xffe00000', reason: '0x2', reasonName: 'context entry not present', type: 'read', recordedIn: 'dmesg:2' },
    ]);
    expect(f[0].evidence.presentContextEntry).toBe(false);
    expect(f[0].unit).toBe('0xfed90000');
  });

  it('says so when a present context entry survives for it (stale-context also fires, citing the fault)', () => {
    const s = host().unit(UNIT, (u) => u.context(GONE, { did: 3 })).fault(GONE).build();
    const f = findingsOf(faultFromAbsentDevice, s);
    expect(f[0].message).toContain('a present context entry for it survives in unit 0xfed90000');
    expect(f[0].evidence.presentContextEntry).toBe(true);
    const stale = findingsOf(staleContext, s);
    expect(summary(stale)).toEqual([`stale-context error ${GONE}`]);
    expect(stale[0].evidence.faults).toEqual([{ iova: '0x1000000', reason: '0x2', reasonName: 'context entry not present', type: 'read', recordedIn: 'dmesg:1' }]);
  });

  it('stays quiet without faults, and for faults from listed functions', () => {
    expect(findingsOf(faultFromAbsentDevice, host().build())).toEqual([]);
    expect(findingsOf(faultFromAbsentDevice, host().fault('0000:00:19.0').build())).toEqual([]);
  });

  it('without an inventory it is not-applicable, naming the inventory, not "ran, nothing found" (issue 13)', () => {
    const noInventory = snapshot().unit(UNIT, (u) => u.regs()).fault(GONE).build();
    const r = runChecksWithStatus(noInventory, { only: ['fault-from-absent-device'] });
    expect(r.findings).toEqual([]);
    expect(r.statuses).toEqual([{ id: 'fault-from-absent-device', status: 'not-applicable', missing: ['inventory'], reasons: [expect.stringMatching(/PCI inventory/)] }]);
    // With one it runs (and finds the fault from a function the inventory lacks).
    expect(runChecksWithStatus(host().fault(GONE).build(), { only: ['fault-from-absent-device'] }).statuses[0].status).toBe('ran');
  });
});

describe('ppt-unmapped cites the walk of each fault', () => {
  it('faultsConfirm when the capture\'s tables fault the request at the context entry', () => {
    const s = explainAtContext(snapshot().unit(UNIT, (u) => u.regs()).dmar((d) => d.drhd(UNIT, { includePciAll: true })).device(PPT, { driver: 'ppt' }).vm('vm1', [PPT]).fault(PPT, { iovaPfn: 0x42 }).build());
    const f = findingsOf(pptUnmapped, s);
    expect(summary(f)).toEqual([`ppt-unmapped error ${PPT}`]);
    expect(f[0].message).toContain('1 recorded DMA fault from it confirm');
    expect(f[0].evidence.faultsConfirm).toBe(true);
    expect(f[0].evidence.faults).toMatchObject([{ iova: '0x42000', walkStoppedAt: 'context entry', walkAgrees: true, walk: expect.stringContaining('context table at 0x5000') }]);
  });
});
