/**
 * Scalable mode end to end on tables written qword by qword. Every entry value below is worked out
 * by hand from the layouts (docs/vtd-formats.md §3, §5, §6; VT-d spec §9.2, §9.4–§9.6, §9.7–§9.8), with
 * the arithmetic in the comments — none comes from the encoders or decoders under test.
 *
 *   root table 0x100000 (RTADDR TTM = 01)
 *     bus 3: lo = LCTP 0x101000 | LP = 0x101001, hi = UCTP 0x102000 | UP = 0x102001
 *   lower context table 0x101000 (devfn 0x00–0x7f, 32-byte entries)
 *     03:00.0 (index 0): q0 = PASIDDIRPTR 0x103000 | PDTS 0 | PASIDE (bit 3) | P = 0x103009, q1 = RID_PASID 0
 *       PASID dir 0x103000: [0] = 0x104001 (table 0x104000), [1] = 0x105001 (table 0x105000)
 *       PASID 0 (0x104000 + 0·64): second level: q0 = SLPTPTR 0x110000 | PGTT 2<<6 (0x80) | AW 2<<2 (0x8) | P = 0x110089, q1 = DID 5
 *       PASID 65 = 1·64 + 1 (0x105000 + 64): first level, 5-level: q0 = PGTT 1<<6 | P = 0x41, q1 = DID 9,
 *         q2 = FLPTPTR 0x120000 | FLPM 1<<2 (0x4) | SRE (bit 0) = 0x120005
 *   upper context table 0x102000 (devfn 0x80–0xff)
 *     03:10.0 (devfn 0x80, index 0): q0 = 0x106000 | P = 0x106001 (PASIDE clear), q1 = RID_PASID 2
 *       dir 0x106000: [0] = 0x107001; PASID 2 (0x107000 + 128): pass-through: q0 = PGTT 4<<6 (0x100) | P = 0x101, q1 = DID 1
 *     03:10.1 (devfn 0x81, index 1, at 0x102020): q0 = 0x108000 | DTE (bit 2, 0x4) | P = 0x108005, q1 = 0
 *       dir 0x108000: [0] = 0x109001; PASID 0 (0x109000): first level, 4-level: q0 = 0x41, q1 = DID 7, q2 = FLPTPTR 0x130000
 *
 *   Second-level table 0x110000 (AW 2 → 4 levels), IOVA 0x40201000: L4 idx (bits 47:39) 0, L3 idx
 *   (38:30) 1, L2 idx (29:21) 1, L1 idx (20:12) 1. Entries L4[0] 0x111003, L3[1] 0x112003, L2[1] 0x113003,
 *   L1[1] 0x7654003 (R|W), L1[2] 0x7655001 (R only, IOVA 0x40202000).
 *   First-level 5-level table 0x120000, IOVA 2^48 + 0x200000 = 0x1000000200000: L5 idx (56:48) 1, L4 0,
 *   L3 0, L2 idx (29:21) 1 → 2 MiB leaf. L5[1] 0x121007, L4[0] 0x122007, L3[0] 0x123007,
 *   L2[1] = 0x40000000 | PAT (bit 12, 0x1000) | PS (0x80) | U/S|R/W|P (0x7) = 0x40001087.
 *   First-level 4-level table 0x130000, IOVA 0xffffffffffe00000 (canonical upper half): indexes
 *   0x1ff, 0x1ff, 0x1ff, 0. L4[0x1ff] 0x131007, L3[0x1ff] 0x132007, L2[0x1ff] 0x133007,
 *   L1[0] = 0x8000000005555005 (XD|P|U/S, R/W clear: read-only).
 */
import { describe, expect, it } from 'vitest';
import { readUnitTables } from '../../src/model/tables.js';
import { sameFaultReason, translate } from '../../src/model/translate.js';
import type { Unit } from '../../src/model/types.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { memoryOf } from '../helpers/memory.js';

const ROOT = 0x100000;

