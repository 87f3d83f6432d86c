/** `translate` output: the walk step by step, then the answer (or the fault). */
import type { Access, TranslateResult } from '../model/translate.js';
import type { Unit } from '../model/types.js';
import { formatBdf, type Bdf } from '../util/bdf.js';
import { hex, hexPad } from '../util/hex.js';
import { unitBaseText } from './format.js';

export interface TranslationInput {
  unit: Unit;
  bdf: Bdf;
  iova: bigint;
  pasid?: number;
  access: Access;
}

const PAGE_NAMES: Record<number, string> = { 4096: '4 KiB', 2097152: '2 MiB', 1073741824: '1 GiB' };
const LEVEL_NAMES: Record<number, string> = { 5: 'PML5E', 4: 'PML4E', 3: 'PDPE', 2: 'PDE', 1: 'PTE' };

export function translationToJson(i: TranslationInput, r: TranslateResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    bdf: formatBdf(i.bdf),
    unit: hex(i.unit.registerBase),
    iova: hex(i.iova),
    pasid: i.pasid ?? null,
    access: i.access,
    steps: r.steps.map((s) => ({
      structure: s.structure,
      ...(s.level !== undefined ? { level: s.level } : {}),
      table: hex(s.table),
      index: s.index,
      entry: s.entry.map((q) => hex(q)),
    })),
  };
  if (r.fault) out.fault = { reason: r.fault.reason, code: r.fault.code, level: r.fault.level ?? null };
  else if (r.blocked !== undefined) out.blocked = { reason: r.blocked };
  else {
    out.hpa = hex(r.hpa!);
    out.pageSize = r.pageSize ?? null;
    out.read = r.read ?? null;
    out.write = r.write ?? null;
    if (r.passThrough) out.passThrough = true;
    if (r.untranslated) out.untranslated = true;
  }
  if (r.note) out.note = r.note;
  return out;
}

export function renderTranslation(i: TranslationInput, r: TranslateResult, opts: { color: boolean }): string {
  const red = (s: string): string => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const green = (s: string): string => (opts.color ? `\x1b[32m${s}\x1b[0m` : s);
  const lines = [`${formatBdf(i.bdf)} ${i.access} at IOVA ${hex(i.iova)}${i.pasid !== undefined ? ` PASID ${i.pasid}` : ''} (unit ${unitBaseText(i.unit)})`];
  for (const s of r.steps) {
    const name = s.structure === 'page-table' ? `level ${s.level} ${LEVEL_NAMES[s.level!] ?? ''}`.trim() : s.structure;
    const entry = s.entry.map((q) => hexPad(q, 16)).reverse().join(':');
    lines.push(`  ${name.padEnd(16)} table ${hex(s.table).padEnd(14)} [${String(s.index).padStart(3)}] = ${entry}`);
  }
  if (r.note) lines.push(`  note: ${r.note}`);
  if (r.fault) {
    // The reason often names the level already ("entry not present at level 3").
    const level = r.fault.level !== undefined && !r.fault.reason.includes(`level ${r.fault.level}`) ? ` (level ${r.fault.level})` : '';
    lines.push(red(`  → fault ${hex(r.fault.code)}: ${r.fault.reason}${level}`));
  } else if (r.blocked !== undefined) {
    lines.push(red(`  → blocked: ${r.blocked}`));
  } else {
    const perms = `${r.read ? 'R' : '-'}${r.write ? 'W' : '-'}`;
    lines.push(green(`  → HPA ${hex(r.hpa!)}${r.pageSize ? `, ${PAGE_NAMES[r.pageSize] ?? r.pageSize} page` : ''}, ${perms}${r.untranslated ? ' (untranslated: translation off)' : r.passThrough ? ' (pass-through: untranslated)' : ''}`));
  }
  return lines.join('\n') + '\n';
}
