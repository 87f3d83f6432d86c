/**
 * IRTEs decoded from the real captures' memory images, against what the kernel printed.
 *
 * qemu-linux61-debugfs / -dmar-fault: the IR table page is read from memory.elf at IRTA (taken from
 * iommu_regset with a regex here) and decoded with decodeIrteBytes; the expected side is the
 * kernel's own `ir_translation_struct`, parsed with a plain regex in this file (not with
 * src/text/ir-translation.ts, which is checked against the same regex afterwards).
 *
 * qemu-linux61-legacy has no debugfs: its 15 present entries were read once by hand from the image
 * and decoded by hand below (README: "an IR table in memory (15 present entries)").
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { remapInterrupt } from '../../src/decode/ir-remap.js';
import { decodeIrteBytes, IRTE_BYTES, type RemappedIrte } from '../../src/decode/irte.js';
import { decodeMsi } from '../../src/decode/msi.js';
import { openMemoryImage } from '../../src/image/open.js';
import type { PhysicalMemory } from '../../src/image/types.js';
import { parseIrTranslation } from '../../src/text/ir-translation.js';
import { capturePath, HAVE_CAPTURES } from '../helpers/captures.js';

interface Printed {
  index: number;
  bus: number;
  slot: number;
  fn: number;
  dst: number;
  vector: number;
  hi: bigint;
  lo: bigint;
}

/** The kernel's remapped rows: ` %-5d %02x:%02x.%01x %08x %02x  %016llx\t%016llx`. */
function printedRows(text: string): Printed[] {
  const out: Printed[] = [];
  for (const m of text.matchAll(/^ (\d+) +([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{8}) ([0-9a-f]{2}) +([0-9a-f]{16})\t([0-9a-f]{16})$/gm)) {
    out.push({
      index: Number(m[1]), bus: parseInt(m[2], 16), slot: parseInt(m[3], 16), fn: Number(m[4]),
      dst: parseInt(m[5], 16), vector: parseInt(m[6], 16), hi: BigInt('0x' + m[7]), lo: BigInt('0x' + m[8]),
    });
  }
  return out;
}

function register(capture: string, name: string): bigint {
  const m = new RegExp(`^${name}\\s+0x[0-9a-f]+\\s+0x([0-9a-f]{16})$`, 'm').exec(readFileSync(capturePath(capture, 'iommu_regset'), 'utf8'));
  if (!m) throw new Error(`no ${name} in ${capture}/iommu_regset`);
  return BigInt('0x' + m[1]);
}
const irtaOf = (capture: string): bigint => register(capture, 'IRTA');

/** Present entries of the first table page (the only one the cut-down images hold). */
function memoryEntries(mem: PhysicalMemory, irta: bigint): { index: number; e: RemappedIrte }[] {
  const base = Number(irta & ~0xfffn);
  const eime = (irta & 0x800n) !== 0n;
  const page = mem.read(base, 4096);
  if (page === undefined) throw new Error(`IR table page 0x${base.toString(16)} is not in the image`);
  const out: { index: number; e: RemappedIrte }[] = [];
  for (let i = 0; i < 4096 / IRTE_BYTES; i++) {
    const e = decodeIrteBytes(page, i * IRTE_BYTES, { eime });
    if (!e.P) continue;
    if (e.mode !== 'remapped') throw new Error(`IRTE ${i} is posted`);
    out.push({ index: i, e });
  }
  return out;
}

for (const [capture, count] of [['qemu-linux61-debugfs', 12], ['qemu-linux61-dmar-fault', 9]] as const) {
  describe.skipIf(!HAVE_CAPTURES)(`${capture}: IR table in memory.elf = the kernel's ir_translation_struct`, () => {
    const opened: PhysicalMemory[] = [];
    afterAll(() => { for (const m of opened) m.close(); });
    const load = () => {
      const mem = openMemoryImage(capturePath(capture, 'memory.elf'));
      opened.push(mem);
      const irta = irtaOf(capture);
      const text = readFileSync(capturePath(capture, 'ir_translation_struct'), 'utf8');
      return { mem, irta, text, printed: printedRows(text) };
    };

    it(`IRTA 0x210000f: table 0x2100000, xAPIC; the kernel printed ${count} entries (README)`, () => {
      const { irta, printed } = load();
      expect(irta).toBe(0x210000fn);
      expect(printed).toHaveLength(count);
    });

    it('memory holds exactly the printed entries, with the same index, SID/SQ/SVT, vector, DST and both raw halves', () => {
      const { mem, irta, printed } = load();
      const fromMemory = memoryEntries(mem, irta);
      expect(fromMemory.map((x) => x.index)).toEqual(printed.map((p) => p.index));
      for (const p of printed) {
        const { e } = fromMemory.find((x) => x.index === p.index)!;
        expect(e.lo).toBe(p.lo);
        expect(e.hi).toBe(p.hi);
        expect(e.SID).toBe((p.bus << 8) | (p.slot << 3) | p.fn);
        // Not printed as columns: SQ (hi bits 17:16) and SVT (hi bits 19:18) of the printed high half.
        expect(e.SQ).toBe(Number((p.hi >> 16n) & 3n));
        expect(e.SVT).toBe(Number((p.hi >> 18n) & 3n));
        expect(e.V).toBe(p.vector);
        expect(e.DST).toBe(p.dst);
        expect(e.reservedFields).toEqual([]);
      }
    });

    it('remapInterrupt over the memory table: the right requester gets its vector, others 0x26; 0x21, 0x22, 0x25', () => {
      const { mem, irta, printed } = load();
      const gsts = register(capture, 'GSTS'); // 0xc7000000: IRES (bit 25) set, CFIS (bit 23) clear
      expect([(gsts >> 25n) & 1n, (gsts >> 23n) & 1n]).toEqual([1n, 0n]);
      const page = mem.read(Number(irta & ~0xfffn), 4096)!.slice();
      const dv = new DataView(page.buffer);
      // Only the table's first page is in the image: later indices are unknown, not absent.
      const lookup = (i: number) => (i < 256 ? { lo: dv.getBigUint64(i * 16, true), hi: dv.getBigUint64(i * 16 + 8, true) } : undefined);
      const unit = { enabled: true, eime: false, cfis: false, entries: 2 ** (Number(irta & 0xfn) + 1) };
      // Remappable format, no SHV: address bits 19:5 = index, bit 4 = 1 (VT-d 5.1.2.2).
      const msi = (index: number) => decodeMsi(0xfee00000 + ((index & 0x7fff) << 5) + 0x10 + ((index >> 15) << 2), 0);
      for (const p of printed) {
        const sid = (p.bus << 8) | (p.slot << 3) | p.fn;
        expect(remapInterrupt(msi(p.index), lookup, unit, sid)).toMatchObject({ outcome: 'remapped', vector: p.vector, destination: p.dst, sourceIdVerified: true });
        expect(remapInterrupt(msi(p.index), lookup, unit, sid ^ 0x0800)).toMatchObject({ outcome: 'fault', code: 0x26 });
      }
      expect(unit.entries).toBe(65536);
      expect(remapInterrupt(decodeMsi(0xfee00000 + 0x7fff * 32 + 0x10 + 4, 0x1), lookup, unit, 0)).toMatchObject({ outcome: 'unknown' }); // index 0xffff: beyond the page held
      expect(remapInterrupt(decodeMsi(0xfee00000 + 0x7fff * 32 + 0x18 + 4, 0x1), lookup, unit, 0)).toMatchObject({ code: 0x21 }); // SHV: 0xffff + 1
      expect(remapInterrupt(msi(4), lookup, unit, 0x0100)).toMatchObject({ outcome: 'fault', code: 0x22 });
      expect(remapInterrupt(decodeMsi(0xfee01000, 0x0030), lookup, unit)).toMatchObject({ outcome: 'fault', code: 0x25 });
    });

    it('src/text/ir-translation.ts reads the same entries, with no warning', () => {
      const { text, printed } = load();
      const r = parseIrTranslation(text, 'ir_translation_struct');
      expect(r.warnings).toEqual([]);
      expect(r.units.map((u) => [u.name, u.tableAddress, u.enabled, u.postedSection])).toEqual([['dmar0', 0x2100000, true, false]]);
      expect(r.units[0].entries.map((e) => [e.index, e.hi, e.lo, e.section])).toEqual(printed.map((p) => [p.index, p.hi, p.lo, 'remapped']));
    });
  });
}

describe.skipIf(!HAVE_CAPTURES)('qemu-linux61-legacy: the 15 present IRTEs, checked by hand once', () => {
  // IRTA 0x160000f (iommu_regset): table 0x1600000, S = 15, EIME 0. Raw halves read from memory.elf once.
  // Every low half ends in 0x0d (P, DM logical, RH; TM edge; DLM fixed) and carries DST 0x00000100
  // (xAPIC: APIC id 1); every high half has SVT 01b (0x4_0000) and SQ 00b. By hand:
  //   SID 0xff00 = ff:00.0 (the IOAPIC's source-id), 0x0010 = 00:02.0, 0x0018 = 00:03.0,
  //   0x0200 = 02:00.0 (virtio-net), 0x0100 = 01:00.0 (e1000e); vector = low half bits 23:16.
  const BY_HAND: [index: number, sid: number, vector: number, hi: bigint, lo: bigint][] = [
    [0, 0xff00, 0x26, 0x4ff00n, 0x000001000026000dn],
    [1, 0xff00, 0x30, 0x4ff00n, 0x000001000030000dn],
    [2, 0xff00, 0x29, 0x4ff00n, 0x000001000029000dn],
    [3, 0xff00, 0x28, 0x4ff00n, 0x000001000028000dn],
    [7, 0xff00, 0x27, 0x4ff00n, 0x000001000027000dn],
    [8, 0xff00, 0x22, 0x4ff00n, 0x000001000022000dn],
    [11, 0xff00, 0x25, 0x4ff00n, 0x000001000025000dn],
    [16, 0x0010, 0x23, 0x40010n, 0x000001000023000dn],
    [18, 0x0018, 0x24, 0x40018n, 0x000001000024000dn],
    [19, 0x0200, 0x2a, 0x40200n, 0x00000100002a000dn],
    [20, 0x0200, 0x2b, 0x40200n, 0x00000100002b000dn],
    [21, 0x0200, 0x2c, 0x40200n, 0x00000100002c000dn],
    [22, 0x0100, 0x2d, 0x40100n, 0x00000100002d000dn],
    [23, 0x0100, 0x2e, 0x40100n, 0x00000100002e000dn],
    [24, 0x0100, 0x2f, 0x40100n, 0x00000100002f000dn],
  ];

  it('decodes to the hand-read table', () => {
    const mem = openMemoryImage(capturePath('qemu-linux61-legacy', 'memory.elf'));
    try {
      expect(irtaOf('qemu-linux61-legacy')).toBe(0x160000fn);
      const got = memoryEntries(mem, 0x160000fn);
      expect(got.map(({ index, e }) => [index, e.SID, e.V, e.hi, e.lo])).toEqual(BY_HAND);
      for (const { e } of got) {
        expect([e.DM, e.RH, e.TM, e.deliveryMode, e.DST, e.apicId, e.SQ, e.SVT, e.FPD]).toEqual([true, true, false, 'fixed', 0x100, 1, 0, 1, false]);
        expect(e.reservedFields).toEqual([]);
      }
    } finally {
      mem.close();
    }
  });
});
