import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { decodePciConfig } from '../../src/decode/pci-config.js';
import { renderDecodeTable } from '../../src/report/decode-table.js';
import { pciConfigLines } from '../../src/report/pci-config-table.js';
import { capturePath } from '../helpers/captures.js';

/** A row's cells (columns are laid out with two or more spaces between them). */
const row = (lines: string[], bdf: string): string[] | undefined => lines.find((l) => l.trim().startsWith(bdf))?.trim().split(/\s{2,}/);

describe('decode table: configuration space section (real live-config capture)', () => {
  const s = loadCapture(capturePath('live-config'));
  const lines = pciConfigLines(s);

  it('one row per function, after the inventory line', () => {
    expect(lines[0]).toBe('Configuration space: 8 functions');
    const out = renderDecodeTable(s, { color: false });
    expect(out.indexOf('Inventory: 8 PCI functions')).toBeLessThan(out.indexOf('Configuration space: 8 functions'));
  });

  it('QEMU root ports: MSI-X with 1 vector in BAR0, ACS SV RR CR UF enabled (control 0x1d) of SV TB RR CR UF DT', () => {
    // QEMU hw/pci/pcie.c pcie_acs_init implements SV TB RR CR UF DT on a downstream-facing port;
    // Linux pci_std_enable_acs enables SV RR CR UF (0x1d).
    expect(row(lines, '0000:00:02.0')).toEqual(['0000:00:02.0', 'root-port', '-', 'on, 1 in BAR0 + 0x0', 'SV RR CR UF (of SV TB RR CR UF DT)', '-', '-', '0000:00:02.0']);
  });

  it('e1000e (5 MSI-X vectors in BAR3) and virtio-net (4 in BAR1), each alone in its group', () => {
    expect(row(lines, '0000:01:00.0')).toEqual(['0000:01:00.0', 'endpoint', 'off', 'on, 5 in BAR3 + 0x0', '-', '-', '-', '0000:01:00.0']);
    expect(row(lines, '0000:02:00.0')).toEqual(['0000:02:00.0', 'endpoint', '-', 'on, 4 in BAR1 + 0x0', '-', '-', '-', '0000:02:00.0']);
  });

  it('the ICH9 multi-function device is conventional PCI and one group', () => {
    for (const f of ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']) expect(row(lines, f)?.[1]).toBe('PCI');
    for (const f of ['0000:00:1f.0', '0000:00:1f.3']) expect(row(lines, f)?.[7]).toBe('slot 0000:00:1f');
  });

  it('a function read to its 64-byte header only: capabilities and its group unknown, said so', () => {
    const copy = loadCapture(capturePath('live-config'));
    const e1000e = copy.devices.find((d) => d.bdf === '0000:01:00.0');
    if (e1000e?.config === undefined) throw new Error('fixture lacks 01:00.0 config');
    e1000e.config = decodePciConfig(new Uint8Array([...new Uint8Array(64)].map((_, i) => (i === 6 ? 0x10 : i === 0 ? 0x86 : i === 1 ? 0x80 : 0))));
    const l = pciConfigLines(copy);
    expect(l[0]).toBe('Configuration space: 8 functions, 1 with only the 64-byte header (capabilities unknown: read as root)');
    expect(row(l, '0000:01:00.0')).toEqual(['0000:01:00.0', 'function', '?', '?', '?', '?', '?', '?']);
    expect(l.at(-1)).toMatch(/\?: not in the bytes captured/);
  });

  it('no section without configuration space', () => {
    const copy = loadCapture(capturePath('live-config'));
    for (const d of copy.devices) d.config = undefined;
    expect(pciConfigLines(copy)).toEqual([]);
  });
});
