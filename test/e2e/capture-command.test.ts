/**
 * `dmarsift capture --out DIR --root FAKE` against a fake host tree built in a temp dir from the
 * real qemu-linux61-debugfs capture (its files are copied, never modified): what it writes must
 * decode exactly as the source files do. Unreadable files (debugfs and the DMAR table are root-only)
 * are skipped with a warning listed in capture.json; nothing readable at all is exit 2.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePath } from '../helpers/captures.js';
import { BIN, cli, cliEnv, cliJson } from '../helpers/cli.js';
import { otherUserCli } from '../helpers/other-user.js';

type Json = any;

const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-capture-'));
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SRC = 'qemu-linux61-debugfs';
/** Real configuration spaces of the same QEMU q35 topology (test/fixtures/pci/qemu-q35-vtd/README.md). */
const CONFIG_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pci/qemu-q35-vtd');
const DEBUGFS_FILES = ['iommu_regset', 'dmar_translation_struct', 'domain_translation_struct', 'invalidation_queue', 'ir_translation_struct'];

/** The guest's PCI functions as the capture's README lists them (vendor:device, class, driver). */
const PCI: { bdf: string; vendor: string; device: string; cls: string; driver?: string; bus?: [number, number] }[] = [
  { bdf: '0000:00:00.0', vendor: '0x8086', device: '0x29c0', cls: '0x060000' },
  { bdf: '0000:00:02.0', vendor: '0x1b36', device: '0x000c', cls: '0x060400', driver: 'pcieport', bus: [1, 1] },
  { bdf: '0000:00:03.0', vendor: '0x1b36', device: '0x000c', cls: '0x060400', driver: 'pcieport', bus: [2, 2] },
  { bdf: '0000:00:1f.0', vendor: '0x8086', device: '0x2918', cls: '0x060100' },
  { bdf: '0000:00:1f.2', vendor: '0x8086', device: '0x2922', cls: '0x010601' },
  { bdf: '0000:00:1f.3', vendor: '0x8086', device: '0x2930', cls: '0x0c0500' },
  { bdf: '0000:01:00.0', vendor: '0x8086', device: '0x10d3', cls: '0x020000', driver: 'e1000e' },
  { bdf: '0000:02:00.0', vendor: '0x1af4', device: '0x1041', cls: '0x020000', driver: 'virtio-pci' },
];

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c99ff : Video ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-0ffdffff : System RAM
  01000000-01e00e96 : Kernel code
0ffe0000-0fffffff : Reserved
b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]
  b0000000-bfffffff : Reserved
