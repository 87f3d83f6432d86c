import { describe, expect, it } from 'vitest';
import { awText, bytesText, pgttName, renderDecodeTable, ttName } from '../../src/report/decode-table.js';
import { snapshot } from './fixture.js';

describe('renderDecodeTable', () => {
  const out = renderDecodeTable(snapshot(), { color: false });
  const lines = out.split('\n');

  it('heads each unit dmardump-style, enabled or not', () => {
    expect(lines).toContain('drhd @ 0xfed90000 (version 1.0) PCI segment 0 [dmar0]: translation enabled');
    expect(lines).toContain('    root table @ 0x1000000 (legacy) from registers.txt:4');
    expect(lines).toContain('drhd @ 0xfed91000 (version 6.0) PCI segment 0: translation DISABLED');
    expect(lines).toContain('    root table @ 0x3000000 (scalable)');
    // SAGAW bit 2 only → 48-bit; CAP.ND 2 → 256 domains; SLLPS bit 0 → 2 MiB.
    expect(out).toContain('SAGAW 48-bit, 256 domains, superpages 2M');
  });

  it('lists present context entries per bus with TT names, DID, AW and the mapped bytes', () => {
    expect(lines).toContain('    PCI bus 3 (0x03):');
    const row = lines.find((l) => l.trim().startsWith('0000:03:00.0'))!.trim().split(/\s{2,}/);
    // 528 pages = 0x210000 bytes = 2.0625 MiB
    expect(row).toEqual(['0000:03:00.0', 'UNTR', '1', '48-bit/4-level', '0x2000000', '2.1 MiB (0x210000)']);
    const pass = lines.find((l) => l.trim().startsWith('0000:00:02.0'))!.trim().split(/\s{2,}/);
    expect(pass).toEqual(['0000:00:02.0', 'PASS', '2', '48-bit/4-level', '0x0', 'pass-through (IOVA = HPA)']);
    // bus 0 comes before bus 3
    expect(out.indexOf('PCI bus 0 (0x00)')).toBeLessThan(out.indexOf('PCI bus 3 (0x03)'));
  });

  it('shows scalable contexts with their PASID rows', () => {
    const ctx = lines.find((l) => l.trim().startsWith('0000:80:00.0'))!;
    expect(ctx).toContain('SM');
    expect(ctx).toContain('PASID dir 0x5000000');
    const pasid = lines.find((l) => l.trim().startsWith('PASID 0'))!.trim().split(/\s{2,}/);
    expect(pasid).toEqual(['PASID 0', 'SL', '5', '57-bit/5-level', '0x4000000', '0 B (0x0) incomplete']);
    expect(out).toContain('page-table missing-page at 0x4000000');
  });

  it('summarises domains, inventory, VMs, faults, and ends with warnings and their sources', () => {
    expect(lines.find((l) => /^\s+1\s+0x2000000\s+second-level/.test(l))!.trim().split(/\s{2,}/)).toEqual([
      '1', '0x2000000', 'second-level', '4', '528', '2.1 MiB (0x210000)', 'complete',
    ]);
    expect(out).toContain('Inventory: 2 PCI functions, 1 pass-through');
    expect(out).toMatch(/0000:03:00\.0\s+ppt0\s+VM guest1/);
    expect(out).toMatch(/guest1\s+bhyve\s+4 GiB\s+passthru 0000:03:00\.0/);
    expect(out).toMatch(/0000:03:00\.0\s+read\s+0x1234010\s+reason 0x6/);
    const tail = lines.slice(-5);
    expect(tail).toEqual([
      'Warnings (3):',
      '    memory.elf@0x2000: page 0x5000000 of the PASID directory is not in the image',
      '    dmesg.txt:12: unrecognised line kept as a note',
      '    no HAW in capture',
      '',
    ]);
    expect(out).not.toContain('\x1b');
  });

  it('lists mappings only with --mappings, with exact IOVAs above 2^53', () => {
    expect(out).not.toContain('0x100000000345000');
    const withMappings = renderDecodeTable(snapshot(), { color: false, mappings: true });
    // 0x100000000345000 + 0x200000 - 1
    expect(withMappings).toMatch(/0x100000000345000-0x100000000544fff\s+→\s+0x12400000\s+2 MiB\s+RW\s+2M/);
    expect(withMappings).toMatch(/0x0-0xffff\s+→\s+0x100000\s+64 KiB\s+R-\s+4K/);
  });

  it('says when nothing is known', () => {
    const s = snapshot();
    s.units = [];
    s.dmar = undefined;
    s.devices = [];
    s.inventoryKnown = false;
    s.vms = [];
    s.vmsKnown = false;
    s.warnings = [];
    const t = renderDecodeTable(s, { color: false });
    expect(t).toContain('DMAR table: not in capture (host address width 46 bits assumed)');
    expect(t).toContain('No remapping units found.');
    expect(t).toContain('Inventory: not in capture');
    expect(t).toContain('VMs: not in capture');
    expect(t).not.toContain('Warnings');
  });
});

describe('decode-table names', () => {
  it('names TT and PGTT values as dmardump and the spec do', () => {
    expect([0, 1, 2, 3].map(ttName)).toEqual(['UNTR', 'TR', 'PASS', 'TT3?']);
    expect([1, 2, 3, 4, 5].map(pgttName)).toEqual(['FL', 'SL', 'NEST', 'PT', 'PGTT5?']);
    expect(awText(1, 3)).toBe('39-bit/3-level');
    expect(awText(3, 5)).toBe('57-bit/5-level');
    expect(bytesText(4096)).toBe('16 MiB (0x1000000)');
  });
});

describe('renderDecodeTable --mappings with a domain of 300 000 mappings', () => {
  it('lists every one (the lines were spread as arguments: a stack overflow past ~100 000)', () => {
    const s = snapshot();
    const d = s.units[0].domains[0];
    d.mappings = Array.from({ length: 300_000 }, (_, i) => ({ iovaPfn: 2 * i, hpaPfn: 3 * i, pages: 1, read: true, write: true, pageSize: 4096 as const }));
    d.mappingsKnown = true;
    const lines = renderDecodeTable(s, { color: false, mappings: true }).split('\n');
    expect(lines.filter((l) => /^\s+0x[0-9a-f]+-0x[0-9a-f]+\s+→/.test(l))).toHaveLength(300_000);
    // The last: IOVA page 599 998 = 0x927be000, host page 899 997 = 0xdbb9d000.
    expect(lines.some((l) => l.includes('0x927be000-0x927befff') && l.includes('0xdbb9d000'))).toBe(true);
  });
});
