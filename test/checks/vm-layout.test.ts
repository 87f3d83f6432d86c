/**
 * Guest-physical layouts (src/checks/vm-layout.ts). The QEMU values are the examples QEMU's own
 * sources give (hw/i386/pc_piix.c pc_init1's comment; pc_q35_init's 0xb0000000 threshold), worked
 * out by hand in 4 KiB pages: 1 GiB = 0x40000 pages, 4 GiB = 0x100000.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { guestLayout, mappingsLeaving, pcBelow4g, pcFamily, subtract } from '../../src/checks/vm-layout.js';
import { MAP_READ, MappingList } from '../../src/model/mapping-list.js';
import type { QemuMachine, Vm } from '../../src/model/types.js';
import { GiB } from './snapshot-builder.js';

const MiB = 2 ** 20;
const qemu = (memoryBytes: number, q: QemuMachine = {}): Vm => ({ name: 'v', hypervisor: 'qemu', passthru: [], memoryBytes, qemu: q, source: { part: 'x' } });

describe('guestLayout', () => {
  it('bhyve: lowmem = min(memsize, 3 GiB), the rest at 4 GiB (libvmmapi vm_setup_memory); no ROM window', () => {
    const v = (m: number): Vm => ({ name: 'v', hypervisor: 'bhyve', passthru: [], memoryBytes: m, source: { part: 'x' } });
    expect(guestLayout(v(2 * GiB))).toMatchObject({ ram: [[0, 0x80000]], givenPages: 0x80000 });
    expect(guestLayout(v(8 * GiB))!.ram).toEqual([[0, 0xc0000], [0x100000, 0x100000 + 0x140000]]); // 3 GiB low, 5 GiB from 4 GiB
    expect(guestLayout(v(8 * GiB))!.romWindow).toBeUndefined();
  });

  it('QEMU q35: RAM below 0xb0000000 stays below 4 GiB; from 0xb0000000 on it splits at 2 GiB', () => {
    expect(guestLayout(qemu(128 * MiB, { type: 'q35' }))).toMatchObject({ ram: [[0, 0x8000]], givenPages: 0x8000, romWindow: [0x8000, 0x100000] });
    expect(guestLayout(qemu(2.5 * GiB, { type: 'pc-q35-7.2' }))!.ram).toEqual([[0, 0xa0000]]);
    expect(guestLayout(qemu(0xb0000000, { type: 'q35' }))!.ram).toEqual([[0, 0x80000], [0x100000, 0x130000]]);
    expect(guestLayout(qemu(4 * GiB, { type: 'q35' }))!.ram).toEqual([[0, 0x80000], [0x100000, 0x180000]]);
    // Machine types 1.7 and older keep 0xb0000000 below.
    expect(guestLayout(qemu(4 * GiB, { type: 'pc-q35-1.7' }))!.ram).toEqual([[0, 0xb0000], [0x100000, 0x150000]]);
  });

  it('QEMU i440fx, pc_init1\'s examples: pc-1.7 -m 4G → 3584M low, 512M high; pc -m 4G → 3072M + 1024M; max-ram-below-4g=2G → 2048M + 2048M', () => {
    expect(guestLayout(qemu(4 * GiB, { type: 'pc-1.7' }))!.ram).toEqual([[0, 0xe0000], [0x100000, 0x120000]]);
    expect(guestLayout(qemu(4 * GiB, { type: 'pc' }))!.ram).toEqual([[0, 0xc0000], [0x100000, 0x140000]]);
    expect(guestLayout(qemu(4 * GiB, { type: 'pc-i440fx-7.2', maxRamBelow4g: 2 * GiB }))!.ram).toEqual([[0, 0x80000], [0x100000, 0x180000]]);
    // 3 GiB is below the 3.5 GiB max-ram-below-4g default: no split at all.
    expect(guestLayout(qemu(3 * GiB, { type: 'pc' }))!.ram).toEqual([[0, 0xc0000]]);
  });

  it('QEMU hot-plug: the device-memory region from the 1 GiB boundary above RAM, maxmem − size + slots GiB', () => {
    // q35 -m 4G,slots=2,maxmem=8G: RAM [0,2G) [4G,6G); region [6G, 6G + 4G + 2G).
    const l = guestLayout(qemu(4 * GiB, { type: 'q35', slots: 2, maxMemoryBytes: 8 * GiB }))!;
    expect(l.ram).toEqual([[0, 0x80000], [0x100000, 0x300000]]);
    expect([l.givenPages, l.maxPages]).toEqual([0x100000, 0x200000]);
    // 1 GiB of RAM, DIMM of 1 GiB: the region starts at 4 GiB (nothing above 4 GiB before it).
    const d = guestLayout(qemu(GiB, { type: 'pc', slots: 1, maxMemoryBytes: 2 * GiB, deviceMemoryBytes: GiB }))!;
    expect(d.ram).toEqual([[0, 0x40000], [0x100000, 0x180000]]);
    expect(d.givenPages).toBe(0x80000);
  });

  it('QEMU without -machine: both families (a page inside either is inside)', () => {
    const l = guestLayout(qemu(4 * GiB))!;
    expect(l.ram).toEqual([[0, 0xc0000], [0x100000, 0x180000]]);
    expect(l.romWindow).toEqual([0x80000, 0x100000]);
  });

  it('machines with no PC layout and other hypervisors: none (only the total is judged)', () => {
    expect(guestLayout(qemu(GiB, { type: 'microvm' }))).toBeUndefined();
    expect(guestLayout({ name: 'x', hypervisor: 'xen', passthru: [], memoryBytes: GiB, source: { part: 'x' } })).toBeUndefined();
    expect([pcFamily('pc-q35-rhel9.2.0'), pcFamily('pc-i440fx-rhel7.6.0'), pcFamily('pc-0.15'), pcFamily('xenfv')]).toEqual(['q35', 'i440fx', 'i440fx', undefined]);
    expect(pcBelow4g('q35', 3 * GiB, 'q35', GiB)).toBe(GiB);
  });

  it('subtract', () => {
    expect(subtract(0, 10, [[2, 3], [5, 7], [-1, 1]])).toEqual([[1, 2], [3, 5], [7, 10]]);
    expect(subtract(0, 10, [[0, 10]])).toEqual([]);
  });
});

describe('mappingsLeaving', () => {
  /** Page by page: the mappings with a page outside every range (the definition, without cleverness). */
  const byPage = (ms: MappingList, ranges: [number, number][]): number[] => {
    const out: number[] = [];
    for (let i = 0; i < ms.length; i++) {
      for (let p = ms.iovaPfn[i]; p < ms.iovaPfn[i] + ms.pages[i]; p++) {
        if (!ranges.some(([s, e]) => p >= s && p < e)) {
          out.push(i);
          break;
        }
      }
    }
    return out;
  };
  const list = (runs: [number, number][]): MappingList => {
    const ms = new MappingList();
    for (const [iova, pages] of runs) ms.push(iova, iova + 0x1000, pages, MAP_READ);
    return ms;
  };

  it('lists the mappings reaching outside RAM, once each, in list order', () => {
    // RAM [0x10, 0x20) and [0x30, 0x40): mapping 2 lies in the gap, 3 across the whole second range.
    const ms = list([[0x10, 4], [0x18, 8], [0x20, 0x0e], [0x2e, 0x14], [0x44, 1]]);
    const ram: [number, number][] = [[0x30, 0x40], [0x10, 0x20]];
    expect(ms.iovaSummary()).toEqual({ ascending: true, pages: 4 + 8 + 0x0e + 0x14 + 1, identity: 0 });
    expect(mappingsLeaving(ms, ram)).toEqual([2, 3, 4]);
    expect(byPage(ms, ram)).toEqual([2, 3, 4]);
  });

  it('gives what visiting every page gives, for ordered and unordered lists and overlapping ranges', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 12 })), { maxLength: 14 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 30 })), { maxLength: 4 }),
        fc.boolean(),
        (raw, rawRanges, ordered) => {
          // Ordered: laid end to end with gaps, as a walk gives them; else as drawn (may overlap).
          const runs: [number, number][] = ordered ? [] : raw;
          let at = 0;
          if (ordered) {
            for (const [gap, pages] of raw) {
              runs.push([(at += gap), pages]);
              at += pages;
            }
          }
          const ranges = rawRanges.map(([s, n]): [number, number] => [s, s + n]);
          const ms = list(runs);
          expect(mappingsLeaving(ms, ranges)).toEqual(byPage(ms, ranges));
        },
      ),
    );
  });

  it('notices a list changed after its summary', () => {
    const ms = list([[0x10, 4]]);
    expect(ms.iovaSummary()).toEqual({ ascending: true, pages: 4, identity: 0 });
    ms.push(0x11, 0x11, 2, MAP_READ);
    expect(ms.iovaSummary()).toEqual({ ascending: false, pages: 6, identity: 1 });
    ms.extendLast(1);
    expect(ms.iovaSummary().pages).toBe(7);
  });
});
