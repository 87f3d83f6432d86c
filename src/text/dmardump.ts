/**
 * FreeBSD tools/tools/dmardump output (docs/vtd-formats.md §8.2; dmardump.c, r303887). Line shapes,
 * reproduced from its printf formats:
 *
 *   drhd @ %#jx (version %d.%d) PCI segment %d%s:          %s = "" or " (disabled)"
 *       %sroot table @ 0x%#jx                              %s = "" or "extended "; prints 0x0x…
 *   \tPCI bus %d:
 *   \t    { %d,%d }[ (%s%lu)| (absent)][ FPD] UNTR|TR|PASS|TT3? SLPT %#jx domain %d
 *
 * What the tool does and does not tell, and how it lands in the Contribution:
 * - A unit prints nothing after its drhd line unless GSTS.TES and GSTS.RTPS are both set. So a
 *   root line means rootTablePointerSet = true; an enabled unit followed directly by the next
 *   drhd line had RTPS clear (false); a disabled unit, or an enabled one at the end of the file
 *   (possibly a cut paste), leaves it undefined.
 * - `extended root table` (RTADDR bit 11, VT-d 2.x) → mode 'extended'; dmardump dumps nothing
 *   under it. Otherwise 'legacy' — dmardump does not know scalable mode and decodes such tables
 *   as legacy ones, so 'legacy' here means "as dmardump decoded it".
 * - Context entries: only present ones are printed. AW is not printed: `aw: -1, levels: 0` mean
 *   "unknown" (the ContextEntry type has no optional form). `raw: []`: the qwords are not known.
 *   `did` is what dmardump prints: `(hi & 0xFFFF0) >> 8`, i.e. only DID bits 11:0.
 *   `SLPT` is lo & ~0xfff (`%#jx`, a zero pointer prints `0`).
 * - `{ slot,func }` is the slot/function of the device dmardump found, which for an ARI device
 *   is slot 0, function = devfn (8…255): mapped with fromSlotFunc. `(absent)` entries print
 *   `{devfn>>3,devfn&7}`.
 * - Inventory: each listed device that exists yields a PciFunction (driver without unit number,
 *   deviceUnit `ppt0`, passThrough for ppt); one with no driver printed has driver undefined;
 *   `(absent)` ones yield none. dmardump lists only functions with present entries, so this is
 *   a partial inventory: the model builder knows it from the part kind (`dmardump-text`).
 */
