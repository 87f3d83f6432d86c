/**
 * A VM's guest-physical layout, as the checks judge a VM domain's mappings against it: where the
 * hypervisor puts guest RAM, where it maps firmware and option ROMs, and which host MMIO is the
 * VM's own (the BARs of the devices assigned to it).
 *
 * RAM (guest-physical, from the memory size on the command line):
 * - bhyve: [0, lowmem) and [4 GiB, 4 GiB + memsize − lowmem), lowmem = min(memsize, 3 GiB)
 *   (libvmmapi: vm_open sets lowmem_limit to 3 GiB, vm_setup_memory puts the rest above 4 GiB).
 *   bhyve maps only guest RAM into the VM's domain (vm_iommu_map skips the boot ROM segment).
 * - QEMU, x86 PC machines (hw/i386/pc_q35.c pc_q35_init, hw/i386/pc_piix.c pc_init1): RAM below
 *   4 GiB is [0, below), the rest [4 GiB, 4 GiB + ram − below), where
 *   - q35 (`q35`, `pc-q35-*`): lowmem = 2 GiB when ram ≥ 0xb0000000 (2.75 GiB), else 0xb0000000;
 *     machine types 1.7 and older keep 0xb0000000 (no gigabyte alignment);
 *   - i440fx (`pc`, `pc-i440fx-*`, `pc-1.x`, QEMU's default machine): lowmem = max-ram-below-4g
 *     (default 0xe0000000 = 3.5 GiB), lowered to 3 GiB when ram ≥ it (gigabyte alignment, types
 *     newer than 1.7);
 *   - `-machine max-ram-below-4g=N` lowers lowmem to N on both;
 *   - below = lowmem when ram ≥ lowmem, else ram (all RAM below 4 GiB).
 *   With `-m …,maxmem=M,slots=S` the hot-plug region follows RAM: it starts at the first 1 GiB
 *   boundary at or above 4 GiB + (ram − below) and spans M − ram + S GiB (pc_memory_init); DIMMs
 *   plugged there count as RAM. A line without `-machine` is judged against both families (QEMU's
 *   default is i440fx, RHEL's qemu-kvm defaults to q35): a page inside either layout is inside.
 * - QEMU also maps, besides RAM, ROM memory regions read-only — the system firmware just below
 *   4 GiB (pc_system_firmware_init) and option-ROM BARs in the 32-bit PCI hole — and, for
 *   peer-to-peer DMA, the BARs of the devices assigned to the VM at the guest's BAR addresses
 *   (vfio_listener_region_add). So a read-only mapping in [below, 4 GiB) of host RAM is ROM, and a
 *   mapping of an assigned device's own BAR (per /proc/iomem) is the VM's, wherever its IOVA.
 * - Other hypervisors: no layout; only the total is judged.
 */
import type { MappingList } from '../model/mapping-list.js';
import type { MemoryRegion, PciResource, Snapshot, Vm } from '../model/types.js';
import { RangeIndex } from './host-ranges.js';
import { hex } from '../util/hex.js';

const GIB_PAGES = 2 ** 30 / 4096;
const FOUR_GIB_PAGES = 4 * GIB_PAGES;
/** bhyve: libvmmapi vm_open() sets lowmem_limit = 3 GiB; vm_setup_memory() puts the rest at 4 GiB. */
const BHYVE_LOWMEM_LIMIT = 3 * 2 ** 30;

export interface GuestLayout {
  /** Guest RAM (including a hot-plug region) as [startPfn, endPfn) ranges, sorted and disjoint. */
  ram: [number, number][];
  /** Pages of RAM the VM was given (boot RAM plus DIMMs on the command line). */
  givenPages: number;
  /** Most pages of RAM it can have (hot-plug up to maxmem), ≥ givenPages. */
  maxPages: number;
  /** Guest-physical pages where a read-only mapping is ROM (firmware, option ROMs), when the hypervisor maps ROMs. */
  romWindow?: [number, number];
  /** The rule used, in words (evidence and messages). */
  rule: string;
}

