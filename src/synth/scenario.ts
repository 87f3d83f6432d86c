/**
 * The declarative description the sample generator reads (samples/scenarios/*.json): units,
 * devices, domains, mappings and VMs of a host, plus deliberate defects for the bug-class
 * samples. Addresses are "0x…" strings; sizes accept "2G", "512M", "4K" or hex.
 */
import type { ScenarioConfig } from './pci-config-encode.js';

export interface ScenarioUnit {
  base: string;
  segment?: number;
  includePciAll?: boolean;
  /** DRHD device scopes: ["endpoint 0:31.2", "bridge 0:1.0"] as {type, bus, path}. */
  scopes?: { type: 'endpoint' | 'bridge' | 'ioapic' | 'hpet'; bus: number; path: [number, number][]; enumId?: number }[];
  version?: string;
  cap: string;
  ecap: string;
  /** GSTS.TES */
  enabled: boolean;
  /** A root table exists (RTADDR set, GSTS.RTPS). */
  rootTable: boolean;
  mode?: 'legacy' | 'scalable';
  /** Where this unit's structures are allocated in host memory. */
  tableBase: string;
  /**
   * Fault recording registers to write into registers.json (FRCD<n>_LO/_HI, n from 0) with
   * FSTS.PPF set: `reason` is the spec's fault reason code, `access` the request type.
   */
  faultRecords?: { bdf: string; iova: string; reason: number; access?: 'read' | 'write' }[];
  /**
   * Extra GSTS bits beyond TES/RTPS (QIES, IRES …), default QIES|IRES|IRTPS — or none with
   * `owner: 'bhyve-vtd'`.
   */
  gstsExtra?: string;
  /**
   * Who programs the unit. 'bhyve-vtd': bhyve's sys/amd64/vmm/intel/vtd.c, which writes only SRTP,
   * TE and WBF to GCMD (GSTS = TES|RTPS: no queued invalidation, no interrupt remapping) and sets
   * TT = 01b on every context entry whenever ECAP.DT is set (a context's own `tt` still wins: the
   * defect samples' pass-through entries).
   */
  owner?: 'bhyve-vtd';
  /** Further registers for registers.json, by spec name (FSTS replaces the default 0): `{ "IQH": "0x40" }`. */
  registers?: Record<string, string>;
  /**
   * Interrupt remapping (src/synth/ir-scenario.ts): IRTA in registers.json and the table in the
   * memory image at `table` (default: 62 MiB into the unit's table area), 2^(size + 1) entries
   * (size default 7: one page), x2APIC mode with `eime`. GSTS.IRES/CFIS come from `gstsExtra`.
   */
  ir?: { table?: string; size?: number; eime?: boolean; entries: ScenarioIrte[] };
}

/**
 * One present IRTE: its source-id as a BDF (or a raw `sid`, e.g. "0xff00" or a bus range with
 * SVT 10b), SVT (default 01b) and SQ, its vector, and DST (remapped) or `pda` (posted: the
 * posted-interrupt descriptor's address).
 */
export interface ScenarioIrte {
  index: number;
  bdf?: string;
  sid?: string;
  svt?: number;
  sq?: number;
  vector: number;
  dst?: string;
  pda?: string;
}

export interface ScenarioRange {
  /** Guest-physical (IOVA) start. */
  gpa: string;
  size: string;
  pageSize: '4K' | '2M' | '1G';
  read?: boolean;
  write?: boolean;
  /** Host address; default: allocated from free host RAM (2 MiB chunks, scattered). */
  hpa?: string;
  /**
   * Map the host pages another domain maps at `gpa` (a shared-memory defect), instead of
   * allocating: the other domain must be listed earlier and map the whole range.
   */
  hpaOf?: { domain: string; gpa: string };
}

