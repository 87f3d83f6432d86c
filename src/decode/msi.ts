/**
 * MSI address/data pairs as the remapping hardware reads them (VT-d spec §5.1.2 "Interrupt
 * Request Formats On Intel 64 Platforms": §5.1.2.1 compatibility format, §5.1.2.2 remappable
 * format). An interrupt request is a DWORD write to 0xFEEx_xxxx; address bit 4 (Interrupt
 * Format) tells the two apart.
 *
 * Compatibility (bit 4 = 0):  address 19:12 Destination ID · 11:5 reserved · 3 RH · 2 DM;
 *                             data 7:0 vector · 10:8 delivery mode · 14 level · 15 trigger mode.
 * Remappable (bit 4 = 1):     address 19:5 handle[14:0] · 3 SHV · 2 handle[15];
 *                             data 15:0 subhandle (used when SHV = 1) · 31:16 reserved.
 *   interrupt_index = SHV ? handle + subhandle : handle      (the spec's pseudo-code, §5.1.2.2)
 * Address bits 1:0 are ignored in both formats.
 */
import { hex } from '../util/hex.js';

/** The interrupt address window: 0xFEE0_0000–0xFEEF_FFFF, bits 63:32 zero. */
export const MSI_WINDOW_BASE = 0xfee0_0000;
export const MSI_WINDOW_SIZE = 0x10_0000;

export function isInterruptAddress(address: number | bigint): boolean {
  const a = typeof address === 'bigint' ? address : BigInt(address);
  return a >= BigInt(MSI_WINDOW_BASE) && a < BigInt(MSI_WINDOW_BASE + MSI_WINDOW_SIZE);
}

/** Delivery modes of the compatibility-format data word (bits 10:8); 3 and 6 are reserved. */
const MSI_DELIVERY_MODES: readonly string[] = ['fixed', 'lowest-priority', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];

export interface CompatibilityMsi {
  format: 'compatibility';
  /** The low 32 address bits and the data word, as given. */
  address: number;
  data: number;
  /** Destination ID (address bits 19:12): an xAPIC id. */
  destinationId: number;
  /** Redirection hint (address bit 3) and destination mode (bit 2: false physical, true logical). */
  RH: boolean;
  DM: boolean;
  /** Address bits 11:5 (reserved in this format; some hypervisors put extended destination bits here). */
  addressReserved: number;
  vector: number;
  /** Delivery mode (data bits 10:8) and its name. */
  deliveryModeValue: number;
  deliveryMode: string;
  /** Trigger mode (data bit 15): false edge, true level; and the level bit (14). */
  levelTriggered: boolean;
  level: boolean;
}

export interface RemappableMsi {
  format: 'remappable';
  address: number;
  data: number;
  /** 16-bit handle: address bits 19:5 are handle[14:0], address bit 2 is handle[15]. */
  handle: number;
  /** Subhandle valid (address bit 3). */
  SHV: boolean;
  /** Data bits 15:0 when SHV is set, else undefined (the hardware ignores them). */
  subhandle: number | undefined;
  /** The IRTE index the request names (handle + subhandle with SHV; may exceed 16 bits). */
  interruptIndex: number;
  /** Data bits 31:16 (reserved in this format; QEMU faults 0x20 on them when SHV is set). */
  dataReserved: number;
}

export type DecodedMsi = CompatibilityMsi | RemappableMsi;

/**
 * Decode an MSI address/data pair. Throws RangeError when the address is not in the interrupt
 * window (such a write is an ordinary DMA write, translated like any other) or the data word is
 * not a 32-bit value.
 */
export function decodeMsi(address: number | bigint, data: number): DecodedMsi {
  if (!isInterruptAddress(address)) {
    throw new RangeError(`MSI address ${hex(address)} is outside the interrupt window 0xfee00000-0xfeefffff`);
  }
  if (!Number.isInteger(data) || data < 0 || data > 0xffff_ffff) throw new RangeError(`MSI data ${data} is not a 32-bit value`);
  const a = Number(address);
  if ((a & 0x10) === 0) {
    const dlm = (data >>> 8) & 7;
    return {
      format: 'compatibility',
      address: a,
      data,
      destinationId: (a >>> 12) & 0xff,
      RH: (a & 0x8) !== 0,
      DM: (a & 0x4) !== 0,
      addressReserved: (a >>> 5) & 0x7f,
      vector: data & 0xff,
      deliveryModeValue: dlm,
      deliveryMode: MSI_DELIVERY_MODES[dlm],
      levelTriggered: (data & 0x8000) !== 0,
      level: (data & 0x4000) !== 0,
    };
  }
  const handle = ((a >>> 5) & 0x7fff) | (((a >>> 2) & 1) << 15);
  const SHV = (a & 0x8) !== 0;
  const subhandle = SHV ? data & 0xffff : undefined;
  return {
    format: 'remappable',
    address: a,
    data,
    handle,
    SHV,
    subhandle,
    interruptIndex: subhandle === undefined ? handle : handle + subhandle,
    dataReserved: data >>> 16,
  };
}

