/**
 * Issue 11 items 8 and 18: the runner says, per check, whether it could examine the capture (ran /
 * partial / not-applicable, with what was missing); tables that could not be read are unknown, not
 * absent, so no check claims a device has no entry; and a capture nothing could examine is named
 * as such (`nothingCheckable`) instead of passing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { checks } from '../../src/checks/index.js';
import { inputCoverage, nothingCheckable, runChecksWithStatus, selectChecks, unmetRequirements } from '../../src/checks/run.js';
import type { Check } from '../../src/checks/types.js';
import { findingsToJunit } from '../../src/report/junit.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { buildLegacyRootTable, SecondLevelTable } from '../../src/synth/tables.js';
import { writeCapture } from '../hostile/helpers.js';
import { parseJunit } from '../helpers/validators.js';
import { bhyveHost } from './fixtures.js';
import { snapshot } from './snapshot-builder.js';

const PPT = '0000:03:01.0'; // FreeBSD pci0:3:0:8 = ppt0
const PCICONF = 'ppt0@pci0:3:0:8:\tclass=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 device=0x1520 subvendor=0x8086 subdevice=0x0000\n';
const PS = 'COMMAND\nbhyve -c 2 -m 2G -w -H -s 0,hostbridge -s 7:0,passthru,3/0/8 -s 31,lpc vm1\n';

/** A capture dir: DMAR, registers (RTADDR = `rtaddr`), memory, plus an inventory with ppt0 and a VM using it. */
function capture(phys: PhysBuilder, rtaddr: number): string {
  const dir = writeCapture(phys, rtaddr);
  fs.writeFileSync(path.join(dir, 'pciconf-lv.txt'), PCICONF);
  fs.writeFileSync(path.join(dir, 'ps-args.txt'), PS);
  return dir;
}

const status = (r: ReturnType<typeof runChecksWithStatus>, id: string) => r.statuses.find((s) => s.id === id);

describe('statuses beside findings', () => {
  it('every selected check gets one; a complete capture: all ran but those needing config space', () => {
    const r = runChecksWithStatus(bhyveHost().build());
    expect(r.statuses.map((s) => s.id)).toEqual(checks.map((c) => c.meta.id));
    // The builder's host has no PCI configuration space: only the checks that need it do not run.
    const needsConfig = checks.filter((c) => c.meta.needs.includes('pci-config')).map((c) => c.meta.id);
    expect(needsConfig.length).toBeGreaterThan(0);
    expect(r.statuses.filter((s) => s.status !== 'ran').map((s) => [s.id, s.status, s.missing])).toEqual(needsConfig.map((id) => [id, 'not-applicable', expect.arrayContaining(['pci-config'])]));
  });

  it('a missing need: not-applicable with what to add, no findings of its own; an optional one: partial', () => {
    const r = runChecksWithStatus(snapshot().unit(0xfed90000, (u) => u.context('0000:03:00.0')).build());
    expect(status(r, 'iommu-disabled')).toMatchObject({ status: 'not-applicable', missing: ['registers'] });
    expect(status(r, 'iommu-disabled')!.reasons[0]).toMatch(/iommu_regset/);
    expect(status(r, 'ppt-unmapped')).toMatchObject({ status: 'partial', missing: ['inventory'] });
    // A status is no finding: nothing of iommu-disabled, and nothing that says "could not run".
    expect(r.findings.filter((f) => f.check === 'iommu-disabled')).toEqual([]);
    expect(r.findings.some((f) => /could not run|partial capture/.test(f.message))).toBe(false);
  });

  it('a check that returns what it could not examine is partial, with its reason and its findings', () => {
    const found = { check: 'limited', severity: 'error' as const, message: 'm', messageId: 'm', evidence: {} };
    const limited: Check = {
      meta: { id: 'limited', defaultSeverity: 'error', summary: 's', description: 'd', needs: [], messages: { m: 'm' } },
      run: () => ({ status: 'partial', reasons: ['device X unknown'], findings: [found] }),
    };
    const r = runChecksWithStatus(snapshot().build(), {}, [limited]);
    expect(r.statuses).toEqual([{ id: 'limited', status: 'partial', missing: [], reasons: ['device X unknown'] }]);
    expect(r.findings).toEqual([found]);
  });

  it('a check that returns not-applicable has no findings, whatever it returned', () => {
    const nothing: Check = {
      meta: { id: 'nothing', defaultSeverity: 'error', summary: 's', description: 'd', needs: [], messages: { m: 'm' } },
      run: () => ({ status: 'not-applicable', reasons: ['no unit to judge'], findings: [{ check: 'nothing', severity: 'error', message: 'm', evidence: {} }] }),
    };
    const r = runChecksWithStatus(snapshot().build(), {}, [nothing]);
    expect(r).toEqual({ findings: [], statuses: [{ id: 'nothing', status: 'not-applicable', missing: [], reasons: ['no unit to judge'] }] });
  });

  it('JUnit: a check that could not run is <skipped> with its reason, never a pass', () => {
    const s = snapshot().unit(0xfed90000, (u) => u.context('0000:03:00.0')).build();
    const r = runChecksWithStatus(s);
    const xml = findingsToJunit({ snapshot: s, findings: r.findings, checks: checks.map((c) => c.meta), statuses: r.statuses });
    const cases = parseJunit(xml).testsuites.testsuite.testcase as { '@name': string; skipped?: { '@message': string } }[];
    const disabled = cases.find((c) => c['@name'] === 'iommu-disabled')!;
    expect(disabled.skipped?.['@message']).toMatch(/could not run: add the remapping-unit registers/);
    const unmapped = cases.find((c) => c['@name'] === 'ppt-unmapped')!;
    expect(unmapped.skipped).toBeUndefined();
  });
});