function build(): PhysBuilder {
  const p = new PhysBuilder();
  const q = (addr: number, v: bigint): void => p.writeQword(addr, v);
  q(ROOT + 3 * 16, 0x101001n);
  q(ROOT + 3 * 16 + 8, 0x102001n);
  // 03:00.0
  q(0x101000, 0x103009n);
  q(0x101008, 0n);
  q(0x103000, 0x104001n);
  q(0x103008, 0x105001n);
  q(0x104000, 0x110089n);
  q(0x104008, 5n);
  q(0x105000 + 64, 0x41n);
  q(0x105000 + 72, 9n);
  q(0x105000 + 80, 0x120005n);
  // 03:10.0
  q(0x102000, 0x106001n);
  q(0x102008, 2n);
  q(0x106000, 0x107001n);
  q(0x107000 + 128, 0x101n);
  q(0x107000 + 136, 1n);
  // 03:10.1
  q(0x102020, 0x108005n);
  q(0x108000, 0x109001n);
  q(0x109000, 0x41n);
  q(0x109008, 7n);
  q(0x109010, 0x130000n);
  // second-level table
  q(0x110000, 0x111003n);
  q(0x111000 + 8, 0x112003n);
  q(0x112000 + 8, 0x113003n);
  q(0x113000 + 8, 0x7654003n);
  q(0x113000 + 16, 0x7655001n);
  // first-level 5-level
  q(0x120000 + 8, 0x121007n);
  q(0x121000, 0x122007n);
  q(0x122000, 0x123007n);
  q(0x123000 + 8, 0x40001087n);
  // first-level 4-level
  q(0x130000 + 0x1ff * 8, 0x131007n);
  q(0x131000 + 0x1ff * 8, 0x132007n);
  q(0x132000 + 0x1ff * 8, 0x133007n);
  q(0x133000, 0x8000000005555005n); // XD (bit 63) set, as Linux writes first-level leaves
  return p;
}

function unit(): Unit {
  return { segment: 0, registerBase: 0xfed90000, rootTable: ROOT, mode: 'scalable', rootEntries: [], contexts: [], domains: [], tableProblems: [] };
}

describe('scalable-mode tables read from memory', () => {
  const t = readUnitTables(memoryOf(build()), { segment: 0, rootTable: ROOT, mode: 'scalable', haw: 46, part: 'mem' });

  it('root entry of bus 3 with both halves; no problems', () => {
    expect(t.problems).toEqual([]);
    expect(t.warnings).toEqual([]);
    expect(t.rootEntries).toHaveLength(1);
    expect(t.rootEntries[0]).toMatchObject({ bus: 3, lowerContextTable: 0x101000, upperContextTable: 0x102000 });
  });

  it('three present 256-bit context entries, lower and upper halves, with their PASIDs', () => {
    expect(t.contexts.map((c) => [c.bdf, c.devfn, c.pasidDirPtr, c.pdts, c.ridPasid, c.dte])).toEqual([
      ['0000:03:00.0', 0x00, 0x103000, 0, 0, false],
      ['0000:03:10.0', 0x80, 0x106000, 0, 2, false],
      ['0000:03:10.1', 0x81, 0x108000, 0, 0, true],
    ]);
    const [a, b, c] = t.contexts;
    expect(a.pasids!.map((p) => [p.pasid, p.pgtt, p.did, p.aw, p.levels, p.slptptr, p.flptptr, p.flpm, p.sre])).toEqual([
      [0, 2, 5, 2, 4, 0x110000, 0, 0, false],
      [65, 1, 9, 0, 5, 0, 0x120000, 1, true],
    ]);
    expect(b.pasids!.map((p) => [p.pasid, p.pgtt, p.did])).toEqual([[2, 4, 1]]);
    expect(c.pasids!.map((p) => [p.pasid, p.pgtt, p.did, p.levels, p.flptptr])).toEqual([[0, 1, 7, 4, 0x130000]]);
    // The context's own DID/table come from its RID_PASID entry.
    expect([a.did, a.slptptr, a.levels]).toEqual([5, 0x110000, 4]);
    expect([b.did, c.did, c.slptptr]).toEqual([1, 7, 0x130000]);
    // Raw qwords of the PASID 65 entry, as written.
    expect(a.pasids![1].raw.slice(0, 3)).toEqual([0x41n, 9n, 0x120005n]);
  });

  it('one domain per (DID, table): a second-level one and two first-level ones (4- and 5-level)', () => {
    const d = t.domains.map((x) => [x.kind, x.did, x.root, x.levels, x.pageCount, x.complete]);
    expect(d).toEqual([
      ['second-level', 5, 0x110000, 4, 2, true],
      ['first-level', 9, 0x120000, 5, 512, true],
      ['first-level', 7, 0x130000, 4, 1, true],
    ]);
    expect(t.domains[0].mappings).toEqual([
      { iovaPfn: 0x40201, hpaPfn: 0x7654, pages: 1, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 0x40202, hpaPfn: 0x7655, pages: 1, read: true, write: false, pageSize: 4096 },
    ]);
    // 2 MiB first-level leaf with PAT (bit 12) set: the page is 0x40000000, not 0x40001000.
    expect(t.domains[1].mappings).toEqual([{ iovaPfn: 2 ** 36 + 0x200, hpaPfn: 0x40000, pages: 512, read: true, write: true, pageSize: 2097152 }]);
    // 4-level first-level table, upper canonical half: the model keeps the 48-bit IOVA (no sign extension).
    expect(t.domains[2].mappings).toEqual([{ iovaPfn: 0xffffffe00, hpaPfn: 0x5555, pages: 1, read: true, write: false, pageSize: 4096 }]);
  });

  it('table problems for a reserved FLPM, 5-level paging without CAP.FL5LP and reserved PASID-entry bits', () => {
    const p = build();
    p.writeQword(0x109010, 0x130000n | (2n << 2n)); // FLPM 10b: reserved
    p.writeQword(0x104008, 5n | (1n << 16n)); // q1 bit 16: reserved (22:16)
    const cap = { FL5LP: false, SLLPS: 3, FL1GP: true } as unknown as NonNullable<Parameters<typeof readUnitTables>[1]['cap']>;
    const r = readUnitTables(memoryOf(p), { segment: 0, rootTable: ROOT, mode: 'scalable', haw: 46, part: 'mem', cap });
    const msgs = r.problems.map((x) => `${x.structure} ${x.kind} ${x.bdf}: ${x.message}`);
    expect(msgs.some((m) => m.includes('0000:03:10.1') && m.includes('FLPM 2'))).toBe(true);
    expect(msgs.some((m) => m.includes('0000:03:00.0') && m.includes('FL5LP'))).toBe(true);
    expect(msgs.some((m) => m.includes('PASID 0 entry of 0000:03:00.0 has reserved bits'))).toBe(true);
    expect(r.domains.some((d) => d.root === 0x130000)).toBe(false); // reserved FLPM: not walked
  });
});

