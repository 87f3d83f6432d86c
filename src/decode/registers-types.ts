/**
 * Typed views of the remapping-unit registers (docs/vtd-formats.md §2, VT-d spec chapter 11).
 * Raw 64-bit values are bigint; decoded small fields are numbers/booleans.
 */

/** Raw register values of one unit, keyed by the upper-case register name (VER, CAP, …, FRCD0_LO). */
export type RawRegisters = Record<string, bigint>;

export interface Version { major: number; minor: number }

export interface Cap {
  raw: bigint;
  ND: number; /** number of domains = 2^(4+2·ND) */ domains: number;
  AFL: boolean; RWBF: boolean; PLMR: boolean; PHMR: boolean; CM: boolean;
  /** SAGAW bit mask (bit k ⇒ AW k supported). */ SAGAW: number;
  /** MGAW field value; the width is MGAW + 1. */ MGAW: number; mgawBits: number;
  ZLR: boolean;
  /** FRO field; fault recording registers at FRO × 16. */ FRO: number;
  /** SLLPS bits (bit 0: 2 MiB, bit 1: 1 GiB). */ SLLPS: number;
  PSI: boolean;
  /** NFR field; NFR + 1 fault recording registers. */ NFR: number;
  MAMV: number; DWD: boolean; DRD: boolean; FL1GP: boolean; PI: boolean; FL5LP: boolean;
  ECMDS: boolean; ESIRTPS: boolean; ESRTPS: boolean;
}

export interface Ecap {
  raw: bigint;
  C: boolean; QI: boolean; DT: boolean; IR: boolean; EIM: boolean; PT: boolean; SC: boolean;
  /** IOTLB registers at IRO × 16. */ IRO: number;
  MHMV: number; MTS: boolean; NEST: boolean; PRS: boolean; ERS: boolean; SRS: boolean;
  NWFS: boolean; EAFS: boolean; /** PASID width = PSS + 1 */ PSS: number; PASID: boolean;
  DIT: boolean; PDS: boolean; SMTS: boolean; VCS: boolean; SLADS: boolean; SLTS: boolean;
  FLTS: boolean; SMPWCS: boolean; RPS: boolean; PMS: boolean; ADMS: boolean; RPRIVS: boolean;
}

export interface Gsts {
  raw: number;
  TES: boolean; RTPS: boolean; FLS: boolean; AFLS: boolean; WBFS: boolean;
  QIES: boolean; IRES: boolean; IRTPS: boolean; CFIS: boolean;
}

export type TranslationTableMode = 'legacy' | 'scalable' | 'extended' | 'abort';

export interface Rtaddr {
  raw: bigint;
  /** TTM bits 11:10. */ TTM: number;
  mode: TranslationTableMode;
  /** Root table address (bits 63:12). */ RTA: number;
  /** Bits 9:0 (must be 0). */ reserved: number;
}

export interface Fsts {
  raw: number;
  PFO: boolean; PPF: boolean; AFO: boolean; APF: boolean; IQE: boolean; ICE: boolean; ITE: boolean; PRO: boolean;
  /** Fault record index. */ FRI: number;
}

/** One 128-bit fault recording register (FRCDn). */
export interface FaultRecord {
  index: number;
  lo: bigint;
  hi: bigint;
  /** Fault (F, bit 127) set: the record holds a fault. */ F: boolean;
  /** Faulting page address FI (lo bits 63:12) as a page number (IOVAs may exceed 2^53). */ FIpfn: number;
  SID: number; bus: number; devfn: number;
  /** Fault reason code and its name from the spec's table. */ FR: number; reason: string;
  /** 'write' | 'read' | 'page-request' | 'atomic' from (T1, T2). */ type: 'write' | 'read' | 'page-request' | 'atomic';
  PP: boolean; /** PASID value when PP */ PV: number; EXE: boolean; PRIV: boolean; AT: number;
}

/** Everything known of one unit's registers. Fields absent when the capture lacks the register. */
export interface UnitRegisters {
  /** Register base address (MMIO). */
  base: number;
  /** Linux name (dmar0) when the source names it. */
  name?: string;
  raw: RawRegisters;
  VER?: Version;
  CAP?: Cap;
  ECAP?: Ecap;
  GSTS?: Gsts;
  RTADDR?: Rtaddr;
  FSTS?: Fsts;
  faultRecords: FaultRecord[];
}
