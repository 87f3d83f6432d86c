/** Words and numbers the checks put in messages and evidence. */
import type { DomainInfo } from '../model/roles.js';
import { hex } from '../util/hex.js';

export function rawHex(raw: bigint[] | bigint | undefined): string | string[] | null {
  if (raw === undefined) return null;
  if (typeof raw === 'bigint') return hex(raw);
  return raw.length === 0 ? null : raw.map((q) => hex(q));
}

/** Pages as a size for people: "1 GiB", "1.5 MiB", "8 KiB". */
export function pagesText(pages: number): string {
  const bytes = pages * 4096;
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [size, name] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${name}`;
    }
  }
  return `${bytes} bytes`;
}

/** The owner label of a VM domain for messages: "VM vm1", "VMs a, b", or "an assigned device". */
export function ownerText(info: DomainInfo): string {
  if (info.vms.size === 1) return `VM ${[...info.vms][0]}`;
  if (info.vms.size > 1) return `VMs ${[...info.vms].sort().join(', ')}`;
  return `assigned device ${[...info.assignedUsers].sort().join(', ')}`;
}
