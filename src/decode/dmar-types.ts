/** Typed records of the ACPI DMAR table (docs/vtd-formats.md §1). Offsets are byte offsets in the table. */

export interface DeviceScope {
  /** 1 endpoint, 2 bridge (sub-hierarchy), 3 IOAPIC, 4 HPET, 5 ACPI namespace device. */
  type: number;
  typeName: 'endpoint' | 'bridge' | 'ioapic' | 'hpet' | 'acpi-namespace' | 'reserved';
  length: number;
  flags: number;
  enumerationId: number;
  startBus: number;
  path: { device: number; function: number }[];
  /**
   * Bus/devfn of the final hop when it can be resolved without config space: a one-element path
   * (the device sits on the start bus), or a longer one when bridge bus numbers are supplied.
   */
  resolved?: { bus: number; devfn: number };
  offset: number;
}

interface StructureBase {
  type: number;
  length: number;
  /** Byte offset of the structure in the table. */
  offset: number;
}

export interface Drhd extends StructureBase {
  kind: 'DRHD';
  flags: number;
  includePciAll: boolean;
  /** Register set size field: 2^size × 4 KiB. */
  size: number;
  segment: number;
  registerBase: number;
  /** The raw 64-bit field, present only when it has bits above 51 (registerBase keeps bits 51:0). */
  registerBaseRaw?: bigint;
  scopes: DeviceScope[];
}

export interface Rmrr extends StructureBase {
  kind: 'RMRR';
  segment: number;
  /** Base address (inclusive) and limit (inclusive), bytes. */
  base: number;
  limit: number;
  /** Raw 64-bit fields, present only when they have bits above 51 (base/limit keep bits 51:0). */
  baseRaw?: bigint;
  limitRaw?: bigint;
  scopes: DeviceScope[];
}

export interface Atsr extends StructureBase {
  kind: 'ATSR';
  flags: number;
  allPorts: boolean;
  segment: number;
  scopes: DeviceScope[];
}

export interface Rhsa extends StructureBase {
  kind: 'RHSA';
  registerBase: number;
  /** The raw 64-bit field, present only when it has bits above 51. */
  registerBaseRaw?: bigint;
  proximityDomain: number;
}

export interface Andd extends StructureBase {
  kind: 'ANDD';
  deviceNumber: number;
  objectName: string;
}

export interface Satc extends StructureBase {
  kind: 'SATC';
  flags: number;
  atcRequired: boolean;
  segment: number;
  scopes: DeviceScope[];
}

export interface Sidp extends StructureBase {
  kind: 'SIDP';
  segment: number;
  scopes: DeviceScope[];
}

export interface UnknownStructure extends StructureBase {
  kind: 'unknown';
  raw: Uint8Array;
}

export type DmarStructure = Drhd | Rmrr | Atsr | Rhsa | Andd | Satc | Sidp | UnknownStructure;

/** A problem in the table: checksum, lengths, overlaps. Feeds the `dmar-integrity` check. */
export interface DmarProblem {
  offset: number;
  message: string;
  /** 'error' breaks the table (checksum, overrun, zero length); 'warning' is irregular but usable. */
  severity: 'error' | 'warning';
}

export interface DmarTable {
  signature: string;
  length: number;
  revision: number;
  checksum: number;
  checksumOk: boolean;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
  /** Host address width in bits (field value + 1). */
  haw: number;
  flags: number;
  intrRemap: boolean;
  x2apicOptOut: boolean;
  dmaCtrlPlatformOptIn: boolean;
  structures: DmarStructure[];
  problems: DmarProblem[];
}