fed90000-fed90fff : dmar0
fee00000-fee00fff : Local APIC
fffc0000-ffffffff : Reserved
`;
const QEMU_ARGS = ['/usr/bin/qemu-system-x86_64', '-name', 'guest=nested,debug-threads=on', '-machine', 'q35,accel=tcg', '-m', '512', '-append', '', '-device', 'virtio-net-pci,netdev=n0'];

function write(root: string, rel: string, data: string | Buffer): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
}

/** A host tree: /sys and /proc as a Linux 6.1 guest with IOMMU debugfs shows them. */
function fakeRoot(name: string): string {
  const root = path.join(tmp, name);
  copyIn(root, 'sys/firmware/acpi/tables/DMAR', 'DMAR');
  for (const f of DEBUGFS_FILES) copyIn(root, `sys/kernel/debug/iommu/intel/${f}`, f);
  write(root, 'sys/kernel/debug/iommu/intel/dmar_perf_latency', 'IOMMU: dmar0 Register Base Address: fed90000\n');
  const unit = 'sys/class/iommu/dmar0/intel-iommu';
  write(root, `${unit}/address`, 'fed90000\n');
  write(root, `${unit}/cap`, 'd2008c22260206\n');
  write(root, `${unit}/ecap`, 'f00f4a\n');
  write(root, `${unit}/version`, '1:0\n');
  write(root, `${unit}/domains_supported`, '256\n');
  for (const d of PCI) {
    const dir = `sys/devices/pci0000:00/${d.bdf}`;
    write(root, `${dir}/vendor`, d.vendor + '\n');
    write(root, `${dir}/device`, d.device + '\n');
    write(root, `${dir}/class`, d.cls + '\n');
    if (d.driver) symlinkSync(`../../../bus/pci/drivers/${d.driver}`, path.join(root, dir, 'driver'));
    const config = path.join(CONFIG_FIXTURES, d.bdf, 'config');
    if (existsSync(config)) copyFileSync(config, path.join(root, dir, 'config'));
    if (d.bus) {
      write(root, `${dir}/secondary_bus_number`, `${d.bus[0]}\n`);
      write(root, `${dir}/subordinate_bus_number`, `${d.bus[1]}\n`);
    }
    mkdirSync(path.join(root, 'sys/bus/pci/devices'), { recursive: true });
    // As in sysfs: /sys/bus/pci/devices/* are relative links into /sys/devices.
    symlinkSync(`../../../devices/pci0000:00/${d.bdf}`, path.join(root, 'sys/bus/pci/devices', d.bdf));
  }
  write(root, 'proc/iomem', IOMEM);
  write(root, 'proc/1/cmdline', '/sbin/init\0splash\0');
  write(root, 'proc/4242/cmdline', QEMU_ARGS.map((a) => a + '\0').join(''));
  write(root, 'proc/4243/status', 'Name:\tkworker\n'); // a process without cmdline (ended): skipped
  return root;
}

function copyIn(root: string, rel: string, file: string): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  copyFileSync(capturePath(SRC, file), p);
  chmodSync(p, 0o644); // the shared capture files are read-only; the copies are ours
}

describe('dmarsift capture --root (fake Linux host built from real files)', () => {
  let root: string;
  let out: string;
  let run: ReturnType<typeof cli>;
  let captured: Json;
  let manifest: Json;
  beforeAll(() => {
    root = fakeRoot('host');
    out = path.join(tmp, 'out');
    run = cli(['capture', '--out', out, '--root', root]);
    const d = cliJson(['decode', out, '--format', 'json']);
    expect(d.status, d.stderr).toBe(0);
    captured = d.json;
    manifest = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
  });

  it('exits 0, no warning, and says what it wrote', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^captured 10 parts into /);
  });

  it('capture.json names every part; files are byte-for-byte copies', () => {
    expect(manifest.parts.map((p: Json) => [p.kind, p.path])).toEqual([
      ['dmar', 'DMAR'],
      ['debugfs-translation', 'dmar_translation_struct'],
      ['debugfs-domain', 'domain_translation_struct'],
      ['invalidation-queue', 'invalidation_queue'],
      ['registers', 'iommu_regset'],
      ['ir-translation', 'ir_translation_struct'],
      ['ignored', 'intel-iommu.json'],
      ['pci', 'pci-sysfs.txt'],
      ['pci-config', 'pci-config.txt'],
      ['memory-map', 'iomem.txt'],
      ['vm-cmdlines', 'vm-cmdlines/4242.cmdline'],
    ]);
    for (const f of ['DMAR', ...DEBUGFS_FILES]) expect(readFileSync(path.join(out, f)).equals(readFileSync(capturePath(SRC, f))), f).toBe(true);
    expect(existsSync(path.join(out, 'dmar_perf_latency'))).toBe(false);
    expect(manifest.notes).toBe('');
    expect(manifest.tool).toMatchObject({ name: 'dmarsift', command: 'capture' });
    // Every part's size as written, so that a copy cut short is refused.
    for (const p of manifest.parts as Json[]) expect(p.bytes, p.path).toBe(statSync(path.join(out, p.path)).size);
    expect(JSON.parse(readFileSync(path.join(out, 'intel-iommu.json'), 'utf8')).units).toEqual([
      { name: 'dmar0', base: '0xfed90000', registers: { CAP: '0xd2008c22260206', ECAP: '0xf00f4a', VER: '0x10' } },
    ]);
  });

  it('saves each function\'s configuration space: the decoded bytes are the sysfs files', () => {
    const withConfig = PCI.filter((d) => existsSync(path.join(CONFIG_FIXTURES, d.bdf, 'config')));
    expect(withConfig.length).toBeGreaterThan(5);
    for (const d of withConfig) {
      const src = readFileSync(path.join(CONFIG_FIXTURES, d.bdf, 'config'));
      const dev = captured.devices.find((x: Json) => x.bdf === d.bdf);
      expect(dev.config.size, d.bdf).toBe(src.length);
      expect(dev.config.header.vendor, d.bdf).toBe(`0x${src.readUInt16LE(0).toString(16)}`);
      expect(dev.config.header.device, d.bdf).toBe(`0x${src.readUInt16LE(2).toString(16)}`);
    }
    // The root ports' ACS control as Linux left it (fixture README: 0x1d = SV RR CR UF).
    expect(captured.devices.find((x: Json) => x.bdf === '0000:00:02.0').config.acs.controlRaw).toBe('0x1d');
  });

  it('decodes exactly as the source files: units, contexts, domains, registers', () => {
    const src = cliJson(['decode', capturePath(SRC), '--only', 'dmar,registers,debugfs,ir-translation', '--format', 'json']);
    expect(src.status).toBe(0);
    expect(captured.units).toEqual(src.json.units);
    expect(captured.dmar).toEqual(src.json.dmar);
    expect(captured.units[0].contexts).toHaveLength(8);
    expect(captured.warnings).toEqual([]);
  });

  it('the PCI listing, /proc/iomem and the QEMU command line decode as their sources', () => {
    expect(captured.inventoryKnown).toBe(true);
    expect(captured.devices.map((d: Json) => [d.bdf, d.vendor, d.device, d.class, d.driver, d.secondaryBus, d.subordinateBus])).toEqual(
      PCI.map((d) => [d.bdf, d.vendor.replace(/^0x0+(?=.)/, '0x'), d.device.replace(/^0x0+(?=.)/, '0x'), d.cls.replace(/^0x0+(?=.)/, '0x'), d.driver ?? null, d.bus?.[0] ?? null, d.bus?.[1] ?? null]),
    );
    const strip = (j: Json, key: string) => j[key].map(({ source: _s, ...r }: Json) => r);
    const iomem = cliJson(['decode', '', '--memory-map', path.join(root, 'proc/iomem'), '--format', 'json']);
    expect(strip(captured, 'memoryMap')).toEqual(strip(iomem.json, 'memoryMap'));
    const vms = cliJson(['decode', '', '--vms', path.join(root, 'proc/4242/cmdline'), '--format', 'json']);
    expect(strip(captured, 'vms')).toEqual(strip(vms.json, 'vms'));
    expect(captured.vms).toEqual([{ name: 'nested', hypervisor: 'qemu', passthru: [], memoryBytes: '0x20000000', source: { part: 'vm-cmdlines/4242.cmdline', line: 1 } }]);
  });

  it('refuses a non-empty --out (exit 2, one line)', () => {
    const r = cli(['capture', '--out', out, '--root', root]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--out directory is not empty/);
  });
});

describe('newer kernels: per-device debugfs folders', () => {
  it('0000:BB:DD.F/domain_translation_struct folders are copied and decode as the source', () => {
    const fixture = path.resolve(import.meta.dirname, '../fixtures/captures/linux-kvm-debugfs');
    const root = path.join(tmp, 'per-device');
    const dbg = path.join(root, 'sys/kernel/debug/iommu/intel');
    cpSync(fixture, dbg, { recursive: true, filter: (src) => !src.endsWith('lspci-Dnnk.txt') });
    // A per-PASID folder and a file dmarsift does not read, as newer kernels have them.
    mkdirSync(path.join(dbg, '0000:03:10.0/1'));
    writeFileSync(path.join(dbg, '0000:03:10.0/1/domain_translation_struct'), '');
    writeFileSync(path.join(dbg, 'dmar_perf_latency'), 'IOMMU: dmar0 Register Base Address: fed90000\n');
    const out = path.join(tmp, 'per-device-out');
    const r = cli(['capture', '--out', out, '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
    expect(manifest.parts.filter((p: Json) => p.kind === 'debugfs-domain')).toHaveLength(11);
    expect(manifest.parts).toContainEqual({ kind: 'debugfs-domain', path: '0000:03:10.0/domain_translation_struct', bytes: expect.any(Number) });
    expect(manifest.notes).toContain('/sys/kernel/debug/iommu/intel/0000:03:10.0/1/domain_translation_struct: empty');
    const got = cliJson(['decode', out, '--format', 'json']);
    const want = cliJson(['decode', fixture, '--ignore', 'pci', '--format', 'json']);
    expect(got.json.units).toEqual(want.json.units);
    expect(got.json.warnings).toEqual([]);
  });
});

describe('unreadable files are skipped with a warning', () => {
  // As root the modes do not stop us: run the CLI as nobody, as a user without root would, from a copy
  // nobody can read (the checkout may be in a mode-700 directory); skipped, with the reason, when none can be made.
  const asRoot = process.getuid?.() === 0;
  const other = asRoot ? otherUserCli() : undefined;
  it('config space read without root (64-byte headers): captured, with one warning that capabilities are unknown', () => {
    const root = fakeRoot('headers-only');
    for (const d of PCI) {
      const f = path.join(root, `sys/devices/pci0000:00/${d.bdf}/config`);
      if (existsSync(f)) writeFileSync(f, readFileSync(f).subarray(0, 64)); // what sysfs gives a user
    }
    const out = path.join(tmp, 'headers-out');
    const r = cli(['capture', '--out', out, '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^dmarsift: warning: \/sys\/bus\/pci\/devices\/\*\/config: \d+ of \d+ functions gave only their 64-byte header \(run as root for the whole configuration space\): their MSI, ACS and ATS capabilities are unknown\n$/);
    const d = cliJson(['decode', out, '--format', 'json']);
    const port = d.json.devices.find((x: Json) => x.bdf === '0000:00:02.0');
    expect([port.config.size, port.config.capabilitiesKnown, port.config.acs]).toEqual([64, false, null]);
  });

  if (other && !other.ok) console.warn(`skipped "readable by root only": ${other.reason}`);
  it.skipIf(other !== undefined && !other.ok)('debugfs and the DMAR table readable by root only: the rest is captured, exit 0, notes say why', () => {
    const root = fakeRoot('locked');
    // The kernel's modes (root-only) stop nobody; run as a normal user, who owns the fake tree, mode 000 stops the owner too.
    const debug = path.join(root, 'sys/kernel/debug');
    const dmar = path.join(root, 'sys/firmware/acpi/tables/DMAR');
    chmodSync(debug, asRoot ? 0o700 : 0o000);
    chmodSync(dmar, asRoot ? 0o400 : 0o000);
    const parent = path.join(tmp, 'locked-out');
    mkdirSync(parent, { mode: 0o777 });
    chmodSync(parent, 0o777);
    const out = path.join(parent, 'cap');
    const args = ['capture', '--out', out, '--root', root];
    let r: SpawnSyncReturns<string>;
    try {
      r = other?.ok ? other.run(args) : spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cliEnv(), timeout: 60_000 });
    } finally {
      // So that the temporary tree can be removed by a user who is not root.
      chmodSync(debug, 0o755);
      chmodSync(dmar, 0o644);
    }
    expect(r.status, r.stderr).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toEqual([
      'dmarsift: warning: /sys/firmware/acpi/tables/DMAR: permission denied (run as root); skipped',
      'dmarsift: warning: /sys/kernel/debug/iommu/intel: permission denied (run as root); skipped',
    ]);
    const manifest = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
    expect(manifest.notes.split('\n')).toEqual(warnings.map((w) => w.replace('dmarsift: warning: ', '')));
    // Without iommu_regset, the sysfs registers are the unit's registers.
    expect(manifest.parts.map((p: Json) => [p.kind, p.path])).toEqual([
      ['registers', 'intel-iommu.json'], ['pci', 'pci-sysfs.txt'], ['pci-config', 'pci-config.txt'], ['memory-map', 'iomem.txt'], ['vm-cmdlines', 'vm-cmdlines/4242.cmdline'],
    ]);
    const d = cliJson(['decode', out, '--format', 'json']);
    expect(d.status).toBe(0);
    expect(d.json.units).toEqual([expect.objectContaining({ name: 'dmar0', registerBase: '0xfed90000', version: '1.0', contexts: [] })]);
    expect(d.json.units[0].registers).toMatchObject({ CAP: { raw: '0xd2008c22260206' }, ECAP: { raw: '0xf00f4a' } });
  });
});

describe('nothing to capture', () => {
  it('an empty root: exit 2, one stderr line, no directory left behind', () => {
    const root = path.join(tmp, 'empty-root');
    mkdirSync(root);
    const out = path.join(tmp, 'empty-out');
    const r = cli(['capture', '--out', out, '--root', root]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^dmarsift: .*empty-out: nothing captured under /);
    expect(existsSync(out)).toBe(false);
  });

  it('/proc/iomem read without root (all-zero addresses) is skipped with a warning, not captured', () => {
    const root = path.join(tmp, 'iomem-only');
    write(root, 'proc/iomem', IOMEM.replace(/[0-9a-f]{8}-[0-9a-f]{8}/g, '00000000-00000000'));
    const r = cli(['capture', '--out', path.join(tmp, 'iomem-out'), '--root', root]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/addresses hidden \(all zero; read as root\)/);
  });

  it('--out is required', () => {
    const r = cli(['capture']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/out/);
  });
});
