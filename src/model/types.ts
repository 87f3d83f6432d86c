/**
 * The normalized snapshot every input fills and every check reads.
 *
 * Number conventions (one for the whole model):
 * - Host-physical addresses and sizes are plain `number`s in bytes. VT-d host addresses are at most
 *   52 bits (HAW ≤ 52), so they are exact in a double.
 * - IOVAs can be up to 57 bits (5-level tables) or 64 (6-level), so anything on the IOVA side is
 *   kept as a 4 KiB page number (`…Pfn`), which is exact up to 2^65. Mappings therefore use page
 *   numbers on both sides (`iovaPfn`, `hpaPfn`, `pages`), which also keeps the hot walk loops on
 *   small integers.
 * - Raw 64-bit register values and raw table entries are `bigint`.
 * - JSON output turns all addresses into "0x…" strings (report/json.ts); this file never formats.
 */
import type { DmarTable } from '../decode/dmar-types.js';
import type { PciConfig } from '../decode/pci-config.js';
import type { UnitRegisters } from '../decode/registers-types.js';
import type { TableProblem } from './walk.js';

export type PartKind =
  | 'dmar'
  | 'registers'
  | 'memory'
  | 'dmardump-text'
  | 'debugfs-translation'
  | 'debugfs-domain'
  | 'dmesg'
  | 'pci'
  | 'bridges'
  | 'vm-cmdlines'
  | 'memory-map'
  | 'invalidation-queue'
  | 'ir-translation'
  | 'pci-config'
  | 'ignored';

export interface Part {
  kind: PartKind;
  /** Path as given (relative to the capture directory when inside one). */
  path: string;
  /** Sub-format, e.g. 'elf', 'lime', 'iommu_regset', 'pciconf -lv', 'lspci -Dnnk'. */
  format?: string;
  /** Register base this part belongs to, when the manifest says so. */
  unit?: number;
  /** Why a file was ignored, or other remarks. */
  note?: string;
}

/** Where a record came from: a part name plus a byte offset (binary) or line number (text). */
export interface Source {
  part: string;
  offset?: number;
  line?: number;
}

export interface ModelWarning {
  message: string;
  source?: Source;
}

export type ContextMode = 'legacy' | 'scalable' | 'extended';

/** A root entry (legacy: CTP; scalable: LCTP/UCTP). Only present halves carry a pointer. */
export interface RootEntry {
  bus: number;
  lo: bigint;
  hi: bigint;
  /** Legacy CTP or scalable LCTP, when P/LP is set. */
  lowerContextTable?: number;
  /** Scalable UCTP, when UP is set. */
  upperContextTable?: number;
  source: Source;
}

/** One PASID-table entry (scalable mode). */
export interface PasidEntry {
  pasid: number;
  present: boolean;
  fpd: boolean;
  /** 1 first-level only, 2 second-level only, 3 nested, 4 pass-through; others reserved. */
  pgtt: number;
  aw: number;
  levels: number;
  did: number;
  slptptr: number;
  flptptr: number;
  /** 0 = 4-level, 1 = 5-level first-level paging. */
  flpm: number;
  sre: boolean;
  raw: bigint[];
  /** Physical address of the entry, when it was read from a memory image. */
  addr?: number;
  source: Source;
}

/** A context entry (legacy 128-bit, or the low 128 bits + rest of a 256-bit scalable one). */
export interface ContextEntry {
  bdf: string;
  segment: number;
  bus: number;
  devfn: number;
  present: boolean;
  fpd: boolean;
  /** Legacy TT (0 UNTR/multi-level, 1 TR/dev-IOTLB, 2 PASS, 3 reserved). Undefined in scalable mode. */
  tt?: number;
  aw: number;
  levels: number;
  did: number;
  slptptr: number;
  /** Raw qwords, lowest first (2 for legacy, 4 for scalable). */
  raw: bigint[];
  /** Physical address of the entry, when it was read from a memory image. */
  addr?: number;
  /** Scalable mode: PASID directory and the present PASID entries. */
  pasidDirPtr?: number;
  pdts?: number;
  ridPasid?: number;
  /**
   * Scalable mode: DTE (qword 0 bit 2), Device-TLB Enable — the device may send translation
   * requests and translated requests (the scalable-mode counterpart of legacy TT = 01b).
   */
  dte?: boolean;
  pasids?: PasidEntry[];
  /** Driver name as a text capture printed it beside the entry (dmardump `(ppt0)`, `(absent)`). */
  driverHint?: string;
  source: Source;
}

