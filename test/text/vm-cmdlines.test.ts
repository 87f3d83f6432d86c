import { spawnSync } from 'node:child_process';
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

/** What /proc/PID/cmdline holds: every argument followed by a NUL. */
const cmdline = (...args: string[]): string => args.map((a) => a + '\0').join('');
const MiB = 1024 ** 2;

describe('QEMU: every command line a KVM/VFIO host shows', () => {
  // The nested QEMU of the real capture qemu-linux61-vfio (its README), as /proc/PID/cmdline gives it.
  const REAL = cmdline('qemu-system-x86_64', '-L', '/usr/share/qemu', '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128M', '-nodefaults',
    '-display', 'none', '-vga', 'none', '-device', 'vfio-pci,host=0000:01:00.0,rombar=0', '-kernel', '/l2/bzImage', '-initrd', '/l2/initrd.gz',
    '-append', 'console=ttyS0 panic=-1 loglevel=4', '-serial', 'file:/tmp/l2.log', '-no-reboot');

  it('a line without -name is a VM with a stand-in name: qemu@FILE:LINE, or qemu-PID when the PID is known', () => {
    expect(looksLikeVmCommandLines(REAL)).toBe(true);
    const c = parseVmCommandLines(REAL, 'qemu-cmdline.txt');
    expect(c.warnings).toEqual([]);
    expect(c.vms).toEqual([{
      name: 'qemu@qemu-cmdline.txt:1', hypervisor: 'qemu', passthru: ['0000:01:00.0'], memoryBytes: 128 * MiB, qemu: { type: 'q35' },
      source: { part: 'qemu-cmdline.txt', line: 1 },
    }]);
    // dmarsift capture writes vm-cmdlines/PID.cmdline; a copy of /proc keeps proc/PID/cmdline.
    expect(parseVmCommandLines(REAL, 'vm-cmdlines/4242.cmdline').vms![0].name).toBe('qemu-4242');
    expect(parseVmCommandLines(REAL, 'proc/31337/cmdline').vms![0].name).toBe('qemu-31337');
    // ps -eo pid,args, and ps aux (the PID column is the second of ten before COMMAND).
    const ps = parseVmCommandLines('  PID COMMAND\n    1 /sbin/init\n 2741 qemu-system-x86_64 -m 1G -device vfio-pci,host=01:00.0\n', 'ps.txt');
    expect(ps.vms!.map((v) => [v.name, v.passthru, v.memoryBytes])).toEqual([['qemu-2741', ['0000:01:00.0'], GiB]]);
    const aux = parseVmCommandLines(
      'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n' +
      'root           1  0.0  0.1 167744 11520 ?        Ss   09:12   0:01 /sbin/init\n' +
      'libvirt+   4711 12.3  8.2 9047532 1345 ?        Sl   09:30  12:01 /usr/bin/qemu-system-x86_64 -name guest=web,debug-threads=on -m 2048 -device vfio-pci,host=0000:03:00.0\n',
      'ps-aux.txt');
    expect(aux.warnings).toEqual([]);
    expect(aux.vms!.map((v) => [v.name, v.passthru, v.memoryBytes])).toEqual([['web', ['0000:03:00.0'], 2 * GiB]]);
  });

  it('-name in all its forms, with QEMU\'s ,, escape', () => {
    const name = (v: string): string => parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', v, '-m', '1G'), 'c').vms![0].name;
    expect(name('guest=win10,debug-threads=on')).toBe('win10');
    expect(name('vm1')).toBe('vm1');
    expect(name('vm1,process=qemu:vm1')).toBe('vm1');
    expect(name('a,,b,debug-threads=on')).toBe('a,b');
    expect(parseVmCommandLines(cmdline('qemu-kvm', '--name', 'guest=x', '-m', '1G'), 'c').vms![0].name).toBe('x');
  });

  it('every vfio-pci device: host= with or without the segment, sysfsdev=…/0000:BB:DD.F, libvirt JSON, driver= first', () => {
    const c = parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', 'v', '-m', '4G',
      '-device', 'vfio-pci,host=0000:01:00.0,id=hostdev0,bus=pci.1,addr=0x0',
      '-device', 'vfio-pci,host=02:00.1,x-vga=on',
      '-device', 'vfio-pci,sysfsdev=/sys/bus/pci/devices/0000:03:10.2',
      '-device', 'vfio-pci,sysfsdev=/sys/bus/pci/devices/0000:03:10.4/',
      '-device', '{"driver":"vfio-pci","host":"0000:05:00.0","id":"hostdev1","bus":"pci.5","addr":"0x0"}',
      '-device', 'driver=vfio-pci,host=0000:06:00.0',
      '-device', 'vfio-pci-nohotplug,host=0000:07:00.0',
      '-device', 'virtio-net-pci,netdev=n0,host_mtu=1500'), 'c');
    expect(c.warnings).toEqual([]);
    expect(c.vms![0].passthru).toEqual(['0000:01:00.0', '0000:02:00.1', '0000:03:10.2', '0000:03:10.4', '0000:05:00.0', '0000:06:00.0', '0000:07:00.0']);
  });

  it('a mediated device or a device passed by fd names no host function: a warning, the VM still counts', () => {
    const c = parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', 'v', '-device', 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c01',
      '-device', 'vfio-pci,fd=23,iommufd=iommufd0', '-device', 'vfio-pci,host=0000:01:00.0'), 'c');
    expect(c.vms![0].passthru).toEqual(['0000:01:00.0']);
    expect(c.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/mediated device 4b20d080/), expect.stringMatching(/file descriptor/)]);
  });

  it('-m in all its forms: bare MiB, suffixes, size=, slots/maxmem, QEMU\'s 128 MiB default', () => {
    const m = (...a: string[]) => parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', 'v', ...a), 'c').vms![0];
    expect(m('-m', '128M').memoryBytes).toBe(128 * MiB);
    expect(m('-m', '128').memoryBytes).toBe(128 * MiB);
    expect(m('-m', '4g').memoryBytes).toBe(4 * GiB);
    expect(m('-m', '1.5G').memoryBytes).toBe(1536 * MiB);
    expect(m('-m', 'size=8388608k').memoryBytes).toBe(8 * GiB);
    expect(m().memoryBytes).toBe(128 * MiB);
    const hot = m('-m', 'size=4G,slots=4,maxmem=16G');
    expect([hot.memoryBytes, hot.qemu]).toEqual([4 * GiB, { slots: 4, maxMemoryBytes: 16 * GiB }]);
    // The implied key: `-m 2G,slots=2,maxmem=4G` is size=2G.
    expect(m('-m', '2G,slots=2,maxmem=4G').qemu).toEqual({ slots: 2, maxMemoryBytes: 4 * GiB });
    expect(m('-m', '2G,slots=2,maxmem=4G').memoryBytes).toBe(2 * GiB);
  });

  it('memory backends: -machine memory-backend=, -numa node,memdev=, DIMMs; sizes in bytes unless suffixed', () => {
    // libvirt 8+: the boot RAM is a backend named by -machine.
    const lv = parseVmCommandLines(cmdline('/usr/bin/qemu-system-x86_64', '-name', 'guest=db,debug-threads=on',
      '-machine', 'pc-q35-7.2,usb=off,vmport=off,dump-guest-core=off,memory-backend=pc.ram,max-ram-below-4g=1G',
      '-object', '{"qom-type":"memory-backend-ram","id":"pc.ram","size":8589934592}', '-m', '8192'), 'c').vms![0];
    expect([lv.memoryBytes, lv.qemu]).toEqual([8 * GiB, { type: 'pc-q35-7.2', maxRamBelow4g: GiB }]);
    // Two NUMA nodes of 2 GiB each; one 1 GiB DIMM plugged on the command line.
    const numa = parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', 'n', '-M', 'q35', '-m', '4G,slots=2,maxmem=8G',
      '-object', 'memory-backend-ram,id=m0,size=2G', '-object', 'memory-backend-file,id=m1,size=2147483648,mem-path=/dev/hugepages,share=on',
      '-numa', 'node,nodeid=0,memdev=m0', '-numa', 'node,nodeid=1,memdev=m1',
      '-object', 'memory-backend-memfd,id=d0,size=1G', '-device', 'pc-dimm,id=dimm0,memdev=d0'), 'c');
    expect(numa.warnings).toEqual([]);
    expect([numa.vms![0].memoryBytes, numa.vms![0].qemu]).toEqual([4 * GiB, { type: 'q35', slots: 2, maxMemoryBytes: 8 * GiB, deviceMemoryBytes: GiB }]);
    // A backend nobody defines: a warning; -m stays.
    const missing = parseVmCommandLines(cmdline('qemu-system-x86_64', '-name', 'x', '-m', '1G', '-machine', 'q35,memory-backend=nope'), 'c');
    expect(missing.vms![0].memoryBytes).toBe(GiB);
    expect(missing.warnings[0].message).toMatch(/memory backend "nope"/);
  });

  it('a value that looks like an option is not read as one (-append "-m 4G" is the guest kernel\'s)', () => {
    const c = parseVmCommandLines('qemu-system-x86_64 -name v -m 1G -append "-m 4G" -serial -m\n', 'p');
    expect(c.vms![0].memoryBytes).toBe(GiB);
  });
});

