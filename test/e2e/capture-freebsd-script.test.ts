/**
 * samples/capture-freebsd.sh: POSIX sh (`sh -n`, shellcheck when installed), and run under the
 * system's sh (dash on Debian: no bashisms) with stand-ins for the FreeBSD tools on PATH that print
 * what the real ones print (the FreeBSD text fixture). What it writes must decode as a capture.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDmar } from '../../src/synth/dmar-encode.js';
import { cliJson, REPO } from '../helpers/cli.js';

type Json = any;

const SCRIPT = path.join(REPO, 'samples/capture-freebsd.sh');
const FIXTURE = path.join(REPO, 'test/fixtures/captures/freebsd-bhyve-text');
const tmp = mkdtempSync(path.join(tmpdir(), 'dmarsift-fbsd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PCIB = `dev.pcib.0.%parent: acpi0
dev.pcib.0.%driver: pcib
dev.pcib.0.%desc: ACPI Host-PCI bridge
dev.pcib.1.subbus: 3
dev.pcib.1.secbus: 3
dev.pcib.1.pribus: 0
dev.pcib.1.domain: 0
dev.pcib.1.%location: slot=1 function=0 dbsf=pci0:0:1:0 handle=\\_SB_.PCI0.PEG0
dev.pcib.1.%desc: ACPI PCI-PCI bridge
dev.pcib.2.subbus: 4
dev.pcib.2.secbus: 4
dev.pcib.2.pribus: 0
dev.pcib.2.domain: 0
dev.pcib.2.%location: slot=28 function=0 dbsf=pci0:0:28:0 handle=\\_SB_.PCI0.RP01
dev.pcib.2.%desc: ACPI PCI-PCI bridge
`;
const SMAP = `machdep.smap: 
SMAP type=01, xattr=01, base=0000000000000000, len=000000000009d000
SMAP type=02, xattr=01, base=000000000009d000, len=0000000000003000
SMAP type=01, xattr=01, base=0000000000100000, len=00000000bf600000
SMAP type=02, xattr=01, base=00000000bf700000, len=0000000000900000
SMAP type=01, xattr=01, base=0000000100000000, len=0000000340000000
`;
const PS = `COMMAND
/bin/sh /usr/share/examples/bhyve/vmrun.sh -c 2 -m 2g -t tap0 -p ppt1 -d /vm/web.img web
bhyve: web (bhyve)
bhyve: mail (bhyve)
`;

/** A stand-in command: a sh script printing a file or a text, or failing like the real one. */
function stub(bin: string, name: string, body: string): void {
  const p = path.join(bin, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
}

function stubs(opts: { root: boolean; acpidump: boolean }): string {
  const bin = mkdtempSync(path.join(tmp, 'bin-'));
  const data = path.join(bin, 'data');
  mkdirSync(data);
  cpSync(FIXTURE, data, { recursive: true });
  // The fixture was pasted from a terminal; dmardump itself prints neither prompt nor CRLF.
  const dd = readFileSync(path.join(FIXTURE, 'dmardump.txt'), 'latin1').replace(/\r/g, '').split('\n').filter((l) => !l.startsWith('root@')).join('\n') + '\n';
  writeFileSync(path.join(data, 'dmardump.out'), dd);
  writeFileSync(path.join(data, 'pcib.out'), PCIB);
  writeFileSync(path.join(data, 'smap.out'), SMAP);
  writeFileSync(path.join(data, 'ps.out'), PS);
  writeFileSync(path.join(data, 'DMAR'), encodeDmar({
    haw: 39, oemId: 'DELL  ', oemTableId: 'CBX3    ',
    drhd: [
      { base: 0xfed90000, scopes: [{ type: 1, startBus: 0, path: [[2, 0]] }] },
      { base: 0xfed91000, flags: 1 },
    ],
  }));
  stub(bin, 'id', opts.root ? 'echo 0' : 'echo 1001');
  stub(bin, 'hostname', 'echo bhyvehost');
  stub(bin, 'uname', 'echo FreeBSD 14.1-RELEASE');
  stub(bin, 'dmardump', opts.root ? `cat "${data}/dmardump.out"` : 'echo "dmardump: /dev/mem: Permission denied" >&2; exit 1');
  // pciconf -r: the 64 words of a conventional function's 256 bytes (vendor 0x5678, device 0x1234),
  // four to a line as %08x; the extended range fails as for a conventional function.
  const configWords = 'awk \'BEGIN { for (i = 0; i < 64; i++) printf "%08x%s", (i == 0 ? 305419896 : 0), (i % 4 == 3 ? "\\n" : " ") }\'';
  stub(bin, 'pciconf', opts.root
    ? `case "$1" in -r) [ "$3" = "0:0xff" ] || exit 1; ${configWords};; *) cat "${data}/pciconf-lv.txt";; esac`
    : `case "$1" in -lvc|-r) echo "pciconf: /dev/pci: Permission denied" >&2; exit 1;; *) cat "${data}/pciconf-lv.txt";; esac`);
  stub(bin, 'sysctl', `case "$1" in dev.pcib) cat "${data}/pcib.out";; machdep.smap) cat "${data}/smap.out";; hw.vmm) echo "hw.vmm.iommu.enable: 1"; echo "sysctl: unknown oid 'hw.dmar'" >&2; exit 1;; *) exit 1;; esac`);
  stub(bin, 'pgrep', 'printf "2345\\n2346\\n2347\\n"');
  stub(bin, 'ps', `[ "$4" = "-p" ] && [ "$5" = "2345,2346,2347" ] && cat "${data}/ps.out"`);
  if (opts.acpidump) stub(bin, 'acpidump', `[ "$1" = "-t" ] && exit 1; cp "${data}/DMAR" ./dmar.dat`);
  return bin;
}

function runScript(bin: string, out: string): ReturnType<typeof spawnSync> {
  return spawnSync('sh', [SCRIPT, '-o', out], {
    encoding: 'utf8', timeout: 30_000, cwd: tmp,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, TMPDIR: tmp },
  });
}

