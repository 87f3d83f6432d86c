/**
 * PCI configuration space (PCI Local Bus 3.0 header and capability list; PCI Express Base
 * specification for the PCIe capability and the extended capabilities; layouts cross-checked
 * with Linux include/uapi/linux/pci_regs.h). Pure: bytes in, typed record out; anything odd is a
 * warning with the byte offset, never an exception (except fewer than 64 bytes, which hold no
 * header at all).
 *
 * How much a read shows:
 *  - 64 bytes (sysfs `config` read without root, `lspci -x`): the header only. Capabilities live
 *    at 0x40 and up, so they are unknown — unless Status bit 4 says there is no list.
 *  - 256 bytes: the standard capability list. Extended capabilities (0x100–0xfff) are unknown for
 *    a PCIe function; a conventional PCI function has none.
 *  - 4096 bytes: everything.
 * Both lists are walked with a visited set and a hop limit (Linux: 48 for the standard list), so
 * a loop or a pointer outside the buffer ends the walk with a warning.
 */
import { decodeMsi, isInterruptAddress, type DecodedMsi } from './msi.js';
import { hex } from '../util/hex.js';

export const PCI_HEADER_BYTES = 64;
export const PCI_CONFIG_BYTES = 256;
export const PCIE_CONFIG_BYTES = 4096;
/** Linux PCI_FIND_CAP_TTL: no real list is longer. */
const MAX_STD_CAPS = 48;
/** Every extended capability header is 4-byte aligned in 0x100–0xffc: at most 960 of them. */
const MAX_EXT_CAPS = (PCIE_CONFIG_BYTES - PCI_CONFIG_BYTES) / 4;

export interface ConfigWarning {
  message: string;
  /** Byte offset in the configuration space. */
  offset: number;
}

export interface PciHeader {
  vendorId: number;
  deviceId: number;
  command: number;
  status: number;
  revision: number;
  /** Class code: base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  /** Header type (bits 6:0 of byte 0x0e): 0 endpoint, 1 PCI-to-PCI bridge, 2 CardBus bridge. */
  headerType: number;
  /** Bit 7 of byte 0x0e. */
  multiFunction: boolean;
  /** Command bits: memory space (1), bus master (2), INTx disable (10). */
  memorySpace: boolean;
  busMaster: boolean;
  intxDisable: boolean;
  /** Status bit 4: the function has a capability list. */
  capabilityList: boolean;
  /** Byte 0x34 (0x14 for CardBus), low two bits masked, when there is a list. */
  capabilitiesPointer?: number;
  /** Bridges (header types 1 and 2): bus numbers at 0x18–0x1a. */
  bridge?: { primary: number; secondary: number; subordinate: number };
}

export interface CapabilityRef {
  id: number;
  name: string;
  offset: number;
  /** Extended capabilities: the version field (bits 19:16 of the header). */
  version?: number;
}

export interface MsiCapability {
  offset: number;
  enabled: boolean;
  /** Vectors the function can request (2^MMC) and the number enabled (2^MME). */
  multipleMessageCapable: number;
  multipleMessageEnabled: number;
  address64: boolean;
  perVectorMasking: boolean;
  /** Extended Message Data Capable / Enable (control bits 9 and 10): 32-bit data. */
  extendedDataCapable: boolean;
  extendedDataEnabled: boolean;
  addressLo: number;
  addressHi: number;
  /** addressHi << 32 | addressLo. */
  address: bigint;
  /** 16-bit Message Data (32 bits with Extended Message Data enabled). */
  data: number;
  maskBits?: number;
  pendingBits?: number;
  /** The message as the remapping hardware reads it, when the address is in 0xFEEx_xxxx. */
  message?: DecodedMsi;
  /** The address is in remappable format (bit 4): the function's interrupts go through an IRTE. */
  remappable: boolean;
}

export interface MsixCapability {
  offset: number;
  enabled: boolean;
  functionMask: boolean;
  /** Number of table entries (field + 1). The table itself is in BAR memory, not config space. */
  tableSize: number;
  tableBir: number;
  tableOffset: number;
  pbaBir: number;
  pbaOffset: number;
}

