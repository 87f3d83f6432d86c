/**
 * The capture-level fuzz campaign: whole captures changed by the structure-aware mutators of
 * mutators.ts, and what dmarsift as a whole must do with them. Two kinds of target:
 *
 * - in-process (entry64, regline, widen, manifest): load, run every check, render every format;
 *   the run returns, or ends in the project's InputError naming the file (and where);
 * - bounded CLI runs (fan, nonregular, hugeline): `bin/dmarsift.js` in a child process with a
 *   deadline and a heap cap (test/helpers/bounded.ts) — the inputs that hang or grow without bound.
 *
 * Inputs come from a fixed seed (printed; DMARSIFT_FUZZ_SEED chooses another, `random` a fresh
 * one). The normal suite runs a few inputs per target; `npm run fuzz` (DMARSIFT_FUZZ_RUNS) scales
 * them up: runs/1000 per in-process target, runs/20 000 per CLI target (a capture-level input costs
 * what a decoder input costs a thousand times over).
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedProblems, runCliBounded } from '../helpers/bounded.js';
import { testSeed } from '../helpers/seed.js';
import {
  applyManifestEdit, applyRegLineEdit, entryEdits, entrySeed, fanCapture, fanShape, hugeLine, makeNonRegular, manifestEdit, pipeline, pipelineOk,
  registerLines, regLineEdits, SEEDS, TOLERATED, wideNumber, widenText, withEntryEdits, withText, workspace, type NonRegular,
} from './mutators.js';
import { InputError } from '../../src/errors.js';

const SEED = testSeed(process.env.DMARSIFT_FUZZ_SEED ?? process.env.DMARSIFT_TEST_SEED);
const CAMPAIGN = process.env.DMARSIFT_FUZZ_RUNS !== undefined ? Number(process.env.DMARSIFT_FUZZ_RUNS) : undefined;
const RUNS = CAMPAIGN === undefined ? 6 : Math.max(1, Math.round(CAMPAIGN / 1000));
const CLI_RUNS = CAMPAIGN === undefined ? 2 : Math.max(1, Math.round(CAMPAIGN / 20_000));
const opts = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

/** The snapshot's warnings that name `file` (by its base name) and `line`. */
const warnedAt = (warnings: { source?: { part: string; line?: number } }[], file: string, line: number) =>
  warnings.some((w) => w.source !== undefined && path.basename(w.source.part) === file && w.source.line === line);

