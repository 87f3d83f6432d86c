/**
 * Issue 11 item 2: one function decides what the hardware does with a request, and `translate`,
 * the fault explanations and `analyze` agree. With GSTS.TES = 0 a request is not translated
 * (HPA = IOVA) — except into the protected memory regions (PMEN.EPM and PMEN.PRS set;
 * PLMBASE/PLMLIMIT, PHMBASE/PHMLIMIT, 2 MiB granules), which block it; pass-through requests are
 * blocked there too, translated ones only noted (the spec leaves those to the implementation).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecks } from '../../src/checks/run.js';
import { InputError } from '../../src/errors.js';
import { explainFaults } from '../../src/model/faults.js';
import { translate } from '../../src/model/translate.js';
import { makeRegisters, snapshot } from '../checks/snapshot-builder.js';
import { tmpDir } from '../hostile/helpers.js';
import { cli, cliJson, REPO } from '../helpers/cli.js';

const SAMPLE = path.join(REPO, 'samples', 'iommu-not-enabled');
const PPT0 = { segment: 0, bus: 3, devfn: 8 }; // pci0:3:0:8, README

/** iommu-not-enabled with extra register values (hex strings) in its registers.json. */
function withRegisters(extra: Record<string, string>): string {
  const dir = tmpDir();
  fs.cpSync(SAMPLE, dir, { recursive: true });
  const file = path.join(dir, 'registers.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  Object.assign(j.units[0].registers, extra);
  fs.writeFileSync(file, JSON.stringify(j, null, 2));
  return dir;
}

// Low region: PLMBASE 0 … PLMLIMIT 0x3fe00000 → [0, 0x3fffffff]; high: 0x100000000 … 0x17fe00000 →
// [0x100000000, 0x17fffffff] (limit bits 20:0 decoded as ones).
const PMR = { PMEN: '0x80000001', PLMBASE: '0x0', PLMLIMIT: '0x3fe00000', PHMBASE: '0x100000000', PHMLIMIT: '0x17fe00000' };

describe('translation off (samples/iommu-not-enabled): translate and analyze agree', () => {
  it('in process: HPA = IOVA, untranslated, no fault — and analyze calls the same device untranslated', () => {
    const s = loadCapture(SAMPLE);
    const unit = s.units[0];
    const r = translate(undefined, { unit, bdf: PPT0, iova: 0x1000n, access: 'read', haw: s.haw });
    expect(r.fault).toBeUndefined();
    expect(r.blocked).toBeUndefined();
    expect(r).toMatchObject({ hpa: 0x1000n, untranslated: true, passThrough: true });
    const f = runChecks(s).find((x) => x.check === 'iommu-disabled' && x.bdf === '0000:03:01.0');
    expect(f?.message).toMatch(/reaches host memory untranslated/);
  });

  it('through the CLI: translate --bdf ppt0 --iova 0x1000 resolves to 0x1000 (exit 0)', () => {
    const r = cliJson(['translate', SAMPLE, '--bdf', 'ppt0', '--iova', '0x1000', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.json.fault).toBeUndefined();
    expect(r.json).toMatchObject({ hpa: '0x1000', untranslated: true });
    const t = cli(['translate', SAMPLE, '--bdf', 'ppt0', '--iova', '0x1000']);
    expect(t.stdout).toMatch(/HPA 0x1000.*untranslated/);
    expect(t.stdout).not.toMatch(/context entry not present/);
  });

  it('the protected regions block what falls in them, and only that', () => {
    const dir = withRegisters(PMR);
    const go = (iova: string) => cliJson(['translate', dir, '--bdf', 'ppt0', '--iova', iova, '--format', 'json']);
    for (const iova of ['0x1000', '0x3fffffff', '0x100000000', '0x17ffff000']) {
      const r = go(iova);
      expect(r.status, iova).toBe(1);
      expect(r.json.hpa, iova).toBeUndefined();
      expect(r.json.blocked.reason, iova).toMatch(new RegExp(`protected ${BigInt(iova) >= 1n << 32n ? 'high' : 'low'}-memory region`));
    }
    for (const iova of ['0x40000000', '0xfffff000', '0x180000000']) {
      const r = go(iova);
      expect(r.status, iova).toBe(0);
      expect(r.json.hpa, iova).toBe(iova);
    }
    // analyze says the same: untranslated except the regions.
    const a = cliJson(['analyze', dir, '--format', 'json']);
    const f = a.json.findings.find((x: { check: string }) => x.check === 'iommu-disabled');
    expect(f.message).toMatch(/except the protected low-memory region 0x0-0x3fffffff .* and the protected high-memory region 0x100000000-0x17fffffff/);
  });

  it('PMEN.EPM set but PMEN.PRS clear (not yet in force), or a limit below its base: nothing is protected', () => {
    for (const extra of [{ ...PMR, PMEN: '0x80000000' }, { PMEN: '0x80000001', PLMBASE: '0x40000000', PLMLIMIT: '0x200000' }]) {
      const r = cliJson(['translate', withRegisters(extra), '--bdf', 'ppt0', '--iova', '0x1000', '--format', 'json']);
      expect(r.status).toBe(0);
      expect(r.json.hpa).toBe('0x1000');
    }
  });
});

describe('the same decision with translation on', () => {
  const regs = (o: { ttm?: number; rtps?: boolean } = {}) =>
    makeRegisters(0xfed90000, { tes: true, raw: { PMEN: 0x80000001n, PLMBASE: 0n, PLMLIMIT: 0x3fe00000n }, ...o });
  const unitOf = (fn: Parameters<ReturnType<typeof snapshot>['unit']>[1]) => snapshot().unit(0xfed90000, fn).build().units[0];

  it('a pass-through context entry (TT 10b) into a protected region is blocked; outside it resolves', () => {
    const unit = unitOf((u) => { u.regs({}).context('0000:03:00.0', { tt: 2 }); u.unit.registers = regs(); });
    const bdf = { segment: 0, bus: 3, devfn: 0 };
    expect(translate(undefined, { unit, bdf, iova: 0x2000n, access: 'write', haw: 46 }).blocked).toMatch(/pass-through request into the protected low-memory region/);
    expect(translate(undefined, { unit, bdf, iova: 0x40000000n, access: 'write', haw: 46 }).hpa).toBe(0x40000000n);
  });

  it('a translated request whose host address is protected resolves, with a note (implementation-defined)', () => {
    const unit = unitOf((u) => u.regs({}).context('0000:03:00.0', { did: 1, root: 0x100000 }).domain(1, 0x100000, [[0, 0x10, 1]]));
    unit.registers = regs();
    const r = translate(undefined, { unit, bdf: { segment: 0, bus: 3, devfn: 0 }, iova: 0n, access: 'read', haw: 46 });
    expect(r.hpa).toBe(0x10000n);
    expect(r.note).toMatch(/may or may not block translated requests/);
  });

  it('abort-DMA mode blocks (where ECAP.ADMS offers it; else RTA.1, 0x30); TES = 1 without a latched root table faults (0x8)', () => {
    const abort = unitOf((u) => u.regs({ ttm: 3, adms: true }));
    expect(translate(undefined, { unit: abort, bdf: PPT0, iova: 0n, access: 'read', haw: 46 }).blocked).toMatch(/abort-DMA/);
    const unsupported = unitOf((u) => u.regs({ ttm: 3, adms: false }));
    expect(translate(undefined, { unit: unsupported, bdf: PPT0, iova: 0n, access: 'read', haw: 46 }).fault?.code).toBe(0x30);
    const noRoot = unitOf((u) => u.regs({ rtps: false }));
    expect(translate(undefined, { unit: noRoot, bdf: PPT0, iova: 0n, access: 'read', haw: 46 }).fault?.code).toBe(0x8);
  });

  it('context entries the capture cannot read: translate says it cannot tell, not "context entry not present"', () => {
    const unit = unitOf((u) => u.regs({}));
    unit.contextsKnown = 'unknown';
    unit.unreadableTables = [{ structure: 'root', addr: 0x10000, message: 'root table at 0x10000 is not in the image' }];
    expect(() => translate(undefined, { unit, bdf: PPT0, iova: 0n, access: 'read', haw: 46 })).toThrow(InputError);
    expect(() => translate(undefined, { unit, bdf: PPT0, iova: 0n, access: 'read', haw: 46 })).toThrow(/cannot translate/);
  });
});

describe('fault explanations use the same decision', () => {
  it('a fault recorded on a unit whose translation is now off is explained as untranslated, not as a missing context entry', () => {
    const s = loadCapture(SAMPLE);
    s.faults.push({ unit: s.units[0].registerBase, bdf: '0000:03:01.0', iovaPfn: 1, iovaOffset: 0, reason: 0x2, reasonText: '', type: 'read', source: { part: 'test' } });
    explainFaults(s, undefined);
    const e = s.faults[s.faults.length - 1].explanation!;
    expect(e.text).toMatch(/translation is off on this unit/);
    expect(e.text).not.toMatch(/context entry not present/);
  });
});