type PcFamily = 'q35' | 'i440fx';

/** The x86 PC family a QEMU machine type belongs to; undefined for other machines (microvm, xenfv, …). */
export function pcFamily(type: string): PcFamily | undefined {
  const t = type.toLowerCase();
  if (/(?:^|-)q35(?:$|-)/.test(t)) return 'q35';
  if (t === 'pc' || /^pc-i440fx(?:$|-)/.test(t) || /^pc-\d/.test(t)) return 'i440fx';
  return undefined;
}

/** Machine types 1.7 and older do not align the RAM split to 1 GiB (pcmc->gigabyte_align). */
function gigabyteAligned(type: string | undefined): boolean {
  const m = /-(\d+)\.(\d+)$/.exec(type ?? '');
  return m === null || Number(m[1]) >= 2;
}

/** Bytes of RAM below 4 GiB for a PC machine of `family` (see the file comment). */
export function pcBelow4g(family: PcFamily, ram: number, type: string | undefined, maxRamBelow4g: number | undefined): number {
  let lowmem: number;
  if (family === 'q35') {
    lowmem = ram >= 0xb0000000 && gigabyteAligned(type) ? 0x80000000 : 0xb0000000;
    if (maxRamBelow4g !== undefined && lowmem > maxRamBelow4g) lowmem = maxRamBelow4g;
  } else {
    lowmem = maxRamBelow4g ?? 0xe0000000;
    if (ram >= lowmem && gigabyteAligned(type) && lowmem > 0xc0000000) lowmem = 0xc0000000;
  }
  return Math.min(ram, lowmem);
}

function pages(bytes: number): number {
  return Math.ceil(bytes / 4096);
}

/** Union of [start, end) ranges, sorted. */
function union(ranges: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, e] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function qemuRam(family: PcFamily, vm: Vm, ram: number): { ranges: [number, number][]; below: number; rule: string } {
  const q = vm.qemu ?? {};
  const below = pcBelow4g(family, ram, q.type, q.maxRamBelow4g);
  const above = ram - below;
  const ranges: [number, number][] = [[0, pages(below)]];
  if (above > 0) ranges.push([FOUR_GIB_PAGES, FOUR_GIB_PAGES + pages(above)]);
  let rule = `${family}: RAM below 4 GiB ${below >= 2 ** 30 ? `${below / 2 ** 30} GiB` : `${below / 2 ** 20} MiB`}${above > 0 ? `, ${above / 2 ** 20} MiB from 4 GiB` : ''}`;
  if (q.maxMemoryBytes !== undefined && q.maxMemoryBytes > ram) {
    const base = Math.ceil((FOUR_GIB_PAGES + pages(above)) / GIB_PAGES) * GIB_PAGES;
    const size = pages(q.maxMemoryBytes - ram) + (q.slots ?? 0) * GIB_PAGES;
    ranges.push([base, base + size]);
    rule += `, hot-plug region at ${hex(base * 4096)}`;
  }
  return { ranges, below, rule };
}

/** The layout of `vm`, or undefined when its hypervisor or machine has none dmarsift knows. */
export function guestLayout(vm: Vm): GuestLayout | undefined {
  const mem = vm.memoryBytes;
  if (mem === undefined) return undefined;
  if (vm.hypervisor === 'bhyve') {
    const low = Math.min(mem, BHYVE_LOWMEM_LIMIT);
    const ram: [number, number][] = [[0, pages(low)]];
    if (mem > low) ram.push([FOUR_GIB_PAGES, FOUR_GIB_PAGES + pages(mem - low)]);
    return { ram, givenPages: pages(mem), maxPages: pages(mem), rule: 'bhyve: RAM below 3 GiB, the rest from 4 GiB' };
  }
  if (vm.hypervisor !== 'qemu') return undefined;
  const q = vm.qemu ?? {};
  const families: PcFamily[] = q.type === undefined ? ['q35', 'i440fx'] : [pcFamily(q.type)].filter((f): f is PcFamily => f !== undefined);
  if (families.length === 0) return undefined;
  const parts = families.map((f) => qemuRam(f, vm, mem));
  const given = pages(mem + (q.deviceMemoryBytes ?? 0));
  const max = Math.max(given, pages(q.maxMemoryBytes ?? 0));
  const below = Math.min(...parts.map((p) => p.below));
  return {
    ram: union(parts.flatMap((p) => p.ranges)),
    givenPages: given,
    maxPages: max,
    romWindow: [pages(below), FOUR_GIB_PAGES],
    rule: `QEMU ${q.type === undefined ? 'with no -machine (q35 or i440fx)' : q.type} — ${parts.map((p) => p.rule).join('; ')}`,
  };
}

