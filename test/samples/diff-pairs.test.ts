/**
 * `dmarsift diff` on the two before/after sample pairs (JSON through the CLI): the pair checks name
 * exactly the entry that survived a VF's destruction and the domain — with its mappings — that
 * survived a VM's teardown, and nothing else changed in the tables.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCapture } from '../../src/synth/generate.js';
import { cliJson } from '../helpers/cli.js';
import { atLeastWarning, expectedPairs, pairsOf, scenarios } from './scenarios.js';

interface DiffJson {
  entries: { added: unknown[]; removed: unknown[]; changed: unknown[] };
  domains: { did: number; status: string; pagesBefore: number }[];
  devices: { left: { bdf: string }[]; arrived: { bdf: string }[]; changed: { bdf: string; fields: string[] }[] };
  findings: { check: string; severity: 'critical' | 'error' | 'warning' | 'info'; severityReason?: string; bdf?: string; did?: number; evidence: Record<string, any> }[];
  introduced: { check: string; severity: string; bdf?: string }[];
  resolved: { check: string; severity: string; bdf?: string }[];
}

const memo = new Map<string, ReturnType<typeof cliJson<DiffJson>>>();
/** `dmarsift diff samples/BEFORE samples/AFTER --format json`, spawned once per pair. */
function diff(before: string, after: string): ReturnType<typeof cliJson<DiffJson>> {
  const key = `${before} ${after}`;
  let r = memo.get(key);
  if (!r) {
    r = cliJson<DiffJson>(['diff', path.join('samples', before), path.join('samples', after), '--format', 'json']);
    memo.set(key, r);
  }
  return r;
}
const pairs = scenarios.filter((s) => s.diff !== undefined);
const hex = (pfn: number): string => '0x' + (pfn * 4096).toString(16);

