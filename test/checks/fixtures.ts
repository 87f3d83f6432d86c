/**
 * A typical bhyve host built by hand: one unit covering everything, a host NIC in the 1:1 host
 * domain (DID 0), and a ppt device given to VM "vm1" (2 GiB) whose domain (DID 1) maps guest
 * [0, 2 GiB) to host [8 GiB, 10 GiB). Tests start from it and break one thing.
 */
import { GiB, gibPages, snapshot } from './snapshot-builder.js';
import type { SnapshotBuilder, UnitBuilder } from './snapshot-builder.js';

export const UNIT = 0xfed90000;
export const NIC = '0000:00:19.0';
export const PPT = '0000:03:00.0';
export const HOST_ROOT = 0x200000;
export const VM_ROOT = 0x100000;
/** Host pages of vm1's memory: 8 GiB… */
export const VM_HPA_PFN = gibPages(8);

export function hostUnit(u: UnitBuilder, extra: (u: UnitBuilder) => unknown = () => undefined): UnitBuilder {
  u.regs({ tes: true })
    .ir() // interrupt remapping on, an empty table: a complete capture
    .context(NIC, { did: 0, root: HOST_ROOT })
    .context(PPT, { did: 1, root: VM_ROOT })
    // Host domain: 1:1 below 8 GiB (the VM's pages at 8-10 GiB removed) and 10-16 GiB.
    .domain(0, HOST_ROOT, [[0, 0, gibPages(8)], [gibPages(10), gibPages(10), gibPages(6)]], { tablePfns: [HOST_ROOT / 4096, HOST_ROOT / 4096 + 1] })
    .domain(1, VM_ROOT, [[0, VM_HPA_PFN, gibPages(2)]], { tablePfns: [VM_ROOT / 4096, VM_ROOT / 4096 + 1] });
  extra(u);
  return u;
}

export function bhyveHost(extra: (u: UnitBuilder) => unknown = () => undefined): SnapshotBuilder {
  return snapshot()
    .dmar((d) => d.drhd(UNIT, { includePciAll: true }))
    .unit(UNIT, (u) => hostUnit(u, extra))
    .device(NIC, { driver: 'em', classCode: 0x020000 })
    .device(PPT, { driver: 'ppt', classCode: 0x020000 })
    .vm('vm1', [PPT], { memoryBytes: 2 * GiB })
    .memory(0, 16 * GiB, 'ram');
}