export type PcieType =
  | 'endpoint' | 'legacy-endpoint' | 'root-port' | 'upstream-port' | 'downstream-port'
  | 'pcie-to-pci-bridge' | 'pci-to-pcie-bridge' | 'rc-integrated-endpoint' | 'rc-event-collector' | 'reserved';

const PCIE_TYPES: Readonly<Record<number, PcieType>> = {
  0x0: 'endpoint', 0x1: 'legacy-endpoint', 0x4: 'root-port', 0x5: 'upstream-port', 0x6: 'downstream-port',
  0x7: 'pcie-to-pci-bridge', 0x8: 'pci-to-pcie-bridge', 0x9: 'rc-integrated-endpoint', 0xa: 'rc-event-collector',
};

export interface PcieCapability {
  offset: number;
  /** Capability version (flags bits 3:0). */
  version: number;
  /** Device/port type (flags bits 7:4) and its name. */
  typeValue: number;
  type: PcieType;
  /** Slot implemented (flags bit 8): a port with a slot below it. */
  slotImplemented: boolean;
  interruptMessageNumber: number;
  /** Device Capabilities bit 28: Function Level Reset. */
  flr: boolean;
  /** Device Capabilities 2 bit 5 / Device Control 2 bit 5 (version ≥ 2 only). */
  ariForwardingSupported?: boolean;
  ariForwardingEnabled?: boolean;
}

/** ACS capability / control bits (PCIe "ACS Extended Capability"; Linux PCI_ACS_*). */
export interface AcsBits {
  /** Source Validation. */ SV: boolean;
  /** Translation Blocking. */ TB: boolean;
  /** P2P Request Redirect. */ RR: boolean;
  /** P2P Completion Redirect. */ CR: boolean;
  /** Upstream Forwarding. */ UF: boolean;
  /** P2P Egress Control. */ EC: boolean;
  /** Direct Translated P2P. */ DT: boolean;
}

export interface AcsCapability {
  offset: number;
  capabilityRaw: number;
  controlRaw: number;
  capability: AcsBits;
  control: AcsBits;
  /** Egress Control Vector Size (capability bits 15:8; 0 means 256), meaningful with EC. */
  egressVectorSize: number;
}

export interface AtsCapability {
  offset: number;
  /** Invalidate Queue Depth (capability bits 4:0; 0 means 32). */
  invalidateQueueDepth: number;
  pageAlignedRequest: boolean;
  globalInvalidate: boolean;
  /** ATS Enable (control bit 15). Granting nothing by itself: the context entry decides (TT / DTE). */
  enabled: boolean;
  /** Smallest Translation Unit (control bits 4:0): 2^(STU+12) bytes. */
  STU: number;
}

export interface SriovCapability {
  offset: number;
  capabilitiesRaw: number;
  vfEnable: boolean;
  vfMigrationEnable: boolean;
  vfMemorySpaceEnable: boolean;
  ariCapableHierarchy: boolean;
  initialVFs: number;
  totalVFs: number;
  numVFs: number;
  functionDependencyLink: number;
  /** Routing-ID offset of VF 1 from the PF, and the stride between VFs. */
  firstVfOffset: number;
  vfStride: number;
  vfDeviceId: number;
}

export interface PciConfig {
  /** Bytes decoded (64, 256, 4096 — or whatever the source held). */
  size: number;
  header: PciHeader;
  /** False when the standard capability list lies beyond the bytes given. */
  capabilitiesKnown: boolean;
  /** False when extended capabilities may exist beyond the bytes given. */
  extendedKnown: boolean;
  capabilities: CapabilityRef[];
  extendedCapabilities: CapabilityRef[];
  msi?: MsiCapability;
  msix?: MsixCapability;
  pcie?: PcieCapability;
  acs?: AcsCapability;
  ats?: AtsCapability;
  sriov?: SriovCapability;
  warnings: ConfigWarning[];
}