describe('translate in scalable mode', () => {
  const mem = memoryOf(build());
  const tr = (bus: number, devfn: number, iova: bigint, opts: { pasid?: number; access?: 'read' | 'write' } = {}) =>
    translate(mem, { unit: unit(), bdf: { segment: 0, bus, devfn }, iova, pasid: opts.pasid, access: opts.access ?? 'read', haw: 46 });

  it('RID_PASID second-level: root, context, PASID dir, PASID entry, four levels', () => {
    const r = tr(3, 0, 0x40201abcn);
    expect(r.fault).toBeUndefined();
    expect(r.hpa).toBe(0x7654abcn);
    expect([r.pageSize, r.read, r.write]).toEqual([4096, true, true]);
    expect(r.steps.map((s) => [s.structure, s.level ?? null, s.table, s.index])).toEqual([
      ['root', null, ROOT, 3],
      ['context', null, 0x101000, 0],
      ['pasid-dir', null, 0x103000, 0],
      ['pasid', null, 0x104000, 0],
      ['page-table', 4, 0x110000, 0],
      ['page-table', 3, 0x111000, 1],
      ['page-table', 2, 0x112000, 1],
      ['page-table', 1, 0x113000, 1],
    ]);
    expect(r.steps[1].entry).toEqual([0x103009n, 0n, 0n, 0n]);
    expect(r.steps[3].entry.slice(0, 2)).toEqual([0x110089n, 5n]);
  });

  it('second-stage faults carry the SM reasons: write to a read-only page 0x85, not present 0x86, too wide 0x83', () => {
    expect(tr(3, 0, 0x40202000n, { access: 'write' }).fault).toMatchObject({ code: 0x85, level: 1 });
    expect(tr(3, 0, 0x40203000n).fault).toMatchObject({ code: 0x86, level: 1 });
    expect(tr(3, 0, 0x40400000n).fault).toMatchObject({ code: 0x86, level: 2 });
    expect(tr(3, 0, 1n << 48n).fault).toMatchObject({ code: 0x83 });
  });

  it('--pasid 65: 5-level first-level walk to a 2 MiB page (PAT bit not taken as address)', () => {
    const r = tr(3, 0, 0x1000000201234n, { pasid: 65 });
    expect(r.fault).toBeUndefined();
    expect(r.hpa).toBe(0x40001234n);
    expect(r.pageSize).toBe(2097152);
    expect(r.steps.filter((s) => s.structure === 'page-table').map((s) => [s.level, s.index])).toEqual([[5, 1], [4, 0], [3, 0], [2, 1]]);
    // bit 56 set with 63:57 clear: not canonical for 57-bit addresses.
    expect(tr(3, 0, 1n << 56n, { pasid: 65 }).fault).toMatchObject({ code: 0x80 });
    // first-level entry not present: 0x71
    expect(tr(3, 0, 0n, { pasid: 65 }).fault).toMatchObject({ code: 0x71, level: 5 });
  });

  it('4-level first level with a canonical upper-half IOVA; write to an R/W = 0 page faults 0x85', () => {
    const r = tr(3, 0x81, 0xffffffffffe00010n);
    expect(r.hpa).toBe(0x5555010n);
    expect(r.write).toBe(false);
    expect(tr(3, 0x81, 0xffffffffffe00010n, { access: 'write' }).fault).toMatchObject({ code: 0x85, level: 1 });
    expect(tr(3, 0x81, 0x0000800000000000n).fault).toMatchObject({ code: 0x80 });
  });

  it('pass-through PASID entry (RID_PASID 2 of 03:10.0): IOVA = HPA', () => {
    const r = tr(3, 0x80, 0x1234n);
    expect(r.passThrough).toBe(true);
    expect(r.hpa).toBe(0x1234n);
    expect(r.steps.map((s) => [s.structure, s.index])).toEqual([['root', 3], ['context', 0], ['pasid-dir', 0], ['pasid', 2]]);
  });

  it('faults at each structure with its SM reason', () => {
    expect(tr(4, 0, 0n).fault?.code).toBe(0x39); // bus 4: LP clear
    expect(tr(3, 1, 0n).fault?.code).toBe(0x41); // 03:00.1: context P = 0
    expect(tr(3, 0x80, 0n, { pasid: 0 }).fault?.code).toBe(0x45); // PASIDE clear, request with PASID
    expect(tr(3, 0, 0n, { pasid: 128 * 64 }).fault?.code).toBe(0x46); // PDTS 0: 128 directory entries
    expect(tr(3, 0, 0n, { pasid: 5 * 64 }).fault?.code).toBe(0x51); // directory entry 5 not present
    expect(tr(3, 0, 0n, { pasid: 66 }).fault?.code).toBe(0x59); // PASID table entry not present
    const p = build();
    p.writeQword(0x104000, 0x110089n | (1n << 10n)); // q0 bit 10 reserved
    expect(translate(memoryOf(p), { unit: unit(), bdf: { segment: 0, bus: 3, devfn: 0 }, iova: 0n, access: 'read', haw: 46 }).fault?.code).toBe(0x5a);
    p.writeQword(0x104000, 0x110000n | (5n << 6n) | 1n); // PGTT 101b: reserved
    expect(translate(memoryOf(p), { unit: unit(), bdf: { segment: 0, bus: 3, devfn: 0 }, iova: 0n, access: 'read', haw: 46 }).fault?.code).toBe(0x5b);
  });

  it('legacy and SM reasons for one condition compare equal (QEMU reports legacy codes in SM)', () => {
    expect(sameFaultReason(0x2, 0x41)).toBe(true);
    expect(sameFaultReason(0x6, 0x86)).toBe(true);
    expect(sameFaultReason(0x6, 0x5)).toBe(false);
  });
});

