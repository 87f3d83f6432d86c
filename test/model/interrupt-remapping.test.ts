/**
 * units[].interruptRemapping: the IR table read from the memory image, debugfs ir_translation_struct,
 * and how the two merge.
 *
 * Real captures: the model's entries, with the debugfs part ignored (`--ignore ir-translation`), must
 * be exactly what the kernel printed in ir_translation_struct — the expected side parsed here with a
 * plain regex of the kernel's row format, not with src/text/ir-translation.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { buildUnitRegisters } from '../../src/decode/registers.js';
import { buildInterruptRemapping, irteState, type InterruptRemapping } from '../../src/model/interrupt-remapping.js';
import type { Snapshot } from '../../src/model/types.js';
import { snapshotToJson } from '../../src/report/model-json.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { parseIrTranslation } from '../../src/text/ir-translation.js';
import { capturePath } from '../helpers/captures.js';
import { memoryOf } from '../helpers/memory.js';
import { schemaValidator } from '../helpers/validators.js';

interface Printed { index: number; sid: number; dst: number; vector: number; hi: bigint; lo: bigint }

/** The kernel's remapped rows: ` %-5d %02x:%02x.%01x %08x %02x  %016llx\t%016llx`. */
function printedRows(text: string): Printed[] {
  return [...text.matchAll(/^ (\d+) +([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{8}) ([0-9a-f]{2}) +([0-9a-f]{16})\t([0-9a-f]{16})$/gm)].map((m) => ({
    index: Number(m[1]),
    sid: (parseInt(m[2], 16) << 8) | (parseInt(m[3], 16) << 3) | Number(m[4]),
    dst: parseInt(m[5], 16), vector: parseInt(m[6], 16), hi: BigInt('0x' + m[7]), lo: BigInt('0x' + m[8]),
  }));
}

const irOf = (s: Snapshot): InterruptRemapping => {
  expect(s.units).toHaveLength(1);
  const ir = s.units[0].interruptRemapping;
  if (ir === undefined) throw new Error('no interruptRemapping');
  return ir;
};

for (const [capture, count] of [['qemu-linux61-debugfs', 12], ['qemu-linux61-dmar-fault', 9]] as const) {
  describe(`${capture}: the model's IR table`, () => {
    const printed = printedRows(readFileSync(capturePath(capture, 'ir_translation_struct'), 'utf8'));
    const fromMemory = loadCapture(capturePath(capture), { ignore: ['ir-translation'] });

    it(`from memory.elf alone (debugfs ignored) = the kernel's ${count} printed entries: index, SID/SQ/SVT, vector, DST, both raw halves`, () => {
      expect(printed).toHaveLength(count);
      expect(fromMemory.capture.parts.some((p) => p.kind === 'ir-translation')).toBe(false);
      const ir = irOf(fromMemory);
      expect(ir.entrySources).toEqual(['memory']);
      expect(ir.irtes.map((e) => e.index)).toEqual(printed.map((p) => p.index));
      for (const [i, p] of printed.entries()) {
        const e = ir.irtes[i];
        expect([e.lo, e.hi]).toEqual([p.lo, p.hi]);
        expect(e.source.part).toBe('memory.elf');
        if (e.irte.mode !== 'remapped') throw new Error('posted');
        expect([e.irte.SID, e.irte.SQ, e.irte.SVT, e.irte.V, e.irte.DST]).toEqual([p.sid, Number((p.hi >> 16n) & 3n), Number((p.hi >> 18n) & 3n), p.vector, p.dst]);
      }
    });

    it('IRTA 0x210000f: table 0x2100000, 65,536 entries, xAPIC; IRES on, CFIS off (GSTS 0xc7000000); only the first page is in the image', () => {
      const ir = irOf(fromMemory);
      expect([ir.table, ir.entryCount, ir.x2apic, ir.enabled, ir.compatibilityFormat, ir.supported, ir.postedSupported]).toEqual([0x2100000, 65536, false, true, false, true, false]);
      // 256 entries of 16 bytes per 4 KiB page: 65,536 - 256 unknown, not absent.
      expect(ir.unreadable).toEqual([[256, 65536]]);
      expect(ir.unreadableEntries).toBe(65280);
      expect(irteState(ir, 4).state).toBe('absent');
      expect(irteState(ir, 300).state).toBe('unknown');
      expect(irteState(ir, 65536).state).toBe('beyond-table');
      expect(fromMemory.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/255 of the interrupt remapping table's pages are not in the image memory\.elf \(first 0x2101000\)/));
    });

    it('with debugfs too: the same entries (from the image), no disagreement, and nothing unknown (debugfs lists every present entry)', () => {
      const both = loadCapture(capturePath(capture));
      const ir = irOf(both);
      expect(ir.entrySources).toEqual(['memory', 'debugfs']);
      expect(ir.irtes.map((e) => [e.index, e.lo, e.hi, e.source.part])).toEqual(printed.map((p) => [p.index, p.lo, p.hi, 'memory.elf']));
      expect(ir.unreadableEntries).toBe(0);
      expect(both.warnings.filter((w) => /interrupt remapping|IRTE/i.test(w.message))).toEqual([]);
    });

    it('decode JSON: the contract shape, valid against the schema', () => {
      const json = snapshotToJson(fromMemory) as { units: { interruptRemapping: Record<string, unknown> & { irtes: Record<string, unknown>[] } }[] };
      expect(schemaValidator('decode-model.schema.json')(json)).toEqual([]);
      const ir = json.units[0].interruptRemapping;
      expect(ir).toMatchObject({ supported: true, enabled: true, compatibilityFormat: false, x2apic: false, table: '0x2100000', entryCount: 65536, unreadableEntries: 65280 });
      const p = printed[0];
      expect(ir.irtes[0]).toMatchObject({
        index: p.index, mode: 'remapped', vector: p.vector, destination: `0x${p.dst.toString(16)}`, apicId: `0x${((p.dst >> 8) & 0xff).toString(16)}`,
        postedDescriptor: null, sid: '0000:ff:00.0', sq: 0, svt: 1, fpd: false, raw: [`0x${p.lo.toString(16)}`, `0x${p.hi.toString(16)}`],
        addr: `0x${(0x2100000 + 16 * p.index).toString(16)}`, source: { part: 'memory.elf' },
      });
    });
  });
}

describe('qemu-linux61-legacy: 15 present entries in memory (hand-checked in test/decode/irte-real.test.ts)', () => {
  it('the model holds them, with the SIDs read by hand', () => {
    const ir = irOf(loadCapture(capturePath('qemu-linux61-legacy')));
    expect(ir.table).toBe(0x1600000);
    expect(ir.irtes.map((e) => [e.index, e.irte.SID])).toEqual([
      [0, 0xff00], [1, 0xff00], [2, 0xff00], [3, 0xff00], [7, 0xff00], [8, 0xff00], [11, 0xff00],
      [16, 0x0010], [18, 0x0018], [19, 0x0200], [20, 0x0200], [21, 0x0200], [22, 0x0100], [23, 0x0100], [24, 0x0100],
    ]);
  });
});

describe('qemu-linux61-vfio: no memory image, entries from debugfs', () => {
  it('11 entries, each citing its line', () => {
    const ir = irOf(loadCapture(capturePath('qemu-linux61-vfio')));
    expect(ir.entrySources).toEqual(['debugfs']);
    expect(ir.irtes.map((e) => e.index)).toEqual([1, 3, 8, 16, 18, 19, 20, 21, 22, 23, 24]);
    expect(ir.irtes[0].source).toEqual({ part: 'ir_translation_struct', line: 4 });
    expect(ir.unreadableEntries).toBe(0);
  });
});

// ---------------------------------------------------------------- merging, by hand

const TABLE = 0x100000;
/** A remapped IRTE: P, vector, DST 0x100 (xAPIC APIC id 1), SVT 01b with SID `sid`. */
const irte = (vector: number, sid: number): [bigint, bigint] => [(0x100n << 32n) | (BigInt(vector) << 16n) | 1n, (1n << 18n) | BigInt(sid)];

function image(entries: [number, [bigint, bigint]][], pages = [0]): ReturnType<typeof memoryOf> {
  const phys = new PhysBuilder();
  for (const p of pages) phys.page(TABLE + p * 4096);
  for (const [i, [lo, hi]] of entries) {
    phys.writeQword(TABLE + i * 16, lo);
    phys.writeQword(TABLE + i * 16 + 8, hi);
  }
  return memoryOf(phys, 'mem.img');
}

const regs = (raw: Record<string, bigint>) => buildUnitRegisters(0xfed90000, raw, 'dmar0');
const debugfs = (rows: string, table = '100000') => ({
  unit: parseIrTranslation(`Remapped Interrupt supported on IOMMU: dmar0\n IR table address:${table}\n Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low\n${rows}\n****\n\n`, 'irt').units[0],
  part: 'irt',
});
const row = (i: number, [lo, hi]: [bigint, bigint]): string => {
  const sid = Number(hi & 0xffffn);
  const h = (n: number | bigint, w: number) => n.toString(16).padStart(w, '0');
  return ` ${String(i).padEnd(5)} ${h(sid >> 8, 2)}:${h((sid >> 3) & 0x1f, 2)}.${sid & 7} ${h(Number(lo >> 32n), 8)} ${h(Number((lo >> 16n) & 0xffn), 2)}  ${h(hi, 16)}\t${h(lo, 16)}`;
};

describe('buildInterruptRemapping: memory and debugfs merged', () => {
  // IRTA: table 0x100000, S = 8 (512 entries: two pages), EIME 0. GSTS: IRES|IRTPS (CFIS clear).
  const raw = { IRTA: BigInt(TABLE) | 8n, GSTS: 0x0300_0000n, ECAP: 0x8n, CAP: 0n };

  it('the test IRTE is what the spec says: P, V, DST 0x100, SVT 01b', () => {
    const [lo, hi] = irte(0x30, 0x0100);
    expect(lo).toBe(0x0000_0100_0030_0001n);
    expect(hi).toBe(0x4_0100n);
  });

  it('entries on a page the image lacks are unknown; debugfs fills them in', () => {
    const a = irte(0x30, 0x0100);
    const b = irte(0x31, 0x0200);
    const mem = image([[1, a]], [0]); // page 1 (entries 256..511) missing
    const alone = buildInterruptRemapping({ registers: regs(raw), texts: [], memory: { mem, part: 'mem.img' }, label: 'unit 0xfed90000' }).ir!;
    expect(alone.irtes.map((e) => e.index)).toEqual([1]);
    expect(alone.unreadable).toEqual([[256, 512]]);
    const both = buildInterruptRemapping({ registers: regs(raw), texts: [debugfs(`${row(1, a)}\n${row(300, b)}`)], memory: { mem, part: 'mem.img' }, label: 'u' });
    expect(both.ir!.irtes.map((e) => [e.index, e.source])).toEqual([[1, { part: 'mem.img', offset: TABLE + 16 }], [300, { part: 'irt', line: 5 }]]);
    expect(both.ir!.unreadableEntries).toBe(0);
    expect(both.warnings).toEqual([]);
  });

  it('where both give an entry the image wins, and every disagreement is one warning naming both', () => {
    const a = irte(0x30, 0x0100);
    const changed = irte(0x44, 0x0100);
    const mem = image([[1, a], [2, a]], [0, 1]);
    // debugfs: entry 1 with another vector, entry 3 the image has as not present; the image's entry 2 is missing.
    const r = buildInterruptRemapping({ registers: regs(raw), texts: [debugfs(`${row(1, changed)}\n${row(3, a)}`)], memory: { mem, part: 'mem.img' }, label: 'unit 0xfed90000' });
    expect(r.ir!.irtes.map((e) => [e.index, e.lo])).toEqual([[1, a[0]], [2, a[0]]]);
    expect(r.warnings).toHaveLength(1);
    const m = r.warnings[0].message;
    expect(m).toMatch(/^unit 0xfed90000: the image and debugfs disagree on the interrupt remapping table \(the image is kept\)/);
    expect(m).toContain('IRTE 1 is 0x40100:0x10000300001 in mem.img@0x100010 but 0x40100:0x10000440001 in irt:4');
    expect(m).toContain('IRTE 3 is listed in irt:5 but not present in the image');
    expect(m).toContain('IRTE 2 is present in mem.img@0x100020 but not listed in irt');
  });

  it('without IRTA the table address comes from debugfs (and the image is read there); a different address is a warning', () => {
    const a = irte(0x30, 0x0100);
    const mem = image([[5, a]], [0]);
    const r = buildInterruptRemapping({ registers: regs({ GSTS: 0x0300_0000n }), texts: [debugfs(row(5, a))], memory: { mem, part: 'mem.img' }, label: 'u' });
    expect([r.ir!.table, r.ir!.tableSource, r.ir!.entryCount, r.ir!.x2apic]).toEqual([TABLE, { part: 'irt', line: 1 }, undefined, undefined]);
    expect(r.ir!.irtes.map((e) => e.source.part)).toEqual(['mem.img']);
    const other = buildInterruptRemapping({ registers: regs(raw), texts: [debugfs('', '200000')], label: 'u' });
    expect(other.ir!.table).toBe(TABLE);
    expect(other.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/the IR table address \(IRTA\) is 0x100000 in registers but 0x200000 in irt:1/)]);
  });

  it('GSTS.IRES against debugfs "Interrupt Remapping is not enabled": the registers win, with a warning', () => {
    const text = { unit: parseIrTranslation('Remapped Interrupt supported on IOMMU: dmar0\nInterrupt Remapping is not enabled\n\n****\n\n', 'irt').units[0], part: 'irt' };
    const r = buildInterruptRemapping({ registers: regs(raw), texts: [text], label: 'u' });
    expect(r.ir!.enabled).toBe(true);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/GSTS\.IRES is 1 .* but "Interrupt Remapping is not enabled" in irt:1/)]);
    expect(buildInterruptRemapping({ texts: [text], label: 'u' }).ir).toMatchObject({ enabled: false, supported: true, irtes: [], unreadableEntries: 0 });
  });

  it('IR off with no table: nothing unknown; no registers and no dump: nothing at all', () => {
    expect(buildInterruptRemapping({ registers: regs({ GSTS: 0xc000_0000n, ECAP: 0n }), texts: [], label: 'u' }).ir).toMatchObject({ enabled: false, supported: false, irtes: [], unreadableEntries: 0 });
    expect(buildInterruptRemapping({ registers: regs({ VER: 0x10n }), texts: [], label: 'u' }).ir).toBeUndefined();
  });

  it('IR on with a table but no image and no dump: every entry unknown', () => {
    const r = buildInterruptRemapping({ registers: regs(raw), texts: [], label: 'u' }).ir!;
    expect([r.unreadable, r.unreadableEntries, r.entrySources]).toEqual([[[0, 512]], 512, []]);
  });

  it('reads at most the table: a 2^16-entry table is 256 page reads, a 2-entry one a single 32-byte read', () => {
    const big = image([], [0]);
    buildInterruptRemapping({ registers: regs({ ...raw, IRTA: BigInt(TABLE) | 15n }), texts: [], memory: { mem: big, part: 'm' }, label: 'u' });
    expect(big.reads).toBe(256);
    const small = image([[1, irte(0x30, 0x100)]], [0]);
    const r = buildInterruptRemapping({ registers: regs({ ...raw, IRTA: BigInt(TABLE) }), texts: [], memory: { mem: small, part: 'm' }, label: 'u' }).ir!;
    expect([small.reads, r.entryCount, r.irtes.map((e) => e.index), r.unreadableEntries]).toEqual([1, 2, [1], 0]);
  });
});
