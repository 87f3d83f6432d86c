/**
 * A hand-built Snapshot and findings for the reporter tests. Raw entry values are composed from
 * the spec's bit layouts (docs/vtd-formats.md) so the numbers mean what the fields say:
 *   legacy context lo = SLPTPTR | TT << 2 | FPD << 1 | P;  hi = DID << 8 | AW;
 *   PASID q0 = SLPTPTR | PGTT << 6 | AW << 2 | P;  q1 = DID.
 */
import type { CheckMeta, Finding } from '../../src/checks/types.js';
import type { Cap, Ecap, UnitRegisters } from '../../src/decode/registers-types.js';
import type { DmarTable } from '../../src/decode/dmar-types.js';
import type { Domain, Snapshot, Unit } from '../../src/model/types.js';

export const TOOL = { name: 'dmarsift', version: '9.8.7' };

/** IOVA page number above 2^53 / 4096: the IOVA 0x100000000345000 does not fit a safe integer. */
export const HIGH_IOVA_PFN = 2 ** 44 + 0x345;

const cap: Cap = {
  raw: 0xd2008c40660462n, ND: 2, domains: 256, AFL: false, RWBF: false, PLMR: true, PHMR: true, CM: false,
  SAGAW: 0b00100, MGAW: 47, mgawBits: 48, ZLR: true, FRO: 0x66, SLLPS: 0b01, PSI: true, NFR: 3, MAMV: 18,
  DWD: true, DRD: true, FL1GP: false, PI: false, FL5LP: false, ECMDS: false, ESIRTPS: false, ESRTPS: false,
};
const ecap: Ecap = {
  raw: 0xf050dan, C: false, QI: true, DT: true, IR: true, EIM: true, PT: true, SC: true, IRO: 0x50, MHMV: 15,
  MTS: false, NEST: false, PRS: false, ERS: false, SRS: false, NWFS: false, EAFS: false, PSS: 0, PASID: false,
  DIT: false, PDS: false, SMTS: false, VCS: false, SLADS: false, SLTS: false, FLTS: false, SMPWCS: false,
  RPS: false, PMS: false, ADMS: false, RPRIVS: false,
};

const registersA: UnitRegisters = {
  base: 0xfed90000,
  name: 'dmar0',
  raw: { VER: 0x10n, GSTS: 0xc0000000n, RTADDR: 0x1000000n, CAP: cap.raw, ECAP: ecap.raw },
  VER: { major: 1, minor: 0 },
  CAP: cap,
  ECAP: ecap,
  // TES (bit 31) and RTPS (bit 30).
  GSTS: { raw: 0xc0000000, TES: true, RTPS: true, FLS: false, AFLS: false, WBFS: false, QIES: false, IRES: false, IRTPS: false, CFIS: false },
  RTADDR: { raw: 0x1000000n, TTM: 0, mode: 'legacy', RTA: 0x1000000, reserved: 0 },
  faultRecords: [],
};

export function domainWithMappings(): Domain {
  return {
    did: 1,
    root: 0x2000000,
    kind: 'second-level',
    aw: 2,
    levels: 4,
    // 16 + 512 pages
    pageCount: 528,
    mappings: [
      { iovaPfn: 0, hpaPfn: 0x100, pages: 16, read: true, write: false, pageSize: 4096 },
      { iovaPfn: HIGH_IOVA_PFN, hpaPfn: 0x12400, pages: 512, read: true, write: true, pageSize: 2097152, snp: true },
    ],
    tablePfns: [0x2000, 0x2001, 0x2002, 0x2003],
    complete: true,
    mappingsKnown: true,
    source: { part: 'memory.elf' },
  };
}

