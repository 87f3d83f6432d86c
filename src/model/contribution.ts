/**
 * What one capture part contributes to the snapshot. Every reader (binary or text) returns a
 * Contribution; src/model/build.ts merges them, and turns disagreements between parts into
 * warnings naming both sources.
 */
import type { IrteMode } from '../decode/irte.js';
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
  /** Configuration-space dumps (lspci -x…, pciconf -r, sysfs config), decoded in src/model/pci-config.ts. */
  pciConfig?: PciConfigSpace[];
  warnings: ModelWarning[];
}

/* The blocks of debugfs `ir_translation_struct` (src/text/ir-translation.ts reads them). */

/** The section a row is listed in, which is its entry's format: IM = 0 under "Remapped", IM = 1 under "Posted". */
export type IrSection = IrteMode;

export interface IrTextEntry {
  index: number;
  section: IrSection;
  /** IRTE bits 63:0 (`IRTE_low`) and 127:64 (`IRTE_high`). */
  lo: bigint;
  hi: bigint;
  /** 1-based line of the row. */
  line: number;
}

export interface IrTextUnit {
  /** Linux unit name (dmar0). */
  name: string;
  /** `IR table address:` (the kernel's ir_table, i.e. IRTA's table address). */
  tableAddress?: number;
  /** True when the remapped section listed the table; false on "Interrupt Remapping is not enabled". */
  enabled?: boolean;
  /** The unit is in the remapped section (ECAP.IR) / the posted one (CAP.PI). */
  remappedSection: boolean;
  postedSection: boolean;
  /** Present entries of both sections, in file order. */
  entries: IrTextEntry[];
  /** The first line naming the unit. */
  line: number;
}

/** One function's configuration space as a dump gave it (bytes from offset 0). */
export interface PciConfigSpace {
  /** Canonical BDF (0000:03:00.0). */
  bdf: string;
  bytes: Uint8Array;
  source: Source;
}