export type PageSize = 4096 | 2097152 | 1073741824;

/** A coalesced run of translations: IOVA pages → HPA pages, one page size, one permission set. */
export interface Mapping {
  iovaPfn: number;
  hpaPfn: number;
  /** Number of 4 KiB pages in the run. */
  pages: number;
  read: boolean;
  write: boolean;
  pageSize: PageSize;
  snp?: boolean;
  tm?: boolean;
}

export interface Domain {
  did: number;
  /** Table root (SLPTPTR, or FLPTPTR for first-level domains). */
  root: number;
  kind: 'second-level' | 'first-level';
  aw: number;
  levels: number;
  /** 4 KiB pages mapped (a 2 MiB leaf counts 512). */
  pageCount: number;
  /**
   * The mappings in IOVA order. A walked or debugfs domain keeps them as columns
   * (model/mapping-list.ts) and makes this array only when something reads it: code that visits
   * every mapping reads the columns (`mappingListOf`, roles' `knownMappingList`) instead.
   */
  mappings: Mapping[];
  /** Page-frame numbers of this domain's page-table pages (for hpa-leak-iommu-structures). */
  tablePfns: number[];
  /** False when part of the walk could not be read (warnings say where). */
  complete: boolean;
  /**
   * False when the capture holds no page tables for this domain at all (a text capture with
   * context entries but no domain_translation_struct): then pageCount and mappings mean nothing.
   */
  mappingsKnown: boolean;
  /** Where the mappings came from (memory walk, or debugfs text). */
  source?: Source;
}

export interface Unit {
  /** Linux name (dmar0) when a source gives it. */
  name?: string;
  segment: number;
  registerBase: number;
  /**
   * No part gives the register base (text naming only `dmar1`, or `--rtaddr ADDR` on a bare
   * image): `registerBase` is a placeholder 0, and reports say "base unknown".
   */
  baseUnknown?: true;
  /** The DRHD structure from the DMAR table, when present. */
  drhd?: import('../decode/dmar-types.js').Drhd;
  registers?: UnitRegisters;
  version?: { major: number; minor: number };
  /** GSTS.TES; undefined when no source says. */
  translationEnabled?: boolean;
  /** GSTS.RTPS; undefined when no source says. */
  rootTablePointerSet?: boolean;
  /** Root table address, from RTADDR, debugfs, dmardump, or --rtaddr. */
  rootTable?: number;
  rootTableSource?: Source;
  mode?: ContextMode;
  rootEntries: RootEntry[];
  /** Context entries found (present ones; text sources may add non-present ones with a hint). */
  contexts: ContextEntry[];
  domains: Domain[];
  /** Entries the hardware would refuse or that cannot be followed (feeds table-integrity). */
  tableProblems: UnitTableProblem[];
  /** The invalidation queue's descriptors, when the capture holds them (debugfs invalidation_queue). */
  invalidationQueue?: import('./invalidation-queue.js').InvalidationQueue;
  /**
   * When FSTS reports an invalidation queue error (IQE, ITE, ICE) and the memory image holds the
   * ring at IQA: the descriptors at and before IQH (src/model/invalidation-queue.ts).
   */
  queueErrorWindow?: import('./invalidation-queue.js').QueueErrorWindow;
  /** Interrupt remapping: registers and the table's present entries (undefined: the capture says nothing of it). */
  interruptRemapping?: import('./interrupt-remapping.js').InterruptRemapping;
  /**
   * What the capture tells of the unit's context entries (see contextsState in src/model/tables-state.ts):
   * 'complete' — every table read (or a text dump lists them); 'partial' — some context tables
   * could not be read (see `unreadableTables`); 'unknown' — no root table in the capture, or it could
   * not be read. Unset on hand-made snapshots: then contexts or a root table mean 'complete'.
   */
  contextsKnown?: 'complete' | 'partial' | 'unknown';
  /** Tables the capture names but does not hold: unknown, which is not absent. */
  unreadableTables?: UnreadableTable[];
}

