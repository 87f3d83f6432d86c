import { describe, expect, it } from 'vitest';
import { guestLayout, hpaLeakOutsideVm } from '../../src/checks/hpa-leak-outside-vm.js';
import type { Vm } from '../../src/model/types.js';
import { PPT, UNIT, VM_ROOT } from './fixtures.js';
import type { MapSpec } from './snapshot-builder.js';
import { GiB, gibPages, snapshot, summary } from './snapshot-builder.js';

const HPA = gibPages(32);
const vm = (maps: MapSpec[], o: { memoryBytes?: number; hypervisor?: Vm['hypervisor'] }) =>
  snapshot()
    .unit(UNIT, (u) => u.regs().context(PPT, { did: 1, root: VM_ROOT }).domain(1, VM_ROOT, maps))
    .device(PPT, { driver: 'ppt' })
    .vm('vm1', [PPT], o)
    .build();

describe('guestLayout', () => {
  it('bhyve: lowmem = min(memsize, 3 GiB), the rest at 4 GiB (libvmmapi vm_setup_memory)', () => {
    const v = (m: number): Vm => ({ name: 'v', hypervisor: 'bhyve', passthru: [], memoryBytes: m, source: { part: 'x' } });
    expect(guestLayout(v(2 * GiB))).toEqual([[0, 0x80000]]);
    expect(guestLayout(v(8 * GiB))).toEqual([[0, 0xc0000], [0x100000, 0x100000 + 0x140000]]); // 3 GiB low, 5 GiB from 4 GiB
  });
  it('qemu q35: split at 2 GiB from 2.75 GiB of RAM', () => {
    const v = (m: number): Vm => ({ name: 'v', hypervisor: 'qemu', passthru: [], memoryBytes: m, source: { part: 'x' } });
    expect(guestLayout(v(2.5 * GiB))).toEqual([[0, 0xa0000]]);
    expect(guestLayout(v(4 * GiB))).toEqual([[0, 0x80000], [0x100000, 0x180000]]);
  });
});

describe('hpa-leak-outside-vm', () => {
  it('fires for a bhyve VM mapping the hole between 3 and 4 GiB', () => {
    // 8 GiB VM: RAM 0-3 GiB and 4-9 GiB; one 16-page mapping at 3.5 GiB.
    const f = hpaLeakOutsideVm.run(vm([[0, HPA, gibPages(3)], [0xe0000, HPA + gibPages(3), 16]], { memoryBytes: 8 * GiB }));
    expect(summary(f)).toEqual([`hpa-leak-outside-vm error ${PPT}`]);
    expect(f[0].evidence.outsidePages).toBe(16);
  });
  it('fires when the domain maps more memory than the VM was given (unknown hypervisor: total only)', () => {
    const f = hpaLeakOutsideVm.run(vm([[0, HPA, gibPages(1) + 1]], { memoryBytes: GiB, hypervisor: 'xen' }));
    expect(summary(f)).toEqual([`hpa-leak-outside-vm error ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ mappedPages: gibPages(1) + 1, givenPages: gibPages(1) });
  });
  it('is info when the VM memory size is unknown', () => {
    expect(summary(hpaLeakOutsideVm.run(vm([[0, HPA, 16]], {})))).toEqual([`hpa-leak-outside-vm info ${PPT}`]);
  });
  it('stays quiet for a VM mapping exactly its layout', () => {
    expect(summary(hpaLeakOutsideVm.run(vm([[0, HPA, gibPages(3)], [gibPages(4), HPA + gibPages(3), gibPages(5)]], { memoryBytes: 8 * GiB })))).toEqual([]);
    expect(summary(hpaLeakOutsideVm.run(vm([[0, HPA, gibPages(2)], [gibPages(4), HPA + gibPages(2), gibPages(2)]], { memoryBytes: 4 * GiB, hypervisor: 'qemu' })))).toEqual([]);
  });
});
