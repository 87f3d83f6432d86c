/**
 * qemu-linux61-vfio and qemu-linux61-vfio-teardown: a real Linux 6.1 host passing its e1000e
 * (0000:01:00.0, vfio-pci) to a nested QEMU VM, captured while the VM ran and after it was killed.
 * Every expected value comes from the captures' README ("Truth") or their files (/proc/iomem,
 * qemu-cmdline.txt, invalidation_queue), not from dmarsift's output.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturePath, HAVE_CAPTURES } from '../helpers/captures.js';
import { cliJson } from '../helpers/cli.js';

type Json = any;
const RUNNING = capturePath('qemu-linux61-vfio');
const TEARDOWN = capturePath('qemu-linux61-vfio-teardown');
const atLeastWarning = (fs: Json[]) => fs.filter((f) => f.severity !== 'info').map((f) => `${f.check} ${f.severity} ${f.bdf ?? '-'}: ${f.message}`);

describe.skipIf(!HAVE_CAPTURES)('the real VFIO pass-through, while the VM runs', () => {
  const analyze = cliJson(['analyze', RUNNING, '--format', 'json']);
  const decode = cliJson(['decode', RUNNING, '--format', 'json']);

  it('analyze: no finding at warning or above (a healthy pass-through), exit 0', () => {
    expect(atLeastWarning(analyze.json.findings)).toEqual([]);
    expect(analyze.status).toBe(0);
  });

  it('decode: 0000:01:00.0 (vfio-pci) is assigned to the running VM, whose command line has no -name; 128 MiB', () => {
    expect(decode.json.vmsKnown).toBe(true);
    expect(decode.json.vms.map((v: Json) => [v.name, v.hypervisor, v.passthru, v.memoryBytes])).toEqual([['qemu@qemu-cmdline.txt:1', 'qemu', ['0000:01:00.0'], '0x8000000']]);
    const nic = decode.json.devices.find((d: Json) => d.bdf === '0000:01:00.0');
    expect([nic.driver, nic.passThrough, nic.vm]).toEqual(['vfio-pci', true, 'qemu@qemu-cmdline.txt:1']);
  });

  it("the VM's domain (DID 6, root 0x5f81b000) maps what the README lists; the README file is no VM data", () => {
    const d = decode.json.units[0].domains.find((x: Json) => x.did === 6);
    expect(d.root).toBe('0x5f81b000');
    const ms = d.mappings as Json[];
    // ROM read-only at 0xfffc0000-0xffffffff; the NIC's BAR at the guest's 0xfeba0000 → host 0xfe440000 (vfio-pci's in /proc/iomem).
    expect(ms.filter((m) => BigInt(m.iova) >= 0xfffc0000n).every((m) => m.write === false)).toBe(true);
    expect(ms.find((m) => m.iova === '0xfeba0000')).toMatchObject({ hpa: '0xfe440000', write: true });
    const iomem = readFileSync(path.join(RUNNING, 'iomem.txt'), 'utf8');
    expect(iomem).toMatch(/fe440000-fe45ffff : 0000:01:00\.0\n\s+fe440000-fe45ffff : vfio-pci/);
    expect(decode.json.capture.parts.find((p: Json) => p.path === 'README.md').kind).toBe('ignored');
  });
});

describe.skipIf(!HAVE_CAPTURES)('the same host after the VM was killed', () => {
  const analyze = cliJson(['analyze', TEARDOWN, '--format', 'json']);
  const decode = cliJson(['decode', TEARDOWN, '--format', 'json']);

  it('the empty qemu-cmdline.txt (declared vm-cmdlines) means VMs known: none; no finding at warning or above', () => {
    expect(analyze.status).toBe(0);
    expect(decode.json.vmsKnown).toBe(true);
    expect(decode.json.vms).toEqual([]);
    expect(atLeastWarning(analyze.json.findings)).toEqual([]);
    // VFIO's idle state: still vfio-pci, in an empty domain (DID 6, root 0xa15000), no VM: not ppt-empty-domain.
    const ctx = decode.json.units[0].contexts.find((c: Json) => c.bdf === '0000:01:00.0');
    expect([ctx.did, ctx.slptptr]).toEqual([6, '0xa15000']);
    expect(analyze.json.findings.filter((f: Json) => f.check === 'ppt-empty-domain')).toEqual([]);
  });
});

describe.skipIf(!HAVE_CAPTURES)('diff qemu-linux61-vfio qemu-linux61-vfio-teardown', () => {
  const diff = cliJson(['diff', RUNNING, TEARDOWN, '--format', 'json']);
  const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-vfio-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("reports the VM's domain gone (DID 6, root 0x5f81b000: 128.5 MiB lost) with no pair finding at warning or above", () => {
    expect(diff.status).toBe(0);
    const gone = diff.json.domains.find((d: Json) => d.root === '0x5f81b000');
    // "128.5 MiB" (README): the leaf rows of 0000:01:00.0's block in domain_translation_struct, all 4 KiB pages.
    const text = readFileSync(path.join(RUNNING, 'domain_translation_struct'), 'utf8');
    const block = text.slice(text.indexOf('Device 0000:01:00.0 @0x5f81b000')).split('\n\n')[0];
    const leaves = block.split('\n').filter((l) => l.startsWith('0x')).length;
    expect(leaves * 4096).toBeGreaterThan(128.5 * 2 ** 20 - 2 ** 19);
    expect([gone.status, gone.did, gone.bytesLost, gone.pagesAfter]).toEqual(['removed', 6, '0x' + (leaves * 4096).toString(16), 0]);
    expect(atLeastWarning(diff.json.findings)).toEqual([]);
    // Linux handed DID 6 to the device's own (empty) DMA domain: the capture.json lists invalidation_queue as ignored, so it cannot tell.
    expect(diff.json.findings.map((f: Json) => [f.check, f.severity, f.did])).toEqual([['did-reused', 'info', 6]]);
    expect(diff.json.findings[0].message).toMatch(/cannot be told.*listed as ignored/);
  });

  it('with the queue read (declared invalidation-queue): the context-cache (slot 0) and IOTLB (slot 2) invalidations for DID 6 make it info', () => {
    const dir = path.join(tmp, 'teardown');
    rmSync(dir, { recursive: true, force: true });
    // The same files, the manifest declaring the queue as the part it is.
    mkdirSync(dir);
    for (const f of readdirSync(TEARDOWN)) copyFileSync(path.join(TEARDOWN, f), path.join(dir, f));
    const manifest = JSON.parse(readFileSync(path.join(TEARDOWN, 'capture.json'), 'utf8'));
    for (const p of manifest.parts) if (p.path === 'invalidation_queue') p.kind = 'invalidation-queue';
    writeFileSync(path.join(dir, 'capture.json'), JSON.stringify(manifest));
    const r = cliJson(['diff', RUNNING, dir, '--format', 'json']);
    expect(atLeastWarning(r.json.findings)).toEqual([]);
    const f = r.json.findings.find((x: Json) => x.check === 'did-reused');
    // invalidation_queue rows 0 and 2: 0000010000060031 (context-cache, G 11b, DID 6, SID 0x0100) and 00000000000600e2 (IOTLB, G 10b, DID 6).
    expect(f.evidence.contextCacheInvalidations[0]).toMatchObject({ slot: 0, qw: ['0x10000060031', '0x0'] });
    expect(f.evidence.iotlbInvalidations[0]).toMatchObject({ slot: 2, qw: ['0x600e2', '0x0'] });
    expect(f.evidence.queue).toMatchObject({ unit: 'dmar0', base: '0x15e000', head: 8, tail: 8, sinceBefore: true });
  });
});