export interface ScenarioDomain {
  id: string;
  unit?: number;
  did: number;
  aw: number;
  /** bhyve's host domain: identity-map all host RAM except the pages VMs own. */
  hostIdentity?: { pageSize: '2M' | '1G' | '4K'; keepVmPages?: string[] };
  /** VM guest memory layout mapped by this domain. */
  guest?: ScenarioRange[];
  /** Extra mappings (defects): explicit IOVA → HPA. */
  extra?: ScenarioRange[];
  /** Map the same host pages as another domain's guest memory (shared-page defect). */
  shareWith?: string;
  /**
   * Where this domain's page tables are allocated (default: the unit's tableBase, first free page).
   * Must lie in the unit's 64 MiB table area; lets a pair of samples keep one domain's root fixed
   * while another moves.
   */
  tablesAt?: string;
  /** OR bits into one leaf entry (defects): the leaf that maps `iova`. */
  corruptLeaf?: { iova: string; orLo?: string; orHi?: string };
  /**
   * Page-table format (scalable-mode units): 'second-level' (default) or 'first-level' (IA-32e,
   * used through a PASID entry with PGTT 001b); `flLevels` 4 (default) or 5.
   */
  format?: 'second-level' | 'first-level';
  flLevels?: 4 | 5;
}

export interface ScenarioContext {
  bdf: string;
  unit?: number;
  domain?: string;
  /** 0 UNTR, 1 TR, 2 PASS. */
  tt?: number;
  fpd?: boolean;
  /** Overrides for defects. */
  did?: number;
  aw?: number;
  hiOr?: string;
  /** SLPTPTR override (defects: a pointer to a page the image does not hold). */
  slptptr?: string;
  /**
   * Scalable-mode units: the PASID entries (default: one, PASID = RID_PASID, through `domain`:
   * PGTT 010b for a second-level domain, 001b for a first-level one, 100b when `tt` is 2).
   */
  pasids?: { pasid: number; domain?: string; pgtt?: number; did?: number }[];
  /** RID_PASID (default 0), PDTS (default 0: 128 directory entries), PASIDE (default true). */
  ridPasid?: number;
  pdts?: number;
  paside?: boolean;
}

export interface ScenarioDevice {
  bdf: string;
  /** FreeBSD device name (`ppt0`, `em0`) or none. */
  name?: string;
  vendor: string;
  device: string;
  class: string;
  subvendor?: string;
  subdevice?: string;
  vendorName?: string;
  deviceName?: string;
  className?: string;
  subclassName?: string;
  /** SR-IOV PF: VFs configured / supported. */
  sriov?: { numVfs: number; totalVfs: number };
  /** Linux driver in use (`inventory: 'lspci'`): vfio-pci, nvme, e1000e …; `module` for lspci's Kernel modules line. */
  driver?: string;
  module?: string;
  /** Memory BARs as /proc/iomem nests them (`memoryMapFormat: 'iomem'`), with the driver's claim. */
  bars?: { start: string; size: string; claim?: string }[];
  /** Configuration space to write into pci-config.txt (lspci -xxxx form): PCIe type, ACS, bus range. */
  config?: ScenarioConfig;
}

export interface ScenarioVm {
  name: string;
  memory: string;
  passthru: string[];
  /** 'bhyve' (default), 'vmrun' or 'qemu'. */
  style?: 'bhyve' | 'vmrun' | 'qemu';
  slot?: number;
  /** QEMU: `-machine` type (default `q35`), or false for a line without `-machine`. */
  machine?: string | false;
  /** QEMU: a line without `-name`, as plain invocations have (the model names the VM by a stand-in). */
  noName?: boolean;
}

/** An invalidation descriptor for a generated `invalidation_queue` (VT-d spec §6.5.2). */
export type ScenarioDescriptor =
  | { type: 'context-cache'; granularity: 'global' | 'domain' | 'device'; did?: number; bdf?: string }
  | { type: 'iotlb'; granularity: 'global' | 'domain' | 'page'; did?: number; addr?: string; am?: number }
  | { type: 'wait' }
  /** A descriptor given bit for bit (e.g. one with a reserved field set, for a queue error). */
  | { type: 'raw'; qw0: string; qw1: string };

