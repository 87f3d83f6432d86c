/**
 * `--rtaddr auto` for `decode`/`analyze`: scan the capture's memory image and give the best root
 * table to the one unit that has none, with a warning naming the pick and the runner-up. When the
 * image is cut short and some root-table-shaped page could not be checked (its context tables are
 * in the lost bytes), nothing is picked: the best checked table may be a stale one.
 */
import type { DmarTable } from '../decode/dmar-types.js';
import type { PhysicalMemory } from '../image/types.js';
import type { ContextMode, ModelWarning } from '../model/types.js';
import { hex } from '../util/hex.js';
import { scanImage, type ScanCandidate } from './scan.js';

export interface AutoInput {
  mem: PhysicalMemory;
  part: string;
  dmar?: DmarTable;
  /** Register bases whose root table the capture already states (RTADDR, debugfs, --rtaddr). */
  known: number[];
  /** True when some source states a root table without naming its unit (only unit). */
  knownWithoutBase: boolean;
}

export interface AutoResult {
  rtaddr?: { base?: number; addr: number; mode: ContextMode };
  warnings: ModelWarning[];
}

function describe(c: ScanCandidate): string {
  return `${hex(c.root)} (${c.layout}, confidence ${c.confidence.toFixed(3)}, ${c.contextEntries} context entr${c.contextEntries === 1 ? 'y' : 'ies'} on ${c.buses.length} bus${c.buses.length === 1 ? '' : 'es'})`;
}

export function autoRootTable(a: AutoInput): AutoResult {
  // The warning's source names the image (as the user gave it, in reports): messages say "the image".
  const source = { part: a.part };
  const bases = (a.dmar?.structures ?? []).flatMap((s) => (s.kind === 'DRHD' ? [s.registerBase] : []));
  const unitCount = Math.max(1, bases.length);
  const lacking = bases.filter((b) => !a.known.includes(b));
  const have = bases.length > 0 ? bases.length - lacking.length : a.known.length > 0 || a.knownWithoutBase ? 1 : 0;
  if (have >= unitCount || (bases.length > 0 && lacking.length === 0)) {
    return { warnings: [{ message: `--rtaddr auto: every remapping unit already has a root table in the capture; nothing scanned`, source }] };
  }
  const result = scanImage(a.mem, a.dmar ? { haw: a.dmar.haw } : {});
  const [best, second] = result.candidates;
  if (result.unverified.length > 0) {
    // A table whose context tables were lost may be the live one, and the best checked one a
    // stale copy: choosing would decode a guess as if it were the answer.
    const lost = result.unverified.slice(0, 4).map((c) => `${hex(c.rtaddr)} (${c.lost.contextTables} of ${c.contextTables.pointers} context tables lost)`).join(', ');
    const checked = best ? `; the best checked one is ${describe(best)}` : '';
    return {
      warnings: [{
        message: `--rtaddr auto: the image is cut short, and ${result.unverified.length === 1 ? 'the root-table-shaped page' : 'root-table-shaped pages'} ${lost} point${result.unverified.length === 1 ? 's' : ''} into the bytes it lost${checked}: ` +
          'cannot tell which is live, so none is used; give --rtaddr ADDR to choose (dmarsift scan lists them)',
        source,
      }],
    };
  }
  if (!best) {
    return { warnings: [{ message: `--rtaddr auto: scan found no root table in the image (${result.rootLikePages} root-table-shaped pages, none leading to well-formed context tables)`, source }] };
  }
  if (lacking.length > 1) {
    const list = result.candidates.slice(0, 4).map((c) => hex(c.rtaddr)).join(', ');
    return { warnings: [{ message: `--rtaddr auto: ${lacking.length} units (${lacking.map((b) => hex(b)).join(', ')}) have no root table and scan cannot tell which table is whose; candidates ${list}: give --rtaddr BASE=ADDR for each`, source }] };
  }
  const runnerUp = second ? `runner-up ${describe(second)}` : 'no runner-up';
  return {
    rtaddr: { ...(lacking.length === 1 ? { base: lacking[0] } : {}), addr: best.root, mode: best.layout },
    warnings: [{ message: `--rtaddr auto: using root table ${describe(best)} found by scan of the image${lacking.length === 1 ? ` for unit ${hex(lacking[0])}` : ''}; ${runnerUp}`, source }],
  };
}