describe('samples/capture-freebsd.sh', () => {
  it('is POSIX sh: sh -n, and shellcheck -s sh when installed', () => {
    expect(spawnSync('sh', ['-n', SCRIPT]).status).toBe(0);
    const which = spawnSync('sh', ['-c', 'command -v shellcheck']);
    if (which.status === 0) {
      const r = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('as root with every tool: all parts, capture.json, and a capture dmarsift decodes', () => {
    const out = path.join(tmp, 'root-out');
    const r = runScript(stubs({ root: true, acpidump: true }), out);
    expect(r.status, String(r.stderr)).toBe(0);
    expect(r.stdout).toMatch(/^captured 7 parts into .*root-out; next: dmarsift analyze /);
    const manifest = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
    expect(manifest.parts.map((p: Json) => [p.kind, p.path])).toEqual([
      ['dmar', 'DMAR'], ['dmardump-text', 'dmardump.txt'], ['pci', 'pciconf-lv.txt'], ['bridges', 'sysctl-dev-pcib.txt'],
      ['pci-config', 'pciconf-r.txt'], ['memory-map', 'smap.txt'], ['vm-cmdlines', 'ps-args.txt'], ['ignored', 'sysctl-iommu.txt'],
    ]);
    expect(manifest.notes.split('\n')).toEqual([
      `some bhyve processes show only their title (setproctitle): add the command lines that started them to ${out} as a text file`,
    ]);
    expect(manifest.tool).toEqual({ name: 'capture-freebsd.sh', host: 'FreeBSD 14.1-RELEASE' });
    // Every part's size as written, so that a copy cut short is refused.
    for (const p of manifest.parts as Json[]) expect(p.bytes, p.path).toBe(statSync(path.join(out, p.path)).size);

    const d = cliJson(['decode', out, '--format', 'json']);
    expect(d.status, d.stderr).toBe(0);
    const j = d.json;
    expect(j.dmar).toBeTruthy();
    expect(j.units.map((u: Json) => [u.registerBase, u.translationEnabled, u.contexts.length])).toEqual([['0xfed90000', false, 0], ['0xfed91000', true, 8]]);
    expect(j.devices.filter((d: Json) => d.secondaryBus !== null).map((d: Json) => [d.bdf, d.secondaryBus, d.subordinateBus])).toEqual([['0000:00:01.0', 3, 3], ['0000:00:1c.0', 4, 4]]);
    expect(j.vms.map((v: Json) => [v.name, v.passthru, v.memoryBytes])).toEqual([['web', ['0000:04:00.0'], '0x80000000']]);
    expect(j.devices.find((x: Json) => x.deviceUnit === 'ppt1').vm).toBe('web');
    expect(j.memoryMapKnown).toBe(true);
    // Every function of the inventory got its 256 bytes from pciconf -r (low byte first per word).
    const configured = j.devices.filter((x: Json) => x.config);
    const selectors = readFileSync(path.join(FIXTURE, 'pciconf-lv.txt'), 'latin1').split('\n').filter((l) => /^[^@\s]*@pci[0-9:]+:/.test(l));
    expect(configured.length).toBe(selectors.length);
    expect(configured.map((x: Json) => [x.config.size, x.config.header.vendor, x.config.header.device])[0]).toEqual([256, '0x5678', '0x1234']);
    // ps showed VM mail only by its title: the warning stays (its devices are unknown).
    expect(j.warnings.map((w: Json) => w.message)).toEqual([
      expect.stringMatching(/bhyve process of VM web shows only its title/),
      expect.stringMatching(/bhyve process of VM mail shows only its title/),
    ]);
  });

  it('without root and without acpidump: what can be read is captured, the rest are notes', () => {
    const out = path.join(tmp, 'user-out');
    const r = runScript(stubs({ root: false, acpidump: false }), out);
    expect(r.status, String(r.stderr)).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
    expect(manifest.parts.map((p: Json) => p.path)).toEqual(['pciconf-lv.txt', 'sysctl-dev-pcib.txt', 'smap.txt', 'ps-args.txt', 'sysctl-iommu.txt']);
    const notes = manifest.notes.split('\n');
    expect(notes[0]).toBe('not running as root: dmardump, pciconf -c and acpidump need root');
    expect(notes).toContain('no acpidump (install sysutils/acpica-tools); DMAR not captured');
    expect(notes).toContainEqual(expect.stringMatching(/dmardump: failed \(dmardump: \/dev\/mem: Permission denied\); dmardump\.txt not captured$/));
    expect(notes).toContainEqual(expect.stringMatching(/pciconf -lvc: failed \(pciconf: \/dev\/pci: Permission denied\)/));
    expect(notes).toContain('pciconf -r read no configuration space (needs root); pciconf-r.txt not captured');
    expect(String(r.stderr).trim().split('\n')).toHaveLength(notes.length);
    expect(existsSync(path.join(out, '.stderr'))).toBe(false);
    expect(cliJson(['decode', out, '--format', 'json']).status).toBe(0);
  });

  it('nothing captured: exit 2 and no directory left behind; a non-empty -o is refused', () => {
    const bin = mkdtempSync(path.join(tmp, 'bin-empty-'));
    for (const t of ['dmardump', 'pciconf', 'sysctl', 'ps']) stub(bin, t, 'exit 1');
    stub(bin, 'id', 'echo 0');
    stub(bin, 'pgrep', 'exit 1');
    const out = path.join(tmp, 'nothing');
    const r = spawnSync('sh', [SCRIPT, '-o', out], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: tmp }, cwd: tmp });
    // "No bhyve process" alone (the ps header) is no capture.
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing captured\n$/);
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
    writeFileSync(path.join(out, 'old.txt'), 'x');
    const again = spawnSync('sh', [SCRIPT, '-o', out], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` }, cwd: tmp });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists and is not an empty directory/);
  });
});
