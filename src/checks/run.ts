/**
 * Runs the registry over a snapshot and says, per check, whether it could examine the capture:
 *
 * - `ran` — every input it needs is there and was read;
 * - `partial` — it ran on what there is: an optional input is missing, or part of a needed one
 *   could not be read (a context table the image lacks, a page table cut short);
 * - `not-applicable` — a needed input is missing or unreadable: the check is not guessed at, and
 *   reports nothing.
 *
 * A status is no finding: it is reported beside the findings (RunResult.statuses) so every report
 * shows "not checked" apart from "checked, nothing found" (JUnit `<skipped>`, SARIF tool
 * notifications, a "not checked" line in the table and Markdown, the JSON report's `checks`), and
 * `--fail-on` never counts it.
 */
import { UsageError } from '../errors.js';
import { contextsState, dmaHandlingKnown, usesNoTables } from '../model/known.js';
import type { Snapshot } from '../model/types.js';
import { hex } from '../util/hex.js';
import { checks as registry } from './index.js';
import { resolveOptions } from './options.js';
import type { Check, CheckInput, CheckMeta, CheckResult, CheckStatus, Finding } from './types.js';
import { severityRank } from './types.js';
import { pushAll } from '../util/arrays.js';
import { byCodeUnits } from '../util/compare.js';