/** BARs of the given functions (per /proc/iomem), indexed by host page. */
export function barIndex(snapshot: Snapshot, bdfs: ReadonlySet<string>): RangeIndex<PciResource> {
  const items = (snapshot.pciResources ?? [])
    .filter((r) => bdfs.has(r.bdf))
    .map((r) => ({ startPfn: Math.floor(r.start / 4096), endPfn: Math.ceil(r.end / 4096), label: r }));
  return new RangeIndex(items);
}

/** Host RAM regions of the memory map, indexed by page (empty when the capture has no map). */
export function hostRamIndex(snapshot: Snapshot): RangeIndex<MemoryRegion> {
  return new RangeIndex(snapshot.memoryMap.filter((m) => m.type === 'ram').map((m) => ({ startPfn: Math.floor(m.start / 4096), endPfn: Math.ceil(m.end / 4096), label: m })));
}

/** [s, e) minus the given ranges (each a [start, end) pair, any order): what is left, in order. */
export function subtract(s: number, e: number, cut: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let from = s;
  for (const [cs, ce] of [...cut].sort((a, b) => a[0] - b[0])) {
    if (ce <= from || cs >= e) continue;
    if (cs > from) out.push([from, cs]);
    from = Math.max(from, ce);
    if (from >= e) break;
  }
  if (from < e) out.push([from, e]);
  return out;
}

/**
 * The mappings of `ms` not wholly inside `ranges` (IOVA pages, [start, end)), by index in list
 * order. An ascending list (MappingList.iovaSummary) is searched gap by gap between the ranges — a
 * VM's RAM is two or three ranges, its domain tens of thousands of mappings, visited one by one
 * before the JIT had optimized the loop (~8 ms for two 64 GiB VMs); any other list is visited whole.
 */
export function mappingsLeaving(ms: MappingList, ranges: readonly [number, number][]): number[] {
  const joined = union(ranges.filter(([s, e]) => e > s));
  const iova = ms.iovaPfn;
  const pages = ms.pages;
  const out: number[] = [];
  if (ms.iovaSummary().ascending) {
    let gapStart = Number.NEGATIVE_INFINITY;
    for (let k = 0; k <= joined.length; k++) {
      const gapEnd = k < joined.length ? joined[k][0] : Number.POSITIVE_INFINITY;
      // A mapping across a whole range reaches two gaps: it is listed once.
      for (let i = ms.firstEndingAfter(gapStart); i < ms.length && iova[i] < gapEnd; i++) if (pages[i] > 0 && out[out.length - 1] !== i) out.push(i);
      if (k < joined.length) gapStart = joined[k][1];
    }
    return out;
  }
  for (let i = 0; i < ms.length; i++) {
    const a = iova[i];
    const b = a + pages[i];
    let inside = 0;
    for (const [s, e] of joined) inside += Math.max(0, Math.min(b, e) - Math.max(a, s));
    if (inside !== pages[i]) out.push(i);
  }
  return out;
}

/** Overlaps of [s, e) with a RangeIndex, as [start, end) pairs. */
export function overlaps<L>(index: RangeIndex<L>, s: number, e: number): [number, number][] {
  const out: [number, number][] = [];
  if (index.size > 0) index.query(s, e, (_l, from, to) => out.push([from, to]));
  return out;
}