export interface Scenario {
  name: string;
  summary: string;
  /** The findings `analyze` must give: [check id, BDF or null]. */
  expect: [string, string | null][];
  /**
   * The after half of a `dmarsift diff` pair: the before sample and the findings of the pair
   * checks that `dmarsift diff BEFORE THIS` must give (warning or above), as in `expect`.
   */
  diff?: { before: string; expect: [string, string | null][] };
  /** Checks the README says must fire. */
  fires?: string[];
  haw: number;
  dmarFlags?: number;
  /** Corrupt the DMAR table: 'checksum' or 'length'. */
  dmarDefect?: 'checksum' | 'length';
  rmrr?: { base: string; end: string; bdf: string }[];
  /** Host RAM ranges [start, end] inclusive. */
  ram: [string, string][];
  units: ScenarioUnit[];
  domains: ScenarioDomain[];
  contexts: ScenarioContext[];
  devices: ScenarioDevice[];
  vms: ScenarioVm[];
  /**
   * Parts to write (default: all but dmardump). `dmardump: true` adds FreeBSD dmardump output
   * read back from the generated tables; with `dmar`, `registers` and `memory` false the capture
   * is text only, as a FreeBSD user would paste it into a ticket.
   */
  parts?: { dmar?: boolean; registers?: boolean; memory?: boolean; pci?: boolean; vms?: boolean; memoryMap?: boolean; dmardump?: boolean };
  seed?: number;
  /** PCI inventory format: FreeBSD `pciconf -lv` (default) or Linux `lspci -Dnnk`. */
  inventory?: 'pciconf' | 'lspci';
  /** Host memory map: FreeBSD `sysctl machdep.smap` (default) or Linux /proc/iomem, with the devices' BARs. */
  memoryMapFormat?: 'smap' | 'iomem';
  /**
   * VM command lines: a `ps` listing (default), or the running QEMUs' /proc/PID/cmdline in
   * qemu-cmdline.txt (an empty file when none runs, as a Linux capture script writes it).
   */
  vmCmdlines?: 'ps' | 'proc';
  /** Host ranges [start, end] (inclusive) never handed out as guest memory: pages `extra` mappings name. */
  reserve?: [string, string][];
  /**
   * Unit 0's Linux debugfs `invalidation_queue`: a 256-slot ring of Linux's routine descriptors
   * (page-selective IOTLB invalidations, each followed by an invalidation wait), `descriptors`
   * written in order from slot `at`, and Head = Tail just after them (all processed).
   */
  invalidationQueue?: { at: number; descriptors: ScenarioDescriptor[]; routineDid?: number; stalled?: boolean };
  /** Unit 0's debugfs `ir_translation_struct`: present remapped IRTEs (SVT 01b, the function's SID). */
  irTable?: { entries: { index: number; bdf: string; vector: number }[] };
  /**
   * The memory image: a sparse dump (default) or an ELF core; `noise` adds pages of other data
   * and decoy pages (src/synth/image-extras.ts) and `zeroTail` zero-filled memory not in the file.
   */
  memoryImage?: { format: 'sparse' | 'elf'; noise?: { randomPages: number; at: string; decoys?: boolean }; zeroTail?: string };
}

export function parseSize(text: string): number {
  const m = /^(\d+)([KMGT])$/i.exec(text.trim());
  if (m) return Number(m[1]) * 1024 ** ('KMGT'.indexOf(m[2].toUpperCase()) + 1);
  if (/^0x[0-9a-f]+$/i.test(text.trim())) return Number(BigInt(text.trim()));
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  throw new Error(`bad size ${JSON.stringify(text)}`);
}

export function parseAddr(text: string): number {
  return Number(BigInt(text));
}
