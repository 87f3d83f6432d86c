/**
 * Text dumps cut short or garbled. dmar_translation_struct: the kernel prints one row per present context
 * entry, in bus and devfn order, so a row that cannot be read hides entries between the rows
 * around it (up to the end of the unit's list when it is the last). Those entries are unknown, not
 * absent: no check may say such a device has no context entry.
 *
 * Truth from test/fixtures/real/qemu-linux61-debugfs/README.md: 0000:01:00.0 (e1000e) has a
 * present context entry, DID 6; 0000:02:00.0 (virtio-net) one with DID 7.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecks } from '../../src/checks/run.js';
import { contextKnown } from '../../src/model/known.js';
import type { Unit } from '../../src/model/types.js';
import { snapshotToJson } from '../../src/report/model-json.js';
import { parseDebugfsTranslation } from '../../src/text/debugfs-translation.js';
import { schemaValidator } from '../helpers/validators.js';
import { capturePath } from '../helpers/captures.js';

const REAL = 'qemu-linux61-debugfs';
const text = fs.readFileSync(capturePath(REAL, 'dmar_translation_struct'), 'latin1');
const lines = text.split('\n');
/** Index of the 00:1f.2 row: the first row cut in half below. */
const cutRow = lines.findIndex((l) => l.startsWith('00:1f.2\t'));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** DMAR, registers and a PCI listing of the real capture, with the given translation text. */
function captureWith(translation: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-cut-'));
  dirs.push(dir);
  for (const f of ['DMAR', 'iommu_regset']) fs.copyFileSync(capturePath(REAL, f), path.join(dir, f));
  fs.copyFileSync(capturePath('qemu-linux61-vfio', 'pci-sysfs.txt'), path.join(dir, 'pci-sysfs.txt'));
  fs.writeFileSync(path.join(dir, 'dmar_translation_struct'), translation);
  return dir;
}

function unitOf(dir: string): Unit {
  const s = loadCapture(dir);
  expect(s.units).toHaveLength(1);
  return s.units[0];
}

describe('dmar_translation_struct cut short', () => {
  it('the fixture is what the test assumes', () => {
    expect(cutRow).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('01:00.0\t0x0000000000000000:0x'))).toBe(true);
  });

  it('cut in the middle of a row: the entries from there to the end are unknown, not absent', () => {
    const cut = `${lines.slice(0, cutRow).join('\n')}\n${lines[cutRow].slice(0, 4)}`;
    const u = unitOf(captureWith(cut));
    expect(u.contexts.map((c) => c.bdf)).toEqual(['0000:00:00.0', '0000:00:02.0', '0000:00:03.0', '0000:00:1f.0']);
    expect(u.contextsKnown).toBe('partial');
    // Read rows are known; what follows the last read row is not.
    expect(contextKnown(u, 0, 0x18)).toBe(true);
    expect(contextKnown(u, 0, 0xfa)).toBe(false);
    expect(contextKnown(u, 1, 0)).toBe(false);
    expect(contextKnown(u, 2, 0)).toBe(false);
    expect(contextKnown(u, 0xff, 0xff)).toBe(false);
  });

  it('the decode JSON of such a capture keeps to its schema', () => {
    const cut = `${lines.slice(0, cutRow).join('\n')}\n${lines[cutRow].slice(0, 4)}`;
    const json = JSON.parse(JSON.stringify(snapshotToJson(loadCapture(captureWith(cut)))));
    expect(schemaValidator('decode-model.schema.json')(json)).toEqual([]);
    expect(json.units[0].contextsKnown).toBe('partial');
  });

  it('no check says 0000:01:00.0 has no context entry', () => {
    const cut = `${lines.slice(0, cutRow).join('\n')}\n${lines[cutRow].slice(0, 4)}`;
    const findings = runChecks(loadCapture(captureWith(cut)));
    expect(findings.filter((f) => f.bdf === '0000:01:00.0')).toEqual([]);
  });

  it('a garbled row between two good ones hides only the entries between them', () => {
    const garbled = lines.map((l, i) => (i === cutRow ? '00:1f.2\t0x0000000000000000:0xzz' : l)).join('\n');
    const u = unitOf(captureWith(garbled));
    expect(contextKnown(u, 0, 0xfa)).toBe(false); // 00:1f.2: the row itself
    expect(contextKnown(u, 0, 0xf8)).toBe(true); // 00:1f.0, read
    expect(contextKnown(u, 0, 0xfb)).toBe(true); // 00:1f.3, read
    expect(contextKnown(u, 1, 0)).toBe(true);
    expect(u.contexts.some((c) => c.bdf === '0000:01:00.0' && c.did === 6)).toBe(true);
  });

  it('a shell prompt pasted after the rows hides nothing', () => {
    const u = unitOf(captureWith(`${text.trimEnd()}\nroot@host:~# \n`));
    expect(u.contextsKnown).toBe('complete');
  });

  it('the whole file leaves every entry known', () => {
    const u = unitOf(captureWith(text));
    expect(u.contextsKnown).toBe('complete');
    expect(u.contexts.find((c) => c.bdf === '0000:02:00.0')?.did).toBe(7);
  });

  it('the parser names the unknown ranges by line', () => {
    const cut = `${lines.slice(0, cutRow).join('\n')}\n${lines[cutRow].slice(0, 4)}`;
    const c = parseDebugfsTranslation(cut, 'dmar_translation_struct');
    const lost = c.units?.[0].unreadableTables ?? [];
    expect(lost.length).toBeGreaterThan(0);
    expect(lost[0]).toMatchObject({ structure: 'context', bus: 0 });
    expect(lost[0].message).toMatch(new RegExp(`dmar_translation_struct:${cutRow + 1}`));
  });
});

