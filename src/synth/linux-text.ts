/**
 * Linux text a capture script collects on a KVM host, for generated samples: `lspci -Dnnk`
 * (pciutils lspci.c show_device + ls-kernel.c: `Kernel driver in use:`), /proc/iomem and the
 * running QEMUs' /proc/PID/cmdline.
 */
import { hexDigits } from '../util/hex.js';
import type { ScenarioDevice, ScenarioVm } from './scenario.js';


/** `0000:65:00.0 Ethernet controller [0200]: Intel Corporation Ethernet Controller X710 [8086:1572] (rev 02)` + driver line. */
export function formatLspci(devices: (ScenarioDevice & { bdf: string })[]): string {
  const lines: string[] = [];
  for (const d of devices) {
    const cls = Number(BigInt(d.class));
    const vendor = Number(BigInt(d.vendor));
    const device = Number(BigInt(d.device));
    const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ') || 'Device';
    lines.push(`${d.bdf} ${d.className ?? 'Device'} [${hexDigits(cls >> 8, 4)}]: ${name} [${hexDigits(vendor, 4)}:${hexDigits(device, 4)}] (rev 01)${(cls & 0xff) !== 0 ? ` (prog-if ${hexDigits(cls & 0xff, 2)})` : ''}`);
    lines.push(`\tSubsystem: ${d.vendorName ?? 'Device'} Device [${hexDigits(Number(BigInt(d.subvendor ?? d.vendor)), 4)}:${hexDigits(Number(BigInt(d.subdevice ?? '0x0000')), 4)}]`);
    if (d.driver) lines.push(`\tKernel driver in use: ${d.driver}`);
    if (d.driver) lines.push(`\tKernel modules: ${d.driver === 'vfio-pci' ? (d.module ?? d.driver) : d.driver}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The running QEMUs' /proc/PID/cmdline, one per line (arguments NUL-terminated), as a capture
 * script collects them: a plain invocation like the one of the real capture qemu-linux61-vfio.
 * No VM: an empty file.
 */
export function formatProcCmdlines(vms: ScenarioVm[]): string {
  return vms.map((vm) => {
    const args = ['qemu-system-x86_64', ...(vm.noName ? [] : ['-name', `guest=${vm.name}`]), '-L', '/usr/share/qemu',
      ...(vm.machine === false ? [] : ['-machine', vm.machine ?? 'q35']), '-accel', 'kvm', '-cpu', 'host', '-m', vm.memory, '-nodefaults',
      '-display', 'none', '-vga', 'none', ...vm.passthru.flatMap((p) => ['-device', `vfio-pci,host=${p}`]),
      '-kernel', `/vm/${vm.name}/bzImage`, '-initrd', `/vm/${vm.name}/initrd.gz`, '-append', 'console=ttyS0 panic=-1', '-serial', `file:/tmp/${vm.name}.log`, '-no-reboot'];
    return args.map((a) => `${a}\0`).join('');
  }).join('\n');
}

export interface IomemInput {
  ram: [number, number][];
  /** Register bases of the remapping units (dmar0, dmar1, … in order). */
  units: number[];
  devices: { bdf: string; bars: { start: number; end: number; claim?: string }[] }[];
}

/**
 * /proc/iomem as root sees it (kernel/resource.c r_show: at least 8 hex digits, inclusive ends,
 * two spaces per nesting level): RAM, the gaps below the PCI window reserved, the PCI bus window
 * with each device's BARs and their drivers' claims nested in it, the I/O APIC, the remapping
 * units' registers, the local APIC and the firmware below 4 GiB.
 */
export function formatIomem(m: IomemInput): string {
  const h = (v: number): string => hexDigits(v, 8);
  const top: { start: number; end: number; text: string[] }[] = [];
  const lowEnd = Math.max(0, ...m.ram.filter(([, b]) => b <= 0x100000000).map(([, b]) => b));
  const window = Math.max(0xc0000000, Math.ceil(lowEnd / 0x10000000) * 0x10000000);
  let prev = 0;
  for (const [a, b] of [...m.ram].sort((x, y) => x[0] - y[0])) {
    if (a > prev && prev < window) top.push({ start: prev, end: Math.min(a, window), text: [] });
    top.push({ start: a, end: b, text: [`${h(a)}-${h(b - 1)} : System RAM`] });
    prev = b;
  }
  for (const t of top) if (t.text.length === 0) t.text.push(`${h(t.start)}-${h(t.end - 1)} : Reserved`);
  const bars = m.devices.flatMap((d) => d.bars.map((b) => ({ ...b, bdf: d.bdf }))).sort((a, b) => a.start - b.start);
  const pci = [`${h(window)}-${h(0xfebfffff)} : PCI Bus 0000:00`];
  for (const b of bars) {
    pci.push(`  ${h(b.start)}-${h(b.end - 1)} : ${b.bdf}`);
    if (b.claim !== undefined) pci.push(`    ${h(b.start)}-${h(b.end - 1)} : ${b.claim}`);
  }
  top.push({ start: window, end: 0xfec00000, text: pci });
  top.push({ start: 0xfec00000, end: 0xfec00400, text: ['fec00000-fec003ff : IOAPIC 0'] });
  m.units.forEach((base, i) => { top.push({ start: base, end: base + 0x1000, text: [`${h(base)}-${h(base + 0xfff)} : dmar${i}`] }); });
  top.push({ start: 0xfee00000, end: 0xfee01000, text: ['fee00000-fee00fff : Local APIC'] });
  top.push({ start: 0xfffc0000, end: 0x100000000, text: ['fffc0000-ffffffff : Reserved'] });
  return top.sort((a, b) => a.start - b.start).flatMap((t) => t.text).join('\n') + '\n';
}
