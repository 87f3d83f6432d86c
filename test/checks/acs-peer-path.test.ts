import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acsPeerPath } from '../../src/checks/acs-peer-path.js';
import { loadCapture } from '../../src/capture/load.js';
import { decodePciConfig } from '../../src/decode/pci-config.js';
import { encodePciConfig } from '../../src/synth/pci-config-encode.js';
import { resultOf } from './check-tester.js';

const SAMPLE = path.resolve(import.meta.dirname, '../../samples/acs-peer-path');

describe('acs-peer-path', () => {
  it('fires on the assigned function of a two-function device without ACS whose other function the host owns', () => {
    const r = resultOf(acsPeerPath, loadCapture(SAMPLE));
    expect(r.findings.map((f) => [f.bdf, f.messageId, f.severity])).toEqual([['0000:01:00.0', 'hostPeer', 'error']]);
    expect(r.findings[0].evidence.members).toEqual(['0000:01:00.0', '0000:01:00.1']);
  });
  it('is silent once the device implements ACS with its flags enabled', () => {
    const s = loadCapture(SAMPLE);
    for (const d of s.devices.filter((x) => x.bdf.startsWith('0000:01:00.'))) {
      d.config = decodePciConfig(encodePciConfig({ bdf: d.bdf, vendor: '0x8086', device: '0x10d3', class: '0x020000' }, { type: 'endpoint', multiFunction: true, acs: { cap: '0x1d', ctrl: '0x1d' } }));
    }
    expect(resultOf(acsPeerPath, s).findings).toEqual([]);
  });
  it('is silent when the whole group goes to the same VM', () => {
    const s = loadCapture(SAMPLE);
    const vm = s.vms[0];
    vm.passthru.push('0000:01:00.1');
    const fn1 = s.devices.find((d) => d.bdf === '0000:01:00.1');
    if (fn1) fn1.driver = 'vfio-pci';
    if (fn1) fn1.passThrough = true;
    expect(resultOf(acsPeerPath, s).findings).toEqual([]);
  });
  it('runs in part when a bridge above an assigned device has no configuration space', () => {
    const s = loadCapture(SAMPLE);
    const port = s.devices.find((d) => d.bdf === '0000:00:02.0');
    if (port) port.config = undefined;
    const r = resultOf(acsPeerPath, s);
    expect(r.status).toBe('partial');
    expect(r.reasons.join()).toMatch(/0000:01:00\.0 is unknown: .*0000:00:02\.0/);
  });
});