/**
 * FreeBSD dmardump output cut short (samples/dmardump-absent/README.md: igb0 = pci0:3:0:0 and
 * ahci0 = pci0:0:31:2 have present context entries in the host domain).
 */
describe('dmardump output cut short', () => {
  const sample = path.join(import.meta.dirname, '../../samples/dmardump-absent');
  const dump = fs.readFileSync(path.join(sample, 'dmardump.txt'), 'latin1');
  // The sample is a bhyve host as vtd.c leaves it: TT = 01b ("TR") on every entry.
  const cutAt = dump.indexOf('{ 31,2 } (ahci0) TR SLPT 0x7f') + '{ 31,2 } (ahci0) TR SLPT 0x7f'.length;

  function dir(text: string): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-cut-'));
    dirs.push(d);
    fs.copyFileSync(path.join(sample, 'pciconf-lv.txt'), path.join(d, 'pciconf-lv.txt'));
    fs.writeFileSync(path.join(d, 'dmardump.txt'), text);
    return d;
  }

  it('no missing-context finding for the devices after the cut', () => {
    expect(cutAt).toBeGreaterThan(40);
    const findings = runChecks(loadCapture(dir(dump.slice(0, cutAt))));
    expect(findings.filter((f) => f.check === 'missing-context')).toEqual([]);
  });

  it('entries before the cut are known, the rest are not', () => {
    const s = loadCapture(dir(dump.slice(0, cutAt)));
    const u = s.units[0];
    expect(u.contextsKnown).toBe('partial');
    expect(contextKnown(u, 0, 25 << 3)).toBe(true); // em0, read
    expect(contextKnown(u, 0, (31 << 3) | 2)).toBe(false); // ahci0, the cut row
    expect(contextKnown(u, 3, 0)).toBe(false); // igb0, after the cut
  });

  it('the whole output leaves every entry known', () => {
    expect(loadCapture(dir(dump)).units[0].contextsKnown).toBe('complete');
  });
});

/**
 * domain_translation_struct cut in the middle of a row: the domain whose rows stop there is
 * incomplete (README: 0000:01:00.0's table 0x285b000 maps 258 pages), not a complete smaller one.
 */
describe('domain_translation_struct cut short', () => {
  const domainText = fs.readFileSync(capturePath(REAL, 'domain_translation_struct'), 'latin1');

  function domainOf(domainFile: string, root: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-cut-'));
    dirs.push(dir);
    for (const f of ['DMAR', 'iommu_regset', 'dmar_translation_struct']) fs.copyFileSync(capturePath(REAL, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'domain_translation_struct'), domainFile);
    return loadCapture(dir).units[0].domains.find((d) => d.root === root)!;
  }

  it('the whole file: 258 pages, complete', () => {
    const d = domainOf(domainText, 0x285b000);
    expect(d.pageCount).toBe(258);
    expect(d.complete).toBe(true);
  });

  it('cut in the middle of a row of that block: incomplete', () => {
    const start = domainText.indexOf('Device 0000:01:00.0 @0x285b000');
    const next = domainText.indexOf('Device ', start + 1);
    const cut = domainText.slice(0, start + Math.floor((next - start) / 2));
    expect(cut.endsWith('\n')).toBe(false);
    const d = domainOf(cut, 0x285b000);
    expect(d.pageCount).toBeLessThan(258);
    expect(d.complete).toBe(false);
  });
});

/**
 * A PCI inventory cut short (samples/bhyve-host/README.md: its pciconf -lv lists igb0 = pci0:3:0:0
 * and ppt0 = pci0:3:0:8, both with present context entries): the functions after the cut are
 * unknown, so no check may call their context entries stale.
 */
describe('pciconf -lv cut short', () => {
  const sample = path.join(import.meta.dirname, '../../samples/bhyve-host');
  const listing = fs.readFileSync(path.join(sample, 'pciconf-lv.txt'), 'latin1');

  function withListing(text: string): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-cut-'));
    dirs.push(d);
    fs.cpSync(sample, d, { recursive: true });
    fs.writeFileSync(path.join(d, 'pciconf-lv.txt'), text);
    return d;
  }

  it('cut in the igb0 line: no stale-context finding, and the inventory is not taken as whole', () => {
    const at = listing.indexOf('igb0@pci0:3:0:0') + 'igb0@pci0:3:0:0'.length;
    expect(at).toBeGreaterThan(20);
    const s = loadCapture(withListing(listing.slice(0, at)));
    expect(s.inventoryKnown).toBe(false);
    expect(runChecks(s).filter((f) => f.check === 'stale-context')).toEqual([]);
    expect(s.warnings.some((w) => /pciconf-lv\.txt/.test(w.source?.part ?? '') && /incomplete/.test(w.message))).toBe(true);
  });

  it('the whole listing is a whole inventory', () => {
    expect(loadCapture(withListing(listing)).inventoryKnown).toBe(true);
  });
});