describe('512-bit PASID entry fields not covered above', () => {
  it('nested PGTT, FPD, SLEE, AW 3, 16-bit DID, PWSNP, ERE, WPE, NXE and a reserved q3 bit', async () => {
    const { decodePasidTableEntry } = await import('../../src/decode/entries.js');
    // q0 = SLPTPTR 0x5000000 | AW 3<<2 (0xc) | PGTT 3<<6 (0xc0) | SLEE (0x20) | FPD (0x2) | P = 0x50000ef
    // q1 = PWSNP (bit 23, 0x800000) | DID 0xfffe = 0x80fffe
    // q2 = FLPTPTR 0x6000000 | NXE (bit 5, 0x20) | WPE (bit 4, 0x10) | ERE (bit 1, 0x2) = 0x6000032
    const e = decodePasidTableEntry([0x50000efn, 0x80fffen, 0x6000032n, 1n, 0n, 0n, 0n, 0n]);
    expect(e).toMatchObject({
      P: true, FPD: true, AW: 3, SLEE: true, PGTT: 3, SLADE: false, SLPTPTR: 0x5000000, DID: 0xfffe, PWSNP: true, PGSNP: false,
      SRE: false, ERE: true, FLPM: 0, WPE: true, NXE: true, FLPTPTR: 0x6000000,
    });
    expect(e.reserved).toEqual([0n, 0n, 0n, 1n, 0n, 0n, 0n, 0n]);
  });
});