describe('dmarsift diff on the sample pairs', () => {
  it('there are five pairs, each half generated from the same seed', () => {
    expect(pairs.map((s) => `${s.diff!.before} ${s.name}`).sort()).toEqual([
      'did-reuse-before did-reuse-after', 'kvm-vfio-host kvm-vfio-stale-domain', 'kvm-vfio-host kvm-vfio-teardown', 'vf-destroy-before vf-destroy-after', 'vm-teardown-before vm-teardown-after',
    ]);
    for (const s of pairs) expect(s.seed).toBe(scenarios.find((x) => x.name === s.diff!.before)!.seed);
  });

  it.each(pairs.map((s) => [s.diff!.before, s.name, s.diff!.expect] as const))('%s → %s: the pair findings the scenario expects; exit 1 when one is error or worse', (before, after, want) => {
    const r = diff(before, after);
    const failing = r.json.findings.some((f: { severity: string }) => f.severity === 'error' || f.severity === 'critical');
    expect(r.status).toBe(failing ? 1 : 0);
    expect(pairsOf(atLeastWarning(r.json.findings))).toEqual(expectedPairs(want));
  });

  it('vf-destroy: the VF left the inventory, its context entry survived unchanged — named exactly once', () => {
    const { json } = diff('vf-destroy-before', 'vf-destroy-after');
    expect(json.devices.left.map((d) => d.bdf)).toEqual(['0000:03:01.1']);
    expect(json.devices.arrived).toEqual([]);
    // Nothing in the tables changed: the stale entry is the same entry.
    expect(json.entries).toEqual({ added: [], removed: [], changed: [] });
    expect(json.domains).toEqual([]);
    expect(json.findings).toHaveLength(1);
    const f = json.findings[0];
    expect(f).toMatchObject({ check: 'stale-after-unplug', severity: 'error', bdf: '0000:03:01.1', did: 0 });
    expect(f.evidence.unchanged).toBe(true);
    expect(f.evidence.rawAfter).toEqual(f.evidence.rawBefore);
    expect(f.evidence.driverBefore).toBe('igb');
    // analyze AFTER alone sees the same entry as stale-context.
    expect(pairsOf(json.introduced)).toEqual(['stale-context 0000:03:01.1']);
    expect(json.resolved).toEqual([]);
  });

  it('vm-teardown: the dead VM domain and every one of its mappings survive, used by ppt0', () => {
    const { json } = diff('vm-teardown-before', 'vm-teardown-after');
    expect(json.entries).toEqual({ added: [], removed: [], changed: [] });
    expect(json.domains).toEqual([]); // the mappings did not change at all
    expect(json.devices.changed).toEqual([expect.objectContaining({ bdf: '0000:03:01.0', fields: ['vm'] })]);
    expect(json.findings).toHaveLength(1);
    const f = json.findings[0];
    expect(f).toMatchObject({ check: 'domain-survived-teardown', severity: 'error', bdf: '0000:03:01.0', did: 1 });
    expect(f.evidence.goneVms).toEqual(['vm1']);
    expect(f.evidence.usersAfter).toEqual(['0000:03:01.0']);
    expect(f.evidence.pagesAfter).toBe(2 * 262144); // vm1's 2 GiB

    // The surviving mappings, from the generator's own record of where it put vm1's memory.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-pair-'));
    try {
      const g = generateCapture(scenarios.find((s) => s.name === 'vm-teardown-after')!, tmp);
      const runs = [...g.placed.vm1].sort((a, b) => a.gpaPfn - b.gpaPfn);
      expect(f.evidence.root).toBe('0x' + g.domainRoots.vm1.toString(16));
      expect(f.evidence.mappingRanges).toBe(runs.length);
      expect(f.evidence.mappings).toEqual(
        runs.slice(0, 16).map((p) => ({ iova: hex(p.gpaPfn), hpa: hex(p.hpaPfn), size: hex(p.pages), read: true, write: true })),
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('did-reuse: without an invalidation queue the re-use of DID 1 is reported as info (cannot tell)', () => {
    const { json } = diff('did-reuse-before', 'did-reuse-after');
    expect(json.findings.map((f) => [f.check, f.severity, f.did, f.bdf])).toEqual([['did-reused', 'info', 1, '0000:03:01.0']]);
    expect(json.findings[0].severityReason).toMatch(/no invalidation queue/);
  });

  it('kvm-vfio-teardown: DID 6 handed to the device\'s own empty domain; the queue\'s invalidations (slots 100 and 102) make it info', () => {
    const { json } = diff('kvm-vfio-host', 'kvm-vfio-teardown');
    expect(json.findings.map((f) => [f.check, f.severity, f.did])).toEqual([['did-reused', 'info', 6]]);
    // Context-cache invalidate: type 1 | G 11b << 4 | DID 6 << 16 | SID 0x0100 << 32; IOTLB: type 2 | G 10b << 4 | DW | DR | DID 6 << 16.
    expect(json.findings[0].evidence.contextCacheInvalidations[0]).toMatchObject({ slot: 100, qw: ['0x' + (1 + (3 << 4) + (6 << 16) + 0x100 * 2 ** 32).toString(16), '0x0'] });
    expect(json.findings[0].evidence.iotlbInvalidations[0]).toMatchObject({ slot: 102, qw: ['0x' + (2 + (2 << 4) + 0x40 + 0x80 + (6 << 16)).toString(16), '0x0'] });
    const gone = json.domains.find((d) => d.did === 6 && d.status === 'removed');
    expect(gone?.pagesBefore).toBe(32768 + 64 + 64 + 3);
  });

  it('kvm-vfio-stale-domain: the dead VM\'s domain survives with all its pages, still used by 0000:01:00.0', () => {
    const { json } = diff('kvm-vfio-host', 'kvm-vfio-stale-domain');
    expect(json.findings).toHaveLength(1);
    expect(json.findings[0]).toMatchObject({ check: 'domain-survived-teardown', severity: 'error', bdf: '0000:01:00.0', did: 6 });
    expect(json.findings[0].evidence).toMatchObject({ goneVms: ['qemu@qemu-cmdline.txt:1'], usersAfter: ['0000:01:00.0'], pagesAfter: 32768 + 64 + 64 + 3 });
  });

  it('the reverse of a pair reveals nothing (a VF appearing, a VM starting)', () => {
    // A DID re-use is symmetric: backwards the DID moves back to the old root, a re-use too.
    for (const s of pairs.filter((p) => p.name !== 'did-reuse-after' && p.name !== 'kvm-vfio-teardown')) {
      const r = diff(s.name, s.diff!.before);
      expect(r.json.findings, `${s.name} → ${s.diff!.before}`).toEqual([]);
      expect(r.status).toBe(0);
    }
  });
});
