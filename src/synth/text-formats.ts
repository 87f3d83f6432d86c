/**
 * Writers of the text the real tools print, for generated samples: FreeBSD `pciconf -lv`
 * (usr.sbin/pciconf/pciconf.c list_devs/list_verbose), `sysctl machdep.smap` (sbin/sysctl
 * S_bios_smap_xattr) and `ps -ww -o args` lines of bhyve / vmrun.sh / qemu processes.
 */
import { hex, hexDigits } from '../util/hex.js';
import type { ScenarioDevice, ScenarioVm } from './scenario.js';


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
      `${name}@pci${domain}:${bus}:${slot}:${func}:\tclass=0x${hexDigits(cls, 6)} rev=0x01 hdr=0x00 vendor=0x${hexDigits(Number(BigInt(dev.vendor)), 4)} device=0x${hexDigits(Number(BigInt(dev.device)), 4)} subvendor=0x${hexDigits(Number(BigInt(dev.subvendor ?? dev.vendor)), 4)} subdevice=0x${hexDigits(Number(BigInt(dev.subdevice ?? '0x0000')), 4)}`,
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
  for (const e of entries) out += `\nSMAP type=${hexDigits(e.type, 2)}, xattr=01, base=${hexDigits(e.base, 16)}, len=${hexDigits(e.length, 16)}`;
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
      const name = vm.noName ? '' : `-name guest=${vm.name},debug-threads=on `;
      const machine = vm.machine === false ? '-accel kvm' : `-machine ${vm.machine ?? 'q35'},accel=kvm`;
      lines.push(`/usr/bin/qemu-system-x86_64 ${name}${machine} -m ${vm.memory} ${vm.passthru.map((p) => `-device vfio-pci,host=${p}`).join(' ')} -drive file=/vm/${vm.name}.qcow2`);
    } else {
      const pt = vm.passthru.map((p, i) => `-s ${slot + i}:0,passthru,${p}`).join(' ');
      lines.push(`bhyve -c 2 -m ${vm.memory} -w -H -s 0,hostbridge -s 3,virtio-blk,/vm/${vm.name}.img ${pt} -s 31,lpc -l com1,/dev/nmdm-${vm.name}A ${vm.name}`);
    }
  }
  lines.push('ps -ww -o args');
  return lines.join('\n') + '\n';
}

/** One remapping unit as FreeBSD's dmardump reads it: registers and the present context entries. */
export interface DmardumpUnit {
  base: number;
  segment: number;
  version: [number, number];
  /** Raw GSTS and RTADDR values. */
  gsts: number;
  rtaddr: bigint;
  /** Present root entries (bus < 255 only are printed) with the raw context entries of their table. */
  buses: { bus: number; contexts: { devfn: number; lo: bigint; hi: bigint }[] }[];
}

/** What `pci_find_conf(segment, bus, slot, func)` finds: the device's own slot/function and driver unit. */
export type PciLookup = (segment: number, bus: number, slot: number, func: number) => { slot: number; func: number; name?: string } | undefined;

/**
 * FreeBSD `tools/tools/dmardump` output (dmardump.c handle_drhd / dump_context_table), byte for
 * byte: `%#jx` prints `0` for zero and `0x…` otherwise, the root line adds its own `0x` (hence
 * `0x0x…`), a unit prints nothing more unless GSTS.TES and GSTS.RTPS are both set, buses stop at
 * 254, and the device lookup tries the ARI form (slot 0, function = devfn) first.
 */
export function formatDmardump(units: DmardumpUnit[], lookup: PciLookup): string {
  const jx = (v: bigint | number): string => (BigInt(v) === 0n ? '0' : hex(v));
  const TES = 0x80000000;
  const RTPS = 0x40000000;
  let out = '';
  for (const u of units) {
    const disabled = (u.gsts & TES) === 0 ? ' (disabled)' : '';
    out += `drhd @ ${jx(u.base)} (version ${u.version[0]}.${u.version[1]}) PCI segment ${u.segment}${disabled}:\n`;
    if (((u.gsts >>> 0) & (TES | RTPS)) >>> 0 !== (TES | RTPS) >>> 0) continue;
    const extended = (u.rtaddr & 0x800n) !== 0n;
    out += `    ${extended ? 'extended ' : ''}root table @ 0x${jx(u.rtaddr & ~0xfffn)}\n`;
    if (extended) continue; // dump_ext_context_table is #ifdef notyet
    for (const b of [...u.buses].sort((x, y) => x.bus - y.bus)) {
      if (b.bus >= 255) continue;
      let printed = false;
      for (const c of [...b.contexts].sort((x, y) => x.devfn - y.devfn)) {
        if ((c.lo & 1n) === 0n) continue;
        if (!printed) {
          out += `\tPCI bus ${b.bus}:\n`;
          printed = true;
        }
        const conf = lookup(u.segment, b.bus, 0, c.devfn) ?? lookup(u.segment, b.bus, c.devfn >> 3, c.devfn & 7);
        if (conf) out += `\t    { ${conf.slot},${conf.func} }${conf.name ? ` (${conf.name})` : ''}`;
        else out += `\t    { ${c.devfn >> 3},${c.devfn & 7} } (absent)`;
        if (c.lo & 2n) out += ' FPD';
        out += ` ${['UNTR', 'TR', 'PASS', 'TT3?'][Number((c.lo >> 2n) & 3n)]}`;
        out += ` SLPT ${jx(c.lo & ~0xfffn)}`;
        out += ` domain ${Number((c.hi & 0xffff0n) >> 8n)}\n`;
      }
    }
  }
  return out;
}
