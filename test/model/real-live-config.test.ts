/**
 * The live capture with configuration space (test/fixtures/real/live-config, its README states
 * the truths): decoded capabilities, isolation groups, and the checks that read them silent.
 */
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { acsPeerPath } from '../../src/checks/acs-peer-path.js';
import { msiIrteMismatch } from '../../src/checks/msi-irte-mismatch.js';
import { isolationGroups } from '../../src/model/isolation.js';
import { capturePath } from '../helpers/captures.js';
import { resultOf } from '../checks/check-tester.js';

const dev = (s: ReturnType<typeof loadCapture>, bdf: string) => {
  const d = s.devices.find((x) => x.bdf === bdf);
  if (!d) throw new Error(`${bdf} not in the capture`);
  return d;
};

describe('live-config: configuration space captured by dmarsift capture', () => {
  const s = loadCapture(capturePath('live-config'));
  it('decodes with no warning; root ports with ACS control 0x1d, endpoints with MSI-X on', () => {
    expect(s.warnings).toEqual([]);
    for (const port of ['0000:00:02.0', '0000:00:03.0']) {
      expect([dev(s, port).config?.pcie?.type, dev(s, port).config?.acs?.controlRaw]).toEqual(['root-port', 0x1d]);
    }
    for (const ep of ['0000:01:00.0', '0000:02:00.0']) {
      expect([dev(s, ep).config?.size, dev(s, ep).config?.pcie?.type, dev(s, ep).config?.msix?.enabled]).toEqual([4096, 'endpoint', true]);
    }
    expect(dev(s, '0000:00:1f.2').config?.pcie).toBeUndefined();
  });
  it('each endpoint is alone in its isolation group', () => {
    const g = isolationGroups(s);
    expect(g.members.get(g.groupOf.get('0000:01:00.0') ?? '')).toEqual(['0000:01:00.0']);
    expect(g.members.get(g.groupOf.get('0000:02:00.0') ?? '')).toEqual(['0000:02:00.0']);
  });
  it('acs-peer-path and msi-irte-mismatch are silent with both NICs assigned to a VM', () => {
    const t = loadCapture(capturePath('live-config'));
    for (const bdf of ['0000:01:00.0', '0000:02:00.0']) {
      const d = dev(t, bdf);
      d.driver = 'vfio-pci';
      d.passThrough = true;
    }
    t.vms.push({ name: 'guest', hypervisor: 'qemu', passthru: ['0000:01:00.0', '0000:02:00.0'], source: { part: 'test' } });
    t.vmsKnown = true;
    for (const d of t.devices) if (d.bdf === '0000:01:00.0' || d.bdf === '0000:02:00.0') d.vm = 'guest';
    expect(resultOf(acsPeerPath, t).findings).toEqual([]);
    expect(resultOf(msiIrteMismatch, t).findings).toEqual([]);
  });
});

describe('live-config-after: the same guest after the hot-unplug of 0000:02:00.0', () => {
  const s = loadCapture(capturePath('live-config-after'));
  it('7 functions with configuration space, none for the removed virtio-net; its root port keeps ACS 0x1d', () => {
    expect(s.warnings).toEqual([]);
    expect(s.devices.filter((d) => d.config !== undefined).map((d) => d.bdf).sort()).toEqual([
      '0000:00:00.0', '0000:00:02.0', '0000:00:03.0', '0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3', '0000:01:00.0',
    ]);
    expect(s.devices.find((d) => d.bdf === '0000:02:00.0')).toBeUndefined();
    expect([dev(s, '0000:00:03.0').config?.pcie?.type, dev(s, '0000:00:03.0').config?.acs?.controlRaw]).toEqual(['root-port', 0x1d]);
  });
  it('the IR table no longer holds 02:00.0\'s entries 19-21', () => {
    expect(s.units[0].interruptRemapping?.irtes.map((e) => e.index)).toEqual([1, 3, 8, 16, 18, 22, 23, 24]);
  });
  it('the e1000e, assigned, is alone in its group: acs-peer-path and msi-irte-mismatch silent', () => {
    const d = dev(s, '0000:01:00.0');
    d.driver = 'vfio-pci';
    d.passThrough = true;
    d.vm = 'guest';
    s.vms.push({ name: 'guest', hypervisor: 'qemu', passthru: ['0000:01:00.0'], source: { part: 'test' } });
    s.vmsKnown = true;
    const g = isolationGroups(s);
    expect(g.members.get(g.groupOf.get('0000:01:00.0') ?? '')).toEqual(['0000:01:00.0']);
    expect(resultOf(acsPeerPath, s).findings).toEqual([]);
    expect(resultOf(msiIrteMismatch, s).findings).toEqual([]);
  });
});
