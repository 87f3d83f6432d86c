/**
 * Every generated sample under `analyze`: the exact set of (check, BDF) pairs at warning or above
 * must equal what its scenario's `expect` (and so its README line) promises — in process for all
 * samples, and through the CLI (exit codes, JSON) for a few.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecks } from '../../src/checks/run.js';
import { cli, cliJson } from '../helpers/cli.js';
import { atLeastWarning, expectedPairs, pairsOf, SAMPLES, scenarios } from './scenarios.js';
import { catalog } from '../../src/checks/catalog.js';
import { exampleFindings, exampleSamples } from '../checks/registry-lists.js';

const byName = new Map(scenarios.map((s) => [s.name, s]));

describe('analyze on every sample gives exactly the findings its scenario expects', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (name, s) => {
    const findings = runChecks(loadCapture(path.join(SAMPLES, name)));
    expect(pairsOf(atLeastWarning(findings))).toEqual(expectedPairs(s.expect));
  });
});

describe('the sample set', () => {
  it('every check names its own sample (meta.example), and that sample finds it; the healthy ones expect nothing', () => {
    for (const [sample, id] of exampleSamples(catalog)) {
      expect(byName.get(sample), `${id}: samples/${sample}`).toBeDefined();
      expect(exampleFindings(catalog.find((e) => e.meta.id === id)!, (name) => loadCapture(path.join(SAMPLES, name))).length, `${id} on samples/${sample}`).toBeGreaterThan(0);
    }
    // Healthy bhyve hosts: only the two warnings bhyve's vtd.c gives every assigned device by design.
    for (const healthy of ['bhyve-host', 'healthy-two-vms']) {
      expect(byName.get(healthy)?.expect.every(([id]) => id === 'ir-off-with-assigned' || id === 'ats-on-assigned')).toBe(true);
    }
    expect(byName.get('kvm-vfio-host')?.expect).toEqual([]);
  });

  it('healthy-two-vms: two VMs, an idle ppt device without an entry, the host domain 1:1 minus both VMs', () => {
    const snap = loadCapture(path.join(SAMPLES, 'healthy-two-vms'));
    expect(snap.vms.map((v) => v.name).sort()).toEqual(['vm1', 'vm2']);
    const idle = snap.devices.find((d) => d.deviceUnit === 'ppt2');
    expect(idle?.passThrough).toBe(true);
    expect(snap.units[0].contexts.some((c) => c.present && c.bdf === idle?.bdf)).toBe(false);
    const [host, vm1, vm2] = [0, 1, 2].map((did) => snap.units[0].domains.find((d) => d.did === did)!);
    // 1:1 everywhere, and no host page of either VM in it.
    expect(host.mappings.every((m) => m.iovaPfn === m.hpaPfn)).toBe(true);
    const inHost = (pfn: number): boolean => host.mappings.some((m) => pfn >= m.hpaPfn && pfn < m.hpaPfn + m.pages);
    for (const d of [vm1, vm2]) for (const m of d.mappings) expect(inHost(m.hpaPfn) || inHost(m.hpaPfn + m.pages - 1)).toBe(false);
    expect(vm1.pageCount).toBe(2 * 262144);
    expect(vm2.pageCount).toBe(262144);
  });

  it('the KVM/VFIO samples: the healthy host is silent; each variant expects the check its fault is for', () => {
    expect(byName.get('kvm-vfio-host')?.expect).toEqual([]);
    expect(byName.get('kvm-vfio-teardown')?.expect).toEqual([]);
    const variants: Record<string, string[]> = {
      'kvm-vfio-host-bar': ['hpa-leak-mmio'],
      'kvm-vfio-ram-beyond-m': ['hpa-leak-outside-vm'],
      'kvm-vfio-rogue-vmm': ['hpa-leak-mmio', 'hpa-leak-outside-vm', 'hpa-leak-shared'],
    };
    for (const [name, checks] of Object.entries(variants)) for (const c of checks) expect(byName.get(name)!.expect.map(([x]) => x), name).toContain(c);
    expect(byName.get('kvm-vfio-stale-domain')?.diff?.expect).toEqual([['domain-survived-teardown', '0000:01:00.0']]);
  });

  it('kvm-vfio-host: the VM (no -name) is assigned 0000:01:00.0; its domain maps 128 MiB of RAM, the ROM read-only and the NIC\'s own BARs', () => {
    const snap = loadCapture(path.join(SAMPLES, 'kvm-vfio-host'));
    expect(snap.vms.map((v) => [v.name, v.passthru, v.memoryBytes, v.qemu?.type])).toEqual([['qemu@qemu-cmdline.txt:1', ['0000:01:00.0'], 128 * 2 ** 20, 'q35']]);
    const vm = snap.units[0].domains.find((d) => d.did === 6)!;
    // 128 MiB of RAM (32768 pages) + the ROM (256 KiB: 64 pages) + BARs 0xfe440000-0xfe47ffff (64 pages) and 0xfe481000-0xfe483fff (3 pages).
    expect(vm.pageCount).toBe(32768 + 64 + 64 + 3);
    expect(vm.mappings.filter((m) => m.iovaPfn >= 0xfffc0).every((m) => !m.write)).toBe(true);
    expect(vm.mappings.find((m) => m.iovaPfn === 0xfeba0)).toMatchObject({ hpaPfn: 0xfe440, pages: 64 });
    expect(snap.pciResources?.filter((r) => r.bdf === '0000:01:00.0' && r.claimedBy === 'vfio-pci').map((r) => [r.start, r.end])).toEqual([[0xfe440000, 0xfe460000], [0xfe460000, 0xfe480000], [0xfe480000, 0xfe484000]]);
  });

  it('kvm-vfio-rogue-vmm: the first IOVA outside the 32 MiB is 0x2000000; the shared pages name the ISA bridge group\'s identity map', () => {
    const f = runChecks(loadCapture(path.join(SAMPLES, 'kvm-vfio-rogue-vmm')));
    expect(f.find((x) => x.check === 'hpa-leak-outside-vm' && x.evidence.firstOutside !== undefined)?.evidence.firstOutside).toBe('0x2000000');
    const shared = f.find((x) => x.check === 'hpa-leak-shared')!;
    // Guest 0-8 MiB on host 8-16 MiB: 2048 pages, inside DID 5's 0-16 MiB 1:1 map.
    expect(shared.evidence).toMatchObject({ sharedPages: 2048, hostDomains: [{ did: 5, devices: ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3'], identity: true }] });
    expect(f.find((x) => x.check === 'hpa-leak-mmio')?.evidence.hits).toEqual([expect.objectContaining({ hpa: '0xfe602000', iova: '0x8000000' })]);
  });

  it('dmardump samples are text only: dmardump output and pciconf -lv', () => {
    for (const name of ['dmardump-passthrough', 'dmardump-absent']) {
      const kinds = loadCapture(path.join(SAMPLES, name)).capture.parts.filter((p) => p.kind !== 'ignored').map((p) => p.kind).sort();
      expect(kinds, name).toEqual(['dmardump-text', 'pci']);
    }
  });

  it('a relative capture path lists each part once (files named by capture.json are not also "ignored")', () => {
    const snap = loadCapture(path.relative(process.cwd(), path.join(SAMPLES, 'bhyve-host')));
    const paths = snap.capture.parts.map((p) => p.path);
    expect(paths.length).toBe(new Set(paths).size);
    expect(snap.capture.parts.filter((p) => p.kind === 'ignored').map((p) => p.path).sort()).toEqual(['README.md', 'capture.json']);
  });
});

describe('dmarsift analyze through the CLI', () => {
  const run = (name: string, ...args: string[]) => cli(['analyze', path.join('samples', name), ...args]);

  it.each(['bhyve-host', 'healthy-two-vms'])('%s (healthy) exits 0 with --fail-on error, 1 with --fail-on warning (bhyve\'s by-design warnings)', (name) => {
    const r = run(name, '--fail-on', 'error');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(run(name, '--fail-on', 'warning').status).toBe(1);
  });

  it('kvm-vfio-host (healthy) exits 0 with --fail-on warning', () => {
    const r = run('kvm-vfio-host', '--fail-on', 'warning');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(['iommu-not-enabled', 'stale-after-vf-destroy', 'dmardump-passthrough', 'dmardump-absent'])(
    '%s exits 1 with --fail-on error and its JSON names the expected pairs',
    (name) => {
      const r = cliJson(['analyze', path.join('samples', name), '--format', 'json', '--fail-on', 'error']);
      expect(r.status).toBe(1);
      const findings = r.json.findings as { check: string; severity: 'critical' | 'error' | 'warning' | 'info'; bdf?: string }[];
      expect(pairsOf(atLeastWarning(findings))).toEqual(expectedPairs(byName.get(name)!.expect));
    },
  );

  it('a sample whose finding is only a warning exits 0 with --fail-on error and 1 with --fail-on warning', () => {
    expect(run('missing-context', '--fail-on', 'error').status).toBe(0);
    expect(run('missing-context', '--fail-on', 'warning').status).toBe(1);
  });
});
