/**
 * Through the CLI: the scalable-mode sample (decode, analyze, translate --pasid) with values taken
 * from its scenario (samples/scenarios/scalable-kvm-host.json), a pass-through PASID entry for the
 * VM's device (ppt-passthrough), fault recording registers written by hand, and the two real faults
 * of qemu-linux61-dmar-fault explained with that capture's tables as its README states them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../../src/synth/generate.js';
import type { Scenario } from '../../src/synth/scenario.js';
import { capturePath } from '../helpers/captures.js';
import { cli, cliJson, REPO } from '../helpers/cli.js';
import { validator } from '../report/fixture.js';

const SAMPLE = path.join('samples', 'scalable-kvm-host');
const scenario = JSON.parse(fs.readFileSync(path.join(REPO, 'samples', 'scenarios', 'scalable-kvm-host.json'), 'utf8')) as Scenario;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-sm-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('scalable-kvm-host: decode', () => {
  const { status, json: m } = cliJson(['decode', SAMPLE, '--format', 'json']);

  it('one unit in scalable mode at the scenario\'s table base; the JSON validates', () => {
    expect(status).toBe(0);
    expect(m.warnings).toEqual([]);
    expect(validator('decode-model.schema.json')(m)).toEqual([]);
    expect(m.units[0]).toMatchObject({ mode: 'scalable', rtaddr: scenario.units[0].tableBase });
  });

  it('every context of the scenario, each with its RID_PASID entry: first level for the host devices, second level for the VM\'s', () => {
    const ctx = m.units[0].contexts as Json[];
    expect(ctx.map((c) => c.bdf)).toEqual(scenario.contexts.map((c) => c.bdf));
    for (const c of ctx) {
      const want = scenario.contexts.find((x) => x.bdf === c.bdf)!;
      const dom = scenario.domains.find((d) => d.id === want.domain)!;
      expect(c.ridPasid).toBe(0);
      expect(c.pasids).toHaveLength(1);
      const p = c.pasids[0];
      expect(p.pasid).toBe(0);
      expect(p.did).toBe(dom.did);
      expect(p.pgtt).toBe(dom.format === 'first-level' ? 1 : 2);
      expect(p.levels).toBe(4);
    }
    // Upper context table (devfn ≥ 0x80): 00:17.0 is devfn 0xb8, 00:1f.6 is 0xfe; 00:04.0 (0x20) is in the lower one.
    const bus0 = m.units[0].rootEntries.find((r: Json) => r.bus === 0);
    expect(bus0.lowerContextTable).not.toBeNull();
    expect(bus0.upperContextTable).not.toBeNull();
  });

  it('two domains: the first-level host domain maps 1M + 512K + 64K, the VM domain 4 GiB in 2 MiB pages', () => {
    const doms = m.units[0].domains as Json[];
    const host = doms.find((d) => d.kind === 'first-level');
    const vm = doms.find((d) => d.kind === 'second-level');
    expect(host).toMatchObject({ did: 1, levels: 4, pageCount: 256 + 128 + 16, complete: true });
    expect(vm).toMatchObject({ did: 2, levels: 4, pageCount: (4 * 2 ** 30) / 4096, complete: true });
    expect(vm.mappings.every((x: Json) => x.pageSize === 2097152)).toBe(true);
    // The read-only 64 KiB at 0xffd00000 → 0xa00000, as the scenario says.
    expect(host.mappings).toContainEqual(expect.objectContaining({ iova: '0xffd00000', hpa: '0xa00000', size: '0x10000', read: true, write: false }));
  });

  it('the table shows the PASID rows', () => {
    const t = cli(['decode', SAMPLE]);
    expect(t.stdout).toContain('(scalable)');
    expect(t.stdout).toMatch(/PASID 0\s+FL\s+1\s+4-level FL/);
    expect(t.stdout).toMatch(/PASID 0\s+SL\s+2\s+48-bit\/4-level/);
  });
});

describe('scalable-kvm-host: analyze and translate --pasid', () => {
  it('analyze: nothing at warning or above (exit 0 with --fail-on warning)', () => {
    const r = cli(['analyze', SAMPLE, '--fail-on', 'warning']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('00:1f.6 (upper context table) --pasid 0: the host DMA buffer 0xfff00000 → 0x400000', () => {
    const r = cliJson(['translate', SAMPLE, '--bdf', '00:1f.6', '--iova', '0xfff00123', '--pasid', '0', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ pasid: 0, hpa: '0x400123', pageSize: 4096, read: true, write: true });
    // devfn 0xfe: root entry bus 0, context index 0xfe & 0x7f = 126, PASID dir 0, PASID table 0, 4 levels.
    expect(r.json.steps.map((s: Json) => [s.structure, s.index])).toEqual([['root', 0], ['context', 126], ['pasid-dir', 0], ['pasid', 0], ['page-table', 0], ['page-table', 3], ['page-table', 511], ['page-table', 256]]);
  });

  it('a write to the read-only first-level page faults with the SM reason 0x85; an absent PASID with 0x59', () => {
    const w = cliJson(['translate', SAMPLE, '--bdf', '00:17.0', '--iova', '0xffd00010', '--access', 'write', '--format', 'json']);
    expect(w.status).toBe(1);
    expect(w.json.fault).toMatchObject({ code: 0x85, level: 1 });
    const p = cliJson(['translate', SAMPLE, '--bdf', '65:00.0', '--iova', '0x1000', '--pasid', '7', '--format', 'json']);
    expect(p.json.fault).toMatchObject({ code: 0x59 });
  });

  it('the VM device: guest 4 GiB + 0x1234 lands where its second-level domain maps it', () => {
    const m = cliJson(['decode', SAMPLE, '--format', 'json']).json;
    const vm = m.units[0].domains.find((d: Json) => d.kind === 'second-level');
    const run = vm.mappings.find((x: Json) => BigInt(x.iova) <= 0x100001234n && 0x100001234n < BigInt(x.iova) + BigInt(x.size));
    const r = cliJson(['translate', SAMPLE, '--bdf', '0000:65:00.0', '--iova', '0x100001234', '--format', 'json']);
    expect(r.json.hpa).toBe('0x' + (BigInt(run.hpa) + 0x100001234n - BigInt(run.iova)).toString(16));
    expect(r.json.pageSize).toBe(2097152);
  });

  it('a pass-through PASID entry (PGTT 100b) for the VM\'s device is ppt-passthrough, critical, naming the PASID', () => {
    const s: Scenario = { ...scenario, name: 'sm-pt', contexts: scenario.contexts.map((c) => (c.bdf === '0000:65:00.0' ? { bdf: c.bdf, tt: 2 } : c)) };
    generateCapture(s, path.join(tmp, 'sm-pt'));
    const r = cliJson(['analyze', path.join(tmp, 'sm-pt'), '--format', 'json']);
    expect(r.status).toBe(1);
    const f = r.json.findings.filter((x: Json) => x.severity !== 'info');
    expect(f.map((x: Json) => [x.check, x.severity, x.bdf, x.evidence.pasid])).toEqual([['ppt-passthrough', 'critical', '0000:65:00.0', 0]]);
  });
});

describe('fault recording registers (FSTS, FRCDn) of a register snapshot', () => {
  // FRCD0: write from 00:17.0 (SID 0x00b8) to 0xffd00000, FR 0x85: hi = F (bit 63) | FR << 32 | SID = 0x80000085000000b8.
  // FRCD1: read (T1, bit 62) with PASID 5 (PP bit 31, PV bits 59:40) from 65:00.0 (SID 0x6500), FR 0x59:
  //   hi = 0xc000000000000000 | 5 << 40 | 0x59 << 32 | 0x80000000 | 0x6500 = 0xc000055980006500.
  // FSTS 0x2: PPF, FRI 0.
  const dir = path.join(tmp, 'sm-faults');
  fs.cpSync(path.join(REPO, SAMPLE), dir, { recursive: true });
  const regs = JSON.parse(fs.readFileSync(path.join(dir, 'registers.json'), 'utf8'));
  Object.assign(regs.units[0].registers, { FSTS: '0x2', FRCD0_LO: '0xffd00000', FRCD0_HI: '0x80000085000000b8', FRCD1_LO: '0x1000', FRCD1_HI: '0xc000055980006500', FRCD2_LO: '0x0', FRCD2_HI: '0x0' });
  fs.writeFileSync(path.join(dir, 'registers.json'), JSON.stringify(regs, null, 2));

  it('two faults with the spec\'s reason names, types, PASID; each explained by a walk that agrees', () => {
    const { json: m } = cliJson(['decode', dir, '--format', 'json']);
    expect(validator('decode-model.schema.json')(m)).toEqual([]);
    expect(m.units[0].registers.FSTS).toMatchObject({ PPF: true, PFO: false, FRI: 0 });
    expect(m.faults.map((f: Json) => [f.bdf, f.iova, f.type, f.reason, f.reasonName, f.pasid])).toEqual([
      ['0000:00:17.0', '0xffd00000', 'write', 0x85, 'SM: write permission denied for a write or atomic request', null],
      ['0000:65:00.0', '0x1000', 'read', 0x59, 'SM: PASID table entry not present', 5],
    ]);
    const [a, b] = m.faults.map((f: Json) => f.explanation);
    expect(a).toMatchObject({ method: 'walk', code: 0x85, agrees: true, stoppedAt: { structure: 'page-table', level: 1 } });
    expect(b).toMatchObject({ method: 'walk', code: 0x59, agrees: true, stoppedAt: { structure: 'pasid', index: 5 } });
  });

  it('the table shows FSTS and each fault with its explanation', () => {
    const t = cli(['decode', dir]).stdout;
    expect(t).toContain('fault status FSTS 0x2: PPF (primary fault pending), FRI 0; 2 fault records with F = 1');
    expect(t).toMatch(/0000:65:00\.0\s+read\s+0x1000\s+reason 0x59 SM: PASID table entry not present/);
    expect(t).toContain('→ the walk of the capture\'s tables stops at entry [5] of the PASID table');
  });
});

describe('qemu-linux61-dmar-fault: each fault explained with the capture\'s own tables (README truths)', () => {
  const CAP = capturePath('qemu-linux61-dmar-fault');
  const { json: m } = cliJson(['decode', CAP, '--format', 'json']);

  it('0xbadd000: the walk stops at the level-3 entry [0] of table 0x285b000, which is 0 — reason 0x6 as recorded; 4 dumped entries match', () => {
    const f = m.faults.find((x: Json) => x.iova === '0xbadd000');
    expect(f).toMatchObject({ bdf: '0000:01:00.0', reason: 6, reasonName: 'read access denied (R = 0 in a paging entry)' });
    expect(f.explanation).toMatchObject({
      method: 'walk', code: 6, agrees: true,
      stoppedAt: { structure: 'page-table', level: 3, table: '0x285b000', index: 0, entry: ['0x0'] },
      dump: { compared: 4, matching: 4, mismatches: [] },
    });
    // root entry 0x285c001 (bus 1), context hi 0x601 lo 0x285b001: the README's values.
    expect(f.explanation.steps.slice(0, 2).map((s: Json) => s.entry)).toEqual([['0x285c001', '0x0'], ['0x285b001', '0x601']]);
  });

  it('0xffe00000: level 3 0x2c4e003, level 2 0x2c4f003, stops at level 1 (entry 0) — reason 0x6; 6 dumped entries match', () => {
    const f = m.faults.find((x: Json) => x.iova === '0xffe00000');
    const walked = f.explanation.steps.filter((s: Json) => s.structure === 'page-table').map((s: Json) => [s.level, s.entry[0]]);
    expect(walked).toEqual([[3, '0x2c4e003'], [2, '0x2c4f003'], [1, '0x0']]);
    expect(f.explanation).toMatchObject({ code: 6, agrees: true, stoppedAt: { level: 1 }, dump: { compared: 6, matching: 6 } });
  });

  it('the decode table says so under each fault', () => {
    const t = cli(['decode', CAP]).stdout;
    expect(t).toContain('stops at PDPE entry [0] of the level-3 table at 0x285b000 (0x0)');
    expect(t).toContain('stops at PTE entry [0] of the level-1 table at 0x2c4f000 (0x0)');
  });

  it('with the machine\'s inventory (02:00.0 unplugged): 01:00.0 is listed, so fault-from-absent-device stays quiet; without 01:00.0 it fires, citing both faults', () => {
    // Functions from qemu-linux61-legacy's README (same machine), as lspci -Dnnk prints them.
    const lines = (drop: string[]) => [
      ['0000:00:00.0', 'Host bridge [0600]: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller [8086:29c0]', ''],
      ['0000:00:02.0', 'PCI bridge [0604]: Red Hat, Inc. QEMU PCIe Root port [1b36:000c]', 'pcieport'],
      ['0000:00:03.0', 'PCI bridge [0604]: Red Hat, Inc. QEMU PCIe Root port [1b36:000c]', 'pcieport'],
      ['0000:00:1f.0', 'ISA bridge [0601]: Intel Corporation 82801IB (ICH9) LPC Interface Controller [8086:2918]', ''],
      ['0000:00:1f.2', 'SATA controller [0106]: Intel Corporation 82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode] [8086:2922] (prog-if 01 [AHCI 1.0])', ''],
      ['0000:00:1f.3', 'SMBus [0c05]: Intel Corporation 82801I (ICH9 Family) SMBus Controller [8086:2930]', ''],
      ['0000:01:00.0', 'Ethernet controller [0200]: Intel Corporation 82574L Gigabit Network Connection [8086:10d3]', 'e1000e'],
    ].filter(([b]) => !drop.includes(b)).map(([b, t, d]) => `${b} ${t}\n${d ? `\tKernel driver in use: ${d}\n` : ''}`).join('');
    fs.writeFileSync(path.join(tmp, 'lspci-all.txt'), lines([]));
    fs.writeFileSync(path.join(tmp, 'lspci-no-nic.txt'), lines(['0000:01:00.0']));
    const quiet = cliJson(['analyze', CAP, '--pci', path.join(tmp, 'lspci-all.txt'), '--format', 'json', '--check', 'fault-from-absent-device']);
    expect(quiet.json.findings).toEqual([]);
    const fired = cliJson(['analyze', CAP, '--pci', path.join(tmp, 'lspci-no-nic.txt'), '--format', 'json', '--check', 'fault-from-absent-device,stale-context']);
    const f = fired.json.findings.find((x: Json) => x.check === 'fault-from-absent-device');
    expect(f).toMatchObject({ severity: 'info', bdf: '0000:01:00.0', evidence: { presentContextEntry: true } });
    expect(f.evidence.faults.map((x: Json) => [x.iova, x.reason, x.walkStoppedAt, x.walkAgrees])).toEqual([['0xbadd000', '0x6', 'level-3 entry', true], ['0xffe00000', '0x6', 'level-1 entry', true]]);
    const stale = fired.json.findings.find((x: Json) => x.check === 'stale-context');
    expect(stale.evidence.faults).toHaveLength(2);
  });
});