describe('structured fuzz (capture level)', () => {
  console.log(`structured fuzz seed ${SEED}: ${RUNS} input(s) per in-process target, ${CLI_RUNS} per CLI target`);

  // ---------------------------------------------------------------- entry64
  describe('entry64: chosen 64-bit values in the capture\'s own table entries', () => {
    for (const [name, src] of [['bhyve-host (legacy, sparse)', SEEDS.legacySparse], ['scalable-kvm-host (scalable, sparse)', SEEDS.scalableSparse], ['qemu-linux61-legacy (ELF core)', SEEDS.realLegacy]] as const) {
      it(`${name}: decode, analyze and every report run, or end in an InputError naming the file`, () => {
        const seed = entrySeed(workspace(src));
        fc.assert(fc.property(entryEdits(seed), (edits) => withEntryEdits(seed, edits, () => void pipelineOk(seed.dir))), opts(RUNS));
      }, 120_000);
    }
  });

  // ---------------------------------------------------------------- regline
  describe('regline: register lines of iommu_regset rewritten', () => {
    for (const src of [SEEDS.realLegacy, SEEDS.realDebugfs]) {
      const name = path.basename(src);
      it(`${name}: every rewrite loads and reports without an internal error`, () => {
        const dir = workspace(src);
        const file = path.join(dir, 'iommu_regset');
        const text = fs.readFileSync(file, 'utf8');
        fc.assert(fc.property(regLineEdits(registerLines(text)), (e) => {
          const r = applyRegLineEdit(text, e);
          withText(file, r.text, () => void pipelineOk(dir));
        }), opts(RUNS));
      }, 120_000);

      it(`${name}: a line is used (comments, CRLF and tabs tolerated) or warned about with its file and line`, () => {
        const dir = workspace(src);
        const file = path.join(dir, 'iommu_regset');
        const text = fs.readFileSync(file, 'utf8');
        fc.assert(fc.property(regLineEdits(registerLines(text)), (e) => {
          const r = applyRegLineEdit(text, e);
          withText(file, r.text, () => {
            const s = pipeline(dir);
            if (TOLERATED.has(e.kind)) {
              const unit = s.units.find((u) => u.registers?.raw[r.name] !== undefined);
              expect(unit?.registers?.raw[r.name], `${e.kind} ${r.name}`).toBe(r.value);
            } else {
              expect(warnedAt(s.warnings, 'iommu_regset', r.lineNo), `${e.kind} ${r.name} line ${r.lineNo}: ${JSON.stringify(s.warnings.map((w) => w.message))}`).toBe(true);
            }
          });
        }), opts(RUNS));
      }, 120_000);
    }
  });

  // ---------------------------------------------------------------- widen
  describe('widen: numbers wider than 53 bits in text parts', () => {
    const cases = [[SEEDS.realVfio, ['pci-sysfs.txt', 'iomem.txt', 'qemu-cmdline.txt', 'dmar_translation_struct']], [SEEDS.legacySparse, ['pciconf-lv.txt', 'ps-args.txt', 'smap.txt', 'registers.json']]] as const;
    for (const [src, files] of cases) {
      it(`${path.basename(src)}: ${files.join(', ')} — loads and reports, or an InputError naming the file`, () => {
        const dir = workspace(src);
        const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
        fc.assert(fc.property(fc.nat(files.length - 1), fc.nat(), wideNumber, (fi, k, wide) => {
          withText(path.join(dir, files[fi]), widenText(texts[fi], k, wide), () => void pipelineOk(dir));
        }), opts(RUNS));
      }, 120_000);
    }
  });

  // ---------------------------------------------------------------- manifest
  describe('manifest: capture.json parts changed', () => {
    const setup = (src: string) => {
      const dir = workspace(src);
      const file = path.join(dir, 'capture.json');
      // Something a manifest path leaving the directory would read, shaped like a part.
      fs.writeFileSync(path.join(path.dirname(dir), 'canary.txt'), '0000:00:00.0 CANARY-LEAK [0200]: secret [8086:1521]\n');
      return { dir, file, json: fs.readFileSync(file, 'utf8') };
    };
    // Items 16 and 22: `"unit": -1` ends in an internal error; errors about parts name no line.
    it('unit, kind and duplicate parts: loads and reports, or an InputError naming capture.json and the line', () => {
      const { dir, file, json } = setup(SEEDS.legacySparse);
      const parts = (JSON.parse(json) as { parts: unknown[] }).parts.length;
      fc.assert(fc.property(manifestEdit(parts).filter((e) => e.field !== 'path'), (e) => {
        withText(file, applyManifestEdit(json, e), () => {
          try {
            pipeline(dir);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            if (path.basename(err.file ?? '') === 'capture.json') expect(err.line, err.format()).toBeDefined();
          }
        });
      }), opts(RUNS));
    }, 120_000);
    it('a part path that leaves the capture directory is an InputError, and nothing outside is read', () => {
      const { dir, file, json } = setup(SEEDS.legacySparse);
      const parts = (JSON.parse(json) as { parts: unknown[] }).parts.length;
      const escapes = fc.record({ part: fc.nat(parts - 1), value: fc.constantFrom('../canary.txt', 'sub/../../canary.txt', '/etc/hostname', '../../../../../../etc/hostname') });
      fc.assert(fc.property(escapes, (e) => {
        withText(file, applyManifestEdit(json, { field: 'path', ...e }), () => {
          expect(() => pipeline(dir)).toThrow(InputError);
        });
      }), opts(RUNS));
    }, 120_000);
  });

  // ---------------------------------------------------------------- fan / cycle
  const fanProperty = (chain: boolean) => () => {
    fc.assert(fc.property(fanShape(fc.constant(chain)), (shape) => {
      const dir = fanCapture(shape);
      for (const args of [['analyze', dir, '--format', 'json', '--fail-on', 'none'], ['analyze', dir, '--format', 'html', '--fail-on', 'none'], ['translate', dir, '--bdf', '0000:03:00.0', '--iova', '0x12345000']]) {
        const r = runCliBounded(args, { timeoutMs: 20_000 });
        expect(boundedProblems(r), `${args[0]} ${JSON.stringify(shape)}`).toEqual([]);
      }
    }), opts(CLI_RUNS));
  };
  it('random webs of table pages (cycles, shared pages, partial fans): analyze and translate end within 20 s and 256 MiB', fanProperty(false), 600_000);
  it('full fans down the levels: analyze and translate end within 20 s and 256 MiB', fanProperty(true), 600_000);

  // ---------------------------------------------------------------- non-regular files
  /** Replace a part by something that is not a regular file, with or without the manifest naming it, as a part or by its option: exit 2 within 10 s, one line naming it, no raw errno text. */
  const nonRegularProperty = (hows: NonRegular[], manifests: boolean[]) => () => {
    const dir = workspace(SEEDS.legacySparse);
    const manifest = path.join(dir, 'capture.json');
    const manifestText = fs.readFileSync(manifest);
    const files = ['DMAR', 'registers.json', 'memory.sparse', 'pciconf-lv.txt', 'ps-args.txt', 'smap.txt'];
    const option: Record<string, string> = { 'pciconf-lv.txt': '--pci', 'ps-args.txt': '--vms', 'smap.txt': '--memory-map', 'registers.json': '--registers', DMAR: '--dmar', 'memory.sparse': '--memory' };
    fc.assert(fc.property(fc.constantFrom(...files), fc.constantFrom(...hows), fc.constantFrom(...manifests), fc.boolean(), (f, how, withManifest, asOption) => {
      const p = path.join(dir, f);
      const saved = fs.readFileSync(p);
      makeNonRegular(p, how);
      if (!withManifest) fs.rmSync(manifest);
      try {
        const args = asOption ? ['analyze', dir, option[f], p, '--format', 'json'] : ['analyze', dir, '--format', 'json'];
        const r = runCliBounded(args, { timeoutMs: 10_000 });
        const what = `${how} ${f}${withManifest ? '' : ' (no capture.json)'}${asOption ? ` (${option[f]})` : ''}`;
        expect(boundedProblems(r), what).toEqual([]);
        expect(r.status, `${what}: ${r.stderr}`).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, what).toHaveLength(1);
        expect(lines[0], what).toContain(f);
        expect(lines[0], what).not.toMatch(/\bE[A-Z]{3,}\b: /);
      } finally {
        fs.rmSync(p, { recursive: true, force: true });
        fs.rmSync(`${p}.loop`, { force: true });
        fs.writeFileSync(p, saved);
        fs.writeFileSync(manifest, manifestText);
      }
    }), opts(CLI_RUNS * 2));
  };
  it('a part that is a directory or a dangling link: exit 2 within 10 s, one line naming it', nonRegularProperty(['directory', 'dangling'], [true]), 600_000);
  it('a part that is a FIFO or a symlink to /dev/zero: exit 2 within 10 s, one line naming it', nonRegularProperty(['fifo', 'dev-zero'], [true, false]), 600_000);
  it('a part that is a symlink loop: exit 2, one line naming it, no raw errno text', nonRegularProperty(['loop'], [true, false]), 600_000);
  // Without capture.json a directory is a folder of parts (newer kernels put debugfs files in
  // per-device folders), not a broken part: the capture is read without the part it replaced.
  it('without capture.json, a part replaced by a directory is read as an (empty) folder: bounded, no internal error', () => {
    const dir = workspace(SEEDS.legacySparse);
    const manifest = path.join(dir, 'capture.json');
    const manifestText = fs.readFileSync(manifest);
    fc.assert(fc.property(fc.constantFrom('DMAR', 'registers.json', 'memory.sparse', 'pciconf-lv.txt', 'ps-args.txt', 'smap.txt'), (f) => {
      const p = path.join(dir, f);
      const saved = fs.readFileSync(p);
      makeNonRegular(p, 'directory');
      fs.rmSync(manifest);
      try {
        const r = runCliBounded(['analyze', dir, '--format', 'json'], { timeoutMs: 10_000 });
        expect(boundedProblems(r), f).toEqual([]);
        if (r.status === 2) expect(r.stderr.trim().split('\n'), f).toHaveLength(1);
      } finally {
        fs.rmSync(p, { recursive: true, force: true });
        fs.writeFileSync(p, saved);
        fs.writeFileSync(manifest, manifestText);
      }
    }), opts(CLI_RUNS));
  }, 600_000);

  // ---------------------------------------------------------------- huge lines
  const hugeProperty = (sizes: number[]) => () => {
    // The bhyve sample: its text parts are small, so the line is nearly all of the input.
    const dir = workspace(SEEDS.legacySparse);
    const parts = [['ps-args.txt', 'vm-cmdlines'], ['pciconf-lv.txt', 'pci'], ['smap.txt', 'memory-map']] as const;
    fc.assert(fc.property(fc.nat(parts.length - 1), fc.constantFrom(...sizes), fc.nat(2), fc.boolean(), (pi, mb, pattern, atEnd) => {
      const [f, kind] = parts[pi];
      const p = path.join(dir, f);
      const text = fs.readFileSync(p, 'utf8');
      const line = hugeLine(kind, mb, pattern);
      withText(p, atEnd ? `${text}${line}\n` : `${line}\n${text}`, () => {
        const r = runCliBounded(['analyze', dir, '--format', 'json', '--fail-on', 'none'], { timeoutMs: 20_000 });
        expect(boundedProblems(r), `${mb} MiB line in ${f}`).toEqual([]);
      });
    }), opts(CLI_RUNS));
  };
  it('one line of 1 or 4 MiB in a text part: exit 0–2 within 20 s and 256 MiB', hugeProperty([1, 4]), 600_000);
  it('one line of 10 or 40 MiB in a text part: exit 0–2 within 20 s and 256 MiB', hugeProperty([10, 40]), 600_000);
});