export const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0x01: 'Power Management', 0x02: 'AGP', 0x03: 'VPD', 0x04: 'Slot Identification', 0x05: 'MSI',
  0x06: 'CompactPCI Hot Swap', 0x07: 'PCI-X', 0x08: 'HyperTransport', 0x09: 'Vendor Specific',
  0x0a: 'Debug Port', 0x0b: 'CompactPCI Central Resource Control', 0x0c: 'PCI Hot-Plug',
  0x0d: 'Bridge Subsystem Vendor ID', 0x0e: 'AGP 8x', 0x0f: 'Secure Device', 0x10: 'PCI Express',
  0x11: 'MSI-X', 0x12: 'SATA Data/Index Configuration', 0x13: 'Advanced Features', 0x14: 'Enhanced Allocation',
  0x15: 'Flattening Portal Bridge',
};

export const EXTENDED_CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0x01: 'Advanced Error Reporting', 0x02: 'Virtual Channel', 0x03: 'Device Serial Number', 0x04: 'Power Budgeting',
  0x05: 'Root Complex Link Declaration', 0x06: 'Root Complex Internal Link Control',
  0x07: 'Root Complex Event Collector Endpoint Association', 0x08: 'Multi-Function Virtual Channel',
  0x09: 'Virtual Channel (MFVC)', 0x0a: 'RCRB Header', 0x0b: 'Vendor Specific', 0x0c: 'Configuration Access Correlation',
  0x0d: 'Access Control Services', 0x0e: 'Alternative Routing-ID Interpretation', 0x0f: 'Address Translation Services',
  0x10: 'Single Root I/O Virtualization', 0x11: 'Multi-Root I/O Virtualization', 0x12: 'Multicast',
  0x13: 'Page Request Interface', 0x15: 'Resizable BAR', 0x16: 'Dynamic Power Allocation', 0x17: 'TPH Requester',
  0x18: 'Latency Tolerance Reporting', 0x19: 'Secondary PCI Express', 0x1a: 'Protocol Multiplexing',
  0x1b: 'Process Address Space ID', 0x1c: 'LN Requester', 0x1d: 'Downstream Port Containment',
  0x1e: 'L1 PM Substates', 0x1f: 'Precision Time Measurement', 0x23: 'Designated Vendor-Specific',
  0x24: 'VF Resizable BAR', 0x25: 'Data Link Feature', 0x26: 'Physical Layer 16.0 GT/s', 0x27: 'Lane Margining at the Receiver',
};

export const CAP_ID = { MSI: 0x05, PCIE: 0x10, MSIX: 0x11, PCIX: 0x07 } as const;
export const EXT_CAP_ID = { ACS: 0x0d, ATS: 0x0f, SRIOV: 0x10 } as const;

class Reader {
  private readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  get size(): number {
    return this.b.length;
  }
  fits(offset: number, length: number): boolean {
    return offset >= 0 && offset + length <= this.b.length;
  }
  u8(o: number): number {
    return this.b[o];
  }
  u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
}


function decodeHeader(r: Reader): PciHeader {
  const command = r.u16(0x04);
  const status = r.u16(0x06);
  const htByte = r.u8(0x0e);
  const headerType = htByte & 0x7f;
  const h: PciHeader = {
    vendorId: r.u16(0x00),
    deviceId: r.u16(0x02),
    command,
    status,
    revision: r.u8(0x08),
    classCode: r.u32(0x08) >>> 8,
    headerType,
    multiFunction: (htByte & 0x80) !== 0,
    memorySpace: (command & 0x2) !== 0,
    busMaster: (command & 0x4) !== 0,
    intxDisable: (command & 0x400) !== 0,
    capabilityList: (status & 0x10) !== 0,
  };
  if (h.capabilityList) h.capabilitiesPointer = r.u8(headerType === 2 ? 0x14 : 0x34) & 0xfc;
  if (headerType === 1 || headerType === 2) h.bridge = { primary: r.u8(0x18), secondary: r.u8(0x19), subordinate: r.u8(0x1a) };
  return h;
}