export interface RunOptions {
  only?: string[];
  skip?: string[];
  /** Option values by check id and option name, over each option's default (see options.ts). */
  options?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What each input is and how to add it to a capture (the reasons of a check that could not run). */
export const INPUT_HINTS: Record<CheckInput, string> = {
  dmar: 'the ACPI DMAR table (`acpidump -t -n DMAR -b` on FreeBSD, /sys/firmware/acpi/tables/DMAR on Linux)',
  registers: 'the remapping-unit registers (Linux debugfs iommu/intel/iommu_regset, `--registers FILE`, or dmardump/debugfs root-table lines)',
  tables: 'the root and context tables (a memory image, dmardump output, or debugfs iommu/intel/dmar_translation_struct)',
  mappings: 'the page tables (a memory image holding them, or debugfs iommu/intel/domain_translation_struct)',
  inventory: 'the PCI inventory (`pciconf -lv` or `lspci -Dnnk` output)',
  vms: 'the VM command lines (`ps -ww -o args -p $(pgrep bhyve)`, or the QEMU command line)',
  'memory-map': 'the host memory map (/proc/iomem, or `sysctl machdep.smap` on FreeBSD)',
  'interrupt-remapping': 'the interrupt remapping table (a memory image holding it at IRTA, with the registers, or debugfs iommu/intel/ir_translation_struct)',
  'pci-config': 'the configuration space of the PCI functions, capabilities included (`dmarsift capture` as root, `lspci -xxxx`, or `pciconf -r pciD:B:S:F 0:0xfff`)',
};

/** How much of an input the snapshot holds, with what is missing or unreadable when not all. */
export interface InputCoverage {
  state: 'present' | 'partial' | 'missing';
  /** Sentences naming what could not be read (empty when the input simply is not in the capture). */
  unreadable: string[];
}

/** At most this many unreadable tables are named in a reason; the rest are counted. */
const MAX_NAMED = 3;

function listed(items: string[]): string {
  if (items.length <= MAX_NAMED) return items.join('; ');
  return `${items.slice(0, MAX_NAMED).join('; ')}; and ${items.length - MAX_NAMED} more`;
}

/** Which inputs the snapshot holds, and how completely, decided from the snapshot alone. */
export function inputCoverage(s: Snapshot): Map<CheckInput, InputCoverage> {
  const out = new Map<CheckInput, InputCoverage>();
  const set = (input: CheckInput, state: InputCoverage['state'], unreadable: string[] = []): void => void out.set(input, { state, unreadable });
  set('dmar', s.dmar !== undefined ? 'present' : 'missing');
  set('registers', s.units.some((u) => u.translationEnabled !== undefined) ? 'present' : 'missing');

  // Tables: a unit's context entries are known when its tables were read (or a text dump lists
  // them). A root or context table the capture names but does not hold is unknown, not absent.
  const known = s.units.filter((u) => contextsState(u) !== 'unknown');
  // Set: a text dump cut short states one reason for each bus it hides.
  const unreadable = [...new Set(s.units.flatMap((u) => (u.unreadableTables ?? []).filter((t) => t.structure === 'root' || t.structure === 'context').map((t) => `unit ${hex(u.registerBase)}: ${t.message}`)))];
  const anyPartial = s.units.some((u) => contextsState(u) === 'partial');
  set('tables', known.length === 0 ? 'missing' : anyPartial || unreadable.length > 0 ? 'partial' : 'present', unreadable);

  // Mappings: domains whose page tables were read; a walk that stopped at a missing page or at the
  // work bound leaves its domain partly unknown.
  const domains = s.units.flatMap((u) => u.domains.map((d) => ({ u, d })));
  const withMappings = domains.filter(({ d }) => d.mappingsKnown);
  const cut = withMappings.filter(({ d }) => !d.complete).map(({ u, d }) => `the page table of DID ${d.did} (root ${hex(d.root)}, unit ${hex(u.registerBase)}) could not be read completely`);
  // Units that read no table (abort-DMA mode, an unsupported TTM) map nothing: known, not missing.
  const noTables = s.units.length > 0 && s.units.every(usesNoTables);
  set('mappings', withMappings.length === 0 && !noTables ? 'missing' : cut.length > 0 ? 'partial' : 'present', cut);

  set('inventory', s.inventoryKnown ? 'present' : 'missing');
  set('vms', s.vmsKnown ? 'present' : 'missing');
  set('memory-map', s.memoryMapKnown ? 'present' : 'missing');
  set('interrupt-remapping', ...irtCoverage(s));
  set('pci-config', ...configCoverage(s));
  return out;
}

/**
 * The IR tables: a unit's entries are known when the image or debugfs held its table, or when IR is
 * off with no table (nothing to know); entries on pages the capture lacks are unknown, not absent.
 */
function irtCoverage(s: Snapshot): [InputCoverage['state'], string[]] {
  const irs = s.units.flatMap((u) => (u.interruptRemapping !== undefined ? [{ u, ir: u.interruptRemapping }] : []));
  const known = irs.filter(({ ir }) => ir.entrySources.length > 0 || (ir.enabled === false && ir.table === undefined));
  const unreadable = irs.filter(({ ir }) => ir.unreadableEntries > 0).map(({ u, ir }) => `unit ${hex(u.registerBase)}: ${ir.unreadableEntries} of its interrupt remapping table's entries are not in the capture`);
  return [known.length === 0 ? 'missing' : unreadable.length > 0 ? 'partial' : 'present', unreadable];
}

/**
 * Configuration space: present when every function of the capture has a dump holding its
 * capabilities; partial when some have none, or only the 64-byte header (a read without root).
 */
function configCoverage(s: Snapshot): [InputCoverage['state'], string[]] {
  const dumped = s.devices.filter((d) => d.config !== undefined);
  if (dumped.length === 0) return ['missing', []];
  const missing: string[] = [];
  const headerOnly = dumped.filter((d) => d.config?.capabilitiesKnown === false).map((d) => d.bdf);
  const undumped = s.devices.filter((d) => d.config === undefined).map((d) => d.bdf);
  if (headerOnly.length > 0) missing.push(`${headerOnly.length} function(s) with only the 64-byte header (capabilities unknown): ${headerOnly.slice(0, 5).join(', ')}${headerOnly.length > 5 ? ', …' : ''}`);
  if (undumped.length > 0) missing.push(`${undumped.length} function(s) with no configuration space in the capture: ${undumped.slice(0, 5).join(', ')}${undumped.length > 5 ? ', …' : ''}`);
  return [missing.length > 0 ? 'partial' : 'present', missing];
}

/** The checks `only`/`skip` choose (unknown ids are a usage error). */
export function selectChecks(opts: RunOptions, all: readonly Check[] = registry): Check[] {
  const ids = new Set(all.map((c) => c.meta.id));
  for (const [flag, list] of [['--check', opts.only], ['--skip', opts.skip]] as const) {
    const bad = (list ?? []).filter((id) => !ids.has(id));
    if (bad.length > 0) throw new UsageError(`${flag}: unknown check id${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (see \`dmarsift checks\`)`);
  }
  const only = opts.only !== undefined && opts.only.length > 0 ? new Set(opts.only) : undefined;
  const skip = new Set(opts.skip ?? []);
  return all.filter((c) => (only === undefined || only.has(c.meta.id)) && !skip.has(c.meta.id));
}

export function compareFindings(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || byCodeUnits(a.check, b.check) || byCodeUnits(a.bdf ?? '', b.bdf ?? '');
}

/** One check's status in a run. */
export interface CheckStatusReport {
  id: string;
  status: CheckStatus;
  /** Inputs that were missing (required ones for not-applicable, optional ones for partial). */
  missing: CheckInput[];
  /** What was missing or could not be read, in sentences (empty when it ran fully). */
  reasons: string[];
}

export interface RunResult {
  findings: Finding[];
  /** One per selected check, in registry order. */
  statuses: CheckStatusReport[];
}

const STATUS_RANK: Record<CheckStatus, number> = { ran: 0, partial: 1, 'not-applicable': 2 };

/**
 * One check's verdict in a run, from what its inputs lack and what it returns itself:
 * - a needed input missing (`requiredMissing`): not-applicable, the check is not run;
 * - an optional input missing, or part of an input unreadable: at least partial;
 * - the check's own status (what it could not examine beyond its needs): the worse wins.
 * `addText` says how to add the missing inputs, `unreadable` what of the partly read inputs could not
 * be read, `whyMissing` why needed inputs are missing when they were captured but could not be read.
 * Findings of a not-applicable result are dropped.
 */
export function judgeCheck(
  meta: Pick<CheckMeta, 'id'>,
  inputs: { missing: CheckInput[]; requiredMissing: CheckInput[]; unreadable: string[]; whyMissing: string[]; addText: string },
  run: () => CheckResult,
): { status: CheckStatusReport; findings: Finding[] } {
  const { missing, requiredMissing, unreadable, whyMissing, addText } = inputs;
  const id = meta.id;
  if (requiredMissing.length > 0) return { status: { id, status: 'not-applicable', missing: requiredMissing, reasons: [`add ${addText}`, ...whyMissing] }, findings: [] };
  const result = run();
  let status: CheckStatus = missing.length > 0 || unreadable.length > 0 ? 'partial' : 'ran';
  if (STATUS_RANK[result.status] > STATUS_RANK[status]) status = result.status;
  const reasons = [...(missing.length > 0 ? [`add ${addText}`] : []), ...unreadable, ...result.reasons];
  return { status: { id, status, missing, reasons }, findings: status === 'not-applicable' ? [] : result.findings };
}

/** Run the selected checks; every check gets a status beside its findings. */
export function runChecksWithStatus(snapshot: Snapshot, opts: RunOptions = {}, all: readonly Check[] = registry): RunResult {
  const selected = selectChecks(opts, all);
  // Options first: a bad option is a usage error before anything runs.
  const options = new Map(selected.map((c) => [c, resolveOptions(c.meta, opts.options?.[c.meta.id])]));
  const coverage = inputCoverage(snapshot);
  const findings: Finding[] = [];
  const statuses: CheckStatusReport[] = [];
  for (const check of selected) {
    const optional = check.meta.optional ?? [];
    const missing = check.meta.needs.filter((n) => coverage.get(n)?.state === 'missing');
    const inputs = {
      missing,
      requiredMissing: missing.filter((m) => !optional.includes(m)),
      unreadable: check.meta.needs.flatMap((n) => (coverage.get(n)?.state === 'partial' ? coverage.get(n)!.unreadable : [])),
      whyMissing: check.meta.needs.flatMap((n) => coverage.get(n)?.unreadable ?? []),
      addText: missing.map((m) => INPUT_HINTS[m]).join('; and '),
    };
    const verdict = judgeCheck(check.meta, inputs, () => check.run(snapshot, options.get(check)!));
    pushAll(findings, verdict.findings);
    statuses.push(verdict.status);
  }
  return { findings: findings.sort(compareFindings), statuses };
}

export function runChecks(snapshot: Snapshot, opts: RunOptions = {}, all: readonly Check[] = registry): Finding[] {
  return runChecksWithStatus(snapshot, opts, all).findings;
}

// ───────────────────────────────────────────────────────────────────────── nothing checkable

/** Inputs of the checks that judge how units translate DMA (as opposed to the DMAR table alone). */
const TRANSLATION_INPUTS: readonly CheckInput[] = ['registers', 'tables', 'mappings'];

/**
 * Why a run examined nothing, as one line naming what the capture holds and what it lacks; undefined
 * when some check could examine something. A run examined nothing when
 *
 * 1. every selected check was not-applicable, or
 * 2. some selected check judges how remapping units handle DMA (it needs registers, tables or
 *    mappings) and the capture tells that for no unit: no unit has translation off (or no root
 *    table latched) per its registers, and no unit's context entries could be read. A capture whose
 *    registers name a root table its memory image lacks is such a capture; so is one with the DMAR
 *    table alone (run `--check dmar-integrity,dmar-opt-in` to judge only the DMAR table).
 */
export function nothingCheckable(snapshot: Snapshot, result: RunResult, selected: readonly Check[]): string | undefined {
  const ranAny = result.statuses.some((s) => s.status !== 'not-applicable');
  const judgesDma = selected.some((c) => c.meta.needs.some((n) => TRANSLATION_INPUTS.includes(n)));
  const dmaKnown = snapshot.units.some(dmaHandlingKnown);
  if (ranAny && (!judgesDma || dmaKnown)) return undefined;
  const found = foundText(snapshot);
  let lacking: string;
  if (!dmaKnown && judgesDma) {
    const unreadable = [...new Set(snapshot.units.flatMap((u) => (u.unreadableTables ?? []).filter((t) => t.structure === 'root' || t.structure === 'context').map((t) => `unit ${hex(u.registerBase)}: ${t.message}`)))];
    if (snapshot.units.length === 0) lacking = 'missing a remapping unit (add the DMAR table, the unit registers or a text dump of the tables)';
    else if (unreadable.length > 0) lacking = `could not read the translation tables (${listed(unreadable)})`;
    else lacking = `missing how any remapping unit handles DMA (add ${INPUT_HINTS.registers}, and ${INPUT_HINTS.tables})`;
  } else {
    const inputs = [...new Set(result.statuses.flatMap((s) => s.missing))];
    lacking = `missing ${inputs.length > 0 ? inputs.map((m) => INPUT_HINTS[m]).join('; ') : 'an input every selected check needs'}`;
  }
  const hints: string[] = [];
  if (!dmaKnown && judgesDma && snapshot.capture.parts.some((p) => p.kind === 'memory') && snapshot.units.some((u) => u.rootTable === undefined)) {
    hints.push('the memory image may hold tables no register names: find them with `dmarsift scan` or --rtaddr auto');
  }
  if (!dmaKnown && judgesDma && snapshot.dmar !== undefined && ranAny) hints.push('to judge the DMAR table alone, run with --check dmar-integrity,dmar-opt-in');
  const hint = hints.length > 0 ? ` (${hints.join('; ')})` : '';
  return `nothing to check in ${snapshot.capture.path}: found ${found}; ${lacking}${hint}`;
}

/** "the DMAR table, registers of 1 unit, memory image memory.sparse, …" — what the capture holds. */
function foundText(s: Snapshot): string {
  const parts = s.capture.parts.filter((p) => p.kind !== 'ignored');
  if (parts.length === 0) return 'no capture part';
  const kinds = new Map<string, string[]>();
  for (const p of parts) kinds.set(p.kind, [...(kinds.get(p.kind) ?? []), p.path]);
  const list = [...kinds].map(([k, paths]) => `${k} (${paths.slice(0, 2).join(', ')}${paths.length > 2 ? ', …' : ''})`);
  const units = s.units.length;
  return `${list.join(', ')}; ${units} remapping unit${units === 1 ? '' : 's'}`;
}

// ───────────────────────────────────────────────────────────────────────── --require

/** Part kinds `--require` accepts: the capture.json kinds of the CLI contract. */
export const REQUIRABLE_KINDS = [
  'dmar', 'registers', 'memory', 'dmardump-text', 'debugfs-translation', 'debugfs-domain', 'dmesg', 'pci', 'bridges', 'vm-cmdlines', 'memory-map',
  'ir-translation', 'pci-config',
] as const;
export type RequirableKind = (typeof REQUIRABLE_KINDS)[number];

/**
 * Check that the capture holds each required part kind and that it was usable; returns one line
 * per failed requirement (empty when all are met). A part is unusable when it gave the model
 * nothing: a memory image that holds none of the root tables the units name (or none is named),
 * registers that set no unit's state, an inventory with no function, and so on.
 */
export function unmetRequirements(s: Snapshot, kinds: readonly RequirableKind[]): string[] {
  const out: string[] = [];
  const partsOf = (k: string): string[] => s.capture.parts.filter((p) => p.kind === k).map((p) => p.path);
  for (const kind of kinds) {
    const paths = partsOf(kind);
    if (paths.length === 0) {
      out.push(`--require ${kind}: the capture has no ${kind} part`);
      continue;
    }
    const named = paths.join(', ');
    const unusable = ((): string | undefined => {
      switch (kind) {
        case 'dmar':
          return s.dmar === undefined ? 'it could not be decoded' : undefined;
        case 'registers':
          return s.units.some((u) => u.registers !== undefined) ? undefined : 'it gave no unit its register values';
        case 'memory': {
          const withRoot = s.units.filter((u) => u.rootTable !== undefined);
          if (withRoot.length === 0) return 'no unit names a root table to read from it (add the registers, or --rtaddr)';
          const lost = withRoot.flatMap((u) => (u.unreadableTables ?? []).filter((t) => t.structure === 'root').map((t) => `unit ${hex(u.registerBase)}: ${t.message}`));
          return lost.length > 0 ? listed(lost) : undefined;
        }
        case 'pci':
          return s.devices.length === 0 ? 'it lists no PCI function' : undefined;
        case 'memory-map':
          return s.memoryMap.length === 0 ? 'it gave no memory region' : undefined;
        default:
          return undefined; // present and parsed (a parse error already stopped the run)
      }
    })();
    if (unusable !== undefined) out.push(`--require ${kind}: ${named} is unusable: ${unusable}`);
  }
  return out;
}
