/**
 * A real capture made by `dmarsift capture` inside a Linux 6.1 guest with 1 GiB of RAM, before and
 * after a PCIe hot-unplug of its virtio-net NIC 0000:02:00.0 (test/fixtures/real/live-*, see the
 * README there; no capture.json kept, so the parts are also found by content).
 *
 * - Issue 11 item 4: its memory map comes from /proc/iomem and from the e820 lines of its dmesg;
 *   it used to decode as "2 GiB RAM" (the two sources added up). RAM is counted once: the System RAM
 *   lines of iomem.txt, 0x1000-0x9fbff and 0x100000-0x3ffdffff.
 * - `diff before after` shows 0000:02:00.0 leaving, and no pair finding.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, REPO } from '../helpers/cli.js';

type Json = any;
const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-live-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the fixture with its page tables unpacked (kept gzipped in the repository). */
function unpacked(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(REPO, 'test/fixtures/real', name), dir, { recursive: true });
  const gz = path.join(dir, 'domain_translation_struct.gz');
  writeFileSync(path.join(dir, 'domain_translation_struct'), gunzipSync(readFileSync(gz)));
  rmSync(gz);
  return dir;
}
const BEFORE = unpacked('live-before');
const AFTER = unpacked('live-after');
const IOMEM_RAM = (0x9fbff + 1 - 0x1000) + (0x3ffdffff + 1 - 0x100000);

describe('the live capture decodes with the guest’s RAM, once', () => {
  it.each([['before', BEFORE], ['after', AFTER]])('%s: JSON', (_w, dir) => {
    const r = cliJson(['decode', dir, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const ram = (r.json.memoryMap as Json[]).filter((m) => m.type === 'ram').reduce((a, m) => a + (Number(m.end) - Number(m.start)), 0);
    expect(ram).toBe(IOMEM_RAM);
    expect(r.json.warnings).toEqual([]);
    const kinds = Object.fromEntries((r.json.capture.parts as Json[]).map((p) => [p.path, p.kind]));
    expect(kinds).toMatchObject({
      DMAR: 'dmar', iommu_regset: 'registers', dmar_translation_struct: 'debugfs-translation', 'pci-sysfs.txt': 'pci',
      'iomem.txt': 'memory-map', 'dmesg.txt': 'dmesg', 'README.md': 'ignored', domain_translation_struct: 'debugfs-domain',
    });
  });
  it('table: "1023.5 MiB RAM", not 2 GiB', () => {
    const r = cli(['decode', BEFORE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Memory map: \d+ regions, 1023\.5 MiB RAM$/m);
  });
});

describe('diff before after: the hot-unplug', () => {
  it('0000:02:00.0 leaves (its context entry and the device), no pair finding', () => {
    const r = cliJson(['diff', BEFORE, AFTER, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.devices.left.map((d: Json) => d.bdf)).toEqual(['0000:02:00.0']);
    expect(r.json.devices.arrived).toEqual([]);
    expect(r.json.entries.removed.map((e: Json) => e.bdf)).toEqual(['0000:02:00.0']);
    expect(r.json.entries.added).toEqual([]);
    expect(r.json.findings).toEqual([]);
  });
});
