/**
 * What one capture part contributes to the snapshot. Every reader (binary or text) returns a
 * Contribution; src/model/build.ts merges them, and turns disagreements between parts into
 * warnings naming both sources.
 */
import type { UnitRegisters } from '../decode/registers-types.js';
import type { IrTextUnit } from '../text/ir-translation.js';
import type { InvalidationQueue } from './invalidation-queue.js';
import type {
  ContextEntry, ContextMode, Fault, Mapping, MemoryRegion, ModelWarning, PciFunction, PciResource, RootEntry, Source, Vm,
} from './types.js';

export interface UnitContribution {
  /** Identifies the unit; text parts that only know a name (dmar0) leave it undefined. */
  registerBase?: number;
  name?: string;
  segment?: number;
  version?: { major: number; minor: number };
  translationEnabled?: boolean;
  rootTablePointerSet?: boolean;
  rootTable?: number;
  /** The line that gave rootTable, when it is not the unit's own line (dmardump's root line). */
  rootTableSource?: Source;
  mode?: ContextMode;
  registers?: UnitRegisters;
  rootEntries?: RootEntry[];
  contexts?: ContextEntry[];
  invalidationQueue?: InvalidationQueue;
  /** The unit's block of debugfs ir_translation_struct (src/model/interrupt-remapping.ts merges it). */
  irTable?: IrTextUnit;
  source: Source;
}

/** Leaf mappings of one page table read from text (debugfs domain_translation_struct). */
export interface DomainContribution {
  /** Table root address as printed (`@0x…`): joins the block to context entries. */
  root: number;
  /** Device named in the block header (in Linux 6.1, the first device of the IOMMU group). */
  headerBdf?: string;
  pasid?: number;
  /** Levels of the table, when known from the columns. */
  levels?: number;
  mappings: Mapping[];
  pageCount: number;
  /** Non-leaf table pages seen in the rows (PFNs). */
  tablePfns: number[];
  source: Source;
}

/** A bridge's bus range (lspci -vv, sysfs, sysctl dev.pcib). */
export interface BridgeRange {
  bdf?: string;
  /** FreeBSD pcib unit name when that is all the source has (`pcib1`). */
  name?: string;
  secondary: number;
  subordinate: number;
  source: Source;
}

export interface Contribution {
  units?: UnitContribution[];
  domains?: DomainContribution[];
  devices?: PciFunction[];
  bridges?: BridgeRange[];
  vms?: Vm[];
  memoryMap?: MemoryRegion[];
  pciResources?: PciResource[];
  faults?: Fault[];
  warnings: ModelWarning[];
}
