/**
 * A function's decoded configuration space in decode JSON (`devices[].config`): the capabilities
 * that decide what an assigned device can reach beyond DMA — MSI (remappable or not), MSI-X, the
 * PCIe port type, ACS, ATS, SR-IOV. Addresses and raw registers are hex strings, like the rest of
 * the model JSON; capabilities the dump does not hold are null (see capabilitiesKnown).
 */
import type { AcsBits, CapabilityRef, PciConfig } from '../decode/pci-config.js';
import type { Source } from '../model/types.js';
import { hex } from '../util/hex.js';
import { sourceToJson } from './format.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const capRef = (c: CapabilityRef): Json => ({ id: hex(c.id), name: c.name, offset: hex(c.offset), ...(c.version !== undefined ? { version: c.version } : {}) });
const acsBits = (b: AcsBits): Json => ({ SV: b.SV, TB: b.TB, RR: b.RR, CR: b.CR, UF: b.UF, EC: b.EC, DT: b.DT });

export function pciConfigToJson(c: PciConfig, source: Source | undefined): Json {
  const h = c.header;
  return {
    size: c.size,
    source: source === undefined ? null : sourceToJson(source),
    header: {
      vendor: hex(h.vendorId), device: hex(h.deviceId), class: hex(h.classCode), headerType: h.headerType, multiFunction: h.multiFunction,
      busMaster: h.busMaster, memorySpace: h.memorySpace, intxDisable: h.intxDisable,
      bridge: h.bridge === undefined ? null : { primary: h.bridge.primary, secondary: h.bridge.secondary, subordinate: h.bridge.subordinate },
    },
    capabilitiesKnown: c.capabilitiesKnown,
    extendedKnown: c.extendedKnown,
    capabilities: c.capabilities.map(capRef),
    extendedCapabilities: c.extendedCapabilities.map(capRef),
    msi: c.msi === undefined ? null : {
      offset: hex(c.msi.offset), enabled: c.msi.enabled, address: hex(c.msi.address), data: hex(c.msi.data),
      vectorsCapable: c.msi.multipleMessageCapable, vectorsEnabled: c.msi.multipleMessageEnabled,
      remappable: c.msi.remappable,
      format: c.msi.message?.format ?? null,
      handle: c.msi.message?.format === 'remappable' ? c.msi.message.handle : null,
      subhandle: c.msi.message?.format === 'remappable' ? c.msi.message.subhandle ?? null : null,
      interruptIndex: c.msi.message?.format === 'remappable' ? c.msi.message.interruptIndex : null,
      vector: c.msi.message?.format === 'compatibility' ? c.msi.message.vector : null,
    },
    msix: c.msix === undefined ? null : {
      offset: hex(c.msix.offset), enabled: c.msix.enabled, functionMask: c.msix.functionMask, tableSize: c.msix.tableSize,
      tableBir: c.msix.tableBir, tableOffset: hex(c.msix.tableOffset), pbaBir: c.msix.pbaBir, pbaOffset: hex(c.msix.pbaOffset),
    },
    pcie: c.pcie === undefined ? null : {
      offset: hex(c.pcie.offset), version: c.pcie.version, type: c.pcie.type, slotImplemented: c.pcie.slotImplemented, flr: c.pcie.flr,
      ariForwardingEnabled: c.pcie.ariForwardingEnabled ?? null,
    },
    acs: c.acs === undefined ? null : {
      offset: hex(c.acs.offset), capability: acsBits(c.acs.capability), control: acsBits(c.acs.control),
      capabilityRaw: hex(c.acs.capabilityRaw), controlRaw: hex(c.acs.controlRaw),
    },
    ats: c.ats === undefined ? null : { offset: hex(c.ats.offset), enabled: c.ats.enabled, STU: c.ats.STU, invalidateQueueDepth: c.ats.invalidateQueueDepth },
    sriov: c.sriov === undefined ? null : {
      offset: hex(c.sriov.offset), vfEnable: c.sriov.vfEnable, totalVFs: c.sriov.totalVFs, numVFs: c.sriov.numVFs,
      firstVfOffset: c.sriov.firstVfOffset, vfStride: c.sriov.vfStride, vfDeviceId: hex(c.sriov.vfDeviceId),
    },
  };
}
