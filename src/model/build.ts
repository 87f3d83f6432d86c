/**
 * Merges what every part of a capture contributed into one Snapshot. Sources are ranked
 * (register snapshot, then memory image, then the kernel's own text dumps, then dmardump text);
 * the first source to state a fact keeps it, and a later source that disagrees becomes a warning
 * naming both. Nothing here reads files: the capture loader hands in decoded parts and an open
 * PhysicalMemory.
 */
import type { DmarTable } from '../decode/dmar-types.js';
import { buildUnitRegisters, capabilityWarnings } from '../decode/registers.js';
import { decodeIqa } from '../decode/ir-registers.js';
import type { UnitRegisters } from '../decode/registers-types.js';
import type { PhysicalMemory } from '../image/types.js';
import { UsageError } from '../errors.js';
import { formatBdf, parseBdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import type { Contribution, DomainContribution, UnitContribution } from './contribution.js';
import { buildInterruptRemapping, type IrTextInput } from './interrupt-remapping.js';
import { readQueueErrorWindow } from './invalidation-queue.js';
import { sourceText } from './source.js';
import { attachPciConfig } from './pci-config.js';
import { readUnitTables } from './tables.js';
import { shareMappings } from './mapping-list.js';
import { unsupportedTtm } from './dma.js';
import { usesNoTables } from './known.js';
import type {
  ContextEntry, ContextMode, Domain, Fault, MemoryRegion, ModelWarning, Part, PciFunction, Snapshot, Source, Unit, Vm,
} from './types.js';
import { pushAll } from '../util/arrays.js';

export interface RegisterInput {
  regs: UnitRegisters;
  source: Source;
}

export interface BuildInput {
  capturePath: string;
  parts: Part[];
  dmar?: { table: DmarTable; part: string };
  registers: RegisterInput[];
  /** In rank order: the loader sorts them (debugfs before dmardump, …). */
  contributions: { part: Part; contribution: Contribution }[];
  memory?: { mem: PhysicalMemory; part: string };
  /**
   * `--rtaddr ADDR` (base undefined: the only unit) or `--rtaddr BASE=ADDR`; `mode` when the value
   * carried TTM bits (0x400: scalable) or scan chose the layout (`--rtaddr auto`).
   */
  rtaddr: { base?: number; addr: number; mode?: ContextMode }[];
  warnings: ModelWarning[];
}

const DEFAULT_HAW = 52;

function describe(src: Source | undefined): string {
  return src ? sourceText(src) : 'an unknown source';
}

/** A unit plus which source set each of its facts (for disagreement warnings). */
interface UnitState {
  unit: Unit;
  factSource: Map<string, Source>;
}

export function buildSnapshot(input: BuildInput): Snapshot {
  const m = new UnitMerge(input);
  m.addDmarUnits(); // 1.
  m.addRegisterSnapshots(); // 2.
  m.learnUnitNames(); // 3.
  const textContexts = m.addTextUnitFacts(); // 4.
  m.applyRtaddr(); // 5.
  const walked = m.walkMemoryTables(); // 6.
  m.addInterruptRemapping(); // 6b.
  m.readQueueErrorWindows(); // 6c.
  m.addTextContexts(textContexts, walked); // 7.
  // 8. Domains: memory walks exist already; otherwise derive them from contexts + debugfs tables.
  const domainTexts = input.contributions.flatMap(({ contribution }) => contribution.domains ?? []);
  joinDomains(m.units.map((s) => s.unit), domainTexts, walked, m.units, m.warnings);
  return assembleSnapshot(input, m); // 9.
}

/**
 * The units as the sources state them, merged in rank order (the steps of buildSnapshot), with
 * the warnings the merge gives: the first source to state a fact keeps it.
 */
class UnitMerge {
  readonly warnings: ModelWarning[];
  readonly haw: number;
  readonly units: UnitState[] = [];
  /** Unit names (dmar0 …) → register base, from the sources that state both. */
  private readonly byName = new Map<string, number>();
  /** Each unit's blocks of debugfs ir_translation_struct (step 4), merged with the image in step 6b. */
  private readonly irTexts = new Map<UnitState, IrTextInput[]>();

  constructor(private readonly input: BuildInput) {
    this.warnings = [...input.warnings];
    this.haw = input.dmar?.table.haw ?? DEFAULT_HAW;
  }

  private newUnit(registerBase: number, segment: number): UnitState {
    const st: UnitState = {
      unit: { segment, registerBase, rootEntries: [], contexts: [], domains: [], tableProblems: [] },
      factSource: new Map(),
    };
    this.units.push(st);
    return st;
  }

  private unitByBase(base: number): UnitState | undefined {
    return this.units.find((u) => u.unit.registerBase === base && !u.unit.baseUnknown);
  }

  private unknownBaseUnit(): UnitState {
    const st = this.newUnit(0, 0);
    st.unit.baseUnknown = true;
    return st;
  }

  /** Set a fact unless another source already did; warn when they disagree. */
  private setFact<K extends keyof Unit>(st: UnitState, key: K, value: Unit[K] | undefined, source: Source, show: (v: NonNullable<Unit[K]>) => string = String): void {
    if (value === undefined || value === null) return;
    const prev = st.unit[key];
    if (prev === undefined || prev === null) {
      st.unit[key] = value;
      st.factSource.set(key, source);
      return;
    }
    const a = show(prev as NonNullable<Unit[K]>);
    const b = show(value as NonNullable<Unit[K]>);
    if (a !== b) {
      this.warnings.push({
        message: `unit ${hex(st.unit.registerBase)}: ${key} is ${a} in ${describe(st.factSource.get(key))} but ${b} in ${describe(source)}; keeping the first`,
        source,
      });
    }
  }

  /** 1. Units from the DMAR table. */
  addDmarUnits(): void {
    if (!this.input.dmar) return;
    for (const s of this.input.dmar.table.structures) {
      if (s.kind !== 'DRHD') continue;
      if (this.unitByBase(s.registerBase)) continue;
      this.newUnit(s.registerBase, s.segment).unit.drhd = s;
    }
  }

  /** 2. Register snapshots. */
  addRegisterSnapshots(): void {
    for (const { regs, source } of this.input.registers) {
      const st = this.unitByBase(regs.base) ?? this.newUnit(regs.base, 0);
      if (st.unit.registers) {
        this.warnings.push({ message: `unit ${hex(regs.base)}: registers given twice (${describe(st.factSource.get('registers'))} and ${describe(source)}); keeping the first`, source });
        continue;
      }
      st.unit.registers = regs;
      st.factSource.set('registers', source);
      this.applyRegisters(st, regs, source);
    }
  }

  private applyRegisters(st: UnitState, regs: UnitRegisters, source: Source): void {
    if (regs.name) {
      this.setFact(st, 'name', regs.name, source);
      this.byName.set(regs.name, st.unit.registerBase);
    }
    this.setFact(st, 'version', regs.VER, source, (v) => `${v.major}.${v.minor}`);
    if (regs.GSTS) {
      this.setFact(st, 'translationEnabled', regs.GSTS.TES, source);
      this.setFact(st, 'rootTablePointerSet', regs.GSTS.RTPS, source);
    }
    for (const message of capabilityWarnings(regs)) this.warnings.push({ message: `unit ${hex(st.unit.registerBase)}: ${message}`, source });
    // The spec's CAP.MGAW text (as Intel's datasheets repeat it): implementations are recommended to
    // support an MGAW at least the platform's host address width, and DMA to an address at or above
    // 2^(MGAW + 1) is always blocked — whatever the tables say, pass-through included.
    if (regs.CAP && this.input.dmar && regs.CAP.mgawBits < this.haw) {
      this.warnings.push({ message: `unit ${hex(st.unit.registerBase)}: CAP.MGAW = ${regs.CAP.MGAW} (${regs.CAP.mgawBits}-bit) is below the DMAR table's host address width (${this.haw} bits): the unit blocks every DMA to an address at or above 2^${regs.CAP.mgawBits}, pass-through included`, source });
    }
    if (regs.RTADDR) {
      const r = regs.RTADDR;
      const unit = `unit ${hex(st.unit.registerBase)}`;
      const off = regs.GSTS?.TES === false;
      const unsupported = unsupportedTtm({ ...st.unit, registers: regs });
      // TTM 11b and a reserved 10b name no table (dma.ts); one warning says what the unit does.
      if (r.mode === 'abort' || (r.TTM === 2 && unsupported !== undefined)) {
        const ttm = r.mode === 'abort' ? 'RTADDR.TTM = 11b (abort-DMA mode)' : 'RTADDR.TTM = 10b (reserved)';
        const message = off
          ? `${unit}: ${ttm}, but translation is off (GSTS.TES = 0), so RTADDR is not in effect: DMA is untranslated`
          : unsupported !== undefined ? `${unit}: ${unsupported}` : `${unit}: ${ttm}: every DMA request is blocked, no table is read`;
        this.warnings.push({ message, source });
      } else if (r.RTA !== 0 || regs.GSTS?.RTPS === true) {
        this.setFact(st, 'rootTable', r.RTA, source, hex);
        this.setFact(st, 'mode', r.mode, source);
        if (!st.unit.rootTableSource) st.unit.rootTableSource = source;
      }
    }
  }

  /** 3. Names from text parts that state both a name and a base (dmesg boot lines). */
  learnUnitNames(): void {
    for (const { contribution } of this.input.contributions) {
      for (const uc of contribution.units ?? []) {
        if (uc.name !== undefined && uc.registerBase !== undefined && !this.byName.has(uc.name)) this.byName.set(uc.name, uc.registerBase);
      }
    }
  }

  private resolveUnit(uc: UnitContribution): UnitState | undefined {
    let base = uc.registerBase;
    if (base === undefined && uc.name !== undefined) base = this.byName.get(uc.name);
    if (base !== undefined) {
      const st = this.unitByBase(base) ?? this.newUnit(base, uc.segment ?? 0);
      if (uc.name) {
        this.setFact(st, 'name', uc.name, uc.source);
        this.byName.set(uc.name, base);
      }
      return st;
    }
    if (this.units.length === 1) return this.units[0];
    return undefined;
  }

  /** 4. Unit facts from text parts; their contexts are returned, merged after the memory walk. */
  addTextUnitFacts(): TextContexts {
    const textContexts: TextContexts = [];
    for (const { part, contribution } of this.input.contributions) {
      pushAll(this.warnings, contribution.warnings);
      for (const uc of contribution.units ?? []) {
        const st = this.textUnit(part, uc);
        if (!st) continue;
        this.addTextFacts(st, uc);
        if ((uc.contexts?.length ?? 0) > 0 || (uc.rootEntries?.length ?? 0) > 0 || (uc.unreadableTables?.length ?? 0) > 0) textContexts.push({ st, uc });
        if (uc.irTable) this.irTexts.set(st, [...(this.irTexts.get(st) ?? []), { unit: uc.irTable, part: part.path }]);
      }
    }
    return textContexts;
  }

  /** The unit a text part speaks of; with no unit known, one whose base is unknown. */
  private textUnit(part: Part, uc: UnitContribution): UnitState | undefined {
    const st = this.resolveUnit(uc);
    if (st) return st;
    if (this.units.length > 0) {
      this.warnings.push({ message: `${part.path}: cannot tell which remapping unit ${uc.name ?? '(unnamed)'} is (add iommu_regset or dmesg, which name units by base)`, source: uc.source });
      return undefined;
    }
    const unknown = this.newUnit(0, uc.segment ?? 0);
    unknown.unit.baseUnknown = true;
    if (uc.name) this.setFact(unknown, 'name', uc.name, uc.source);
    this.warnings.push({ message: `${part.path}: unit ${uc.name ?? '?'} has no register base in the capture (add the DMAR table or iommu_regset)`, source: uc.source });
    return unknown;
  }

  private addTextFacts(st: UnitState, uc: UnitContribution): void {
    if (uc.segment !== undefined && st.unit.segment !== uc.segment && st.unit.drhd) {
      this.warnings.push({ message: `unit ${hex(st.unit.registerBase)}: segment ${st.unit.segment} in the DMAR table but ${uc.segment} in ${describe(uc.source)}`, source: uc.source });
    }
    this.setFact(st, 'version', uc.version, uc.source, (v) => `${v.major}.${v.minor}`);
    this.setFact(st, 'translationEnabled', uc.translationEnabled, uc.source);
    this.setFact(st, 'rootTablePointerSet', uc.rootTablePointerSet, uc.source);
    if (uc.rootTable !== undefined) {
      const src = uc.rootTableSource ?? uc.source;
      this.setFact(st, 'rootTable', uc.rootTable, src, hex);
      if (!st.unit.rootTableSource) st.unit.rootTableSource = src;
    }
    this.setFact(st, 'mode', uc.mode, uc.source);
    if (uc.registers && !st.unit.registers) {
      const regs = buildUnitRegisters(st.unit.registerBase, uc.registers.raw, uc.registers.name ?? uc.name);
      st.unit.registers = regs;
      st.factSource.set('registers', uc.source);
      this.applyRegisters(st, regs, uc.source);
    }
    if (uc.invalidationQueue) {
      if (st.unit.invalidationQueue) this.warnings.push({ message: `unit ${hex(st.unit.registerBase)}: a second invalidation queue in ${describe(uc.source)} is ignored`, source: uc.source });
      else st.unit.invalidationQueue = uc.invalidationQueue;
    }
  }

  /** A unit named by `--rtaddr BASE=…` must be one the capture has; with none known, BASE makes it. */
  private rtaddrUnit(r: BuildInput['rtaddr'][number] & { base: number }): UnitState {
    const known = this.units.filter((u) => !u.unit.baseUnknown);
    const st = this.unitByBase(r.base) ?? (known.length === 0 ? this.newUnit(r.base, 0) : undefined);
    if (st) return st;
    const bases = known.map((u) => hex(u.unit.registerBase)).join(', ');
    const given = `--rtaddr ${hex(r.base)}=${hex(r.addr + (r.mode === 'scalable' ? 0x400 : 0))}`;
    throw new UsageError(`${given}: no remapping unit has register base ${hex(r.base)}; ${this.input.dmar ? "the DMAR table's DRHD bases are" : "the capture's unit bases are"} ${bases}`);
  }

  /**
   * 5. --rtaddr: an explicit choice wins over what the capture says, with a warning when they differ.
   * Options that contradict each other (two tables for one unit, a bare ADDR when several units could
   * be meant) are usage errors: a warning would let one value win silently, or drop it.
   */
  applyRtaddr(): void {
    const units = this.units;
    const given = new Map<UnitState, number>();
    for (const r of this.input.rtaddr) {
      const st = r.base !== undefined ? this.rtaddrUnit({ ...r, base: r.base }) : units.length <= 1 ? units[0] ?? this.unknownBaseUnit() : undefined;
      if (!st) {
        const bases = units.map((u) => hex(u.unit.registerBase)).join(', ');
        throw new UsageError(`--rtaddr ${hex(r.addr)} names no unit, and the capture has ${units.length} (${bases}): use --rtaddr BASE=ADDR`);
      }
      const earlier = given.get(st);
      if (earlier !== undefined && earlier !== r.addr) {
        throw new UsageError(`--rtaddr: ${st.unit.baseUnknown ? 'the unit' : `unit ${hex(st.unit.registerBase)}`} was given two root tables, ${hex(earlier)} and ${hex(r.addr)}: give one`);
      }
      given.set(st, r.addr);
      const src: Source = { part: '--rtaddr' };
      if (st.unit.rootTable !== undefined && st.unit.rootTable !== r.addr) {
        this.warnings.push({ message: `unit ${hex(st.unit.registerBase)}: root table is ${hex(st.unit.rootTable)} in ${describe(st.unit.rootTableSource)} but --rtaddr says ${hex(r.addr)}; using --rtaddr`, source: src });
      }
      st.unit.rootTable = r.addr;
      st.unit.rootTableSource = src;
      if (r.mode !== undefined) st.unit.mode = r.mode;
      else if (st.unit.mode === undefined) st.unit.mode = 'legacy'; // TTM 00 and no source saying otherwise
    }
  }

  /** 6. Walk the tables in the memory image; returns the units walked. */
  walkMemoryTables(): Set<UnitState> {
    const walked = new Set<UnitState>();
    const memory = this.input.memory;
    if (!memory) return walked;
    if (!this.input.dmar) this.warnings.push({ message: `no DMAR table in the capture: assuming a ${DEFAULT_HAW}-bit host address width for table checks` });
    for (const st of this.units) {
      const u = st.unit;
      if (u.rootTable === undefined) continue;
      const t = readUnitTables(memory.mem, {
        segment: u.segment, rootTable: u.rootTable, mode: u.mode ?? 'legacy', haw: this.haw,
        cap: u.registers?.CAP, ecap: u.registers?.ECAP, part: memory.part,
      });
      u.rootEntries = t.rootEntries;
      u.contexts = t.contexts;
      u.domains = t.domains;
      u.tableProblems = t.problems;
      u.contextsKnown = t.contextsKnown;
      u.unreadableTables = t.unreadable;
      pushAll(this.warnings, t.warnings);
      walked.add(st);
    }
    return walked;
  }

  /** 6b. Interrupt remapping: registers, the table in the image, debugfs' dump. */
  addInterruptRemapping(): void {
    for (const st of this.units) {
      const r = buildInterruptRemapping({
        registers: st.unit.registers, registersSource: st.factSource.get('registers'), texts: this.irTexts.get(st) ?? [],
        memory: this.input.memory, label: `unit ${hex(st.unit.registerBase)}`,
      });
      if (r.ir) st.unit.interruptRemapping = r.ir;
      pushAll(this.warnings, r.warnings);
    }
  }

  /**
   * 6c. A unit whose FSTS reports an invalidation queue error (IQE, ITE, ICE): the descriptors at
   * and before IQH from the ring in the memory image (IQA), for invalidation-queue-error.
   */
  readQueueErrorWindows(): void {
    const memory = this.input.memory;
    if (!memory) return;
    for (const st of this.units) {
      const regs = st.unit.registers;
      const f = regs?.FSTS;
      const iqa = regs?.raw.IQA;
      const iqh = regs?.raw.IQH;
      if (f === undefined || !(f.IQE || f.ITE || f.ICE) || iqa === undefined || iqh === undefined) continue;
      const a = decodeIqa(iqa);
      if (a.IQA === 0) continue;
      st.unit.queueErrorWindow = readQueueErrorWindow(memory.mem, memory.part, { base: a.IQA, length: a.descriptors, descriptorBytes: a.DW ? 32 : 16, iqh });
    }
  }

  /** 7. Contexts from text: fill units with no memory walk; otherwise compare entry by entry. */
  addTextContexts(textContexts: TextContexts, walked: Set<UnitState>): void {
    for (const { st, uc } of textContexts) mergeTextContexts(st, uc, walked.has(st), this.warnings);
    // What is known of the contexts of units with no memory walk: a text dump lists them; a root
    // table the capture names but holds no image of is unknown, not empty.
    for (const st of this.units) {
      const u = st.unit;
      if (walked.has(st)) continue;
      if (u.unreadableTables?.some((t) => t.structure === 'context')) u.contextsKnown = 'partial';
      else if (u.contexts.length > 0 || u.rootEntries.length > 0) u.contextsKnown = 'complete';
      // Abort-DMA mode or an unsupported TTM: the unit reads no table, so none is missing.
      else if (usesNoTables(u)) u.contextsKnown = 'complete';
      else {
        u.contextsKnown = 'unknown';
        if (u.rootTable !== undefined) {
          u.unreadableTables = [{
            structure: 'root', addr: u.rootTable,
            message: `root table ${hex(u.rootTable)} (from ${describe(u.rootTableSource)}) cannot be read: the capture has no memory image holding it and no text dump of its entries`,
          }];
        }
      }
    }
  }
}

type TextContexts = { st: UnitState; uc: UnitContribution }[];

/** 9. Inventory, VMs, memory map, faults, and the snapshot in its order. */
function assembleSnapshot(input: BuildInput, m: UnitMerge): Snapshot {
  const warnings = m.warnings;
  const devices = mergeDevices(input.contributions, warnings);
  attachPciConfig(devices, input.contributions.flatMap(({ contribution }) => contribution.pciConfig ?? []), warnings);
  const vms = mergeVms(input.contributions.flatMap(({ contribution }) => contribution.vms ?? []), devices, warnings);
  assignPassthrough(vms, devices, warnings);
  const memoryMap: MemoryRegion[] = input.contributions.flatMap(({ contribution }) => contribution.memoryMap ?? []).sort((a, b) => a.start - b.start);
  const pciResources = input.contributions.flatMap(({ contribution }) => contribution.pciResources ?? []);
  const faults: Fault[] = [...input.contributions.flatMap(({ contribution }) => contribution.faults ?? []), ...recordedFaults(m.units)];
  const kinds = new Set(input.parts.map((p) => p.kind));
  const out = m.units.map((s) => s.unit).sort((a, b) => a.segment - b.segment || a.registerBase - b.registerBase);
  for (const u of out) u.contexts.sort((a, b) => a.bus - b.bus || a.devfn - b.devfn);
  return {
    haw: m.haw,
    capture: { path: input.capturePath, parts: input.parts },
    ...(input.dmar ? { dmar: input.dmar.table } : {}),
    units: out,
    devices: devices.sort((a, b) => a.segment - b.segment || a.bus - b.bus || a.devfn - b.devfn),
    inventoryKnown: kinds.has('pci') && !input.contributions.some(({ contribution }) => contribution.inventoryIncomplete),
    vms,
    vmsKnown: kinds.has('vm-cmdlines'),
    memoryMap,
    memoryMapKnown: memoryMap.length > 0,
    ...(pciResources.length > 0 ? { pciResources } : {}),
    faults,
    warnings,
  };
}

/** Each pass-through device names the VM that has it; a device two VMs claim is a warning. */
function assignPassthrough(vms: Vm[], devices: PciFunction[], warnings: ModelWarning[]): void {
  for (const vm of vms) {
    for (const bdf of vm.passthru) {
      const d = devices.find((x) => x.bdf === bdf);
      if (!d) continue;
      if (d.vm && d.vm !== vm.name) warnings.push({ message: `${bdf} is passed through by two VMs: ${d.vm} and ${vm.name}`, source: vm.source });
      else d.vm = vm.name;
    }
  }
}

/** The faults the units' fault recording registers hold (F set). */
function recordedFaults(units: UnitState[]): Fault[] {
  const faults: Fault[] = [];
  for (const st of units) {
    for (const fr of st.unit.registers?.faultRecords ?? []) {
      if (!fr.F) continue;
      faults.push({
        unit: st.unit.registerBase, bdf: formatBdf({ segment: st.unit.segment, bus: fr.bus, devfn: fr.devfn }),
        iovaPfn: fr.FIpfn, iovaOffset: 0, reason: fr.FR, reasonText: fr.reason, type: fr.type,
        ...(fr.PP ? { pasid: fr.PV } : {}), source: st.factSource.get('registers') ?? { part: 'registers' },
      });
    }
  }
  return faults;
}

function contextFacts(c: ContextEntry): string {
  const parts = [`DID ${c.did}`, `SLPTPTR ${hex(c.slptptr)}`];
  if (c.tt !== undefined) parts.push(`TT ${c.tt}`);
  if (c.aw >= 0) parts.push(`AW ${c.aw}`);
  return parts.join(', ');
}

/** Text contexts (debugfs, dmardump) against a memory walk of the same unit, or in its place. */
function mergeTextContexts(st: UnitState, uc: UnitContribution, walked: boolean, warnings: ModelWarning[]): void {
  const u = st.unit;
  const incoming = uc.contexts ?? [];
  // Entries the text hides (a row cut short) stay unknown unless a memory walk read them.
  if (!walked && uc.unreadableTables) u.unreadableTables = [...(u.unreadableTables ?? []), ...uc.unreadableTables];
  if (!walked && u.contexts.length === 0) {
    u.contexts = incoming.map((c) => ({ ...c, segment: u.segment, bdf: formatBdf({ segment: u.segment, bus: c.bus, devfn: c.devfn }) }));
    if (u.rootEntries.length === 0) u.rootEntries = uc.rootEntries ?? [];
    return;
  }
  const have = new Map(u.contexts.map((c) => [c.bus * 256 + c.devfn, c]));
  for (const c of incoming) {
    const mine = have.get(c.bus * 256 + c.devfn);
    if (!mine) {
      if (c.present) {
        warnings.push({ message: `${c.bdf}: a present context entry in ${describe(c.source)} (${contextFacts(c)}) is not in ${walked ? 'the memory image' : describe(u.contexts[0]?.source)}`, source: c.source });
        if (!walked) u.contexts.push(c);
      }
      continue;
    }
    if (c.driverHint !== undefined && mine.driverHint === undefined) mine.driverHint = c.driverHint;
    const differs =
      mine.did !== c.did && !(c.aw < 0 && (mine.did & 0xfff) === c.did) // dmardump prints DID bits 11:0 only
        ? 'DID'
        : mine.slptptr !== c.slptptr && mine.tt !== 2
          ? 'SLPTPTR'
          : c.tt !== undefined && mine.tt !== undefined && mine.tt !== c.tt
            ? 'TT'
            : c.aw >= 0 && mine.aw !== c.aw
              ? 'AW'
              : undefined;
    if (differs) {
      warnings.push({ message: `${c.bdf}: ${differs} differs: ${contextFacts(mine)} in ${describe(mine.source)} but ${contextFacts(c)} in ${describe(c.source)}`, source: c.source });
    }
  }
  if (walked) {
    const theirs = new Set(incoming.map((c) => c.bus * 256 + c.devfn));
    for (const c of u.contexts) {
      if (!theirs.has(c.bus * 256 + c.devfn) && incoming.length > 0 && uc.source) {
        warnings.push({ message: `${c.bdf}: present in ${describe(c.source)} but not listed in ${uc.source.part}`, source: c.source });
      }
    }
  }
}

/** Domains for units without a memory walk: one per (DID, root) of their contexts, with debugfs mappings joined by table address. */
function joinDomains(units: Unit[], texts: DomainContribution[], walked: Set<UnitState>, states: UnitState[], warnings: ModelWarning[]): void {
  const byRoot = new Map<number, DomainContribution>();
  for (const t of texts) {
    const prev = byRoot.get(t.root);
    if (prev && prev.pageCount !== t.pageCount) {
      warnings.push({ message: `two page-table dumps of table ${hex(t.root)} differ (${prev.pageCount} and ${t.pageCount} pages: ${describe(prev.source)}, ${describe(t.source)})`, source: t.source });
    }
    if (!prev) byRoot.set(t.root, t);
  }
  const used = new Set<number>();
  for (const st of states) {
    const u = st.unit;
    if (walked.has(st)) {
      for (const d of u.domains) {
        const t = byRoot.get(d.root);
        if (!t) continue;
        used.add(d.root);
        if (t.pageCount !== d.pageCount) {
          warnings.push({ message: `domain DID ${d.did} (table ${hex(d.root)}): ${d.pageCount} pages mapped in ${describe(d.source)} but ${t.pageCount} in ${describe(t.source)}`, source: t.source });
        }
      }
      continue;
    }
    const byKey = new Map<string, Domain>();
    const want = (did: number, root: number, aw: number, levels: number, kind: Domain['kind']): void => {
      const key = `${kind}:${did}:${root}`;
      if (byKey.has(key)) return;
      const t = byRoot.get(root);
      if (t) used.add(root);
      const d: Domain = {
        did, root, kind, aw, levels: t?.levels ?? levels, pageCount: t?.pageCount ?? 0, mappings: [],
        tablePfns: t?.tablePfns ?? [], complete: t !== undefined && t.complete !== false, mappingsKnown: t !== undefined, ...(t ? { source: t.source } : {}),
      };
      if (t) shareMappings(d, t);
      byKey.set(key, d);
    };
    for (const c of u.contexts) {
      if (!c.present) continue;
      if (c.pasids === undefined) {
        if (c.tt === 0 || c.tt === 1) want(c.did, c.slptptr, c.aw, c.levels, 'second-level');
      } else {
        for (const p of c.pasids) {
          if (p.pgtt === 2 || p.pgtt === 3) want(p.did, p.slptptr, p.aw, p.levels, 'second-level');
          else if (p.pgtt === 1) want(p.did, p.flptptr, p.aw, p.levels, 'first-level');
        }
      }
    }
    u.domains = [...byKey.values()];
  }
  for (const t of byRoot.values()) {
    if (!used.has(t.root)) {
      warnings.push({ message: `page-table dump of ${t.headerBdf ?? 'a device'} (table ${hex(t.root)}) matches no context entry`, source: t.source });
    }
  }
  void units;
}

/** One PciFunction per BDF across inventory parts; bridge ranges attached to their bridges. */
function mergeDevices(contributions: BuildInput['contributions'], warnings: ModelWarning[]): PciFunction[] {
  const byBdf = new Map<string, PciFunction>();
  for (const { contribution } of contributions) {
    for (const d of contribution.devices ?? []) {
      const prev = byBdf.get(d.bdf);
      if (!prev) {
        byBdf.set(d.bdf, { ...d });
        continue;
      }
      if (d.driver !== undefined && prev.driver !== undefined && d.driver !== prev.driver) {
        warnings.push({ message: `${d.bdf}: driver ${prev.driver} in ${describe(prev.source)} but ${d.driver} in ${describe(d.source)}`, source: d.source });
      }
      for (const k of Object.keys(d) as (keyof PciFunction)[]) {
        if (prev[k] === undefined && d[k] !== undefined) (prev as unknown as Record<string, unknown>)[k] = d[k];
      }
      prev.passThrough = prev.passThrough || d.passThrough;
    }
  }
  for (const { contribution } of contributions) {
    for (const b of contribution.bridges ?? []) {
      const bdf = b.bdf !== undefined ? formatBdf(parseBdf(b.bdf)) : undefined;
      const dev = bdf !== undefined ? byBdf.get(bdf) : undefined;
      if (dev) {
        dev.secondaryBus = b.secondary;
        dev.subordinateBus = b.subordinate;
      } else if (bdf !== undefined) {
        const p = parseBdf(bdf);
        byBdf.set(bdf, { bdf, ...p, passThrough: false, secondaryBus: b.secondary, subordinateBus: b.subordinate, source: b.source });
      } else {
        warnings.push({ message: `bridge ${b.name ?? '?'} (buses ${b.secondary}-${b.subordinate}) has no PCI address in the capture`, source: b.source });
      }
    }
  }
  return [...byBdf.values()];
}

const BDF_OUT = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

/**
 * One Vm per (hypervisor, name): the same VM is often seen twice (bhyve's vmrun.sh line and a
 * /proc/PID/cmdline file; ps output in two parts). Pass-through lists are joined; a memory size or
 * device list that differs between the sources is a warning naming both. FreeBSD device names
 * given to bhyve (`-p ppt1`, `passthru,ppt1`) are resolved to BDFs through the inventory's unit
 * names; a name the inventory does not have is dropped with a warning (it names no function).
 */
function mergeVms(list: Vm[], devices: PciFunction[], warnings: ModelWarning[]): Vm[] {
  const byUnit = new Map<string, PciFunction>();
  for (const d of devices) if (d.deviceUnit !== undefined) byUnit.set(d.deviceUnit, d);
  const resolve = (vm: Vm): string[] => {
    const out: string[] = [];
    for (const p of vm.passthru) {
      let bdf: string | undefined = BDF_OUT.test(p) ? p : undefined;
      if (bdf === undefined) {
        const d = byUnit.get(p);
        if (d) bdf = d.bdf;
        else {
          warnings.push({
            message: `VM ${vm.name}: pass-through device ${p} is ${devices.length === 0 ? 'a device name, and the capture has no PCI inventory (pciconf -lv) to resolve it' : 'not in the PCI inventory'}; it is not counted as assigned`,
            source: vm.source,
          });
          continue;
        }
      }
      if (!out.includes(bdf)) out.push(bdf);
    }
    return out;
  };
  const byKey = new Map<string, Vm>();
  const out: Vm[] = [];
  for (const vm of list) {
    const passthru = resolve(vm);
    const key = `${vm.hypervisor}\0${vm.name}`;
    const prev = byKey.get(key);
    if (!prev) {
      const v: Vm = { ...vm, passthru };
      byKey.set(key, v);
      out.push(v);
      continue;
    }
    const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
    if (!same(prev.passthru, passthru)) {
      warnings.push({ message: `VM ${vm.name}: pass-through devices ${prev.passthru.join(' ') || 'none'} in ${describe(prev.source)} but ${passthru.join(' ') || 'none'} in ${describe(vm.source)}; counting both`, source: vm.source });
      for (const b of passthru) if (!prev.passthru.includes(b)) prev.passthru.push(b);
    }
    if (vm.memoryBytes !== undefined) {
      if (prev.memoryBytes === undefined) prev.memoryBytes = vm.memoryBytes;
      else if (prev.memoryBytes !== vm.memoryBytes) {
        warnings.push({ message: `VM ${vm.name}: memory ${hex(prev.memoryBytes)} bytes in ${describe(prev.source)} but ${hex(vm.memoryBytes)} in ${describe(vm.source)}; keeping the first`, source: vm.source });
      }
    }
  }
  return out;
}
