/**
 * Configuration space for generated samples: the header, a PCI Express capability at 0x40 and an
 * ACS extended capability at 0x100 — just what the isolation checks read — written as
 * `lspci -xxxx` does (pciutils show_hex_dump). Layouts: PCI Local Bus 3.0 §6.1, PCIe Base §7.5.3
 * and §7.7.8 (Linux pci_regs.h: PCI_EXP_FLAGS_TYPE, PCI_ACS_CAP/CTRL).
 */
import { parseBdf } from '../util/bdf.js';
import { remappableMsi } from './ir-encode.js';
import type { ScenarioDevice } from './scenario.js';

const PCIE_TYPE = { endpoint: 0x0, 'root-port': 0x4, 'upstream-port': 0x5, 'downstream-port': 0x6 } as const;
export type ScenarioPcieType = keyof typeof PCIE_TYPE;

export interface ScenarioConfig {
  type: ScenarioPcieType;
  multiFunction?: boolean;
  /** ACS capability and control registers (16 bits each, hex); none: no ACS capability. */
  acs?: { cap: string; ctrl: string };
  /** Bridges: secondary and subordinate bus. */
  buses?: [number, number];
  /** An enabled MSI capability (at 0x50) in remappable format naming IRTE `irte`. */
  msi?: { irte: number };
}

export function encodePciConfig(dev: ScenarioDevice, c: ScenarioConfig): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  const bridge = c.type !== 'endpoint';
  const cls = Number(dev.class);
  v.setUint16(0x00, Number(dev.vendor), true);
  v.setUint16(0x02, Number(dev.device), true);
  v.setUint16(0x04, 0x0406, true); // memory space, bus master, INTx disable
  v.setUint16(0x06, 0x0010, true); // capability list
  b[0x09] = cls & 0xff;
  b[0x0a] = (cls >> 8) & 0xff;
  b[0x0b] = (cls >> 16) & 0xff;
  b[0x0e] = (bridge ? 1 : 0) | (c.multiFunction ? 0x80 : 0);
  b[0x34] = 0x40;
  if (bridge) {
    b[0x18] = parseBdf(dev.bdf).bus;
    b[0x19] = c.buses?.[0] ?? 0;
    b[0x1a] = c.buses?.[1] ?? 0;
  }
  b[0x40] = 0x10; // PCI Express capability
  if (c.msi) {
    b[0x41] = 0x50;
    const m = remappableMsi(c.msi.irte);
    b[0x50] = 0x05; // MSI, last in the list
    v.setUint16(0x52, 0x0001, true); // enabled, one vector, 32-bit address
    v.setUint32(0x54, m.address, true);
    v.setUint16(0x58, m.data, true);
  }
  v.setUint16(0x42, 0x2 | (PCIE_TYPE[c.type] << 4), true);
  if (c.acs) {
    v.setUint32(0x100, 0x000d | (1 << 16), true); // ACS, version 1, no next
    v.setUint16(0x104, Number(c.acs.cap), true);
    v.setUint16(0x106, Number(c.acs.ctrl), true);
  }
  return b;
}
