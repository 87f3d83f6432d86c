/**
 * Real configuration spaces (test/fixtures/pci, see its README) decoded by us and by pciutils:
 * the expected side is parsed out of `lspci -vvv` text with regexes in this file, so the two
 * decoders are independent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePciConfig, type PciConfig, type PcieType } from '../../src/decode/pci-config.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pci');

interface LspciDevice {
  bdf: string;
  lines: string[];
}

/** lspci -vvv blocks: a device line `BB:DD.F …` then its tab-indented lines. */
function lspciBlocks(text: string): LspciDevice[] {
  const out: LspciDevice[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(line);
    if (m) out.push({ bdf: m[1], lines: [] });
    else if (line.startsWith('\t') && out.length > 0) out[out.length - 1].lines.push(line);
  }
  return out;
}

const plus = (s: string): boolean => s === '+';
function find(d: LspciDevice, re: RegExp): RegExpExecArray | undefined {
  for (const l of d.lines) {
    const m = re.exec(l);
    if (m) return m;
  }
  return undefined;
}

const LSPCI_TYPES: Record<string, PcieType> = {
  'Endpoint': 'endpoint', 'Legacy Endpoint': 'legacy-endpoint', 'Root Port': 'root-port', 'Upstream Port': 'upstream-port',
  'Downstream Port': 'downstream-port', 'PCI-Express to PCI/PCI-X Bridge': 'pcie-to-pci-bridge',
  'PCI/PCI-X to PCI-Express Bridge': 'pci-to-pcie-bridge', 'Root Complex Integrated Endpoint': 'rc-integrated-endpoint',
  'Root Complex Event Collector': 'rc-event-collector',
};

