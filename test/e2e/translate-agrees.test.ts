/**
 * `translate` (a fresh hardware-order walk of the image for one IOVA) agrees with the decoded,
 * coalesced mappings on thousands of random IOVAs per sample and real capture: inside a mapping
 * it lands on the mapping's HPA + offset with the mapping's page size and permissions; outside
 * every mapping it faults. Two independent paths (the bulk walker + coalescer, and the single
 * walk) must agree.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/load.js';
import type { Mapping } from '../../src/model/types.js';
import { translate } from '../../src/model/translate.js';
import { parseBdf } from '../../src/util/bdf.js';
import { capturePath } from '../helpers/captures.js';
import { REPO } from '../helpers/cli.js';

const SAMPLES = path.join(REPO, 'samples');
const sampleDirs = readdirSync(SAMPLES).filter((n) => n !== 'scenarios' && statSync(path.join(SAMPLES, n)).isDirectory()).sort().map((n) => path.join(SAMPLES, n));
const real = ['qemu-linux61-legacy', 'qemu-linux61-debugfs'].map((n) => capturePath(n));

/** xorshift32: deterministic, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const PER_CAPTURE = 3000;
/**
 * Captures with nothing this test can walk, and why. Every other capture must have a translated
 * legacy context with complete tables (so the test cannot pass by finding nothing to test).
 */
const NOTHING_TO_WALK = [
  'dmardump-absent', 'dmardump-passthrough', 'iommu-not-enabled', // text only: no memory image
  'scalable-kvm-host', // scalable mode (test/model/scalable.test.ts checks its walks)
  'scan-no-registers', // no registers: the root table is found by --rtaddr auto (test/scan)
  'table-integrity', // every unit carries table problems on purpose
];

describe.each([...sampleDirs, ...real])('translate agrees with the mappings: %s', (dir) => {
  it(`${PER_CAPTURE} random IOVAs over every translated legacy context`, () => {
    const cap = openCapture(dir);
    try {
      const name = path.basename(dir);
      if (!cap.memory) {
        // A text-only sample: nothing to walk — only where that is known to be so.
        expect(NOTHING_TO_WALK, `${name} has no memory image`).toContain(name);
        return;
      }
      const targets: { unit: (typeof cap.snapshot.units)[number]; bdf: string; mappings: Mapping[]; aw: number }[] = [];
      for (const unit of cap.snapshot.units) {
        if (unit.mode !== 'legacy' || unit.translationEnabled === false) continue;
        for (const ctx of unit.contexts) {
          if (!ctx.present || (ctx.tt ?? 0) > 1) continue;
          const d = unit.domains.find((x) => x.did === ctx.did && x.root === ctx.slptptr && x.kind === 'second-level');
          if (!d?.mappingsKnown || !d.complete || unit.tableProblems.length > 0) continue;
          targets.push({ unit, bdf: ctx.bdf, mappings: [...d.mappings].sort((a, b) => a.iovaPfn - b.iovaPfn), aw: d.levels * 9 + 12 });
        }
      }
      if (targets.length === 0) {
        expect(NOTHING_TO_WALK, `${name} has no translated legacy context with complete tables`).toContain(name);
        return;
      }
      expect(NOTHING_TO_WALK, `${name} is listed as having nothing to walk, but it has`).not.toContain(name);
      const rand = rng(dir.length * 7919);
      let inside = 0;
      let outside = 0;
      for (let i = 0; i < PER_CAPTURE; i++) {
        const mapped = targets.filter((x) => x.mappings.length > 0);
        const wantInside = mapped.length > 0 && rand() < 0.7;
        const pool = wantInside ? mapped : targets;
        const t = pool[Math.floor(rand() * pool.length)];
        let iovaPfn: number;
        let expected: Mapping | undefined;
        if (wantInside) {
          expected = t.mappings[Math.floor(rand() * t.mappings.length)];
          iovaPfn = expected.iovaPfn + Math.floor(rand() * expected.pages);
        } else {
          iovaPfn = Math.floor(rand() * 2 ** (t.aw - 12));
          expected = t.mappings.find((m) => iovaPfn >= m.iovaPfn && iovaPfn < m.iovaPfn + m.pages);
        }
        const offset = Math.floor(rand() * 4096);
        const iova = BigInt(iovaPfn) * 4096n + BigInt(offset);
        const res = translate(cap.memory, { unit: t.unit, bdf: parseBdf(t.bdf), iova, access: 'read', haw: cap.snapshot.haw });
        const where = `${t.bdf} IOVA 0x${iova.toString(16)}`;
        const mappedHpa = expected ? (BigInt(expected.hpaPfn + (iovaPfn - expected.iovaPfn)) << 12n) + BigInt(offset) : undefined;
        if (expected && mappedHpa !== undefined && mappedHpa >= 0xfee00000n && mappedHpa <= 0xfeefffffn) {
          // A mapping into the interrupt address range (hpa-leak-mmio maps the MSI window): the
          // hardware faults the request (reason 0xE) even though the table maps it.
          inside++;
          expect(res.fault?.code, where).toBe(0xe);
        } else if (expected) {
          inside++;
          expect(res.fault, where).toBeUndefined();
          const hpa = mappedHpa!;
          expect(res.hpa, where).toBe(hpa);
          expect(res.pageSize, where).toBe(expected.pageSize);
          expect(res.write, where).toBe(expected.write);
        } else {
          outside++;
          expect(res.fault, where).toBeDefined();
        }
      }
      expect(inside + outside).toBe(PER_CAPTURE);
      expect(inside).toBeGreaterThan(targets.some((t) => t.mappings.length > 0) ? PER_CAPTURE / 2 : -1);
    } finally {
      cap.close();
    }
  });
});
