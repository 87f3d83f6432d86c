/**
 * VM data across parts of a bhyve capture: /proc/PID/cmdline files (NUL-separated) are recognised
 * as VM command lines, FreeBSD device names given to bhyve (`-p ppt1`, `passthru,ppt0`) resolve to
 * BDFs through the inventory, a VM seen twice is one VM, and a VM that `ps` shows only by its
 * setproctitle title still counts when its full arguments are in another part.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { sniffPart } from '../../src/capture/sniff.js';
import { roles } from '../../src/model/roles.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/captures/freebsd-bhyve-text');
const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-vms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The FreeBSD fixture (dmardump + pciconf -lv: ppt0 = 03:10.0, ppt1 = 04:00.0) plus the given files. */
function capture(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    const p = path.join(dir, f);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  for (const f of ['dmardump.txt', 'pciconf-lv.txt']) copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

/** What `/proc/PID/cmdline` holds: every argument followed by a NUL. */
const cmdline = (...args: string[]): Buffer => Buffer.from(args.map((a) => a + '\0').join(''), 'utf8');

const MAIL_ARGS = ['bhyve', '-c', '2', '-m', '2G', '-w', '-H', '-s', '0,hostbridge', '-s', '3,virtio-blk,/vm/mail.img', '-s', '7:0,passthru,ppt0', '-s', '31,lpc', '-l', 'com1,/dev/nmdm-mailA', 'mail'];
const PS = [
  'COMMAND',
  '/sbin/init --',
  '/bin/sh /usr/share/examples/bhyve/vmrun.sh -c 2 -m 1g -t tap0 -p ppt1 -d /vm/web.img web',
  'bhyve: web (bhyve)',
  'bhyve: mail (bhyve)',
  'ps -ww -o args -p 1 2345 2346 2347',
  '',
].join('\n');

describe('/proc/PID/cmdline is recognised by content', () => {
  it('NUL-separated arguments sniff as vm-cmdlines, not as a binary file', () => {
    const p = path.join(tmp, 'cmdline');
    writeFileSync(p, cmdline(...MAIL_ARGS));
    expect(sniffPart(p)).toEqual({ kind: 'vm-cmdlines', format: '/proc/PID/cmdline' });
  });
  it('a QEMU cmdline with an empty argument too', () => {
    const p = path.join(tmp, 'cmdline-qemu');
    writeFileSync(p, cmdline('/usr/bin/qemu-system-x86_64', '-name', 'guest=vm1', '-m', '4096', '-append', '', '-device', 'vfio-pci,host=0000:03:10.0'));
    expect(sniffPart(p).kind).toBe('vm-cmdlines');
  });
  it('NUL bytes in a non-VM text, or runs of zeros, stay binary/ignored', () => {
    const a = path.join(tmp, 'cmdline-init');
    writeFileSync(a, cmdline('/sbin/init', '--'));
    expect(sniffPart(a).kind).toBe('ignored');
    const b = path.join(tmp, 'zeros');
    writeFileSync(b, Buffer.concat([Buffer.from('bhyve\0-c\0'), Buffer.alloc(64)]));
    expect(sniffPart(b).kind).toBe('ignored');
  });
});

describe('bhyve VMs across parts', () => {
  it('device names resolve through the inventory; the title-only VM counts with the args found elsewhere', () => {
    const dir = capture('two-vms', { 'ps-args.txt': PS, 'proc/2346/cmdline': cmdline(...MAIL_ARGS) });
    const s = loadCapture(dir);
    expect(s.capture.parts.filter((p) => p.kind === 'vm-cmdlines').map((p) => p.path).sort()).toEqual(['proc/2346/cmdline', 'ps-args.txt']);
    expect(s.vms.map((v) => [v.name, v.passthru, v.memoryBytes])).toEqual([
      ['mail', ['0000:03:10.0'], 2 * 2 ** 30],
      ['web', ['0000:04:00.0'], 2 ** 30],
    ]);
    expect(s.devices.filter((d) => d.passThrough).map((d) => [d.deviceUnit, d.bdf, d.vm])).toEqual([
      ['ppt0', '0000:03:10.0', 'mail'],
      ['ppt1', '0000:04:00.0', 'web'],
    ]);
    // The setproctitle warnings stay: ps alone could not tell the devices.
    const msgs = s.warnings.map((w) => w.message);
    expect(msgs.filter((m) => /shows only its title/.test(m))).toHaveLength(2);
    expect(msgs.filter((m) => /^VM \w+: |two VMs/.test(m))).toEqual([]);
    const r = roles(s);
    expect([...r.assigned.values()].map((a) => [a.bdf, a.vm]).sort()).toEqual([['0000:03:10.0', 'mail'], ['0000:04:00.0', 'web']]);
    expect(r.vmDomains().map((d) => d.domain.did).sort()).toEqual([2, 3]);
  });

  it('one VM seen in two parts is one VM; a disagreement names both sources', () => {
    const dir = capture('twice', {
      'ps-args.txt': 'COMMAND\n' + MAIL_ARGS.join(' ') + '\n',
      'proc/2346/cmdline': cmdline(...MAIL_ARGS.map((a) => (a === '2G' ? '4G' : a))),
    });
    const s = loadCapture(dir);
    expect(s.vms).toHaveLength(1);
    expect(s.vms[0]).toMatchObject({ name: 'mail', passthru: ['0000:03:10.0'], memoryBytes: 4 * 2 ** 30 });
    expect(s.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/VM mail: memory 0x100000000 bytes in proc\/2346\/cmdline:1 but 0x80000000 in ps-args\.txt:2/));
  });

  it('a device name the inventory lacks is dropped with a warning, never kept as a fake BDF', () => {
    const dir = capture('unknown-name', { 'ps-args.txt': 'COMMAND\nbhyve -c 1 -m 1G -s 0,hostbridge -s 5,passthru,ppt7 -s 31,lpc db\n' });
    const s = loadCapture(dir);
    expect(s.vms).toEqual([expect.objectContaining({ name: 'db', passthru: [] })]);
    expect(s.warnings.map((w) => w.message)).toContainEqual('VM db: pass-through device ppt7 is not in the PCI inventory; it is not counted as assigned');
  });
});
