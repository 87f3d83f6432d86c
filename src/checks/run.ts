/**
 * Runs the registry over a snapshot. A check whose inputs the capture lacks is not guessed at:
 * the runner emits one `info` saying what to add (and, for inputs the check lists as optional,
 * runs it anyway on what there is).
 */
import { UsageError } from '../errors.js';
import type { Snapshot } from '../model/types.js';
import { checks as registry } from './index.js';
import type { Check, CheckInput, Finding } from './types.js';
import { severityRank } from './types.js';

export interface RunOptions {
  only?: string[];
  skip?: string[];
}

/** What each input is and how to add it to a capture (used in the runner's info findings). */
export const INPUT_HINTS: Record<CheckInput, string> = {
  dmar: 'the ACPI DMAR table (`acpidump -t -n DMAR -b` on FreeBSD, /sys/firmware/acpi/tables/DMAR on Linux)',
  registers: 'the remapping-unit registers (Linux debugfs iommu/intel/iommu_regset, `--registers FILE`, or dmardump/debugfs root-table lines)',
  tables: 'the root and context tables (a memory image, dmardump output, or debugfs iommu/intel/dmar_translation_struct)',
  mappings: 'the page tables (a memory image holding them, or debugfs iommu/intel/domain_translation_struct)',
  inventory: 'the PCI inventory (`pciconf -lv` or `lspci -Dnnk` output)',
  vms: 'the VM command lines (`ps -ww -o args -p $(pgrep bhyve)`, or the QEMU command line)',
  'memory-map': 'the host memory map (/proc/iomem, or `sysctl machdep.smap` on FreeBSD)',
};

/** Which inputs the snapshot holds, decided from the snapshot alone. */
export function presentInputs(s: Snapshot): Set<CheckInput> {
  const have = new Set<CheckInput>();
  if (s.dmar !== undefined) have.add('dmar');
  if (s.units.some((u) => u.translationEnabled !== undefined)) have.add('registers');
  if (s.units.some((u) => u.contexts.length > 0 || u.rootTable !== undefined)) have.add('tables');
  if (s.units.some((u) => u.domains.some((d) => d.mappingsKnown))) have.add('mappings');
  if (s.inventoryKnown) have.add('inventory');
  if (s.vmsKnown) have.add('vms');
  if (s.memoryMapKnown) have.add('memory-map');
  return have;
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
  return severityRank(b.severity) - severityRank(a.severity) || (a.check < b.check ? -1 : a.check > b.check ? 1 : 0) || (a.bdf ?? '').localeCompare(b.bdf ?? '');
}

export function runChecks(snapshot: Snapshot, opts: RunOptions = {}, all: readonly Check[] = registry): Finding[] {
  const selected = selectChecks(opts, all);
  const have = presentInputs(snapshot);
  const out: Finding[] = [];
  for (const check of selected) {
    const missing = check.meta.needs.filter((n) => !have.has(n));
    const optional = check.meta.optional ?? [];
    const partial = missing.length > 0 && missing.every((m) => optional.includes(m));
    if (missing.length > 0) {
      const what = missing.map((m) => INPUT_HINTS[m]).join('; and ');
      out.push({
        check: check.meta.id,
        severity: 'info',
        message: partial
          ? `${check.meta.id} ran with a partial capture; for full coverage add ${what}.`
          : `${check.meta.id} could not run: add ${what}.`,
        evidence: { missing: [...missing], ran: partial },
      });
      if (!partial) continue;
    }
    out.push(...check.run(snapshot));
  }
  return out.sort(compareFindings);
}
