import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { UnitContribution } from '../../src/model/contribution.js';
import { looksLikeDebugfsTranslation, parseDebugfsTranslation } from '../../src/text/debugfs-translation.js';
import { CAPTURES } from '../helpers/captures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/debugfs');
const read = (p: string): string => readFileSync(p, 'utf8');

// Truth from the capture READMEs (qemu-linux61-debugfs, qemu-linux61-dmar-fault).
const TRUTH = [
  { bdf: '0000:00:00.0', did: 2, slptptr: 0x2844000 },
  { bdf: '0000:00:02.0', did: 3, slptptr: 0x2849000 },
  { bdf: '0000:00:03.0', did: 4, slptptr: 0x284c000 },
  { bdf: '0000:00:1f.0', did: 5, slptptr: 0x2851000 },
  { bdf: '0000:00:1f.2', did: 5, slptptr: 0x2851000 },
  { bdf: '0000:00:1f.3', did: 5, slptptr: 0x2851000 },
  { bdf: '0000:01:00.0', did: 6, slptptr: 0x285b000 },
  { bdf: '0000:02:00.0', did: 7, slptptr: 0x286e000 },
];

function onlyUnit(units: UnitContribution[] | undefined): UnitContribution {
  expect(units).toHaveLength(1);
  return units![0];
}

describe('parseDebugfsTranslation on the real Linux 6.1 captures', () => {
  it('qemu-linux61-debugfs: unit, root entries and every context entry of the README', () => {
    const text = read(path.join(CAPTURES, 'qemu-linux61-debugfs/dmar_translation_struct'));
    expect(looksLikeDebugfsTranslation(text)).toBe(true);
    const c = parseDebugfsTranslation(text, 'dmar_translation_struct');
    expect(c.warnings).toEqual([]);
    const u = onlyUnit(c.units);
    expect(u.name).toBe('dmar0');
    expect(u.rootTable).toBe(0x23c5000);
    expect(u.translationEnabled).toBe(true);
    expect(u.mode).toBe('legacy');
    expect(u.source).toEqual({ part: 'dmar_translation_struct', line: 1 });
    expect(u.rootEntries!.map((r) => [r.bus, r.lowerContextTable])).toEqual([[0, 0x2845000], [1, 0x285c000], [2, 0x286f000]]);
    expect(u.contexts!.map((x) => ({ bdf: x.bdf, did: x.did, slptptr: x.slptptr }))).toEqual(TRUTH);
    for (const x of u.contexts!) {
      expect(x).toMatchObject({ present: true, tt: 0, aw: 1, levels: 3, fpd: false, segment: 0 });
      expect(x.pasids).toBeUndefined();
    }
    const e1000e = u.contexts!.find((x) => x.bdf === '0000:01:00.0')!;
    expect(e1000e.raw).toEqual([0x285b001n, 0x601n]);
    expect(e1000e.source).toEqual({ part: 'dmar_translation_struct', line: 9 });
  });

  it('qemu-linux61-dmar-fault: 02:00.0 is gone, bus 2 root entry too (no context rows)', () => {
    const c = parseDebugfsTranslation(read(path.join(CAPTURES, 'qemu-linux61-dmar-fault/dmar_translation_struct')), 'x');
    const u = onlyUnit(c.units);
    expect(u.rootTable).toBe(0x23c5000);
    expect(u.contexts!.map((x) => ({ bdf: x.bdf, did: x.did, slptptr: x.slptptr }))).toEqual(TRUTH.slice(0, 7));
    expect(u.contexts!.every((x) => x.tt === 0 && x.aw === 1)).toBe(true);
  });
});

