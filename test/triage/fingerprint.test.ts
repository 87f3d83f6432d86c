/**
 * Fingerprints survive a reboot: a scenario generated again with its table roots, page-table pages
 * and host pages elsewhere (the tables' area moved, another seed for where guest memory lands)
 * gives every finding the fingerprint it had, and distinct findings keep distinct fingerprints.
 * The test first checks that the relocation did move what it claims to (roots, host pages), so it
 * cannot pass by generating the same capture twice.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecks } from '../../src/checks/run.js';
import type { Finding } from '../../src/checks/types.js';
import type { Snapshot } from '../../src/model/types.js';
import { generateCapture } from '../../src/synth/generate.js';
import { hashString } from '../../src/synth/rng.js';
import { parseAddr, type Scenario } from '../../src/synth/scenario.js';
import { assignFingerprints, domainRole, vmOfFinding } from '../../src/triage/fingerprint.js';
import { roles } from '../../src/model/roles.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-fp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function scenario(name: string): Scenario {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'samples', 'scenarios', `${name}.json`), 'utf8')) as Scenario;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The same host after a reboot: each unit's 64 MiB table area (root table, context tables, page
 * tables) `delta` bytes higher, with every address the scenario names inside it (a mapping onto
 * the root table, an explicit table place) moved along, and another seed, so guest memory lands on
 * other host pages.
 */
function relocated(s: Scenario, delta: number): Scenario {
  const areas = s.units.map((u) => parseAddr(u.tableBase));
  const move = (a: string | undefined): string | undefined => {
    if (a === undefined) return undefined;
    const n = parseAddr(a);
    return areas.some((base) => n >= base && n < base + (64 << 20)) ? hex(n + delta) : a;
  };
  const c: Scenario = structuredClone(s);
  c.seed = (s.seed ?? hashString(s.name)) + 1;
  for (const u of c.units) u.tableBase = hex(parseAddr(u.tableBase) + delta);
  for (const d of c.domains) {
    if (d.tablesAt !== undefined) d.tablesAt = move(d.tablesAt);
    for (const r of [...(d.guest ?? []), ...(d.extra ?? [])]) if (r.hpa !== undefined) r.hpa = move(r.hpa);
  }
  for (const x of c.contexts) if (x.slptptr !== undefined) x.slptptr = move(x.slptptr);
  return c;
}

function analyse(s: Scenario, dir: string): { snapshot: Snapshot; findings: Finding[] } {
  generateCapture(s, dir);
  const snapshot = loadCapture(dir);
  const findings = runChecks(snapshot);
  assignFingerprints(snapshot, findings);
  return { snapshot, findings };
}

const roots = (s: Snapshot): number[] => s.units.flatMap((u) => [u.rootTable ?? 0, ...u.domains.map((d) => d.root)]).sort((a, b) => a - b);
const hostPages = (s: Snapshot): number[] => s.units.flatMap((u) => u.domains.flatMap((d) => d.mappings.map((m) => m.hpaPfn))).sort((a, b) => a - b);
const what = (f: Finding): string => `${f.check}/${f.messageId}/${f.bdf ?? '-'}`;

/**
 * Samples whose findings exercise every part of the fingerprint: several findings of one check
 * (hpa-leak-shared on two devices, table-integrity on five entries, two messages of
 * hpa-leak-outside-vm on one device), a domain named by DID only (did-conflict), a stale entry
 * into a VM domain, a mapping onto the I/O MMU's own tables (the finding follows the moved root
 * table), an RMRR in a VM domain, and a VM without `-name` (kvm-vfio-rogue-vmm's QEMU).
 */
const SAMPLES = [
  'hpa-leak-shared', 'table-integrity', 'hpa-leak-outside-vm', 'did-conflict', 'stale-after-vf-destroy', 'hpa-leak-iommu-structures',
  'rmrr-in-vm-domain', 'kvm-vfio-rogue-vmm',
];

