/**
 * Reserved CAP/ECAP encodings (VT-d spec 3.x/4.x, "Capability Register" and
 * "Extended Capability Register"): CAP.ND = 111b is reserved (000b–110b give 2^(4+2·ND) domain
 * ids); CAP.SAGAW defines bits 1–3 only (39-, 48-, 57-bit AGAW; bits 0 and 4 — 30-bit and 64-bit in
 * VT-d 1.x/2.x — are reserved); CAP.SLLPS defines bits 0–1 only (2 MiB, 1 GiB; bits 2–3 reserved);
 * ECAP.PSS = N means (N+1)-bit PASIDs, and a PASID has 20 bits; CAP.MGAW must be at least the
 * platform's host address width. Each gets one warning naming the register and field, and the
 * model uses no value derived from a reserved encoding.
 *
 * CAP 0xd2078c406f0666 (the samples' unit): ND 110b, SAGAW 00110b, MGAW 101111b (48-bit), SLLPS 11b.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { tableIntegrity } from '../../src/checks/table-integrity.js';
import { buildUnitRegisters, capabilityWarnings, decodeCap } from '../../src/decode/registers.js';
import { renderDecodeTable } from '../../src/report/decode-table.js';
import { findingsOf } from '../checks/check-tester.js';
import { snapshot, summary } from '../checks/snapshot-builder.js';
import { tmpDir } from '../hostile/helpers.js';

const CAP = 0xd2078c406f0666n;
const ECAP = 0xf050den;
const withND = (nd: bigint) => (CAP & ~7n) | nd;
const withSagaw = (sagaw: bigint) => (CAP & ~(0x1fn << 8n)) | (sagaw << 8n);
const withMgaw = (mgaw: bigint) => (CAP & ~(0x3fn << 16n)) | (mgaw << 16n);
const warnings = (cap: bigint, ecap = ECAP) => capabilityWarnings(buildUnitRegisters(0xfed90000, { CAP: cap, ECAP: ecap }));

describe('reserved CAP/ECAP encodings', () => {
  it('the samples\' CAP and ECAP are clean', () => {
    expect(warnings(CAP)).toEqual([]);
    // ND 2 (256 domains), SAGAW 39/48-bit, MGAW 47 (48-bit): the fields QEMU's intel-iommu reports.
    expect(warnings((2n) | (0b0110n << 8n) | (47n << 16n))).toEqual([]);
  });

  it('CAP.ND = 7: one warning, and the domain count is the 16-bit DID field\'s, not 2^18', () => {
    expect(decodeCap(withND(7n)).domains).toBe(65536);
    expect(decodeCap(withND(6n)).domains).toBe(65536);
    expect(decodeCap(withND(2n)).domains).toBe(256);
    const w = warnings(withND(7n));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/CAP\.ND = 7 is reserved/);
  });

  it('CAP.SAGAW bit 4 (and bit 0): one warning naming the bits; the reserved widths are not supported', () => {
    const w = warnings(withSagaw(0b10110n));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/CAP\.SAGAW = 0x16.*reserved bit 4/);
    const both = warnings(withSagaw(0b10111n));
    expect(both).toHaveLength(1);
    expect(both[0]).toMatch(/reserved bits 0 and 4/);
  });

  it('CAP.SLLPS bits 2–3 and ECAP.PSS beyond 19 are warned of', () => {
    const sllps = (CAP & ~(0xfn << 34n)) | (0b1111n << 34n);
    expect(warnings(sllps)).toEqual([expect.stringMatching(/CAP\.SLLPS = 0xf .*reserved bits 2 and 3/)]);
    const pasid = ECAP | (1n << 40n) | (21n << 35n); // PASID supported, PSS 21 → 22-bit PASIDs
    expect(warnings(CAP, pasid)).toEqual([expect.stringMatching(/ECAP\.PSS = 21/)]);
    expect(warnings(CAP, ECAP | (1n << 40n) | (19n << 35n))).toEqual([]);
  });

  it('table-integrity: AW 4 is not supported even where SAGAW sets its reserved bit 4', () => {
    const s = snapshot().unit(0xfed90000, (u) => u.regs({ sagaw: 0b10100 }).context('0000:00:01.0', { did: 1, aw: 4, root: 0x1000 }).context('0000:00:02.0', { did: 1, aw: 2, root: 0x1000 })).build();
    expect(summary(findingsOf(tableIntegrity, s))).toEqual(['table-integrity error 0000:00:01.0']);
  });
});

describe('a capture with reserved encodings (samples/iommu-not-enabled, DMAR HAW 46)', () => {
  function load(cap: bigint): ReturnType<typeof loadCapture> {
    const dir = tmpDir();
    fs.cpSync(path.join(import.meta.dirname, '..', '..', 'samples', 'iommu-not-enabled'), dir, { recursive: true });
    const file = path.join(dir, 'registers.json');
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    j.units[0].registers.CAP = `0x${cap.toString(16)}`;
    fs.writeFileSync(file, JSON.stringify(j, null, 2));
    return loadCapture(dir);
  }

  it('decode warns once per field and shows no width or domain count from a reserved value', () => {
    const s = load(withND(7n) | (0b10000n << 8n));
    const about = (re: RegExp) => s.warnings.filter((w) => re.test(w.message));
    expect(about(/CAP\.ND/)).toHaveLength(1);
    expect(about(/CAP\.SAGAW/)).toHaveLength(1);
    const caps = renderDecodeTable(s, { color: false }).split('\n').find((l) => l.includes('SAGAW')) ?? '';
    expect(caps).not.toMatch(/64-bit|262144/);
    expect(caps).toMatch(/SAGAW 39\/48-bit \+ reserved bit 4/);
    expect(caps).toMatch(/ND 7 \(reserved\)/);
  });

  it('CAP.MGAW below the DMAR table\'s HAW is warned of (the spec: MGAW at least the host address width)', () => {
    const s = load(withMgaw(38n)); // 39-bit MGAW, HAW 46
    expect(s.warnings.filter((w) => /CAP\.MGAW/.test(w.message))).toEqual([expect.objectContaining({ message: expect.stringMatching(/CAP\.MGAW = 38 \(39-bit\).*46/) })]);
    expect(load(CAP).warnings.filter((w) => /CAP\./.test(w.message))).toEqual([]);
  });
});
