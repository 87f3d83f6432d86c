/**
 * `translate --msi` on the real captures (in process; test/e2e/translate-msi.test.ts runs the CLI
 * once per behaviour). Expected values come from the kernel's own ir_translation_struct, parsed by
 * a regex of its row format, and from the captures' READMEs (GSTS 0xc7000000: IRES on, CFIS clear;
 * IRTA S = 15: 65,536 entries). MSIs are built from the spec (VT-d 5.1.2.2): remappable format is
 * address bit 4 = 1 with handle[14:0] in bits 19:5 and handle[15] in bit 2; SHV (bit 3) adds data
 * bits 15:0 as subhandle.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, type OpenCapture } from '../../src/capture/load.js';
import { decodeMsi } from '../../src/decode/msi.js';
import { InputError } from '../../src/errors.js';
import { translateMsi } from '../../src/model/translate-msi.js';
import type { Unit } from '../../src/model/types.js';
import { msiTranslationToJson, renderMsiTranslation } from '../../src/report/translate-msi.js';
import { bdfFromKey } from '../../src/util/bdf.js';
import { capturePath } from '../helpers/captures.js';

const remappable = (index: number, opts: { shv?: number } = {}) =>
  decodeMsi(0xfee0_0000 + ((index & 0x7fff) << 5) + 0x10 + ((index >> 15) << 2) + (opts.shv !== undefined ? 0x8 : 0), opts.shv ?? 0);
/** Compatibility format (bit 4 = 0): destination APIC id 1 in bits 19:12, vector 0x30. */
const compatibility = decodeMsi(0xfee0_1000, 0x30);