import { InputError } from '../errors.js';
import type { Contribution, UnitContribution } from '../model/contribution.js';
import type { ContextEntry, PciFunction } from '../model/types.js';
import { fromSlotFunc, formatBdf } from '../util/bdf.js';
import { parseIntLiteral, toSafeNumber } from '../util/hex.js';
import { isPassThroughDriver } from '../model/roles.js';
import { driverOfUnit, eachLine, headLines, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';
import { LostRows } from './lost-rows.js';

const DRHD_RE = /^\s*drhd @ (0x[0-9a-f]+|0) \(version (\d+)\.(\d+)\) PCI segment (\d+)( \(disabled\))?:\s*$/i;
/** `0x%#jx`: `0x0x1000` normally, `0x0` for a zero address; a single `0x` is accepted too. */
const ROOT_RE = /^\s*(extended )?root table @ (?:0x)?(0x[0-9a-f]+|0)\s*$/i;
const BUS_RE = /^\s*PCI bus (\d+):\s*$/;
const DEV_RE = /^\s*\{ ?(\d+),(\d+) ?\}(?: \(([^()\s]*)\))?( FPD)? (UNTR|TR|PASS|TT3\?) SLPT (0x[0-9a-f]+|0) domain (\d+)\s*$/i;
/** The start of a context line (`{ 31,2 } …`) or of a bus line (`PCI bus 3:`), as a cut paste leaves it. */
const ROW_START_RE = /^\s*(?:\{|PCI\b)/;
const TT: Record<string, number> = { UNTR: 0, TR: 1, PASS: 2, 'TT3?': 3 };

export function looksLikeDmardump(text: string): boolean {
  return headLines(text).some((l) => DRHD_RE.test(l));
}

export function parseDmardump(input: TextInput, part: string): Contribution {
  const w = new LineWarnings(part);
  const units: UnitContribution[] = [];
  const devices = new Map<string, PciFunction>();
  let unit: UnitContribution | undefined;
  /** What the current unit has printed so far, to know what its silence means. */
  let unitState: 'disabled' | 'enabled-no-root' | 'root' = 'disabled';
  let bus: number | undefined;
  /** Rows of the current unit that could not be read (a paste cut short), and what they hide. */
  const lost = new Map<UnitContribution, LostRows>();
  const lostOf = (u: UnitContribution): LostRows => lost.get(u) ?? lost.set(u, new LostRows()).get(u)!;

  const closeUnit = (nextIsDrhd: boolean): void => {
    if (unit && unitState === 'enabled-no-root' && nextIsDrhd) unit.rootTablePointerSet = false;
  };

  for (const l of eachLine(input, (x) => w.tooLong(x))) {
    const t = l.text;
    if (t.trim() === '') continue;
    let m: RegExpExecArray | null;

    if ((m = DRHD_RE.exec(t))) {
      closeUnit(true);
      const segment = Number(m[4]);
      if (segment > 0xffff) throw new InputError(`PCI segment ${segment} out of range (0-65535)`, { file: part, line: l.no });
      const enabled = m[5] === undefined;
      unit = {
        registerBase: number(m[1], part, l.no),
        segment,
        version: { major: Number(m[2]), minor: Number(m[3]) },
        translationEnabled: enabled,
        contexts: [],
        source: { part, line: l.no },
      };
      units.push(unit);
      unitState = enabled ? 'enabled-no-root' : 'disabled';
      bus = undefined;
      continue;
    }

    if ((m = ROOT_RE.exec(t))) {
      if (!unit) { w.warn('root table line before any drhd line, skipped', l.no); continue; }
      if (unitState === 'disabled') w.warn('root table line under a unit printed as disabled (dmardump prints none there)', l.no);
      if (unitState === 'root') { w.warn('second root table line for one unit, skipped', l.no); continue; }
      unit.rootTablePointerSet = true;
      unit.rootTable = number(m[2], part, l.no);
      unit.rootTableSource = { part, line: l.no };
      unit.mode = m[1] !== undefined ? 'extended' : 'legacy';
      unitState = 'root';
      continue;
    }

    if ((m = BUS_RE.exec(t))) {
      const b = Number(m[1]);
      if (b > 255) throw new InputError(`PCI bus ${b} out of range (0-255)`, { file: part, line: l.no });
      if (!unit || unitState !== 'root') { w.warn('PCI bus line outside a unit with a root table, skipped', l.no); bus = undefined; continue; }
      if (unit.mode === 'extended') w.warn('PCI bus line under an extended root table (dmardump dumps none there)', l.no);
      bus = b;
      lostOf(unit).boundary(b << 8);
      continue;
    }

    if ((m = DEV_RE.exec(t))) {
      if (!unit || bus === undefined) { w.warn('context entry line outside a "PCI bus N:" block, skipped', l.no); continue; }
      const segment = unit.segment ?? 0;
      let devfn: number;
      try {
        devfn = fromSlotFunc(segment, bus, Number(m[1]), Number(m[2]), `{ ${m[1]},${m[2]} }`).devfn;
      } catch (e) {
        if (e instanceof RangeError) throw new InputError(`device { ${m[1]},${m[2]} } on bus ${bus} cannot exist: ${e.message}`, { file: part, line: l.no });
        throw e;
      }
      let slptptr: number;
      try {
        slptptr = toSafeNumber(parseIntLiteral(m[6]));
      } catch {
        w.warn(`SLPT ${m[6]} is beyond 2^53 (not a host address), entry skipped`, l.no);
        continue;
      }
      const name = m[3];
      const bdf = formatBdf({ segment, bus, devfn });
      const ctx: ContextEntry = {
        bdf, segment, bus, devfn,
        present: true,
        fpd: m[4] !== undefined,
        tt: TT[m[5].toUpperCase()],
        // Not printed by dmardump: -1 / 0 mean unknown.
        aw: -1,
        levels: 0,
        did: Number(m[7]),
        slptptr,
        raw: [],
        source: { part, line: l.no },
      };
      if (name !== undefined && name !== '') ctx.driverHint = name;
      unit.contexts!.push(ctx);
      lostOf(unit).read((bus << 8) | devfn);

      if (name !== 'absent' && !devices.has(bdf)) {
        const d: PciFunction = { bdf, segment, bus, devfn, passThrough: false, source: { part, line: l.no } };
        if (name !== undefined && name !== '') {
          d.driver = driverOfUnit(name);
          d.deviceUnit = name;
          d.passThrough = isPassThroughDriver(d.driver);
        }
        devices.set(bdf, d);
      }
      continue;
    }

    // A context or bus line that cannot be read (a paste cut short) hides entries; other text
    // (a shell prompt, ticket prose) hides nothing.
    if (unit && unitState === 'root' && ROW_START_RE.test(t)) lostOf(unit).lost(l.no);
    w.unrecognised('dmardump output', l);
  }
  for (const [u, rows] of lost) {
    const tables = rows.tables(part);
    if (tables.length > 0) u.unreadableTables = tables;
  }
  // At the end of the file an enabled unit without a root line stays undefined: a cut paste
  // cannot be told from RTPS = 0.

  if (units.length === 0) {
    throw new NotRecognisedError('does not look like dmardump output (no "drhd @ 0x… (version M.m) PCI segment N:" line)', { file: part, line: 1 });
  }
  return { units, devices: [...devices.values()], warnings: w.done() };
}

function number(text: string, part: string, line: number): number {
  try {
    return toSafeNumber(parseIntLiteral(text));
  } catch {
    throw new InputError(`address ${text} is beyond 2^53`, { file: part, line });
  }
}