describe('parseDebugfsTranslation on hand-written input', () => {
  it('scalable mode: rows grouped per BDF into contexts with PASID entries; a disabled unit', () => {
    const c = parseDebugfsTranslation(read(path.join(FIXTURES, 'translation-scalable.txt')), 'sm.txt');
    expect(c.warnings).toEqual([]);
    expect(c.units).toHaveLength(2);
    const off = c.units!.find((u) => u.name === 'dmar0')!;
    expect(off).toEqual({ name: 'dmar0', translationEnabled: false, source: { part: 'sm.txt', line: 1 } });
    const u = c.units!.find((x) => x.name === 'dmar1')!;
    expect(u.mode).toBe('scalable');
    expect(u.rootTable).toBe(0x3000000);
    expect(u.rootEntries).toEqual([
      { bus: 0, lo: 0x3001001n, hi: 0x3002001n, lowerContextTable: 0x3001000, upperContextTable: 0x3002000, source: { part: 'sm.txt', line: 4 } },
    ]);
    expect(u.contexts).toHaveLength(2);
    const [a, b] = u.contexts!;
    expect(a).toMatchObject({
      bdf: '0000:00:02.0', bus: 0, devfn: 0x10, present: true, pasidDirPtr: 0x3003000, pdts: 0, ridPasid: 0,
      // From its RID_PASID (PASID 0) entry:
      did: 5, aw: 2, levels: 4, slptptr: 0x3004000, raw: [0x3003001n, 0n],
    });
    expect(a.tt).toBeUndefined();
    expect(a.pasids).toEqual([
      {
        pasid: 0, present: true, fpd: false, pgtt: 2, aw: 2, levels: 4, did: 5, slptptr: 0x3004000, flptptr: 0, flpm: 0, sre: false,
        raw: [0x3004089n, 5n, 0n], source: { part: 'sm.txt', line: 4 },
      },
      {
        pasid: 65, present: true, fpd: false, pgtt: 1, aw: 0, levels: 5, did: 1, slptptr: 0, flptptr: 0x3005000, flpm: 1, sre: true,
        raw: [0x41n, 1n, 0x3005005n], source: { part: 'sm.txt', line: 5 },
      },
    ]);
    expect(b).toMatchObject({ bdf: '0000:00:1f.7', devfn: 0xff, pasidDirPtr: 0x3006000, pdts: 1, did: 1 });
    expect(b.pasids!.map((p) => [p.pasid, p.pgtt, p.did])).toEqual([[0, 4, 1]]);
  });

  it('CRLF line ends give the same result', () => {
    const lf = read(path.join(FIXTURES, 'translation-scalable.txt'));
    expect(parseDebugfsTranslation(lf.replace(/\n/g, '\r\n'), 'sm.txt')).toEqual(parseDebugfsTranslation(lf, 'sm.txt'));
    const real = read(path.join(CAPTURES, 'qemu-linux61-debugfs/dmar_translation_struct'));
    expect(parseDebugfsTranslation(real.replace(/\n/g, '\r\n'), 'r')).toEqual(parseDebugfsTranslation(real, 'r'));
  });

  it('a half-pasted file: rows kept, the cut row and trailing noise become warnings with line numbers', () => {
    const real = read(path.join(CAPTURES, 'qemu-linux61-debugfs/dmar_translation_struct'));
    const lines = real.split('\n');
    // Lines 1–8 intact (header, 6 rows), line 9 (01:00.0) cut inside its context entry, then noise.
    const cut = lines.slice(0, 8).join('\n') + '\n' + lines[8].slice(0, 60) + '\nuser@host:~$ exit\n';
    const c = parseDebugfsTranslation(cut, 'cut.txt');
    const u = onlyUnit(c.units);
    expect(u.contexts!.map((x) => x.bdf)).toEqual(TRUTH.slice(0, 6).map((t) => t.bdf));
    expect(c.warnings.map((w) => w.source)).toEqual([{ part: 'cut.txt', line: 9 }, { part: 'cut.txt', line: 10 }]);
  });

  it('rows without their unit line are kept under an unnamed unit, with a warning', () => {
    const real = read(path.join(CAPTURES, 'qemu-linux61-debugfs/dmar_translation_struct'));
    const c = parseDebugfsTranslation(real.split('\n').slice(5).join('\n'), 'tail.txt');
    const u = onlyUnit(c.units);
    expect(u.name).toBeUndefined();
    expect(u.contexts!.map((x) => x.bdf)).toEqual(TRUTH.slice(3).map((t) => t.bdf));
    expect(c.warnings[0].source).toEqual({ part: 'tail.txt', line: 1 });
  });

  it('a legacy row without its PASID columns still gives the context entry', () => {
    const c = parseDebugfsTranslation('IOMMU dmar0: Root Table Address: 0x1000\n03:00.1\t0x0000000000000000:0x0000000000002001\t0x0000000000000a02:0x0000000000005009\n', 'p');
    const x = onlyUnit(c.units).contexts![0];
    // lo 0x5009: P=1, FPD=0, TT=10b (pass-through); hi 0xa02: AW=2, DID=0xa.
    expect(x).toMatchObject({ bdf: '0000:03:00.1', present: true, tt: 2, aw: 2, levels: 4, did: 10, slptptr: 0x5000 });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0].source).toEqual({ part: 'p', line: 2 });
  });

  it('a unit with no rows has an unknown mode (scalable units with no present PASID entry print none)', () => {
    const c = parseDebugfsTranslation('IOMMU dmar2: Root Table Address: 0x7000\nB.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n\n', 'n');
    const u = onlyUnit(c.units);
    expect(u).toMatchObject({ name: 'dmar2', rootTable: 0x7000, translationEnabled: true, contexts: [], rootEntries: [] });
    expect(u.mode).toBeUndefined();
  });

  it('random text is an InputError naming the file and line 1; empty text is an empty capture', () => {
    let err: unknown;
    try {
      parseDebugfsTranslation('hello world\nthis is not debugfs\n', 'notes.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe('notes.txt');
    expect((err as InputError).line).toBe(1);
    expect(parseDebugfsTranslation('', 'e').units).toEqual([]);
    expect(looksLikeDebugfsTranslation('hello world')).toBe(false);
    expect(looksLikeDebugfsTranslation(read(path.join(CAPTURES, 'qemu-linux61-debugfs/domain_translation_struct')))).toBe(false);
  });

  it('property: arbitrary text never throws anything but InputError', () => {
    const fragments = fc.constantFrom(
      'IOMMU dmar0: Root Table Address: 0x1000', 'DMA Remapping is not enabled on dmar3', 'B.D.F\tRoot_entry',
      '00:1f.7\t0x0000000000000001:0x0000000000002001\t0x0:0x1\t-1    \t0x0:0x0:0x0', 'ff:ff.7', '0xffffffffffffffff:0x1', '\t', ' ', '\r', '-1', '99999999999',
    );
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.oneof(fragments, fc.string({ maxLength: 20 })), { maxLength: 30 }).map((a) => a.join('\n')));
    fc.assert(fc.property(text, (t) => {
      try {
        parseDebugfsTranslation(t, 'fuzz');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});

describe('root table address beyond 2^53 (issue 13: the debugfs and dmardump readers disagreed)', () => {
  it('is an error naming the line, as dmardump says of its root table: never an inexact number in the model', () => {
    const text = 'IOMMU dmar0: Root Table Address: 0xfffffffffffff000\nB.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n';
    expect(() => parseDebugfsTranslation(text, 'dmar_translation_struct')).toThrow(InputError);
    expect(() => parseDebugfsTranslation(text, 'dmar_translation_struct')).toThrow(/root table address 0xfffffffffffff000 is beyond 2\^53/);
    expect(parseDebugfsTranslation('IOMMU dmar0: Root Table Address: 0x1fffffffff000\n', 'p').units?.[0].rootTable).toBe(0x1fffffffff000);
  });
});