const printed = (capture: string): { index: number; sid: number; vector: number }[] =>
  [...readFileSync(capturePath(capture, 'ir_translation_struct'), 'utf8').matchAll(/^ (\d+) +([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) [0-9a-f]{8} ([0-9a-f]{2}) /gm)].map((m) => ({
    index: Number(m[1]), sid: (parseInt(m[2], 16) << 8) | (parseInt(m[3], 16) << 3) | Number(m[4]), vector: parseInt(m[5], 16),
  }));

// Legacy has no debugfs: its 15 entries, hand-checked in test/decode/irte-real.test.ts.
const LEGACY = [[0, 0xff00, 0x26], [1, 0xff00, 0x30], [2, 0xff00, 0x29], [3, 0xff00, 0x28], [7, 0xff00, 0x27], [8, 0xff00, 0x22], [11, 0xff00, 0x25],
  [16, 0x10, 0x23], [18, 0x18, 0x24], [19, 0x200, 0x2a], [20, 0x200, 0x2b], [21, 0x200, 0x2c], [22, 0x100, 0x2d], [23, 0x100, 0x2e], [24, 0x100, 0x2f]]
  .map(([index, sid, vector]) => ({ index, sid, vector }));

const cases: [capture: string, opts: { ignore?: string[] }, entries: { index: number; sid: number; vector: number }[]][] = [
  ['qemu-linux61-debugfs', {}, printed('qemu-linux61-debugfs')],
  ['qemu-linux61-debugfs', { ignore: ['ir-translation'] }, printed('qemu-linux61-debugfs')],
  ['qemu-linux61-dmar-fault', {}, printed('qemu-linux61-dmar-fault')],
  ['qemu-linux61-legacy', {}, LEGACY],
  ['qemu-linux61-vfio', {}, printed('qemu-linux61-vfio')],
];

const opened: OpenCapture[] = [];
afterAll(() => {
  for (const c of opened) c.close();
});

for (const [capture, opts, entries] of cases) {
  describe(`${capture}${opts.ignore ? ' (debugfs ignored)' : ''}: translate --msi`, () => {
    const cap = openCapture(capturePath(capture), opts as never);
    opened.push(cap);
    const unit: Unit = cap.snapshot.units[0];
    const memory = cap.memory ? { mem: cap.memory, part: 'memory.elf' } : undefined;
    const run = (msi: ReturnType<typeof decodeMsi>, sid: number) => translateMsi({ unit, bdf: bdfFromKey(sid), msi, ...(memory ? { memory } : {}) });
    const absent = [...Array(256).keys()].find((i) => !entries.some((e) => e.index === i))!;

    it(`each of the ${entries.length} present IRTEs: the right requester gets its vector; another requester faults 0x26`, () => {
      expect(entries.length).toBeGreaterThan(8);
      for (const e of entries) {
        expect(run(remappable(e.index), e.sid).result, `IRTE ${e.index}`).toMatchObject({ outcome: 'remapped', index: e.index, vector: e.vector, destination: 0x100, apicId: 1, sourceIdVerified: true });
        const other = e.sid === 0x0100 ? 0x0200 : 0x0100;
        expect(run(remappable(e.index), other).result, `IRTE ${e.index} from another BDF`).toMatchObject({ outcome: 'fault', code: 0x26, index: e.index });
      }
    });

    it('an index at or beyond the table size (65,536 entries) faults 0x21', () => {
      // handle 0xffff + subhandle 1 = 65,536.
      expect(run(remappable(0xffff, { shv: 1 }), 0x0100).result).toMatchObject({ outcome: 'fault', code: 0x21 });
    });

    it(`a non-present entry (${absent}) faults 0x22`, () => {
      expect(run(remappable(absent), 0x0100).result).toMatchObject({ outcome: 'fault', code: 0x22, index: absent });
    });

    it('a compatibility-format MSI with CFIS clear faults 0x25', () => {
      expect(unit.interruptRemapping?.compatibilityFormat).toBe(false);
      expect(run(compatibility, 0x0100).result).toMatchObject({ outcome: 'fault', code: 0x25 });
    });
  });
}

describe('what the capture cannot tell is an input error, not a guess', () => {
  it('an entry on a table page the image lacks, without debugfs', () => {
    const cap = openCapture(capturePath('qemu-linux61-legacy'));
    opened.push(cap);
    const unit = cap.snapshot.units[0];
    const attempt = () => translateMsi({ unit, bdf: bdfFromKey(0x100), msi: remappable(300), memory: { mem: cap.memory!, part: 'memory.elf' } });
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow('unit 0xfed90000: IRTE 300 (table 0x1600000, entry at 0x16012c0) is not in the capture: neither the memory image nor ir_translation_struct holds it, so what the unit does with this interrupt is unknown');
  });
});

describe('output', () => {
  const cap = openCapture(capturePath('qemu-linux61-debugfs'));
  opened.push(cap);
  const unit = cap.snapshot.units[0];
  const memory = { mem: cap.memory!, part: 'memory.elf' };
  it('JSON: destination is the raw DST field, apicId DST[15:8] in xAPIC mode; the IRTE read and where from', () => {
    const msi = remappable(22);
    const t = translateMsi({ unit, bdf: bdfFromKey(0x100), msi, memory });
    expect(msiTranslationToJson({ unit, bdf: bdfFromKey(0x100), msi }, t)).toEqual({
      bdf: '0000:01:00.0', unit: '0xfed90000',
      msi: { address: '0xfee002d0', data: '0x0', format: 'remappable', handle: 22, shv: false, subhandle: null, interruptIndex: 22 },
      irte: { index: 22, addr: '0x2100160', present: true, raw: ['0x1000027000d', '0x40100'], source: { part: 'memory.elf', offset: '0x2160' } },
      outcome: 'remapped', vector: 0x27, destination: '0x100', apicId: '0x1', destinationMode: 'logical', deliveryMode: 'fixed', triggerMode: 'edge',
      redirectionHint: true, sourceIdVerified: true,
    });
  });
  it('table: the MSI, the IRTE, then the delivery or the fault with its reason', () => {
    const ok = renderMsiTranslation({ unit, bdf: bdfFromKey(0x100), msi: remappable(22) }, translateMsi({ unit, bdf: bdfFromKey(0x100), msi: remappable(22), memory }), { color: false });
    expect(ok).toBe([
      '0000:01:00.0 MSI write 0xfee002d0 data 0x0 (unit 0xfed90000)',
      '  MSI    remappable format: handle 22 (SHV = 0) → interrupt index 22',
      '  IRTE   table 0x2100000 [22] = 0x0000000000040100:0x000001000027000d (memory.elf@0x2160)',
      '         remapped fixed logical edge RH; source-id 0000:01:00.0 SQ 00b SVT 01b; APIC 0x1 (DST 0x100)',
      '  → remapped: vector 0x27 to APIC id 0x1 (DST 0x100), fixed, logical, edge, RH; source-id verified',
      '',
    ].join('\n'));
    const bad = renderMsiTranslation({ unit, bdf: bdfFromKey(0x200), msi: remappable(22) }, translateMsi({ unit, bdf: bdfFromKey(0x200), msi: remappable(22), memory }), { color: false });
    expect(bad.split('\n').at(-2)).toBe('  → fault 0x26: interrupt blocked by source-id verification: IRTE 22 accepts requester 0000:01:00.0 (SVT = 01b, SQ = 00b), not 0000:02:00.0');
  });
});
