/**
 * RTADDR.TTM (bits 11:10) decides what a unit does before any table is read (VT-d spec 3.x,
 * "Root Table Address Register"; the non-recoverable fault conditions RTA.1.x, reason 30h):
 *   00b legacy, 01b scalable (needs ECAP.SMTS), 10b reserved since 3.0 (VT-d 2.x: extended root
 *   table, ECAP bit 24 ECS), 11b abort-DMA mode (needs ECAP.ADMS): every DMA request is blocked and
 *   no table is read. A TTM the unit does not support is the RTA.1 condition: every request faults
 *   with reason 30h. Translation off (GSTS.TES = 0) uses no RTADDR at all: DMA is untranslated.
 *
 * The captures are samples/iommu-not-enabled (one unit at 0xfed90000, ppt0 = 0000:03:01.0 in vm1)
 * with other register values: the expected answers come from the bits above, not from the code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecksWithStatus } from '../../src/checks/run.js';
import { translate } from '../../src/model/translate.js';
import { renderDecodeTable } from '../../src/report/decode-table.js';
import { tmpDir } from '../hostile/helpers.js';

const SAMPLE = path.join(import.meta.dirname, '..', '..', 'samples', 'iommu-not-enabled');
const PPT0 = { segment: 0, bus: 3, devfn: 8 }; // 0000:03:01.0
const ECAP = 0xf050den; // C QI DT IR EIM PT SC; no SMTS (bit 43), no ADMS (bit 52), no ECS (bit 24)
const ADMS = 1n << 52n;
const SMTS = 1n << 43n;
const ECS = 1n << 24n;
const TES_RTPS = 0xc0000000n;

function capture(regs: { GSTS: bigint; RTADDR: bigint; ECAP: bigint }): ReturnType<typeof loadCapture> {
  const dir = tmpDir();
  fs.cpSync(SAMPLE, dir, { recursive: true });
  const file = path.join(dir, 'registers.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  Object.assign(j.units[0].registers, { GSTS: `0x${regs.GSTS.toString(16)}`, RTADDR: `0x${regs.RTADDR.toString(16)}`, ECAP: `0x${regs.ECAP.toString(16)}` });
  fs.writeFileSync(file, JSON.stringify(j, null, 2));
  return loadCapture(dir);
}

const tr = (s: ReturnType<typeof loadCapture>) => translate(undefined, { unit: s.units[0], bdf: PPT0, iova: 0x1000n, access: 'read', haw: s.haw });
const rootLine = (s: ReturnType<typeof loadCapture>) => renderDecodeTable(s, { color: false }).split('\n').find((l) => l.includes('root table'));

describe('RTADDR.TTM = 11b: abort-DMA mode', () => {
  const s = capture({ GSTS: TES_RTPS, RTADDR: 0xc00n, ECAP: ECAP | ADMS });

  it('decode says what the unit does: abort mode, every DMA blocked, no table to read', () => {
    const line = rootLine(s) ?? '';
    expect(line).not.toMatch(/unknown/);
    expect(line).toMatch(/abort-DMA mode \(RTADDR\.TTM = 11b\)/);
    expect(line).toMatch(/every DMA request is blocked/);
    expect(line).toMatch(/no table/);
    expect(renderDecodeTable(s, { color: false })).not.toMatch(/no context entries/);
  });

  it('translate: blocked, no address, no translation fault', () => {
    const r = tr(s);
    expect(r.blocked).toMatch(/abort-DMA/);
    expect(r.hpa).toBeUndefined();
    expect(r.fault).toBeUndefined();
  });

  it('analyze: the assigned device cannot DMA at all — not an I/O MMU that is off, not a table the capture lacks', () => {
    const { findings, statuses } = runChecksWithStatus(s);
    expect(findings.filter((f) => f.check === 'iommu-disabled')).toEqual([]);
    const f = findings.filter((x) => x.check === 'ppt-unmapped');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ bdf: '0000:03:01.0', severity: 'warning' });
    expect(f[0].message).toMatch(/abort-DMA mode/);
    expect(f[0].message).toMatch(/cannot DMA/);
    expect(f[0].message).not.toMatch(/no present context entry|re-attach/);
    // The unit uses no tables: their absence is known, so the table checks ran.
    expect(statuses.find((x) => x.id === 'ppt-unmapped')?.status).toBe('ran');
    // Nor are page tables missing: a unit that reads no table maps nothing.
    expect(statuses.find((x) => x.id === 'ppt-empty-domain')?.status).toBe('ran');
  });
});

describe('a TTM the unit does not support faults every request (RTA.1, reason 30h)', () => {
  it('11b without ECAP.ADMS', () => {
    const s = capture({ GSTS: TES_RTPS, RTADDR: 0xc00n, ECAP });
    expect(tr(s).fault?.code).toBe(0x30);
    expect(rootLine(s)).toMatch(/ECAP\.ADMS = 0.*30h|30h.*ECAP\.ADMS = 0/);
  });

  it('10b, reserved since VT-d 3.0 (no VT-d 2.x ECS bit)', () => {
    const s = capture({ GSTS: TES_RTPS, RTADDR: 0x800n | 0x200000n, ECAP });
    expect(tr(s).fault?.code).toBe(0x30);
    expect(rootLine(s)).toMatch(/TTM = 10b.*reserved/);
    expect(s.warnings.filter((w) => /RTADDR\.TTM = 10b/.test(w.message))).toHaveLength(1);
  });

  it('01b without ECAP.SMTS; with SMTS the tables decide', () => {
    expect(tr(capture({ GSTS: TES_RTPS, RTADDR: 0x400n | 0x200000n, ECAP })).fault?.code).toBe(0x30);
    // With SMTS the walk needs the tables, which this capture (no memory image) does not hold.
    expect(() => tr(capture({ GSTS: TES_RTPS, RTADDR: 0x400n | 0x200000n, ECAP: ECAP | SMTS }))).toThrow(/context entry/);
  });

  it('10b with the VT-d 2.x ECS bit is an extended root table, not a fault', () => {
    const s = capture({ GSTS: TES_RTPS, RTADDR: 0x800n | 0x200000n, ECAP: ECAP | ECS });
    expect(rootLine(s)).toMatch(/extended/);
    expect(() => tr(s)).toThrow(/extended/);
  });
});

describe('translation off: RTADDR is not used', () => {
  it('TTM = 11b with GSTS.TES = 0 is untranslated DMA, and iommu-disabled says so', () => {
    const s = capture({ GSTS: 0n, RTADDR: 0xc00n, ECAP: ECAP | ADMS });
    expect(tr(s)).toMatchObject({ hpa: 0x1000n, untranslated: true });
    expect(runChecksWithStatus(s).findings.some((f) => f.check === 'iommu-disabled' && f.bdf === '0000:03:01.0')).toBe(true);
    expect(rootLine(s)).toMatch(/TES = 0/);
  });
});