function unitA(): Unit {
  return {
    name: 'dmar0',
    segment: 0,
    registerBase: 0xfed90000,
    registers: registersA,
    version: { major: 1, minor: 0 },
    translationEnabled: true,
    rootTablePointerSet: true,
    rootTable: 0x1000000,
    rootTableSource: { part: 'registers.txt', line: 4 },
    mode: 'legacy',
    rootEntries: [
      { bus: 0, lo: 0x1001001n, hi: 0n, lowerContextTable: 0x1001000, source: { part: 'memory.elf', offset: 0x1000000 } },
      { bus: 3, lo: 0x1002001n, hi: 0n, lowerContextTable: 0x1002000, source: { part: 'memory.elf', offset: 0x1000030 } },
    ],
    contexts: [
      {
        bdf: '0000:03:00.0', segment: 0, bus: 3, devfn: 0, present: true, fpd: false, tt: 0, aw: 2, levels: 4, did: 1,
        slptptr: 0x2000000, raw: [0x2000001n, 0x102n], source: { part: 'memory.elf', offset: 0x1002000 },
      },
      {
        // TT = 10b pass-through: lo = 0b1001, hi = DID 2 << 8 | AW 2
        bdf: '0000:00:02.0', segment: 0, bus: 0, devfn: 0x10, present: true, fpd: false, tt: 2, aw: 2, levels: 4, did: 2,
        slptptr: 0, raw: [0x9n, 0x202n], source: { part: 'memory.elf', offset: 0x1001100 },
      },
    ],
    domains: [domainWithMappings()],
    tableProblems: [],
  };
}

function unitB(): Unit {
  return {
    segment: 0,
    registerBase: 0xfed91000,
    version: { major: 6, minor: 0 },
    translationEnabled: false,
    rootTable: 0x3000000,
    mode: 'scalable',
    rootEntries: [{ bus: 0x80, lo: 0x3001001n, hi: 0n, lowerContextTable: 0x3001000, source: { part: 'memory.elf', offset: 0x3000800 } }],
    contexts: [
      {
        bdf: '0000:80:00.0', segment: 0, bus: 0x80, devfn: 0, present: true, fpd: false, aw: 3, levels: 5, did: 5, slptptr: 0x4000000,
        raw: [0x5000001n, 0n, 0n, 0n], pasidDirPtr: 0x5000000, pdts: 0, ridPasid: 0,
        pasids: [
          {
            pasid: 0, present: true, fpd: false, pgtt: 2, aw: 3, levels: 5, did: 5, slptptr: 0x4000000, flptptr: 0, flpm: 0, sre: false,
            raw: [0x400008dn, 0x5n, 0n, 0n, 0n, 0n, 0n, 0n], source: { part: 'memory.elf', offset: 0x6000000 },
          },
        ],
        source: { part: 'memory.elf', offset: 0x3001000 },
      },
    ],
    domains: [
      { did: 5, root: 0x4000000, kind: 'second-level', aw: 3, levels: 5, pageCount: 0, mappings: [], tablePfns: [0x4000], complete: false, mappingsKnown: true },
    ],
    tableProblems: [
      {
        structure: 'page-table', kind: 'missing-page', level: 5, entryAddr: 0x4000000, raw: 0n, entry: [0n], faultBits: [0n], did: 5,
        message: 'page-table page 0x4000000 is not in the image',
      },
    ],
  };
}

const dmar: DmarTable = {
  signature: 'DMAR', length: 0x88, revision: 1, checksum: 0x5a, checksumOk: true, oemId: 'INTEL ', oemTableId: 'S2600WF ',
  oemRevision: 1, creatorId: 'INTL', creatorRevision: 0x20091013, haw: 46, flags: 0x5, intrRemap: true, x2apicOptOut: false,
  dmaCtrlPlatformOptIn: true,
  structures: [
    {
      kind: 'DRHD', type: 0, length: 0x18, offset: 0x30, flags: 1, includePciAll: true, size: 0, segment: 0, registerBase: 0xfed90000,
      scopes: [{ type: 1, typeName: 'endpoint', length: 8, flags: 0, enumerationId: 0, startBus: 3, path: [{ device: 0, function: 0 }], resolved: { bus: 3, devfn: 0 }, offset: 0x40 }],
    },
    { kind: 'RMRR', type: 1, length: 0x20, offset: 0x48, segment: 0, base: 0x7b800000, limit: 0x7fffffff, scopes: [] },
  ],
  problems: [],
};

