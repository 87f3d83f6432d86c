/**
 * `dmarsift capture` and /proc/PID/cmdline files it cannot read (issue 11 item 12): it must say
 * that, not "no running QEMU/KVM process". The fake tree makes the read fail with a cmdline that is
 * a directory (EISDIR): as root, file modes would not stop the read, and any error but "the
 * process has ended" (ENOENT, ESRCH) takes the same path.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLive } from '../../src/capture/live.js';
import { cliJson } from '../helpers/cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-proc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(root: string, rel: string, body: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), body);
}

let n = 0;
function fakeRoot(procs: (root: string) => void): string {
  const root = path.join(tmp, `root${n++}`);
  write(root, 'proc/iomem', '00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n');
  write(root, 'proc/1/cmdline', '/sbin/init\0');
  procs(root);
  return root;
}
const out = (): string => path.join(tmp, `out${n++}`);

describe('capture: /proc/PID/cmdline that cannot be read', () => {
  it('a QEMU process (by /proc/PID/comm) whose command line cannot be read: a warning naming it', () => {
    const root = fakeRoot((r) => {
      mkdirSync(path.join(r, 'proc/4242/cmdline'), { recursive: true });
      write(r, 'proc/4242/comm', 'qemu-system-x86\n');
    });
    const res = captureLive({ out: out(), root });
    const all = res.notes.join('\n');
    expect(all).not.toMatch(/no running QEMU/);
    expect(res.warnings.join('\n')).toMatch(/4242.*qemu-system-x86.*command line could not be read/);
  });
  it('processes whose command line cannot be read, none known to be QEMU: the note says so', () => {
    const root = fakeRoot((r) => {
      mkdirSync(path.join(r, 'proc/4242/cmdline'), { recursive: true });
      mkdirSync(path.join(r, 'proc/4243/cmdline'), { recursive: true });
    });
    const res = captureLive({ out: out(), root });
    const all = res.notes.join('\n');
    expect(all).not.toMatch(/^no running QEMU\/KVM process$/m);
    expect(all).toMatch(/2 processes.*command line.*could not be read/);
  });
  it('every command line readable and none is QEMU: "no running QEMU/KVM process" (it is true then)', () => {
    const res = captureLive({ out: out(), root: fakeRoot(() => {}) });
    expect(res.notes.some((n) => n.startsWith('no running QEMU/KVM process'))).toBe(true);
    // …and says so to analyze: an empty VM listing, declared, means "VMs known: none".
    const listing = res.parts.find((p) => p.kind === 'vm-cmdlines');
    expect(listing?.path).toBe('vm-cmdlines.txt');
    expect(readFileSync(path.join(res.out, 'vm-cmdlines.txt'), 'utf8')).toBe('');
    const d = cliJson(['decode', res.out, '--format', 'json']);
    expect(d.status).toBe(0);
    expect(d.json.vms).toEqual([]);
  });
  it('a command line that cannot be read: no VM listing is written (the VMs are unknown, not none)', () => {
    const root = fakeRoot((r) => mkdirSync(path.join(r, 'proc/4242/cmdline'), { recursive: true }));
    const res = captureLive({ out: out(), root });
    expect(res.parts.some((p) => p.kind === 'vm-cmdlines')).toBe(false);
  });
});
