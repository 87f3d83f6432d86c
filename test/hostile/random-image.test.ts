/**
 * A memory image of seeded random words whose every pointer lands inside it (src/synth/hostile-image.ts):
 * 64 pages make a unit of ~50 000 present contexts and ~7 000 domains of noise, each walk cut
 * short by the unit's budget. What is read is bounded already (test/hostile/tables.test.ts); these
 * tests bound what is done with it — warnings and problems listed, domains visited per finding,
 * contexts searched per DID — by counting, never by timing: each count was in the tens of
 * thousands to hundreds of millions before (a 1 MiB image took 15 s through `analyze`).
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { didConflict } from '../../src/checks/did-conflict.js';
import type { Finding } from '../../src/checks/types.js';
import { roles, type DomainInfo } from '../../src/model/roles.js';
import { LEAF_RECORDS } from '../../src/model/leaf-run.js';
import { MAX_BUDGET_PROBLEMS_PER_UNIT, MAX_WALK_WARNINGS_PER_UNIT } from '../../src/model/tables.js';
import { MAX_MAPPINGS_PER_UNIT, WalkBudget, walkPageTable } from '../../src/model/walk.js';
import type { ContextEntry, Snapshot } from '../../src/model/types.js';
import { writeHostileCapture } from '../../src/synth/hostile-image.js';
import { assignFingerprints } from '../../src/triage/fingerprint.js';
import { hex } from '../../src/util/hex.js';
import { openRawImage } from '../../src/image/raw.js';
import { tmpDir } from './helpers.js';

const SEED = 19;
const PAGES = 64;

let snapshot: Snapshot;
let dir: string;

beforeAll(() => {
  dir = path.join(tmpDir(), 'capture');
  writeHostileCapture(dir, { bytes: PAGES * 4096, seed: SEED });
  snapshot = loadCapture(dir);
});

describe(`a ${PAGES}-page image of random in-image pointers (seed ${SEED})`, () => {
  it('is as hostile as meant: tens of thousands of present contexts, thousands of domains, walks cut short', () => {
    const unit = snapshot.units[0];
    expect(unit.contexts.filter((c) => c.present).length).toBeGreaterThan(20_000);
    expect(unit.domains.length).toBeGreaterThan(2_000);
    expect(unit.domains.some((d) => !d.complete)).toBe(true);
  });

  it('the unit lists a bounded number of budget problems and walk warnings, and counts the rest once', () => {
    const unit = snapshot.units[0];
    const budget = unit.tableProblems.filter((p) => p.kind === 'budget');
    // The listed ones plus one problem that counts the others (thousands of walks were cut short).
    expect(budget.length).toBeLessThanOrEqual(MAX_BUDGET_PROBLEMS_PER_UNIT + 1);
    const more = budget.find((p) => /more walks met a budget/.test(p.message));
    expect(more).toBeDefined();
    expect(Number(/^(\d+) /.exec(more!.message)![1])).toBeGreaterThan(1_000);
    const walkWarnings = snapshot.warnings.filter((w) => /walk cut short|not in the image|not listed one by one/.test(w.message));
    expect(walkWarnings.length).toBeLessThanOrEqual(MAX_WALK_WARNINGS_PER_UNIT + 1);
    expect(snapshot.warnings.length).toBeLessThan(200);
  });

  it('fingerprinting a finding per domain visits each domain a bounded number of times, not once per finding', () => {
    const r = roles(snapshot);
    const base = hex(snapshot.units[0].registerBase);
    const findings: Finding[] = [...r.domains.values()].map((d) => ({
      check: 'did-conflict', severity: 'error', message: 'm', unit: base, did: d.domain.did, evidence: {},
    }));
    // Count every domain the fingerprints look at through the shared roles.
    let visited = 0;
    const real = r.domains;
    const counted = new Map(real);
    counted.values = function* (): MapIterator<DomainInfo> {
      for (const v of real.values()) {
        visited++;
        yield v;
      }
    } as typeof counted.values;
    r.domains = counted;
    try {
      assignFingerprints(snapshot, findings);
    } finally {
      r.domains = real;
    }
    expect(findings.every((f) => f.fingerprint !== undefined)).toBe(true);
    // Before: every finding scanned every domain (87 million visits here).
    expect(visited).toBeLessThanOrEqual(2 * real.size);
  });

  it('did-conflict reads each context a bounded number of times, not once per conflicting DID', () => {
    roles(snapshot); // built before counting: the roles' own pass is not the check's
    const unit = snapshot.units[0];
    const real = unit.contexts;
    let reads = 0;
    unit.contexts = new Proxy(real, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as ContextEntry;
      },
    });
    let result: ReturnType<typeof didConflict.run>;
    try {
      result = didConflict.run(snapshot, {});
    } finally {
      unit.contexts = real;
    }
    expect(result.findings.length).toBeGreaterThan(10);
    expect(result.findings.every((f) => f.source !== undefined)).toBe(true);
    // Before: a search of the unit's contexts for each conflicting DID's first device (12 million reads here).
    expect(reads).toBeLessThanOrEqual(real.length);
  });

  it('the walks of a unit stop at its mapping budget, counted across walks (a 64 MiB image made 14 M mappings, 2.4 GB)', () => {
    const mem = openRawImage(path.join(dir, 'memory.raw'));
    try {
      // The image's domains, as the unit's contexts name them: 4-level tables at every page.
      const budget = new WalkBudget(undefined, undefined, 5_000);
      let mappings = 0;
      const cut: string[] = [];
      for (let page = 0; page < PAGES; page++) {
        const r = walkPageTable(mem, page * 4096, 4, { haw: 46, budget });
        mappings += r.mappings.length;
        cut.push(...r.problems.filter((p) => p.kind === 'budget').map((p) => p.message));
      }
      // Past the budget a walk stops before its next table page: at most one page of leaves (or a
      // batch of the WebAssembly loop's records) over it, not the ~280 000 the pages hold.
      expect(mappings).toBeGreaterThanOrEqual(5_000);
      expect(mappings).toBeLessThanOrEqual(5_000 + 512 + LEAF_RECORDS);
      expect(budget.mappings).toBe(mappings);
      expect(cut.some((m) => /more than 5000 mappings in the unit's tables/.test(m))).toBe(true);
    } finally {
      mem.close();
    }
  });

  it('the default mapping budget is far above a real host\'s and bounds a unit to a few hundred MiB of mappings', () => {
    // The bench's 1 TiB VM in scattered host runs has ~1 M mappings.
    expect(MAX_MAPPINGS_PER_UNIT).toBeGreaterThanOrEqual(4 * 1_046_739);
    expect(MAX_MAPPINGS_PER_UNIT).toBeLessThanOrEqual(1 << 22);
  });
});