export function snapshot(): Snapshot {
  return {
    haw: 46,
    capture: {
      path: '/captures/host 1',
      parts: [
        { kind: 'dmar', path: 'DMAR.bin' },
        { kind: 'memory', path: 'memory.elf', format: 'elf' },
        { kind: 'registers', path: 'registers.txt', format: 'iommu_regset', unit: 0xfed90000 },
        { kind: 'dmardump-text', path: 'dumps/dmardump.txt' },
        { kind: 'ignored', path: 'README', note: 'not a known part' },
      ],
    },
    dmar,
    units: [unitA(), unitB()],
    devices: [
      {
        bdf: '0000:03:00.0', segment: 0, bus: 3, devfn: 0, vendorId: 0x8086, deviceId: 0x10fb, vendorName: 'Intel Corporation',
        deviceName: '82599ES 10-Gigabit', classCode: 0x020000, driver: 'ppt', deviceUnit: 'ppt0', passThrough: true, vm: 'guest1',
        source: { part: 'pciconf.txt', line: 7 },
      },
      { bdf: '0000:00:02.0', segment: 0, bus: 0, devfn: 0x10, driver: 'i915', passThrough: false, source: { part: 'pciconf.txt', line: 2 } },
    ],
    inventoryKnown: true,
    vms: [{ name: 'guest1', hypervisor: 'bhyve', passthru: ['0000:03:00.0'], memoryBytes: 0x100000000, source: { part: 'vms.txt', line: 1 } }],
    vmsKnown: true,
    memoryMap: [{ start: 0, end: 0x80000000, type: 'ram', name: 'System RAM', source: { part: 'memmap.txt', line: 1 } }],
    memoryMapKnown: true,
    faults: [
      {
        unit: 0xfed90000, bdf: '0000:03:00.0', iovaPfn: 0x1234, iovaOffset: 0x10, reason: 6, reasonText: 'PTE read access not set',
        type: 'read', source: { part: 'dmesg.txt', line: 30 },
      },
    ],
    warnings: [
      { message: 'page 0x5000000 of the PASID directory is not in the image', source: { part: 'memory.elf', offset: 0x2000 } },
      { message: 'unrecognised line kept as a note', source: { part: 'dmesg.txt', line: 12 } },
      { message: 'no HAW in capture' },
    ],
  };
}

export const LONG_MESSAGE =
  'A VM domain maps the page at 0x1002000 that holds the context table of bus 3, so the guest can rewrite its own translation and reach any host-physical page; a long path /var/lib/captures/some/really/long/unbreakable/path/name/that/keeps/going makes wrapping work for it.';

export function findings(): Finding[] {
  return [
    { check: 'dmar-opt-in', severity: 'info', message: 'The DMAR DMA-control platform opt-in flag is clear.', evidence: {} },
    {
      check: 'stale-context', severity: 'error', message: 'Present context entry for 0000:05:00.0, which the inventory does not have.',
      unit: '0xfed90000', bdf: '0000:05:00.0', did: 7, source: { part: 'dumps/dmardump.txt', line: 12 },
      evidence: { slptptr: '0x2000000', inInventory: false },
    },
    {
      check: 'hpa-leak-iommu-structures', severity: 'critical', message: LONG_MESSAGE, unit: '0xfed90000', bdf: '0000:03:00.0', did: 65535,
      source: { part: 'memory.elf', offset: 0x1002000 }, severityReason: 'the domain belongs to VM guest1',
      evidence: { pages: [{ hpa: '0x1002000', structure: 'context table', bus: 3 }], vm: 'guest1' },
    },
    {
      check: 'ppt-passthrough', severity: 'critical', message: 'Assigned device 0000:00:02.0 <has> "pass-through" & raw DMA.',
      unit: '0xfed90000', bdf: '0000:00:02.0', did: 2, source: { part: 'memory.elf', offset: 0x1001100 }, evidence: { tt: 2, raw: ['0x9', '0x202'] },
    },
  ];
}

export function checks(): CheckMeta[] {
  const m = (id: string, defaultSeverity: CheckMeta['defaultSeverity'], summary: string): CheckMeta => ({
    id, defaultSeverity, summary, description: `**${id}** — ${summary}. Look at the context entry and the domain's mappings.`, needs: ['tables'], messages: {},
  });
  return [
    m('iommu-disabled', 'critical', 'a unit covering an assigned device has translation off'),
    m('ppt-passthrough', 'critical', 'an assigned device is pass-through'),
    m('stale-context', 'error', 'a present context entry for a function the inventory does not have'),
    m('hpa-leak-iommu-structures', 'critical', 'a VM domain maps a page holding I/O MMU structures'),
    m('dmar-opt-in', 'info', 'the DMA-control platform opt-in flag is clear'),
    m('did-conflict', 'error', 'one DID with two table roots'),
  ];
}

/** Ids that ran in the fixture: all but did-conflict. */
export const RAN = ['iommu-disabled', 'ppt-passthrough', 'stale-context', 'hpa-leak-iommu-structures', 'dmar-opt-in'];

/** A validator for schema/<file> (test/helpers/validators.ts). */
export { schemaValidator as validator } from '../helpers/validators.js';