function walkStandard(r: Reader, h: PciHeader, warn: (m: string, o: number) => void): CapabilityRef[] {
  const caps: CapabilityRef[] = [];
  const visited = new Set<number>();
  let ptr = h.capabilitiesPointer ?? 0;
  let from = h.headerType === 2 ? 0x14 : 0x34;
  while (ptr !== 0) {
    if (ptr < PCI_HEADER_BYTES) {
      warn(`capability pointer ${hex(ptr)} points into the header; list ends`, from);
      break;
    }
    if (!r.fits(ptr, 2)) {
      warn(`capability pointer ${hex(ptr)} is outside the ${r.size} bytes read; list ends`, from);
      break;
    }
    if (visited.has(ptr)) {
      warn(`capability list loops back to ${hex(ptr)}; list ends`, from);
      break;
    }
    if (caps.length >= MAX_STD_CAPS) {
      warn(`more than ${MAX_STD_CAPS} capabilities; list cut`, ptr);
      break;
    }
    visited.add(ptr);
    const id = r.u8(ptr);
    if (id === 0xff) {
      warn('capability id 0xff (all-ones: the function did not answer); list ends', ptr);
      break;
    }
    caps.push({ id, name: CAPABILITY_NAMES[id] ?? `capability ${hex(id)}`, offset: ptr });
    from = ptr + 1;
    ptr = r.u8(ptr + 1) & 0xfc;
  }
  return caps;
}

function walkExtended(r: Reader, warn: (m: string, o: number) => void): CapabilityRef[] {
  const caps: CapabilityRef[] = [];
  const first = r.u32(PCI_CONFIG_BYTES);
  // 0: no extended capabilities; all-ones: the function has no extended space (Linux pci_cfg_space_size).
  if (first === 0 || first === 0xffff_ffff) return caps;
  const visited = new Set<number>();
  let pos = PCI_CONFIG_BYTES;
  let from = PCI_CONFIG_BYTES;
  while (pos !== 0) {
    if (pos < PCI_CONFIG_BYTES) {
      warn(`extended capability pointer ${hex(pos)} is below 0x100; list ends`, from);
      break;
    }
    if (!r.fits(pos, 4)) {
      warn(`extended capability pointer ${hex(pos)} is outside the ${r.size} bytes read; list ends`, from);
      break;
    }
    if (visited.has(pos)) {
      warn(`extended capability list loops back to ${hex(pos)}; list ends`, from);
      break;
    }
    if (caps.length >= MAX_EXT_CAPS) break; // unreachable with the visited set; a second bound costs nothing
    visited.add(pos);
    const header = r.u32(pos);
    const id = header & 0xffff;
    if (header === 0xffff_ffff) {
      warn('extended capability header reads all-ones; list ends', pos);
      break;
    }
    caps.push({ id, name: EXTENDED_CAPABILITY_NAMES[id] ?? `extended capability ${hex(id)}`, offset: pos, version: (header >>> 16) & 0xf });
    from = pos;
    pos = (header >>> 20) & 0xffc;
  }
  return caps;
}

function decodeMsiCap(r: Reader, o: number): MsiCapability | string {
  if (!r.fits(o, 4)) return 'MSI capability header';
  const ctl = r.u16(o + 2);
  const address64 = (ctl & 0x80) !== 0;
  const perVectorMasking = (ctl & 0x100) !== 0;
  const extendedDataEnabled = (ctl & 0x400) !== 0;
  const dataAt = address64 ? o + 0x0c : o + 0x08;
  const length = (perVectorMasking ? dataAt + 0x0c : dataAt + (extendedDataEnabled ? 4 : 2)) - o;
  if (!r.fits(o, length)) return `MSI capability (${length} bytes)`;
  const addressLo = r.u32(o + 4);
  const addressHi = address64 ? r.u32(o + 8) : 0;
  const address = (BigInt(addressHi) << 32n) | BigInt(addressLo);
  const data = extendedDataEnabled ? r.u32(dataAt) : r.u16(dataAt);
  const cap: MsiCapability = {
    offset: o,
    enabled: (ctl & 1) !== 0,
    multipleMessageCapable: 2 ** ((ctl >> 1) & 7),
    multipleMessageEnabled: 2 ** ((ctl >> 4) & 7),
    address64,
    perVectorMasking,
    extendedDataCapable: (ctl & 0x200) !== 0,
    extendedDataEnabled,
    addressLo,
    addressHi,
    address,
    data,
    remappable: false,
  };
  if (perVectorMasking) {
    cap.maskBits = r.u32(dataAt + 4);
    cap.pendingBits = r.u32(dataAt + 8);
  }
  if (isInterruptAddress(address)) {
    cap.message = decodeMsi(address, data);
    cap.remappable = cap.message.format === 'remappable';
  }
  return cap;
}