/** Compare everything lspci says that we decode too; returns how many facts were compared. */
function compare(c: PciConfig, d: LspciDevice): number {
  let n = 0;
  const ctl = find(d, /^\tControl: .*Mem([+-]) BusMaster([+-]) .*DisINTx([+-])/);
  if (ctl) {
    expect([c.header.memorySpace, c.header.busMaster, c.header.intxDisable], `${d.bdf} Control`).toEqual([plus(ctl[1]), plus(ctl[2]), plus(ctl[3])]);
    n++;
  }
  const sta = find(d, /^\tStatus: Cap([+-])/);
  if (sta) {
    expect(c.header.capabilityList, `${d.bdf} Status.Cap`).toBe(plus(sta[1]));
    n++;
  }
  const bus = find(d, /^\tBus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2}), subordinate=([0-9a-f]{2})/);
  if (bus) {
    expect(c.header.bridge, `${d.bdf} Bus`).toEqual({ primary: parseInt(bus[1], 16), secondary: parseInt(bus[2], 16), subordinate: parseInt(bus[3], 16) });
    n++;
  }

  // The capability list, standard then extended, in list order.
  const caps = d.lines.map((l) => /^\tCapabilities: \[([0-9a-f]+)(?: v(\d+))?\]/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  expect([...c.capabilities, ...c.extendedCapabilities].map((x) => x.offset), `${d.bdf} capability offsets`).toEqual(caps.map((m) => parseInt(m[1], 16)));
  expect(c.extendedCapabilities.map((x) => x.version), `${d.bdf} extended versions`).toEqual(caps.filter((m) => m[2] !== undefined).map((m) => Number(m[2])));
  n++;

  const msi = find(d, /^\tCapabilities: \[[0-9a-f]+\] MSI: Enable([+-]) Count=(\d+)\/(\d+) Maskable([+-]) 64bit([+-])/);
  expect(c.msi !== undefined, `${d.bdf} has MSI`).toBe(msi !== undefined);
  if (msi && c.msi) {
    expect([c.msi.enabled, c.msi.multipleMessageEnabled, c.msi.multipleMessageCapable, c.msi.perVectorMasking, c.msi.address64], `${d.bdf} MSI`)
      .toEqual([plus(msi[1]), Number(msi[2]), Number(msi[3]), plus(msi[4]), plus(msi[5])]);
    const addr = find(d, /^\t\tAddress: ([0-9a-f]+)\s+Data: ([0-9a-f]{4})/);
    expect([c.msi.address, c.msi.data], `${d.bdf} MSI address/data`).toEqual([BigInt('0x' + addr![1]), parseInt(addr![2], 16)]);
    n++;
  }

  const msix = find(d, /^\tCapabilities: \[[0-9a-f]+\] MSI-X: Enable([+-]) Count=(\d+) Masked([+-])/);
  expect(c.msix !== undefined, `${d.bdf} has MSI-X`).toBe(msix !== undefined);
  if (msix && c.msix) {
    const table = find(d, /^\t\tVector table: BAR=(\d) offset=([0-9a-f]{8})/)!;
    const pba = find(d, /^\t\tPBA: BAR=(\d) offset=([0-9a-f]{8})/)!;
    expect([c.msix.enabled, c.msix.tableSize, c.msix.functionMask, c.msix.tableBir, c.msix.tableOffset, c.msix.pbaBir, c.msix.pbaOffset], `${d.bdf} MSI-X`)
      .toEqual([plus(msix[1]), Number(msix[2]), plus(msix[3]), Number(table[1]), parseInt(table[2], 16), Number(pba[1]), parseInt(pba[2], 16)]);
    n++;
  }

  const exp = find(d, /^\tCapabilities: \[[0-9a-f]+\] Express \(v(\d)\) (.+?)(?: \(Slot([+-])\))?, MSI ([0-9a-f]{2})$/);
  expect(c.pcie !== undefined, `${d.bdf} has PCIe`).toBe(exp !== undefined);
  if (exp && c.pcie) {
    expect([c.pcie.version, c.pcie.type, c.pcie.slotImplemented, c.pcie.interruptMessageNumber], `${d.bdf} PCIe`)
      .toEqual([Number(exp[1]), LSPCI_TYPES[exp[2]], exp[3] === '+', parseInt(exp[4], 16)]);
    // lspci prints FLReset in DevCap (the line after "DevCap:") for endpoints only.
    const i = d.lines.findIndex((l) => /^\t\tDevCap:/.test(l));
    const flr = /FLReset([+-])/.exec(`${d.lines[i]} ${d.lines[i + 1]}`);
    if (flr) expect(c.pcie.flr, `${d.bdf} FLR`).toBe(plus(flr[1]));
    const ari = find(d, /^\t\t\s*FRS.*ARIFwd([+-])$/);
    if (ari) expect(c.pcie.ariForwardingSupported, `${d.bdf} ARIFwd`).toBe(plus(ari[1]));
    n++;
  }

  const acsCap = find(d, /^\t\tACSCap:\s+SrcValid([+-]) TransBlk([+-]) ReqRedir([+-]) CmpltRedir([+-]) UpstreamFwd([+-]) EgressCtrl([+-]) DirectTrans([+-])/);
  const acsCtl = find(d, /^\t\tACSCtl:\s+SrcValid([+-]) TransBlk([+-]) ReqRedir([+-]) CmpltRedir([+-]) UpstreamFwd([+-]) EgressCtrl([+-]) DirectTrans([+-])/);
  expect(c.acs !== undefined, `${d.bdf} has ACS`).toBe(acsCap !== undefined);
  if (acsCap && acsCtl && c.acs) {
    const bitsOf = (m: RegExpExecArray) => ({ SV: plus(m[1]), TB: plus(m[2]), RR: plus(m[3]), CR: plus(m[4]), UF: plus(m[5]), EC: plus(m[6]), DT: plus(m[7]) });
    expect(c.acs.capability, `${d.bdf} ACSCap`).toEqual(bitsOf(acsCap));
    expect(c.acs.control, `${d.bdf} ACSCtl`).toEqual(bitsOf(acsCtl));
    n++;
  }

  const atsCap = find(d, /^\t\tATSCap:\s+Invalidate Queue Depth: ([0-9a-f]{2})/);
  const atsCtl = find(d, /^\t\tATSCtl:\s+Enable([+-]), Smallest Translation Unit: ([0-9a-f]{2})/);
  expect(c.ats !== undefined, `${d.bdf} has ATS`).toBe(atsCap !== undefined);
  if (atsCap && atsCtl && c.ats) {
    const depth = parseInt(atsCap[1], 16); // lspci prints the raw field; 0 encodes 32
    expect([c.ats.invalidateQueueDepth, c.ats.enabled, c.ats.STU], `${d.bdf} ATS`).toEqual([depth === 0 ? 32 : depth, plus(atsCtl[1]), parseInt(atsCtl[2], 16)]);
    n++;
  }
  return n;
}

