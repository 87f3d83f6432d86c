/**
 * Writers of the text the real tools print, for generated samples: FreeBSD `pciconf -lv`
 * (usr.sbin/pciconf/pciconf.c list_devs/list_verbose), `sysctl machdep.smap` (sbin/sysctl
 * S_bios_smap_xattr) and `ps -ww -o args` lines of bhyve / vmrun.sh / qemu processes.
 */
import type { ScenarioDevice, ScenarioVm } from './scenario.js';

const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');

export interface PciconfEntry {
  dev: ScenarioDevice;
  domain: number;
  bus: number;
  slot: number;
  func: number;
}

/** `ppt0@pci0:3:0:8:\tclass=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 …` plus the -v lines. */
export function formatPciconf(entries: PciconfEntry[]): string {
  let none = 0;
  const lines: string[] = [];
  for (const { dev, domain, bus, slot, func } of entries) {
    const name = dev.name ?? `none${none++}`;
    const cls = Number(BigInt(dev.class));
    lines.push(
      `${name}@pci${domain}:${bus}:${slot}:${func}:\tclass=0x${hex(cls, 6)} rev=0x01 hdr=0x00 vendor=0x${hex(Number(BigInt(dev.vendor)), 4)} device=0x${hex(Number(BigInt(dev.device)), 4)} subvendor=0x${hex(Number(BigInt(dev.subvendor ?? dev.vendor)), 4)} subdevice=0x${hex(Number(BigInt(dev.subdevice ?? '0x0000')), 4)}`,
    );
    if (dev.vendorName) lines.push(`    vendor     = '${dev.vendorName}'`);
    if (dev.deviceName) lines.push(`    device     = '${dev.deviceName}'`);
    if (dev.className) lines.push(`    class      = ${dev.className}`);
    if (dev.subclassName) lines.push(`    subclass   = ${dev.subclassName}`);
  }
  return lines.join('\n') + '\n';
}

/** `sysctl machdep.smap`: one `SMAP type=…` line per BIOS e820 entry. */
export function formatSmap(entries: { base: number; length: number; type: number }[]): string {
  let out = 'machdep.smap: ';
  for (const e of entries) out += `\nSMAP type=${hex(e.type, 2)}, xattr=01, base=${hex(e.base, 16)}, len=${hex(e.length, 16)}`;
  return out + '\n';
}

/** A `ps -ww -o args` listing with one process per VM (and some unrelated processes). */
export function formatVmCommandLines(vms: ScenarioVm[]): string {
  const lines = ['COMMAND', '/sbin/init --', '/usr/sbin/syslogd -s'];
  for (const vm of vms) {
    const slot = vm.slot ?? 7;
    if (vm.style === 'vmrun') {
      lines.push(`/bin/sh /usr/share/examples/bhyve/vmrun.sh -c 2 -m ${vm.memory} -t tap0 ${vm.passthru.map((p) => `-p ${p}`).join(' ')} -d /vm/${vm.name}.img ${vm.name}`);
    } else if (vm.style === 'qemu') {
      lines.push(`/usr/bin/qemu-system-x86_64 -name guest=${vm.name},debug-threads=on -machine q35,accel=kvm -m ${vm.memory} ${vm.passthru.map((p) => `-device vfio-pci,host=${p}`).join(' ')} -drive file=/vm/${vm.name}.qcow2`);
    } else {
      const pt = vm.passthru.map((p, i) => `-s ${slot + i}:0,passthru,${p}`).join(' ');
      lines.push(`bhyve -c 2 -m ${vm.memory} -w -H -s 0,hostbridge -s 3,virtio-blk,/vm/${vm.name}.img ${pt} -s 31,lpc -l com1,/dev/nmdm-${vm.name}A ${vm.name}`);
    }
  }
  lines.push('ps -ww -o args');
  return lines.join('\n') + '\n';
}
