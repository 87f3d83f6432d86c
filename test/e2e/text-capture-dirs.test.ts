/**
 * Text-only capture directories, as they reach bug tickets, decoded end to end through the CLI:
 *
 * - test/fixtures/captures/freebsd-bhyve-text: FreeBSD `dmardump` output (as pasted from a terminal:
 *   CRLF line ends, the command's prompt line first and a bare prompt last) and `pciconf -lv`.
 *   Format strings from tools/tools/dmardump/dmardump.c (`drhd @ %#jx (version %d.%d) PCI segment
 *   %d%s:`, `    %sroot table @ 0x%#jx` — hence `0x0x`, `\tPCI bus %d:`, `\t    { %d,%d }` plus
 *   ` (%s%lu)` / ` (absent)`, ` FPD`, ` UNTR`…, ` SLPT %#jx`, ` domain %d`) and
 *   usr.sbin/pciconf/pciconf.c (`%s%d@pci%d:%d:%d:%d:\tclass=0x%06x rev=… vendor=0x%04x …`,
 *   `    vendor     = '%s'`, `    class      = %s`). A bhyve host: two DRHDs, the first disabled;
 *   an I350 VF (ARI function 128, printed `{ 0,128 }`, `pci0:3:0:128`) as ppt0 in VM domain 2, an
 *   82574L as ppt1 in domain 3, host devices in bhyve's host domain 1, an SMBus function with no
 *   driver (no name printed), and a stale entry for a destroyed VF (`{ 16,4 } (absent)`).
 * - test/fixtures/captures/linux-kvm-debugfs: the files of /sys/kernel/debug/iommu/intel of a newer
 *   kernel (per-device folders `0000:BB:DD.F/domain_translation_struct`, rows that stop at the leaf:
 *   3 entry columns for a 1 GiB page, 4 for 2 MiB, 5 for 4 KiB; `%-17s\t%-18s…` header) plus
 *   `lspci -Dnnk` with a trailing shell prompt. Format strings from drivers/iommu/intel/debugfs.c.
 *   A KVM host in legacy mode, 4-level tables: an I350 VF and an 82574L bound to vfio-pci share
 *   the VFIO container's domain 8 (guest RAM: a 1 GiB page, two 2 MiB pages, two 4 KiB pages, SNP
 *   set); host devices each in their own DMA domain; 00:1f.0/.2/.3 one IOMMU group (one table,
 *   three folders).
 *
 * Both must give the same kind of model: units with a root table and context entries, a PCI
 * inventory whose pass-through functions are found in the tables, and VM domains apart from the
 * host's.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';
import { schemaValidator } from '../helpers/validators.js';

type Json = any;

const FREEBSD = path.join(REPO, 'test/fixtures/captures/freebsd-bhyve-text');
const LINUX = path.join(REPO, 'test/fixtures/captures/linux-kvm-debugfs');

const cache = new Map<string, Json>();
function decode(dir: string): Json {
  if (!cache.has(dir)) {
    const r = cliJson(['decode', dir, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    cache.set(dir, r.json);
  }
  return cache.get(dir);
}

const unitOf = (j: Json, base: string): Json => j.units.find((u: Json) => u.registerBase === base);
const ctx = (u: Json) => u.contexts.map((c: Json) => [c.bdf, c.did, c.slptptr, c.driverHint]);

describe('FreeBSD: dmardump text + pciconf -lv only', () => {
  it('the fixture really has the quirks: CRLF, 0x0x, (absent), an ARI function, prompt lines', () => {
    const t = readFileSync(path.join(FREEBSD, 'dmardump.txt'), 'latin1');
    expect(t.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
    expect(t).toContain('root table @ 0x0x7f4b2000\r\n');
    expect(t).toContain('\t    { 16,4 } (absent) UNTR SLPT 0x1a2c000 domain 2\r\n');
    expect(t).toContain('\t    { 0,128 } (ppt0) UNTR');
    expect(t.endsWith('root@bhyvehost:~ # ')).toBe(true);
  });

  it('is recognised by content: one dmardump part and one PCI inventory', () => {
    const j = decode(FREEBSD);
    expect(j.capture.parts.map((p: Json) => [p.kind, p.path])).toEqual([['dmardump-text', 'dmardump.txt'], ['pci', 'pciconf-lv.txt']]);
  });

  it('units: the disabled one bare, the enabled one with its root table (0x0x… read as 0x…)', () => {
    const j = decode(FREEBSD);
    expect(j.units.map((u: Json) => [u.registerBase, u.segment, u.version, u.translationEnabled])).toEqual([
      ['0xfed90000', 0, '1.0', false],
      ['0xfed91000', 0, '1.0', true],
    ]);
    expect(unitOf(j, '0xfed90000').contexts).toEqual([]);
    expect(unitOf(j, '0xfed91000')).toMatchObject({ rtaddr: '0x7f4b2000', mode: 'legacy', rootTablePointerSet: true, rtaddrSource: { part: 'dmardump.txt', line: 4 } });
  });

  it('context entries: ARI { 0,128 } is 03:10.0, (absent) { 16,4 } is 03:10.4, AW unknown (null)', () => {
    const u = unitOf(decode(FREEBSD), '0xfed91000');
    expect(ctx(u)).toEqual([
      ['0000:00:14.0', 1, '0x7f4b5000', 'xhci0'],
      ['0000:00:1f.2', 1, '0x7f4b5000', 'ahci0'],
      ['0000:00:1f.3', 1, '0x7f4b5000', null],
      ['0000:03:00.0', 1, '0x7f4b5000', 'igb0'],
      ['0000:03:00.1', 1, '0x7f4b5000', 'igb1'],
      ['0000:03:10.0', 2, '0x1a2c000', 'ppt0'],
      ['0000:03:10.4', 2, '0x1a2c000', 'absent'],
      ['0000:04:00.0', 3, '0x1b3d000', 'ppt1'],
    ]);
    for (const c of u.contexts) expect(c).toMatchObject({ present: true, tt: 0, fpd: false, aw: null, levels: null, raw: [] });
    expect(u.contexts.find((c: Json) => c.bdf === '0000:03:10.0').source).toEqual({ part: 'dmardump.txt', line: 12 });
    expect(u.domains.map((d: Json) => [d.did, d.root, d.mappingsKnown])).toEqual([[1, '0x7f4b5000', false], [2, '0x1a2c000', false], [3, '0x1b3d000', false]]);
  });

  it('inventory: pciconf and dmardump agree on every driver; ppt functions are pass-through', () => {
    const j = decode(FREEBSD);
    expect(j.inventoryKnown).toBe(true);
    expect(j.devices.map((d: Json) => [d.bdf, d.deviceUnit, d.driver, d.passThrough])).toEqual([
      ['0000:00:00.0', 'hostb0', 'hostb', false],
      ['0000:00:01.0', 'pcib1', 'pcib', false],
      ['0000:00:02.0', 'vgapci0', 'vgapci', false],
      ['0000:00:14.0', 'xhci0', 'xhci', false],
      ['0000:00:1c.0', 'pcib2', 'pcib', false],
      ['0000:00:1f.0', 'isab0', 'isab', false],
      ['0000:00:1f.2', 'ahci0', 'ahci', false],
      ['0000:00:1f.3', null, null, false],
      ['0000:03:00.0', 'igb0', 'igb', false],
      ['0000:03:00.1', 'igb1', 'igb', false],
      ['0000:03:10.0', 'ppt0', 'ppt', true],
      ['0000:04:00.0', 'ppt1', 'ppt', true],
    ]);
    expect(j.devices.find((d: Json) => d.bdf === '0000:03:10.0')).toMatchObject({ vendor: '0x8086', device: '0x1520', class: '0x20000', deviceName: 'I350 Ethernet Controller Virtual Function' });
  });

  it('warnings: only the two shell-prompt lines, each with its line number', () => {
    expect(decode(FREEBSD).warnings).toEqual([
      { message: expect.stringMatching(/not recognised as dmardump output.*root@bhyvehost:~ # dmardump/), source: { part: 'dmardump.txt', line: 1 } },
      { message: expect.stringMatching(/not recognised as dmardump output.*root@bhyvehost:~ # /), source: { part: 'dmardump.txt', line: 16 } },
    ]);
  });

  it('the table says AW is unknown instead of inventing one', () => {
    const r = cli(['decode', FREEBSD]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/0000:03:10\.0 \(ppt0\)\s+UNTR\s+2\s+\?\s+0x1a2c000/);
    expect(r.stdout).not.toMatch(/21-bit|0-level/);
  });

  it('analyze finds the stale entry of the destroyed VF pointing at the VM domain', () => {
    const r = cliJson(['analyze', FREEBSD, '--format', 'json']);
    expect(r.status).toBe(1);
    const stale = r.json.findings.filter((f: Json) => f.check === 'stale-context');
    expect(stale.map((f: Json) => [f.bdf, f.did, f.severity])).toEqual([['0000:03:10.4', 2, 'critical']]);
  });
});

describe('Linux: debugfs files (per-device folders) + lspci -Dnnk only', () => {
  it('is recognised by content, per-device folders included', () => {
    const parts = decode(LINUX).capture.parts.map((p: Json) => [p.kind, p.path]);
    expect(parts.filter((p: Json) => p[0] === 'debugfs-domain')).toHaveLength(11);
    expect(parts).toContainEqual(['debugfs-domain', '0000:03:10.0/domain_translation_struct']);
    expect(parts).toContainEqual(['debugfs-translation', 'dmar_translation_struct']);
    expect(parts).toContainEqual(['registers', 'iommu_regset']);
    expect(parts).toContainEqual(['pci', 'lspci-Dnnk.txt']);
  });

  it('one unit from iommu_regset; the debugfs root table agrees with RTADDR', () => {
    const j = decode(LINUX);
    expect(j.units).toHaveLength(1);
    expect(j.units[0]).toMatchObject({ name: 'dmar0', registerBase: '0xfed90000', version: '1.0', translationEnabled: true, rtaddr: '0x10a1c000', mode: 'legacy' });
  });

  it('context entries with DID, AW and table root from the kernel text', () => {
    const u = decode(LINUX).units[0];
    expect(u.contexts.map((c: Json) => [c.bdf, c.did, c.slptptr])).toEqual([
      ['0000:00:00.0', 1, '0x10a1e000'], ['0000:00:01.0', 2, '0x10a20000'], ['0000:00:14.0', 3, '0x10a22000'], ['0000:00:1c.0', 4, '0x10a24000'],
      ['0000:00:1f.0', 5, '0x10a26000'], ['0000:00:1f.2', 5, '0x10a26000'], ['0000:00:1f.3', 5, '0x10a26000'],
      ['0000:03:00.0', 6, '0x10a28000'], ['0000:03:00.1', 7, '0x10a2a000'], ['0000:03:10.0', 8, '0x10a2c000'], ['0000:04:00.0', 8, '0x10a2c000'],
    ]);
    for (const c of u.contexts) expect(c).toMatchObject({ present: true, tt: 0, aw: 2, levels: 4 });
  });

  it('domains joined by table address; leaves of every size, write-only and SNP kept', () => {
    const u = decode(LINUX).units[0];
    expect(u.domains.map((d: Json) => [d.did, d.pageCount, d.mappingsKnown])).toEqual([
      [1, 0, true], [2, 0, true], [3, 3, true], [4, 0, true], [5, 4, true], [6, 8, true], [7, 2, true], [8, 262144 + 1024 + 2, true],
    ]);
    const vm = u.domains.find((d: Json) => d.did === 8);
    expect(vm.mappings.map((m: Json) => [m.iova, m.hpa, m.size, m.pageSize, m.read, m.write, m.snp])).toEqual([
      ['0x0', '0x240000000', '0x40000000', 1073741824, true, true, true],
      ['0x100000000', '0x280000000', '0x400000', 2097152, true, true, true],
      ['0x100400000', '0x280400000', '0x2000', 4096, true, true, true],
    ]);
    const xhci = u.domains.find((d: Json) => d.did === 3);
    expect(xhci.mappings[0]).toMatchObject({ iova: '0xffffd000', hpa: '0x1f0a77000', read: false, write: true });
  });

  it('inventory from lspci: drivers, and vfio-pci functions are pass-through', () => {
    const j = decode(LINUX);
    expect(j.inventoryKnown).toBe(true);
    expect(j.devices.filter((d: Json) => d.passThrough).map((d: Json) => [d.bdf, d.driver])).toEqual([['0000:03:10.0', 'vfio-pci'], ['0000:04:00.0', 'vfio-pci']]);
    expect(j.devices.find((d: Json) => d.bdf === '0000:00:1f.2')).toMatchObject({ driver: 'ahci', class: '0x10601', vendor: '0x8086', device: '0x8c02' });
    expect(j.devices.find((d: Json) => d.bdf === '0000:00:00.0').driver).toBeNull();
  });

  it('warnings: only the trailing shell prompt of the lspci paste, with its line number', () => {
    expect(decode(LINUX).warnings).toEqual([
      { message: expect.stringMatching(/not recognised as PCI inventory.*\[root@kvmhost ~\]# /), source: { part: 'lspci-Dnnk.txt', line: 39 } },
    ]);
  });
});

describe('both directories give the same kind of model', () => {
  it('each validates against schema/decode-model.schema.json', () => {
    const validate = schemaValidator('decode-model.schema.json');
    expect(validate(decode(FREEBSD))).toEqual([]);
    expect(validate(decode(LINUX))).toEqual([]);
  });

  it('same shape: units with root tables and contexts, a known inventory, pass-through functions in VM domains', () => {
    for (const j of [decode(FREEBSD), decode(LINUX)]) {
      expect(Object.keys(j).sort()).toEqual(Object.keys(decode(LINUX)).sort());
      expect(j.inventoryKnown).toBe(true);
      const enabled = j.units.filter((u: Json) => u.translationEnabled);
      expect(enabled).toHaveLength(1);
      const u = enabled[0];
      expect(u.rtaddr).toMatch(/^0x[0-9a-f]+000$/);
      expect(u.mode).toBe('legacy');
      const byBdf = new Map<string, Json>(u.contexts.map((c: Json) => [c.bdf, c]));
      const pt = j.devices.filter((d: Json) => d.passThrough);
      const host = j.devices.filter((d: Json) => !d.passThrough && byBdf.has(d.bdf));
      expect(pt).toHaveLength(2);
      expect(host.length).toBeGreaterThan(3);
      const hostDids = new Set(host.map((d: Json) => byBdf.get(d.bdf).did));
      for (const d of pt) {
        const c = byBdf.get(d.bdf);
        expect(c, `${d.bdf} has a context entry`).toBeDefined();
        expect(hostDids.has(c.did), `${d.bdf} is in a domain of its own, not the host's`).toBe(false);
        expect(u.domains.some((dom: Json) => dom.did === c.did && dom.root === c.slptptr)).toBe(true);
      }
      expect(Object.keys(u.contexts[0]).sort()).toEqual(Object.keys(decode(LINUX).units[0].contexts[0]).sort());
      expect(Object.keys(j.devices[0]).sort()).toEqual(Object.keys(decode(LINUX).devices[0]).sort());
    }
  });
});
