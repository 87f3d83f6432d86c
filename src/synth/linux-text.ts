/**
 * Linux text a capture script collects on a KVM host, for generated samples: `lspci -Dnnk`
 * (pciutils lspci.c show_device + ls-kernel.c: `Kernel driver in use:`).
 */
import type { ScenarioDevice } from './scenario.js';

const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');

/** `0000:65:00.0 Ethernet controller [0200]: Intel Corporation Ethernet Controller X710 [8086:1572] (rev 02)` + driver line. */
export function formatLspci(devices: (ScenarioDevice & { bdf: string })[]): string {
  const lines: string[] = [];
  for (const d of devices) {
    const cls = Number(BigInt(d.class));
    const vendor = Number(BigInt(d.vendor));
    const device = Number(BigInt(d.device));
    const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ') || 'Device';
    lines.push(`${d.bdf} ${d.className ?? 'Device'} [${hex(cls >> 8, 4)}]: ${name} [${hex(vendor, 4)}:${hex(device, 4)}] (rev 01)${(cls & 0xff) !== 0 ? ` (prog-if ${hex(cls & 0xff, 2)})` : ''}`);
    lines.push(`\tSubsystem: ${d.vendorName ?? 'Device'} Device [${hex(Number(BigInt(d.subvendor ?? d.vendor)), 4)}:${hex(Number(BigInt(d.subdevice ?? '0x0000')), 4)}]`);
    if (d.driver) lines.push(`\tKernel driver in use: ${d.driver}`);
    if (d.driver) lines.push(`\tKernel modules: ${d.driver === 'vfio-pci' ? (d.module ?? d.driver) : d.driver}`);
  }
  return lines.join('\n') + '\n';
}