describe('unknown is not absent (item 18)', () => {
  it('RTADDR names a page the image lacks: no ppt-unmapped, table checks not-applicable naming the page, nothing checkable', () => {
    const phys = new PhysBuilder(0x1000000);
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(0, 0x5000, 4, 4096, { read: true, write: true });
    buildLegacyRootTable(phys, [{ bus: 3, devfn: 8, tt: 0, aw: 2, did: 1, slptptr: t.root }]);
    const dir = capture(phys, 0x3f000000); // not a page of the image
    const snap = loadCapture(dir);
    const r = runChecksWithStatus(snap);
    expect(r.findings.filter((f) => f.check === 'ppt-unmapped' && f.severity !== 'info')).toEqual([]);
    expect(r.findings.some((f) => /no present context entry/.test(f.message))).toBe(false);
    for (const id of ['ppt-unmapped', 'ppt-passthrough', 'table-integrity', 'stale-context']) {
      expect(status(r, id)?.status, id).toBe('not-applicable');
      expect(status(r, id)!.reasons.join(' '), id).toMatch(/root table at 0x3f000000 is not in the image/);
    }
    expect(inputCoverage(snap).get('tables')?.state).toBe('missing');
    const why = nothingCheckable(snap, r, selectChecks({}));
    expect(why).toMatch(/nothing to check/);
    expect(why).toMatch(/0x3f000000/);
    // Only the DMAR table checks: they examine what is there.
    expect(nothingCheckable(snap, runChecksWithStatus(snap, { only: ['dmar-integrity'] }), selectChecks({ only: ['dmar-integrity'] }))).toBeUndefined();
  });

  it('a bus whose context table the image lacks: its devices are unknown — ppt-unmapped partial, not an error', () => {
    const phys = new PhysBuilder(0x1000000);
    const t = new SecondLevelTable(phys, 4);
    t.mapRange(0, 0x5000, 4, 4096, { read: true, write: true });
    // Bus 0 has a real context entry; bus 3's root entry points at a page the image does not hold.
    const root = buildLegacyRootTable(phys, [{ bus: 0, devfn: 0xc8, tt: 0, aw: 2, did: 1, slptptr: t.root }]);
    phys.write64(root + 3 * 16, 0x3e000000 | 1, 0);
    const dir = capture(phys, root);
    const snap = loadCapture(dir);
    expect(snap.units[0].contextsKnown).toBe('partial');
    const r = runChecksWithStatus(snap);
    expect(r.findings.filter((f) => f.check === 'ppt-unmapped' && f.severity !== 'info')).toEqual([]);
    expect(status(r, 'ppt-unmapped')).toMatchObject({ status: 'partial' });
    expect(status(r, 'ppt-unmapped')!.reasons.join(' ')).toMatch(new RegExp(`${PPT}.*unknown.*context table of bus 3 at 0x3e000000`));
    expect(nothingCheckable(snap, r, selectChecks({}))).toBeUndefined();
  });

  it('a VM domain whose page-table root the image lacks is not "empty": ppt-empty-domain stays silent and says why', () => {
    const phys = new PhysBuilder(0x1000000);
    const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 8, tt: 0, aw: 2, did: 1, slptptr: 0x3d000000 }]);
    const snap = loadCapture(capture(phys, root));
    const r = runChecksWithStatus(snap);
    expect(r.findings.filter((f) => f.check === 'ppt-empty-domain' && f.severity !== 'info')).toEqual([]);
    expect(status(r, 'ppt-empty-domain')).toMatchObject({ status: 'partial' });
    expect(status(r, 'ppt-empty-domain')!.reasons.join(' ')).toMatch(/0x3d000000/);
  });
});

describe('--require (unmetRequirements)', () => {
  it('names a missing kind and a memory image that lacks the root tables', () => {
    const phys = new PhysBuilder(0x1000000);
    buildLegacyRootTable(phys, []);
    const snap = loadCapture(capture(phys, 0x3f000000));
    expect(unmetRequirements(snap, ['registers', 'pci', 'vm-cmdlines', 'dmar'])).toEqual([]);
    expect(unmetRequirements(snap, ['memory-map'])).toEqual(['--require memory-map: the capture has no memory-map part']);
    const mem = unmetRequirements(snap, ['memory']);
    expect(mem).toHaveLength(1);
    expect(mem[0]).toMatch(/--require memory: memory\.sparse is unusable: unit 0xfed90000: root table at 0x3f000000 is not in the image/);
  });
});
