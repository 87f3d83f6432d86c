/**
 * Parts that are not regular files (issue 11 items 15 and 22). A FIFO blocks whoever opens it, and
 * a symlink to /dev/zero reads forever: both used to hang with RSS growing by the second. Every
 * part — found in a directory, named by capture.json or given on the command line — is refused
 * with exit 2 and one line naming it, well inside the time and memory limits.
 *
 * Only temporary FIFOs and symlinks are made (a symlink to /dev/zero is harmless to read); the CLI
 * runs in a child with a timeout and an RSS cap.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliWatched, type WatchedResult } from '../helpers/bounded.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-special-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGSET = 'IOMMU: dmar0 Register Base Address: fed90000\nName\t\t\tOffset\t\tContents\nGSTS\t\t\t0x1c\t\t0x00000000c7000000\n';

function sub(name: string): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'iommu_regset'), REGSET);
  return d;
}
function fifo(p: string): string {
  execFileSync('mkfifo', [p]);
  return p;
}
function zeroLink(p: string): string {
  symlinkSync('/dev/zero', p);
  return p;
}

/** Exit 2 in time and memory; exactly one stderr line that names `who` and says `why`. */
function refused(r: WatchedResult, who: string, why: RegExp): void {
  expect(r.killed, `killed (${r.killed}) at ${r.peakRssMiB} MiB`).toBeUndefined();
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(who);
  expect(lines[0]).toMatch(why);
  expect(lines[0]).not.toMatch(/ELOOP|ENOENT|internal error/);
}

const FIFO = /FIFO/;
const DEVICE = /character device/;
const LIMITS = { timeoutMs: 15_000, rssMiB: 256 };

describe('in a capture directory without a manifest', () => {
  it('a FIFO named like a memory map', async () => {
    const d = sub('fifo-dir');
    fifo(path.join(d, 'smap.txt'));
    refused(await cliWatched(['decode', d], LIMITS), path.join(d, 'smap.txt'), FIFO);
  });
  it.each(['registers.json', 'DMAR', 'smap.txt'])('%s as a symlink to /dev/zero', async (name) => {
    const d = sub(`zero-${name}`);
    zeroLink(path.join(d, name));
    refused(await cliWatched(['decode', d], LIMITS), path.join(d, name), DEVICE);
  });
  it('a symlink loop: a clear error naming the file, not a raw ELOOP', async () => {
    const d = sub('t_loop');
    symlinkSync('b', path.join(d, 'a'));
    symlinkSync('a', path.join(d, 'b'));
    refused(await cliWatched(['decode', d], LIMITS), path.join(d, 'a'), /symbolic link loop/);
  });
  it('a dangling symlink', async () => {
    const d = sub('dangling');
    symlinkSync('gone', path.join(d, 'pci.txt'));
    refused(await cliWatched(['decode', d], LIMITS), path.join(d, 'pci.txt'), /symbolic link to .*gone.* which does not exist/);
  });
});

describe('named by capture.json', () => {
  it('a FIFO part', async () => {
    const d = sub('manifest-fifo');
    fifo(path.join(d, 'iomem.txt'));
    writeFileSync(path.join(d, 'capture.json'), JSON.stringify({ parts: [{ kind: 'memory-map', path: 'iomem.txt' }] }));
    refused(await cliWatched(['decode', d], LIMITS), 'iomem.txt', FIFO);
  });
  it('a part that is a symlink to /dev/zero', async () => {
    const d = sub('manifest-zero-part');
    zeroLink(path.join(d, 'smap.txt'));
    writeFileSync(path.join(d, 'capture.json'), JSON.stringify({ parts: [{ kind: 'memory-map', path: 'smap.txt' }] }));
    refused(await cliWatched(['decode', d], LIMITS), 'smap.txt', DEVICE);
  });
  it('capture.json itself a symlink to /dev/zero', async () => {
    const d = sub('manifest-zero');
    zeroLink(path.join(d, 'capture.json'));
    refused(await cliWatched(['decode', d], LIMITS), 'capture.json', DEVICE);
  });
});

describe('given on the command line', () => {
  it('--pci naming a symlink to /dev/zero', async () => {
    refused(await cliWatched(['decode', '', '--pci', zeroLink(path.join(dir, 'pci-zero'))], LIMITS), 'pci-zero', DEVICE);
  });
  it('--memory naming a FIFO (opening it must not block)', async () => {
    refused(await cliWatched(['decode', sub('opt-mem'), '--memory', fifo(path.join(dir, 'mem.fifo'))], LIMITS), 'mem.fifo', FIFO);
  });
  it('--registers naming a FIFO', async () => {
    refused(await cliWatched(['decode', '', '--registers', fifo(path.join(dir, 'regs.fifo'))], LIMITS), 'regs.fifo', FIFO);
  });
  it('--dmar naming a symlink to /dev/zero', async () => {
    refused(await cliWatched(['decode', '', '--dmar', zeroLink(path.join(dir, 'dmar-zero'))], LIMITS), 'dmar-zero', DEVICE);
  });
  it('the capture path itself a FIFO', async () => {
    refused(await cliWatched(['decode', fifo(path.join(dir, 'capture.fifo'))], LIMITS), 'capture.fifo', FIFO);
  });
  it('a directory given as a part', async () => {
    refused(await cliWatched(['decode', '', '--dmesg', sub('a-dir')], LIMITS), 'a-dir', /directory/);
  });
});