/** A translation structure named by the capture (a register, a pointer in another table) that could not be read. */
export interface UnreadableTable {
  structure: 'root' | 'context' | 'pasid-dir' | 'pasid' | 'page-table';
  /** Physical address of the table page. */
  addr: number;
  /** For context tables: the bus, and the devfns whose entries it holds (a scalable half holds 128). */
  bus?: number;
  devfns?: [number, number];
  bdf?: string;
  did?: number;
  /** Why it could not be read, naming the image (or the lack of one). */
  message: string;
}

/** A TableProblem located in the unit's structures. */
export interface UnitTableProblem extends TableProblem {
  structure: 'root' | 'context' | 'pasid-dir' | 'pasid' | 'page-table';
  bdf?: string;
  did?: number;
  source?: Source;
}

export interface PciFunction {
  bdf: string;
  segment: number;
  bus: number;
  devfn: number;
  vendorId?: number;
  deviceId?: number;
  vendorName?: string;
  deviceName?: string;
  /** 24-bit class code (class, subclass, prog-if). */
  classCode?: number;
  /** Driver name without unit number (`ppt`, `em`, `vfio-pci`). */
  driver?: string;
  /** FreeBSD device name (`ppt0`, `em0`). */
  deviceUnit?: string;
  /** Driver is ppt, vfio-pci, pciback or pci-stub. */
  passThrough: boolean;
  /** SR-IOV physical function: its current VF count. */
  numVfs?: number;
  /** For a VF: its PF's BDF. */
  physfn?: string;
  /** For a bridge: the bus range behind it. */
  secondaryBus?: number;
  subordinateBus?: number;
  /** Name of the VM whose command line passes this function through. */
  vm?: string;
  /**
   * Its configuration space decoded (MSI, MSI-X, PCIe, ACS, ATS, SR-IOV), when the capture holds a
   * dump of it (part kind pci-config); `configSource` says where.
   */
  config?: PciConfig;
  configSource?: Source;
  source: Source;
}

export interface Vm {
  name: string;
  hypervisor: 'bhyve' | 'qemu' | 'xen' | 'unknown';
  /** BDFs of the functions passed through. */
  passthru: string[];
  /** Guest memory size in bytes, when the command line says (QEMU: the boot RAM, without DIMMs). */
  memoryBytes?: number;
  /** QEMU: what the command line says about the guest-physical layout (src/checks/vm-layout.ts). */
  qemu?: QemuMachine;
  source: Source;
}

/** The parts of a QEMU command line that decide where guest RAM lies (hw/i386/pc*.c). */
export interface QemuMachine {
  /** `-machine`/`-M` type as given (`q35`, `pc-q35-7.2`, `pc`); undefined when the line names none. */
  type?: string;
  /** `-machine max-ram-below-4g=…`, bytes. */
  maxRamBelow4g?: number;
  /** `-m …,maxmem=…,slots=…`: RAM that memory hot-plug may add up to, bytes, and the DIMM slots. */
  maxMemoryBytes?: number;
  slots?: number;
  /** Memory of the DIMMs the command line plugs (pc-dimm, nvdimm, virtio-mem: their memdev sizes), bytes. */
  deviceMemoryBytes?: number;
}

