/**
 * diff compares interrupt remapping table entries like context entries: by unit and index.
 * Real pair: qemu-linux61-debugfs → qemu-linux61-dmar-fault, where the virtio-net 02:00.0 was
 * hot-unplugged in between; the kernel's ir_translation_struct lists IRTEs 19-21 (source-id 02:00.0)
 * before and not after, and nothing else differs (compare the two files: the other nine rows are
 * byte-identical).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { diffIrtes } from '../../src/model/diff-irte.js';
import { diffSnapshots } from '../../src/model/diff.js';
import { diffToJson, renderDiffMarkdown, renderDiffTable } from '../../src/report/diff.js';
import { postedIrte, remappedIrte } from '../../src/synth/ir-encode.js';
import { snapshot } from '../checks/snapshot-builder.js';
import { capturePath } from '../helpers/captures.js';
import { schemaValidator } from '../helpers/validators.js';

const rows = (capture: string): string[] => readFileSync(capturePath(capture, 'ir_translation_struct'), 'utf8').split('\n').filter((l) => /^ \d+ /.test(l));

describe('qemu-linux61-debugfs → qemu-linux61-dmar-fault', () => {
  const before = rows('qemu-linux61-debugfs');
  const after = rows('qemu-linux61-dmar-fault');
  const gone = before.filter((l) => !after.includes(l)).map((l) => Number(l.trim().split(/\s+/)[0]));

  it('the kernel printed 19, 20, 21 (SrcID 02:00.0) before and not after; every row after was there before', () => {
    expect(gone).toEqual([19, 20, 21]);
    expect(before.filter((l) => gone.includes(Number(l.trim().split(/\s+/)[0]))).every((l) => l.includes(' 02:00.0 '))).toBe(true);
    expect(after.every((l) => before.includes(l))).toBe(true);
  });

  for (const [what, opts] of [['with debugfs', {}], ['from the memory images alone', { ignore: ['ir-translation'] }]] as const) {
    it(`${what}: IRTEs 19-21 of 02:00.0 removed, nothing added or changed`, () => {
      const a = loadCapture(capturePath('qemu-linux61-debugfs'), opts as never);
      const b = loadCapture(capturePath('qemu-linux61-dmar-fault'), opts as never);
      const d = diffSnapshots(a, b);
      expect(d.irtes.removed.map((v) => [v.index, v.sid, v.unit])).toEqual(gone.map((i) => [i, 0x0200, 0xfed90000]));
      expect([d.irtes.added, d.irtes.changed, d.irtes.unknown]).toEqual([[], [], 0]);

      const input = { before: a, after: b, diff: d, findings: [], introduced: [], resolved: [] };
      const json = diffToJson(input) as { irtes: { removed: { index: number; sid: string }[] }; summary: { irtes: unknown } };
      expect(schemaValidator('diff-report.schema.json')(json)).toEqual([]);
      expect(json.summary.irtes).toEqual({ added: 0, removed: 3, changed: 0 });
      expect(json.irtes.removed.map((x) => [x.index, x.sid])).toEqual(gone.map((i) => [i, '0000:02:00.0']));
      const table = renderDiffTable(input, { color: false });
      expect(table).toContain('Interrupt remapping entries\n  - IRTE 19 (unit 0xfed90000): remapped vector 0x22 from 0000:02:00.0 SQ 00b SVT 01b to DST 0x100\n');
      expect(renderDiffMarkdown(input)).toContain('| interrupt remapping entries | 0 | 3 | 0 |');
    });
  }
});

describe('diffIrtes by hand', () => {
  const BASE = 0xfed90000;
  const a = remappedIrte({ vector: 0x30, sid: 0x0100 });

  it('changed fields are named: vector, source-id, destination, mode, FPD', () => {
    const s1 = snapshot().unit(BASE, (u) => u.ir({ entries: [[1, a], [2, a], [3, a], [4, a]] })).build();
    const s2 = snapshot().unit(BASE, (u) => u.ir({
      entries: [
        [1, remappedIrte({ vector: 0x31, sid: 0x0100 })],
        [2, remappedIrte({ vector: 0x30, sid: 0x0200, svt: 2 })],
        [3, postedIrte({ vector: 0x30, sid: 0x0100, pda: 0x12340n })],
        [4, remappedIrte({ vector: 0x30, sid: 0x0100, fpd: true, dst: 0x200 })],
      ],
    })).build();
    expect(diffIrtes(s1, s2).changed.map((c) => [c.before.index, c.fields])).toEqual([
      [1, ['vector']], [2, ['sid']], [3, ['mode', 'destination', 'postedDescriptor']], [4, ['destination', 'fpd']],
    ]);
  });

  it('an entry one side cannot tell is unknown there: neither added nor removed', () => {
    const s1 = snapshot().unit(BASE, (u) => u.ir({ entries: [[300, a]] })).build();
    const s2 = snapshot().unit(BASE, (u) => u.ir({ unreadable: [[256, 65536]], unreadableEntries: 65280 })).build();
    expect(diffIrtes(s1, s2)).toEqual({ added: [], removed: [], changed: [], unknown: 1 });
    expect(diffIrtes(s2, s1)).toEqual({ added: [], removed: [], changed: [], unknown: 1 });
    const noIr = snapshot().unit(BASE).build();
    expect(diffIrtes(s1, noIr).unknown).toBe(1);
  });
});