function decodeMsixCap(r: Reader, o: number): MsixCapability | string {
  if (!r.fits(o, 12)) return 'MSI-X capability (12 bytes)';
  const ctl = r.u16(o + 2);
  const table = r.u32(o + 4);
  const pba = r.u32(o + 8);
  return {
    offset: o,
    enabled: (ctl & 0x8000) !== 0,
    functionMask: (ctl & 0x4000) !== 0,
    tableSize: (ctl & 0x7ff) + 1,
    tableBir: table & 7,
    tableOffset: (table & ~7) >>> 0,
    pbaBir: pba & 7,
    pbaOffset: (pba & ~7) >>> 0,
  };
}

function decodePcieCap(r: Reader, o: number): PcieCapability | string {
  if (!r.fits(o, 8)) return 'PCI Express capability (8 bytes)';
  const flags = r.u16(o + 2);
  const typeValue = (flags >> 4) & 0xf;
  const version = flags & 0xf;
  const cap: PcieCapability = {
    offset: o,
    version,
    typeValue,
    type: PCIE_TYPES[typeValue] ?? 'reserved',
    slotImplemented: (flags & 0x100) !== 0,
    interruptMessageNumber: (flags >> 9) & 0x1f,
    flr: (r.u32(o + 4) & 0x1000_0000) !== 0,
  };
  // Device Capabilities 2 / Control 2 exist from capability version 2 on.
  if (version >= 2 && r.fits(o + 0x24, 8)) {
    cap.ariForwardingSupported = (r.u32(o + 0x24) & 0x20) !== 0;
    cap.ariForwardingEnabled = (r.u16(o + 0x28) & 0x20) !== 0;
  }
  return cap;
}

function acsBits(v: number): AcsBits {
  return {
    SV: (v & 0x01) !== 0, TB: (v & 0x02) !== 0, RR: (v & 0x04) !== 0, CR: (v & 0x08) !== 0,
    UF: (v & 0x10) !== 0, EC: (v & 0x20) !== 0, DT: (v & 0x40) !== 0,
  };
}

function decodeAcsCap(r: Reader, o: number): AcsCapability | string {
  if (!r.fits(o, 8)) return 'ACS capability (8 bytes)';
  const capabilityRaw = r.u16(o + 4);
  const controlRaw = r.u16(o + 6);
  const size = capabilityRaw >> 8;
  return {
    offset: o, capabilityRaw, controlRaw,
    capability: acsBits(capabilityRaw),
    control: acsBits(controlRaw),
    egressVectorSize: size === 0 ? 256 : size,
  };
}

function decodeAtsCap(r: Reader, o: number): AtsCapability | string {
  if (!r.fits(o, 8)) return 'ATS capability (8 bytes)';
  const cap = r.u16(o + 4);
  const ctl = r.u16(o + 6);
  const depth = cap & 0x1f;
  return {
    offset: o,
    invalidateQueueDepth: depth === 0 ? 32 : depth,
    pageAlignedRequest: (cap & 0x20) !== 0,
    globalInvalidate: (cap & 0x40) !== 0,
    enabled: (ctl & 0x8000) !== 0,
    STU: ctl & 0x1f,
  };
}

function decodeSriovCap(r: Reader, o: number): SriovCapability | string {
  if (!r.fits(o, 0x1c)) return 'SR-IOV capability (0x1c bytes)';
  const ctl = r.u16(o + 0x08);
  return {
    offset: o,
    capabilitiesRaw: r.u32(o + 0x04),
    vfEnable: (ctl & 0x01) !== 0,
    vfMigrationEnable: (ctl & 0x02) !== 0,
    vfMemorySpaceEnable: (ctl & 0x08) !== 0,
    ariCapableHierarchy: (ctl & 0x10) !== 0,
    initialVFs: r.u16(o + 0x0c),
    totalVFs: r.u16(o + 0x0e),
    numVFs: r.u16(o + 0x10),
    functionDependencyLink: r.u8(o + 0x12),
    firstVfOffset: r.u16(o + 0x14),
    vfStride: r.u16(o + 0x16),
    vfDeviceId: r.u16(o + 0x1a),
  };
}