export type MemoryType = 'ram' | 'reserved' | 'acpi' | 'nvs' | 'mmio' | 'unusable' | 'other';

export interface MemoryRegion {
  /** [start, end) in host-physical bytes. */
  start: number;
  end: number;
  type: MemoryType;
  name: string;
  source: Source;
}

/** A PCI function's memory resource (a BAR or ROM) as /proc/iomem places it, and who claimed it. */
export interface PciResource {
  bdf: string;
  /** [start, end) in host-physical bytes. */
  start: number;
  end: number;
  /** The driver's claim nested under it (`vfio-pci`, `ahci`, `virtio-pci-modern`), when there is one. */
  claimedBy?: string;
  source: Source;
}

/** A DMA fault, from a fault recording register or a kernel log line. */
export interface Fault {
  unit?: number;
  bdf: string;
  /** Faulting address as a page number plus offset (IOVAs may exceed 2^53). */
  iovaPfn: number;
  iovaOffset: number;
  reason: number;
  /** The reason as the source printed it (the kernel's words for dmesg faults). */
  reasonText: string;
  /** The reason's name from the VT-d spec's fault reason table (set by src/model/faults.ts). */
  reasonName?: string;
  type: 'read' | 'write' | 'page-request' | 'atomic' | 'unknown';
  pasid?: number;
  /** Table entries the kernel dumped for this fault (CONFIG_DMAR_DEBUG), as printed. */
  dumped?: { root?: bigint; contextLo?: bigint; contextHi?: bigint; levels: { level: number; entry: bigint }[]; note?: string };
  /** The fault walked through the capture's own tables (src/model/faults.ts). */
  explanation?: FaultExplanation;
  source: Source;
}

/** One step of a walk, as src/model/translate.ts records it. */
export interface WalkStep {
  structure: 'root' | 'context' | 'pasid-dir' | 'pasid' | 'page-table';
  /** VT-d paging level for page-table steps. */
  level?: number;
  table: number;
  index: number;
  /** Raw entry qwords, lowest first. */
  entry: bigint[];
  note?: string;
}

/** Why a recorded fault happened, according to the capture's tables. */
export interface FaultExplanation {
  /** 'walk': a hardware-order walk of the memory image; 'mappings': decoded (text) mappings, no steps; 'none': could not. */
  method: 'walk' | 'mappings' | 'none';
  /** One sentence a person can read. */
  text: string;
  /** The walk, structure by structure (empty for 'mappings'). */
  steps?: WalkStep[];
  /** The step where the walk stopped (its last), when it faults. */
  stoppedAt?: { structure: WalkStep['structure']; level?: number; table: number; index: number; entry: bigint[] };
  /** The reason code the tables give now, and its name; undefined when they translate the address. */
  code?: number;
  reason?: string;
  /** True when `code` names the same condition as the recorded reason (legacy and SM codes compared). */
  agrees?: boolean;
  /** Set when the tables now translate the address. */
  hpa?: bigint;
  /** The kernel's dumped entries against the walk's: how many were compared and which differ. */
  dump?: { compared: number; matching: number; mismatches: string[] };
}

export interface Snapshot {
  /** Host address width (bits) from the DMAR table; 52 assumed, with a warning, when absent. */
  haw: number;
  capture: { path: string; parts: Part[] };
  dmar?: DmarTable;
  units: Unit[];
  /**
   * PCI functions known to the capture. `inventoryKnown` is true only when a full inventory part
   * (pciconf, lspci, sysfs) was present; dmardump text alone names only functions with entries.
   */
  devices: PciFunction[];
  inventoryKnown: boolean;
  vms: Vm[];
  vmsKnown: boolean;
  memoryMap: MemoryRegion[];
  memoryMapKnown: boolean;
  /** PCI functions' memory resources from /proc/iomem (absent when no part lists them). */
  pciResources?: PciResource[];
  faults: Fault[];
  warnings: ModelWarning[];
}
