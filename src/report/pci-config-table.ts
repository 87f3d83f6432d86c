/**
 * The configuration-space section of `decode`'s table: one row per function whose configuration
 * space the capture holds — what it is (PCIe port type, or conventional PCI), its MSI (off, a
 * compatibility-format vector, or the IRTE index a remappable one names), MSI-X (entries and
 * where the table lives; the table itself is device memory, not captured), the ACS bits that
 * isolate it (enabled of implemented), ATS, SR-IOV, and the isolation group it falls in
 * (src/model/isolation.ts). A function read only to its 64-byte header says its capabilities are
 * unknown rather than showing none.
 */
import type { AcsBits, PciConfig } from '../decode/pci-config.js';
import { isolationGroups } from '../model/isolation.js';
import type { PciFunction, Snapshot } from '../model/types.js';
import { hex } from '../util/hex.js';
import { columns, plural } from './format.js';
import { byCodeUnits } from '../util/compare.js';

const ACS_ORDER: readonly (keyof AcsBits)[] = ['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT'];
const UNKNOWN = '?';

function kindText(c: PciConfig): string {
  if (c.pcie !== undefined) return c.pcie.type;
  if (!c.capabilitiesKnown) return c.header.headerType === 1 ? 'bridge' : 'function';
  return c.header.headerType === 1 ? 'PCI bridge' : c.header.headerType === 2 ? 'CardBus bridge' : 'PCI';
}

function msiText(c: PciConfig): string {
  const m = c.msi;
  if (m === undefined) return c.capabilitiesKnown ? '-' : UNKNOWN;
  if (!m.enabled) return 'off';
  const msg = m.message;
  if (msg === undefined) return `on, address ${hex(m.address)} outside 0xfeexxxxx`;
  if (msg.format === 'remappable') return `remappable, IRTE ${msg.interruptIndex}${m.multipleMessageEnabled > 1 ? ` (+${m.multipleMessageEnabled - 1})` : ''}`;
  return `compatibility, vector ${hex(msg.vector)}`;
}

function msixText(c: PciConfig): string {
  const x = c.msix;
  if (x === undefined) return c.capabilitiesKnown ? '-' : UNKNOWN;
  return `${x.enabled ? 'on' : 'off'}, ${x.tableSize} in BAR${x.tableBir} + ${hex(x.tableOffset)}`;
}

/** "RR CR UF (of SV RR CR UF)": the enabled bits, then the implemented ones. */
function acsText(c: PciConfig): string {
  const a = c.acs;
  if (a === undefined) return c.extendedKnown ? '-' : UNKNOWN;
  const names = (bits: AcsBits): string => ACS_ORDER.filter((b) => bits[b]).join(' ') || 'none';
  return `${names(a.control)} (of ${names(a.capability)})`;
}

function extendedText(c: PciConfig, what: 'ats' | 'sriov'): string {
  if (what === 'ats') return c.ats === undefined ? (c.extendedKnown ? '-' : UNKNOWN) : c.ats.enabled ? 'on' : 'off';
  const s = c.sriov;
  if (s === undefined) return c.extendedKnown ? '-' : UNKNOWN;
  return `${s.vfEnable ? s.numVFs : 0}/${s.totalVFs} VFs`;
}

/** The section's lines; none when the capture holds no configuration space. */
export function pciConfigLines(s: Snapshot): string[] {
  const withConfig = s.devices.filter((d): d is PciFunction & { config: PciConfig } => d.config !== undefined);
  if (withConfig.length === 0) return [];
  const groups = isolationGroups(s);
  const headerOnly = withConfig.filter((d) => !d.config.capabilitiesKnown).length;
  const out = [`Configuration space: ${plural(withConfig.length, 'function')}${headerOnly ? `, ${headerOnly} with only the 64-byte header (capabilities unknown: read as root)` : ''}`];
  const rows = [['BDF', 'type', 'MSI', 'MSI-X', 'ACS enabled (of implemented)', 'ATS', 'SR-IOV', 'isolation group']];
  for (const d of [...withConfig].sort((a, b) => byCodeUnits(a.bdf, b.bdf))) {
    const c = d.config;
    const group = groups.unknown.has(d.bdf) ? UNKNOWN : (groups.groupOf.get(d.bdf) ?? UNKNOWN);
    rows.push([d.bdf, kindText(c), msiText(c), msixText(c), acsText(c), extendedText(c, 'ats'), extendedText(c, 'sriov'), group]);
  }
  out.push(...columns(rows, { indent: '    ' }));
  if (withConfig.some((d) => !d.config.capabilitiesKnown || !d.config.extendedKnown)) {
    out.push(`    (${UNKNOWN}: not in the bytes captured; - : the function has none)`);
  }
  return out;
}
