/**
 * Isolation groups (src/model/isolation.ts) against what Linux's pci_device_group gives:
 * - the real QEMU q35 configuration spaces (test/fixtures/pci/qemu-q35-vtd, README there): root
 *   ports with ACS, an x3130 switch whose downstream port has none, the ICH9 functions at 00:1f
 *   (conventional PCI, multi-function) — the groups worked out by hand from iommu.c and pci.c;
 * - pci_acs_enabled's cases on generated configuration spaces.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { decodePciConfig } from '../../src/decode/pci-config.js';
import { acsEnabled, isolationGroups } from '../../src/model/isolation.js';
import type { PciFunction } from '../../src/model/types.js';
import { encodePciConfig, type ScenarioConfig } from '../../src/synth/pci-config-encode.js';

const Q35 = path.resolve(import.meta.dirname, '../fixtures/pci/qemu-q35-vtd');

describe('isolation groups of the real q35 configuration spaces', () => {
  const s = loadCapture(Q35, { only: ['pci-config'] });
  const g = isolationGroups(s);
  const groupOf = (bdf: string): string[] => g.members.get(g.groupOf.get(`0000:${bdf}`) ?? '') ?? [];
  it('a root port with ACS isolates the endpoint below it: 01:00.0 and 02:00.0 are alone', () => {
    expect(groupOf('01:00.0')).toEqual(['0000:01:00.0']);
    expect(groupOf('02:00.0')).toEqual(['0000:02:00.0']);
  });
  it('the switch downstream port without ACS takes the endpoint below it into its group', () => {
    expect(groupOf('05:00.0')).toEqual(['0000:04:00.0', '0000:05:00.0']);
    expect(groupOf('04:00.0')).toEqual(['0000:04:00.0', '0000:05:00.0']);
  });
  it('the single-function upstream port needs no ACS: its own group', () => {
    expect(groupOf('03:00.0')).toEqual(['0000:03:00.0']);
  });
  it('the multi-function ICH9 device (conventional PCI, no ACS) is one group', () => {
    expect(groupOf('00:1f.0')).toEqual(['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']);
  });
  it('every function has a known group (all config spaces are whole)', () => {
    expect([...g.unknown]).toEqual([]);
  });
});

function fn(config: ScenarioConfig | undefined, opts: { bytes?: number; physfn?: string } = {}): PciFunction {
  const dev = { bdf: '0000:03:00.0', vendor: '0x8086', device: '0x1234', class: config?.type === 'endpoint' ? '0x020000' : '0x060400' };
  const bytes = config === undefined ? undefined : encodePciConfig(dev, config).subarray(0, opts.bytes ?? 4096);
  return { bdf: dev.bdf, segment: 0, bus: 3, devfn: 0, passThrough: false, ...(bytes ? { config: decodePciConfig(bytes) } : {}), ...(opts.physfn ? { physfn: opts.physfn } : {}), source: { part: 't' } };
}

describe('pci_acs_enabled with SV | RR | CR | UF', () => {
  it('a root or downstream port needs every flag it implements enabled', () => {
    expect(acsEnabled(fn({ type: 'root-port', acs: { cap: '0x5f', ctrl: '0x1d' } }))).toBe(true);
    expect(acsEnabled(fn({ type: 'downstream-port', acs: { cap: '0x5f', ctrl: '0x19' } }))).toBe(false); // RR (bit 2) off
    expect(acsEnabled(fn({ type: 'root-port' }))).toBe(false); // no ACS capability
  });
  it('a flag the port does not implement counts as enabled', () => {
    // capability SV only (0x01), control SV: RR, CR, UF not implemented → satisfied.
    expect(acsEnabled(fn({ type: 'root-port', acs: { cap: '0x01', ctrl: '0x01' } }))).toBe(true);
  });
  it('endpoints need ACS only in a multi-function device (and not as a VF)', () => {
    expect(acsEnabled(fn({ type: 'endpoint' }))).toBe(true);
    expect(acsEnabled(fn({ type: 'endpoint', multiFunction: true }))).toBe(false);
    expect(acsEnabled(fn({ type: 'endpoint', multiFunction: true, acs: { cap: '0x1d', ctrl: '0x1d' } }))).toBe(true);
    expect(acsEnabled(fn({ type: 'endpoint', multiFunction: true }, { physfn: '0000:03:00.0' }))).toBe(true);
  });
  it('without configuration space, or with only the 64-byte header, it is unknown', () => {
    expect(acsEnabled(fn(undefined))).toBe('unknown');
    expect(acsEnabled(fn({ type: 'root-port', acs: { cap: '0x5f', ctrl: '0x1d' } }, { bytes: 64 }))).toBe('unknown');
  });
});
