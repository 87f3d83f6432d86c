import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { looksLikeVmCommandLines, parseVmCommandLines } from '../../src/text/vm-cmdlines.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/text');
const read = (f: string): string => readFileSync(path.join(FIXTURES, f), 'utf8');
const GiB = 1024 ** 3;

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('bhyve and vmrun.sh in ps -ww -o args', () => {
  const text = read('ps-args.txt');
  const c = parseVmCommandLines(text, 'ps.txt');

  it('one Vm per bhyve/vmrun.sh process with name, memory and pass-through BDFs', () => {
    expect(looksLikeVmCommandLines(text)).toBe(true);
    expect(c.vms!.map((v) => [v.name, v.hypervisor, v.memoryBytes, v.passthru, v.source.line])).toEqual([
      // vmrun.sh -m 4g; -p 3/0/8 is ARI function 8 = devfn 8 = 03:01.0; ppt1 is a name, kept.
      ['web', 'bhyve', 4 * GiB, ['0000:03:01.0', 'ppt1'], 4],
      // -m 2G; pci0:3:0:9 = devfn 9 = 03:01.1; 4/0/0 = 04:00.0.
      ['db', 'bhyve', 2 * GiB, ['0000:03:01.1', '0000:04:00.0'], 5],
      // -m 2048: bare numbers below 1 MiB are MiB.
      ['small', 'bhyve', 2 * GiB, [], 7],
    ]);
  });

  it('process titles, broken command lines and the prompt are warnings; grep/ps are skipped silently', () => {
    expect(c.warnings.map((w) => w.source?.line)).toEqual([6, 8, 11]);
    expect(c.warnings[0].message).toMatch(/mail.*setproctitle/);
  });

  it('CRLF gives the same VMs', () => {
    expect(parseVmCommandLines(text.replace(/\n/g, '\r\n'), 'ps.txt').vms).toEqual(c.vms);
  });

  it('a pasted command with quotes and backslash continuations', () => {
    const t = "# bhyve -c 2 -m 1024M \\\n   -s 0,hostbridge -s 5,passthru,'2/0/0' \\\n   -s 31,lpc \"my vm\"\n";
    const d = parseVmCommandLines(t, 'p');
    expect(d.vms).toEqual([{ name: 'my vm', hypervisor: 'bhyve', memoryBytes: GiB, passthru: ['0000:02:00.0'], source: { part: 'p', line: 1 } }]);
  });
});

describe('QEMU/KVM and Xen', () => {
  it('qemu: -name forms, -m forms, vfio-pci host=/sysfsdev=/JSON, pci-assign', () => {
    const c = parseVmCommandLines(read('qemu-ps.txt'), 'q');
    expect(c.warnings).toEqual([]);
    expect(c.vms!.map((v) => [v.name, v.hypervisor, v.memoryBytes, v.passthru])).toEqual([
      ['win10', 'qemu', 8388608 * 1024, ['0000:03:00.0']],
      ['vm1', 'qemu', 4 * GiB, ['0000:03:10.0', '0000:03:10.2']],
      ['router', 'qemu', 2 * GiB, ['0000:04:00.0']],
    ]);
  });

  it('/proc/PID/cmdline: NUL-separated arguments', () => {
    const t = ['qemu-system-x86_64', '-name', 'guest=vm2', '-m', '1G', '-device', 'vfio-pci,host=0000:05:00.0', ''].join('\0');
    const c = parseVmCommandLines(t, 'cmdline');
    expect(c.vms!.map((v) => [v.name, v.memoryBytes, v.passthru])).toEqual([['vm2', GiB, ['0000:05:00.0']]]);
  });

  it('Xen xl config: name, memory (MiB), pci list', () => {
    const text = read('xl-guest.cfg');
    expect(looksLikeVmCommandLines(text)).toBe(true);
    const c = parseVmCommandLines(text, 'xl.cfg');
    expect(c.vms).toEqual([{ name: 'xenguest', hypervisor: 'xen', memoryBytes: 2 * GiB, passthru: ['0000:03:00.0', '0000:04:00.1'], source: { part: 'xl.cfg', line: 2 } }]);
  });
});

describe('bad input', () => {
  it('random text is an InputError at line 1', () => {
    expect(inputError(() => parseVmCommandLines('/sbin/init --\n/usr/sbin/cron\n', 'ps.txt'))).toMatchObject({ file: 'ps.txt', line: 1 });
  });

  it('a ps listing with its header and no VM process means no VM runs (taken after the last VM stopped)', () => {
    const c = parseVmCommandLines('COMMAND\n/sbin/init --\n/usr/sbin/cron -s\nps -ww -o args\n', 'ps.txt');
    expect(c.vms).toEqual([]);
    expect(c.warnings).toEqual([]);
    // Without the header it is still not VM data.
    expect(inputError(() => parseVmCommandLines('/sbin/init --\nCOMMAND\n', 'ps.txt')).line).toBe(1);
  });

  it('a pass-through device that cannot exist is an InputError at its line', () => {
    expect(inputError(() => parseVmCommandLines('COMMAND\nbhyve -m 1G -s 7,passthru,256/0/0 vm\n', 'p')).line).toBe(2);
    expect(inputError(() => parseVmCommandLines('qemu-system-x86_64 -name a -device vfio-pci,host=0000:03:20.0\n', 'p')).line).toBe(1);
  });

  it('random strings never throw anything but InputError', () => {
    const piece = fc.constantFrom('bhyve -s 7,passthru,3/0/8 vm', 'bhyve -m', 'vmrun.sh -p', 'qemu-system-x86_64 -device {"driver":"vfio-pci"',
      '-device vfio-pci', 'pci = [ \'zz\' ]', 'name = "x"', '\\', '"', '\0', 'bhyve: x (bhyve)', '-m 9999999999999999999T');
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 12 }), (parts) => {
      try {
        parseVmCommandLines(parts.join(fc.sample(fc.constantFrom(' ', '\n'), 1)[0]), 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 500 });
  });
});
