/** `dmarsift capture` keeps the kernel log's DMAR/IOMMU lines (fault reports included) as dmesg.txt. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { captureLive } from '../../src/capture/live.js';
import { capturePath } from '../helpers/captures.js';
import { cli } from '../helpers/cli.js';

describe('capture: kernel log', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dmarsift-klog-'));
  const dmar = readFileSync(capturePath('qemu-linux61-dmar-fault', 'DMAR'));
  mkdirSync(path.join(root, 'sys/firmware/acpi/tables'), { recursive: true });
  writeFileSync(path.join(root, 'sys/firmware/acpi/tables/DMAR'), dmar);
  const log = readFileSync(capturePath('qemu-linux61-dmar-fault', 'dmesg.txt'), 'utf8');
  const noisy = `[    0.000000] Linux version 6.1.0\n${log}[   99.000000] e1000e: link up\n`;

  it('writes the DMAR lines as a dmesg part, and both faults decode from it', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dmarsift-klog-out-')), 'cap');
    const res = captureLive({ out, root, kernelLog: () => noisy });
    expect(res.parts.map((p) => p.kind)).toContain('dmesg');
    const kept = readFileSync(path.join(out, 'dmesg.txt'), 'utf8');
    expect(kept).not.toMatch(/Linux version|link up/);
    const s = loadCapture(out);
    expect(s.faults.map((f) => [f.bdf, f.reason])).toEqual([['0000:01:00.0', 6], ['0000:01:00.0', 6]]);
  });

  it('a log without DMAR lines, or one that cannot be read, is a note, not a failure', () => {
    const out1 = path.join(mkdtempSync(path.join(tmpdir(), 'dmarsift-klog-out-')), 'cap');
    expect(captureLive({ out: out1, root, kernelLog: () => 'nothing here\n' }).notes.join('\n')).toMatch(/kernel log/);
    const out2 = path.join(mkdtempSync(path.join(tmpdir(), 'dmarsift-klog-out-')), 'cap');
    const res = captureLive({ out: out2, root, kernelLog: () => { throw new Error('dmesg: read kernel buffer failed: Operation not permitted'); } });
    expect(res.warnings.join('\n')).toMatch(/Operation not permitted/);
  });
});

describe('capture: --out that cannot be created', () => {
  it('under /proc is one error, not a hang (node 20 recursive mkdir loops there)', () => {
    const r = cli(['capture', '--out', '/proc/dmarsift-nope/x', '--root', tmpdir()]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/\/proc\/dmarsift-nope\/x: cannot create the directory/);
  });
});