describe('fingerprints against relocation', () => {
  for (const name of SAMPLES) {
    it(`${name}: tables and host pages elsewhere, the same fingerprints`, () => {
      const s = scenario(name);
      const a = analyse(s, path.join(tmp, `${name}-a`));
      const b = analyse(relocated(s, 0x4000000), path.join(tmp, `${name}-b`));
      // The relocation moved the tables and the host pages (else this test proves nothing).
      expect(roots(b.snapshot)).not.toEqual(roots(a.snapshot));
      expect(new Set(roots(b.snapshot)).size).toBeGreaterThan(0);
      for (const r of roots(b.snapshot).filter((x) => x !== 0)) expect(roots(a.snapshot)).not.toContain(r);
      if (hostPages(a.snapshot).length > 0) expect(hostPages(b.snapshot)).not.toEqual(hostPages(a.snapshot));
      // The same problems were found …
      expect(b.findings.map(what).sort()).toEqual(a.findings.map(what).sort());
      expect(a.findings.some((f) => f.check !== 'dmar-opt-in')).toBe(true);
      // … under the same fingerprints, every one distinct.
      const fa = a.findings.map((f) => f.fingerprint!);
      expect(fa.every((x) => /^[0-9a-f]{32}$/.test(x))).toBe(true);
      expect(new Set(fa).size).toBe(fa.length);
      expect(b.findings.map((f) => f.fingerprint).sort()).toEqual([...fa].sort());
      // Each finding keeps its own fingerprint, not just the set.
      for (const f of a.findings.filter((x) => a.findings.filter((y) => what(y) === what(x)).length === 1)) {
        expect(b.findings.find((g) => what(g) === what(f))!.fingerprint, what(f)).toBe(f.fingerprint);
      }
    });
  }
});

describe('what goes into a fingerprint', () => {
  const s = scenario('hpa-leak-shared');
  const { snapshot, findings } = analyse(s, path.join(tmp, 'parts'));
  const shared = findings.filter((f) => f.check === 'hpa-leak-shared');

  it('the VM and the domain role come from the roles: both devices of hpa-leak-shared are in VM domains', () => {
    const r = roles(snapshot);
    expect(shared).toHaveLength(2);
    for (const f of shared) {
      const vm = r.assigned.get(f.bdf!)?.vm;
      expect(vm).toBeDefined();
      expect(f.vm).toBe(vm);
      expect(vmOfFinding(f, r)).toBe(vm);
      expect(domainRole(f, r)).toBe(`vm-domain:${vm}`);
    }
    const optIn = findings.find((f) => f.check === 'dmar-opt-in')!;
    expect(domainRole(optIn, r)).toBe('');
    expect(optIn.vm).toBeUndefined();
  });

  it('never an address, a raw entry or a DID: changing them keeps the fingerprint', () => {
    const f = shared[0];
    const again: Finding = { ...f, evidence: { ...f.evidence, examples: ['0xdead000'], hpa: '0x1234000' }, message: 'other words', fingerprint: undefined };
    assignFingerprints(snapshot, [again]);
    expect(again.fingerprint).toBe(f.fingerprint);
    // The DID itself is not hashed, only the role of the domain it names: one naming no domain differs.
    const otherDid: Finding = { ...f, did: (f.did ?? 0) + 7, fingerprint: undefined };
    assignFingerprints(snapshot, [otherDid]);
    expect(domainRole(otherDid, roles(snapshot))).toBe('no-domain');
    expect(otherDid.fingerprint).not.toBe(f.fingerprint);
  });

  it('two findings of one check on one device that differ only in what they point at: distinct, by rank, whatever their order', () => {
    const base = shared[0];
    const one = (hpa: string, iova: string): Finding => ({ ...base, fingerprint: undefined, evidence: { hpa, iova } });
    const x = [one('0x1000000', '0x0'), one('0x2000000', '0x200000')];
    assignFingerprints(snapshot, x);
    expect(x[0].fingerprint).not.toBe(x[1].fingerprint);
    // After a reboot the host pages swap places and the runner lists them the other way round:
    // each range (told by its IOVA) keeps its fingerprint.
    const y = [one('0x1000000', '0x200000'), one('0x2000000', '0x0')];
    assignFingerprints(snapshot, y);
    expect(y[1].fingerprint).toBe(x[0].fingerprint);
    expect(y[0].fingerprint).toBe(x[1].fingerprint);
    // Ranges that differ only by host address: distinct, and the set is the same either way.
    const z = [one('0x3000000', '0x0'), one('0x1000000', '0x0')];
    assignFingerprints(snapshot, z);
    expect(z[0].fingerprint).not.toBe(z[1].fingerprint);
    const w = [one('0x9000000', '0x0'), one('0x8000000', '0x0')];
    assignFingerprints(snapshot, w);
    expect(new Set(w.map((f) => f.fingerprint))).toEqual(new Set(z.map((f) => f.fingerprint)));
  });

  it('a QEMU VM named by its PID is one name to a fingerprint (the PID changes at every start)', () => {
    const f: Finding = { check: 'ppt-unmapped', severity: 'error', message: 'm', messageId: 'assignedNoEntry', bdf: '0000:01:00.0', evidence: {} };
    const a = { ...f, vm: 'qemu-1234' };
    const b = { ...f, vm: 'qemu-98765' };
    const c = { ...f, vm: 'web1' };
    for (const x of [a, b, c]) assignFingerprints(snapshot, [x]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(a.vm).toBe('qemu-1234'); // the report still names it
  });
});