function loadSet(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of readdirSync(path.join(FIXTURES, dir))) {
    if (/^[0-9a-f]{4}:/.test(name)) out.set(name.slice(5), readFileSync(path.join(FIXTURES, dir, name, 'config')));
  }
  return out;
}

describe('QEMU q35 + intel-iommu (Linux 6.1): our decoding = pciutils 3.9 on the same bytes', () => {
  const bytes = loadSet('qemu-q35-vtd');
  const blocks = lspciBlocks(readFileSync(path.join(FIXTURES, 'qemu-q35-vtd/lspci-F-vvv.txt'), 'utf8'));

  it('twelve functions, each compared', () => {
    expect(blocks.map((b) => b.bdf)).toEqual([...bytes.keys()].sort());
    let facts = 0;
    for (const b of blocks) {
      const c = decodePciConfig(bytes.get(b.bdf)!);
      expect(c.warnings, b.bdf).toEqual([]);
      facts += compare(c, b);
    }
    expect(facts).toBeGreaterThan(50);
  });

  it('the facts the later checks rely on, spelled out', () => {
    const dec = (bdf: string) => decodePciConfig(bytes.get(bdf)!);
    for (const rp of ['00:02.0', '00:03.0', '00:04.0']) {
      const c = dec(rp);
      expect(c.pcie?.type).toBe('root-port');
      expect(c.acs?.capabilityRaw).toBe(0x5f);
      expect(c.acs?.controlRaw).toBe(0x1d); // SV RR CR UF: what Linux's pci_enable_acs sets
    }
    expect(dec('00:04.0').header.bridge).toEqual({ primary: 0, secondary: 3, subordinate: 5 });
    expect(dec('03:00.0').pcie?.type).toBe('upstream-port');
    expect(dec('04:00.0').pcie?.type).toBe('downstream-port');
    expect(dec('04:00.0').acs).toBeUndefined(); // QEMU's XIO3130 downstream port has no ACS
    expect(dec('02:00.0').ats).toMatchObject({ enabled: false });
    const e1000e = dec('01:00.0');
    expect([e1000e.pcie?.type, e1000e.pcie?.version, e1000e.msi?.enabled, e1000e.msix?.enabled, e1000e.msix?.tableSize]).toEqual(['endpoint', 1, false, true, 5]);
    // Conventional functions read to 256 bytes: no extended space to be unknown.
    expect([dec('00:1f.2').capabilitiesKnown, dec('00:1f.2').extendedKnown]).toEqual([true, true]);
    // PCIe functions read to 4096 bytes: everything known.
    expect([e1000e.capabilitiesKnown, e1000e.extendedKnown]).toEqual([true, true]);
  });

  it('the same bytes cut to 64 (a read without root): capabilities unknown, not absent', () => {
    const c = decodePciConfig(bytes.get('01:00.0')!.slice(0, 64));
    expect([c.capabilitiesKnown, c.extendedKnown, c.capabilities.length, c.msix]).toEqual([false, false, 0, undefined]);
  });
});

describe('a cloud VM\'s virtio functions: our decoding = lspci -vvv on the same machine', () => {
  const bytes = loadSet('host-virtio');
  const blocks = lspciBlocks(readFileSync(path.join(FIXTURES, 'host-virtio/lspci-vvv.txt'), 'utf8'));
  it('six functions, each compared', () => {
    expect(blocks.map((b) => b.bdf)).toEqual([...bytes.keys()].sort());
    for (const b of blocks) {
      const c = decodePciConfig(bytes.get(b.bdf)!);
      expect(c.warnings, b.bdf).toEqual([]);
      compare(c, b);
    }
    const balloon = decodePciConfig(bytes.get('00:01.0')!);
    expect(balloon.msix).toMatchObject({ enabled: true, tableSize: 5, tableBir: 0, tableOffset: 0x8000, pbaOffset: 0x48000 });
    expect(balloon.capabilities.filter((x) => x.id === 0x09)).toHaveLength(5);
  });
});