describe('huge lines: linear time and memory, bounded length (issue 11 item 20)', () => {
  // A child process parses the text and reports its peak RSS: a 40 MB token once took 1.5 GB.
  const DIST = path.resolve(import.meta.dirname, '../../dist/text/vm-cmdlines.js');
  const probe = (tokenChars: number) => {
    const script = `const { parseVmCommandLines } = await import(${JSON.stringify(DIST)});
      const text = 'COMMAND\\n/usr/bin/qemu-system-x86_64 -name big -m 1G -append ' + 'x'.repeat(${tokenChars}) + ' -device vfio-pci,host=0000:01:00.0\\n/usr/bin/qemu-system-x86_64 -name small -m 2G\\n';
      const c = parseVmCommandLines(text, 'ps.txt');
      console.log(JSON.stringify({ vms: c.vms.map((v) => [v.name, v.passthru]), warnings: c.warnings.map((w) => [w.source.line, w.message]), rss: process.resourceUsage().maxRSS * 1024 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { vms: [string, string[]][]; warnings: [number, string][]; rss: number };
  };

  it('a 5 MB argument (under the bound) is parsed; peak RSS stays near the text itself', () => {
    const r = probe(5_000_000);
    expect(r.vms).toEqual([['big', ['0000:01:00.0']], ['small', []]]);
    expect(r.rss).toBeLessThan(150 * MiB);
  });

  it('a 40 MB token makes its line longer than any command line: skipped with a warning naming it, the rest read', () => {
    const r = probe(40_000_000);
    expect(r.vms).toEqual([['small', []]]);
    expect(r.warnings).toEqual([[2, expect.stringMatching(/line is 38\.1 MiB long.*6 MiB.*skipped/)]]);
    expect(r.rss).toBeLessThan(200 * MiB);
  });

  it('many continuation lines join into one line', () => {
    const c = parseVmCommandLines(`qemu-system-x86_64 -name v \\\n${'  -device virtio-rng-pci \\\n'.repeat(5000)}  -device vfio-pci,host=0000:01:00.0 -m 1G\n`, 'p');
    expect(c.vms!.map((v) => [v.name, v.passthru, v.memoryBytes, v.source.line])).toEqual([['v', ['0000:01:00.0'], GiB, 1]]);
  });
});

describe('bad input', () => {
  it('text that is neither VM command lines nor a process listing is an InputError at line 1', () => {
    expect(inputError(() => parseVmCommandLines('Hi team,\nthe VM lost its NIC again, see below.\n', 'ticket.txt'))).toMatchObject({ file: 'ticket.txt', line: 1 });
  });

  it('a ps listing naming no VM process means no VM runs, with or without its header (taken after the last VM stopped)', () => {
    for (const t of ['COMMAND\n/sbin/init --\n/usr/sbin/cron -s\nps -ww -o args\n', '/sbin/init --\n/usr/sbin/cron -s\n[kworker/0:1]\n', '  PID COMMAND\n    1 /sbin/init\n  812 /usr/sbin/sshd -D\n']) {
      const c = parseVmCommandLines(t, 'ps.txt');
      expect(c.vms).toEqual([]);
      expect(c.warnings).toEqual([]);
    }
  });

  it('an empty part (an empty qemu-cmdline.txt: no QEMU was running) means no VM runs', () => {
    for (const t of ['', '\n', ' \n\n', '\0']) expect(parseVmCommandLines(t, 'qemu-cmdline.txt')).toEqual({ vms: [], warnings: [] });
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
