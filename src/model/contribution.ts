/**
 * What one capture part contributes to the snapshot. Every reader (binary or text) returns a
 * Contribution; src/model/build.ts merges them, and turns disagreements between parts into
 * warnings naming both sources.
 */
import type {
  Fault, Mapping, MemoryRegion, ModelWarning, PciFunction, PciResource, Source, Unit, Vm,
} from './types.js';

/** The facts of a Unit a part may state: the model builder merges them (the first source to state one keeps it). */
type StatedUnitFacts = Partial<Pick<Unit,
  'name' | 'segment' | 'version' | 'translationEnabled' | 'rootTablePointerSet' | 'rootTable' | 'mode' | 'registers' | 'rootEntries' | 'contexts' | 'invalidationQueue'
  // Context entries a text dump hides (a row cut short or garbled): unknown, not absent.
  | 'unreadableTables'>>;

export interface UnitContribution extends StatedUnitFacts {
  /** Identifies the unit; text parts that only know a name (dmar0) leave it undefined. */
  registerBase?: number;
  /** The line that gave rootTable, when it is not the unit's own line (dmardump's root line). */
  rootTableSource?: Source;
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
  /** False when a row of the block could not be read (a file cut short): mappings are missing. */
  complete?: boolean;
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
  /** A PCI inventory with a device line it could not read (a listing cut short): not a whole inventory. */
  inventoryIncomplete?: Source;
  warnings: ModelWarning[];
}