/** Decode a function's configuration space. Throws RangeError for fewer than 64 bytes. */
export function decodePciConfig(bytes: Uint8Array): PciConfig {
  if (bytes.length < PCI_HEADER_BYTES) throw new RangeError(`${bytes.length} bytes of configuration space: at least the 64-byte header is needed`);
  const r = new Reader(bytes.length > PCIE_CONFIG_BYTES ? bytes.subarray(0, PCIE_CONFIG_BYTES) : bytes);
  const warnings: ConfigWarning[] = [];
  const warn = (message: string, offset: number): void => {
    warnings.push({ message, offset });
  };
  if (bytes.length > PCIE_CONFIG_BYTES) warn(`${bytes.length} bytes given; configuration space is 4096 bytes, the rest is ignored`, PCIE_CONFIG_BYTES);

  const header = decodeHeader(r);
  if (header.vendorId === 0xffff) warn('vendor id 0xffff: no function answered (the read returned all-ones)', 0);
  if (header.headerType > 2) warn(`header type ${header.headerType} is reserved (0 endpoint, 1 bridge, 2 CardBus)`, 0x0e);

  const out: PciConfig = {
    size: r.size, header, capabilitiesKnown: true, extendedKnown: true, capabilities: [], extendedCapabilities: [], warnings,
  };

  if (header.capabilityList && r.size < PCI_CONFIG_BYTES) {
    // The list starts at 0x40 or later: a 64-byte read cannot show it. Unknown, not absent.
    out.capabilitiesKnown = false;
  } else if (header.capabilityList) {
    out.capabilities = walkStandard(r, header, warn);
  }

  const decodeOnce = <T>(what: string, at: number, result: T | string, current: T | undefined): T | undefined => {
    if (typeof result === 'string') {
      warn(`${result} at ${hex(at)} runs past the ${r.size} bytes read`, at);
      return current;
    }
    if (current !== undefined) {
      warn(`a second ${what} capability at ${hex(at)} (the first is used)`, at);
      return current;
    }
    return result;
  };
  for (const c of out.capabilities) {
    if (c.id === CAP_ID.MSI) out.msi = decodeOnce('MSI', c.offset, decodeMsiCap(r, c.offset), out.msi);
    else if (c.id === CAP_ID.MSIX) out.msix = decodeOnce('MSI-X', c.offset, decodeMsixCap(r, c.offset), out.msix);
    else if (c.id === CAP_ID.PCIE) out.pcie = decodeOnce('PCI Express', c.offset, decodePcieCap(r, c.offset), out.pcie);
  }

  // Extended space exists for PCIe (and PCI-X mode 2) functions. Without the standard list we
  // cannot tell which this is, so with fewer than 4096 bytes the extended list is unknown unless
  // the function is known to be conventional PCI.
  const maybeExtended = !out.capabilitiesKnown || out.pcie !== undefined || out.capabilities.some((c) => c.id === CAP_ID.PCIX);
  if (r.size < PCIE_CONFIG_BYTES) {
    out.extendedKnown = !maybeExtended;
  } else {
    out.extendedCapabilities = walkExtended(r, warn);
  }
  for (const c of out.extendedCapabilities) {
    if (c.id === EXT_CAP_ID.ACS) out.acs = decodeOnce('ACS', c.offset, decodeAcsCap(r, c.offset), out.acs);
    else if (c.id === EXT_CAP_ID.ATS) out.ats = decodeOnce('ATS', c.offset, decodeAtsCap(r, c.offset), out.ats);
    else if (c.id === EXT_CAP_ID.SRIOV) out.sriov = decodeOnce('SR-IOV', c.offset, decodeSriovCap(r, c.offset), out.sriov);
  }
  return out;
}
