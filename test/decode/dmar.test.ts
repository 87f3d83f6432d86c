/**
 * DMAR decoder. Expected values come from the hex dump of the real QEMU table (read by hand, see
 * the comments) and from tables laid out here byte by byte; the encoder is only used for the
 * bad-input cases (with the bytes patched by hand) and the round-trip property.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDmar, resolveScopePath } from '../../src/decode/dmar.js';
import type { Andd, Atsr, DmarTable, Drhd, Rhsa, Rmrr, Satc, Sidp, UnknownStructure } from '../../src/decode/dmar-types.js';
import { InputError } from '../../src/errors.js';
import { encodeDmar, type DmarDesc, type ScopeDesc } from '../../src/synth/dmar-encode.js';
import { CAPTURES } from '../helpers/captures.js';
import { countDataViewReads } from '../helpers/work.js';

const CAPTURE_NAMES = ['qemu-linux61-legacy', 'qemu-linux61-debugfs', 'qemu-linux61-dmar-fault'];
const realDmar = (name = CAPTURE_NAMES[0]) => new Uint8Array(readFileSync(`${CAPTURES}/${name}/DMAR`));

function byteSum(b: Uint8Array, n = b.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + b[i]) & 0xff;
  return s;
}
/** Re-compute the checksum byte after patching a table by hand. */
function fixChecksum(b: Uint8Array): Uint8Array {
  b[9] = 0;
  b[9] = (0x100 - byteSum(b)) & 0xff;
  return b;
}
function errorsOf(t: DmarTable) {
  return t.problems.filter((p) => p.severity === 'error');
}
function warningsOf(t: DmarTable) {
  return t.problems.filter((p) => p.severity === 'warning');
}
function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('real QEMU DMAR table (120 bytes)', () => {
  // xxd of every capture's DMAR (identical):
  // 00: 444d4152 78000000 01 09 424f43485320 | 4258504320202020 01000000 42585043
  // 20: 01000000 26 01 00000000000000000000
  // 30: 0000 4800 00 00 0000 0000d9fe00000000            DRHD, Length 0x48, flags 0, base 0xfed90000
  // 40: 03 08 0000 00 ff 0000                            IOAPIC, enum id 0, bus 0xff, path 00.0
  // 48: 01 08 0000 00 00 0000                            endpoint 00:00.0
  // 50: 02 08 0000 00 00 0200   58: 02 08 0000 00 00 0300   bridges 00:02.0, 00:03.0
  // 60: 01 08 0000 00 00 1f00   68: ... 1f02   70: ... 1f03  endpoints 00:1f.0/.2/.3
  for (const cap of CAPTURE_NAMES) {
    it(`${cap}: header, HAW, flags`, () => {
      const bytes = realDmar(cap);
      expect(bytes.length).toBe(120);
      expect(byteSum(bytes)).toBe(0); // checked independently of the decoder
      const t = decodeDmar(bytes, 'DMAR');
      expect(t.signature).toBe('DMAR');
      expect(t.length).toBe(0x78);
      expect(t.revision).toBe(1);
      expect(t.checksum).toBe(0x09);
      expect(t.checksumOk).toBe(true);
      expect(t.oemId).toBe('BOCHS');
      expect(t.oemTableId).toBe('BXPC');
      expect(t.oemRevision).toBe(1);
      expect(t.creatorId).toBe('BXPC');
      expect(t.creatorRevision).toBe(1);
      expect(t.haw).toBe(0x26 + 1); // 39 bits
      expect(t.flags).toBe(1);
      expect(t.intrRemap).toBe(true);
      expect(t.x2apicOptOut).toBe(false);
      expect(t.dmaCtrlPlatformOptIn).toBe(false);
      expect(t.problems).toEqual([]);
    });
  }

  it('one DRHD at 0xfed90000 listing its devices explicitly (flags byte 0x34 is 0: not INCLUDE_PCI_ALL)', () => {
    const t = decodeDmar(realDmar(), 'DMAR');
    expect(t.structures).toHaveLength(1);
    const d = t.structures[0] as Drhd;
    expect(d.kind).toBe('DRHD');
    expect(d.offset).toBe(0x30);
    expect(d.length).toBe(0x48);
    expect(d.flags).toBe(0);
    expect(d.includePciAll).toBe(false);
    expect(d.size).toBe(0);
    expect(d.segment).toBe(0);
    expect(d.registerBase).toBe(0xfed90000);
    expect(d.scopes.map((s) => [s.offset, s.typeName, s.enumerationId, s.startBus, s.path.map((p) => [p.device, p.function])])).toEqual([
      [0x40, 'ioapic', 0, 0xff, [[0, 0]]],
      [0x48, 'endpoint', 0, 0, [[0, 0]]],
      [0x50, 'bridge', 0, 0, [[2, 0]]],
      [0x58, 'bridge', 0, 0, [[3, 0]]],
      [0x60, 'endpoint', 0, 0, [[0x1f, 0]]],
      [0x68, 'endpoint', 0, 0, [[0x1f, 2]]],
      [0x70, 'endpoint', 0, 0, [[0x1f, 3]]],
    ]);
    // devfn = dev << 3 | fn: 00:02.0 → 0x10, 00:1f.2 → 0xfa.
    expect(d.scopes.map((s) => s.resolved)).toEqual([
      { bus: 0xff, devfn: 0 }, { bus: 0, devfn: 0 }, { bus: 0, devfn: 0x10 }, { bus: 0, devfn: 0x18 },
      { bus: 0, devfn: 0xf8 }, { bus: 0, devfn: 0xfa }, { bus: 0, devfn: 0xfb },
    ]);
    expect(d.scopes.every((s) => s.length === 8 && s.flags === 0)).toBe(true);
  });
});

/** One structure of each type, laid out with DataView (not with the encoder). */
function handBuiltTable(): Uint8Array {
  const b = new Uint8Array(203);
  const v = new DataView(b.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i); };
  ascii(0, 'DMAR');
  v.setUint32(4, 203, true);
  b[8] = 2; // revision
  ascii(10, 'INTEL ');
  ascii(16, 'EDK2    ');
  v.setUint32(24, 2, true);
  ascii(28, 'INTL');
  v.setUint32(32, 0x20091013, true);
  b[36] = 45; // HAW 46 bits
  b[37] = 0b101; // INTR_REMAP | DMA_CTRL_PLATFORM_OPT_IN
  // DRHD @48, Length 24: INCLUDE_PCI_ALL, size 2, segment 0, base 0xfed91000, scope IOAPIC id 2 at f0:1f.0
  v.setUint16(48, 0, true); v.setUint16(50, 24, true);
  b[52] = 1; b[53] = 2; v.setUint16(54, 0, true); v.setBigUint64(56, 0xfed91000n, true);
  b.set([3, 8, 0, 0, 2, 0xf0, 0x1f, 0], 64);
  // RMRR @72, Length 32: segment 0, 0x7c000000–0x7c7fffff, scope endpoint 00:14.0
  v.setUint16(72, 1, true); v.setUint16(74, 32, true);
  v.setUint16(78, 0, true); v.setBigUint64(80, 0x7c000000n, true); v.setBigUint64(88, 0x7c7fffffn, true);
  b.set([1, 8, 0, 0, 0, 0, 0x14, 0], 96);
  // ATSR @104, Length 16: flags 0, segment 0, scope bridge 00:01.0
  v.setUint16(104, 2, true); v.setUint16(106, 16, true);
  b.set([2, 8, 0, 0, 0, 0, 1, 0], 112);
  // RHSA @120, Length 20: base 0xfed91000, proximity domain 1
  v.setUint16(120, 3, true); v.setUint16(122, 20, true);
  v.setBigUint64(128, 0xfed91000n, true); v.setUint32(136, 1, true);
  // ANDD @140, Length 23: device number 7, "\_SB.PCI0.I2C0" + NUL (15 bytes)
  v.setUint16(140, 4, true); v.setUint16(142, 23, true);
  b[147] = 7; ascii(148, '\\_SB.PCI0.I2C0');
  // SATC @163, Length 16: ATC_REQUIRED, segment 0, scope endpoint 00:02.0
  v.setUint16(163, 5, true); v.setUint16(165, 16, true); b[167] = 1;
  b.set([1, 8, 0, 0, 0, 0, 2, 0], 171);
  // SIDP @179, Length 16: segment 0, scope endpoint 00:0a.0 with scope flags 0x10 (ATC required)
  v.setUint16(179, 6, true); v.setUint16(181, 16, true);
  b.set([1, 8, 0x10, 0, 0, 0, 0x0a, 0], 187);
  // type 9 @195, Length 8: unknown, body 01 02 03 04
  v.setUint16(195, 9, true); v.setUint16(197, 8, true); b.set([1, 2, 3, 4], 199);
  return fixChecksum(b);
}

describe('hand-built table with one structure of each type', () => {
  const t = decodeDmar(handBuiltTable(), 'hand');

  it('header', () => {
    expect(t.checksumOk).toBe(true);
    expect(t.revision).toBe(2);
    expect(t.oemId).toBe('INTEL');
    expect(t.oemTableId).toBe('EDK2');
    expect(t.creatorRevision).toBe(0x20091013);
    expect(t.haw).toBe(46);
    expect(t.intrRemap).toBe(true);
    expect(t.x2apicOptOut).toBe(false);
    expect(t.dmaCtrlPlatformOptIn).toBe(true);
  });

  it('structures', () => {
    expect(t.structures.map((s) => [s.kind, s.offset, s.length])).toEqual([
      ['DRHD', 48, 24], ['RMRR', 72, 32], ['ATSR', 104, 16], ['RHSA', 120, 20], ['ANDD', 140, 23],
      ['SATC', 163, 16], ['SIDP', 179, 16], ['unknown', 195, 8],
    ]);
    const [drhd, rmrr, atsr, rhsa, andd, satc, sidp, unk] = t.structures as [Drhd, Rmrr, Atsr, Rhsa, Andd, Satc, Sidp, UnknownStructure];
    expect(drhd).toMatchObject({ includePciAll: true, size: 2, segment: 0, registerBase: 0xfed91000 });
    expect(drhd.scopes[0]).toMatchObject({ typeName: 'ioapic', enumerationId: 2, startBus: 0xf0, offset: 64, resolved: { bus: 0xf0, devfn: 0xf8 } });
    expect(rmrr).toMatchObject({ segment: 0, base: 0x7c000000, limit: 0x7c7fffff });
    expect(rmrr.scopes[0]).toMatchObject({ typeName: 'endpoint', offset: 96, resolved: { bus: 0, devfn: 0xa0 } });
    expect(atsr).toMatchObject({ allPorts: false, segment: 0 });
    expect(atsr.scopes[0]).toMatchObject({ typeName: 'bridge', resolved: { bus: 0, devfn: 8 } });
    expect(rhsa).toMatchObject({ registerBase: 0xfed91000, proximityDomain: 1 });
    expect(andd).toMatchObject({ deviceNumber: 7, objectName: '\\_SB.PCI0.I2C0' });
    expect(satc).toMatchObject({ atcRequired: true, flags: 1, segment: 0 });
    expect(satc.scopes[0].resolved).toEqual({ bus: 0, devfn: 0x10 });
    expect(sidp.segment).toBe(0);
    expect(sidp.scopes[0]).toMatchObject({ flags: 0x10, resolved: { bus: 0, devfn: 0x50 } });
    expect(unk.type).toBe(9);
    expect([...unk.raw]).toEqual([9, 0, 8, 0, 1, 2, 3, 4]);
  });

  it('only the unknown type is a problem, a warning at its offset', () => {
    expect(t.problems).toHaveLength(1);
    expect(t.problems[0]).toMatchObject({ offset: 195, severity: 'warning' });
    expect(t.problems[0].message).toMatch(/unknown structure type 9/);
  });
});

/** A small valid table built with the encoder; tests patch its bytes by hand. */
function baseTable(extra: Partial<DmarDesc> = {}): Uint8Array {
  return encodeDmar({
    haw: 39, flags: 1,
    drhd: [{ flags: 0, base: 0xfed90000, scopes: [{ type: 1, startBus: 0, path: [[2, 0]] }] }],
    ...extra,
  });
}

describe('header errors throw InputError', () => {
  it('wrong signature → offset 0', () => {
    const b = realDmar();
    b.set([0x46, 0x41, 0x43, 0x50], 0); // "FACP"
    const e = inputError(() => decodeDmar(b, 'x.bin'));
    expect(e.offset).toBe(0);
    expect(e.file).toBe('x.bin');
    expect(e.message).toMatch(/^not an ACPI DMAR table \(signature "FACP"/);
  });
  it('empty and 3-byte inputs', () => {
    expect(inputError(() => decodeDmar(new Uint8Array(0))).offset).toBe(0);
    expect(inputError(() => decodeDmar(new Uint8Array([0x44, 0x4d, 0x41]))).message).toMatch(/not an ACPI DMAR table/);
  });
  it('47 bytes → truncated header', () => {
    const e = inputError(() => decodeDmar(realDmar().subarray(0, 47), 'DMAR'));
    expect(e.message).toMatch(/47 bytes/);
  });
  it('exactly 48 bytes is a table with no structures (warning: no DRHD)', () => {
    const b = fixChecksum(realDmar().slice(0, 48));
    new DataView(b.buffer).setUint32(4, 48, true);
    fixChecksum(b);
    const t = decodeDmar(b);
    expect(t.structures).toEqual([]);
    expect(errorsOf(t)).toEqual([]);
    expect(warningsOf(t).map((p) => p.offset)).toEqual([48]);
  });
});

describe('table problems (decoded anyway)', () => {
  it('Length beyond the captured bytes: error at offset 4, decodes what is there', () => {
    const b = realDmar();
    new DataView(b.buffer).setUint32(4, 200, true);
    const t = decodeDmar(b);
    expect(t.length).toBe(200);
    expect(t.checksumOk).toBe(false);
    expect(errorsOf(t)).toHaveLength(1);
    expect(errorsOf(t)[0].offset).toBe(4);
    expect((t.structures[0] as Drhd).scopes).toHaveLength(7);
  });
  it('a table claiming 4 GiB costs what it holds: reads bounded by the captured bytes', () => {
    const b = realDmar();
    new DataView(b.buffer).setUint32(4, 0xffffffff, true);
    const plain = countDataViewReads(() => decodeDmar(realDmar()));
    const { result: t, reads } = countDataViewReads(() => decodeDmar(b));
    expect(t.length).toBe(0xffffffff);
    expect(t.structures).toHaveLength(1);
    // The same 120 bytes are walked as when Length is right (the checksum is not summed over 4 GiB).
    expect(reads).toBeLessThanOrEqual(plain.reads + 8);
    expect(reads).toBeLessThan(b.length);
  });
  it('Length shorter than the file: trailing bytes are not part of the table', () => {
    const b = new Uint8Array(130);
    b.set(realDmar());
    b.fill(0xee, 120);
    const t = decodeDmar(b);
    expect(t.problems).toEqual([]);
  });
  it('Length below 48: error at offset 4', () => {
    const b = realDmar();
    new DataView(b.buffer).setUint32(4, 40, true);
    expect(errorsOf(decodeDmar(b)).map((p) => p.offset)).toEqual([4]);
  });
  it('wrong checksum: error at offset 9, structures still decoded', () => {
    const b = realDmar();
    b[9] = 0x0a; // the table now sums to 1
    const t = decodeDmar(b);
    expect(t.checksumOk).toBe(false);
    expect(t.problems).toEqual([{ offset: 9, severity: 'error', message: expect.stringMatching(/checksum is 0xa, table sums to 0x1/) }]);
    expect(t.structures).toHaveLength(1);
  });
  it('encoder corruption options produce the same problems', () => {
    expect(errorsOf(decodeDmar(baseTable({ corrupt: 'checksum' }))).map((p) => p.offset)).toEqual([9]);
    expect(errorsOf(decodeDmar(baseTable({ corrupt: 'length' }))).map((p) => p.offset)).toEqual([4]);
  });
  it('HAW field below 11 is an error at offset 36', () => {
    const b = realDmar();
    b[36] = 5;
    const t = decodeDmar(fixChecksum(b));
    expect(t.haw).toBe(6);
    expect(errorsOf(t).map((p) => p.offset)).toEqual([36]);
  });
  it('structure Length 0: error at its offset, walk stops', () => {
    // base table (DRHD of 24 bytes at 48) + a 16-byte tail holding a type-1 header with Length 0
    const base = baseTable();
    const b = new Uint8Array(base.length + 16);
    b.set(base);
    const v = new DataView(b.buffer);
    v.setUint32(4, b.length, true);
    v.setUint16(72, 1, true); v.setUint16(74, 0, true);
    const t = decodeDmar(fixChecksum(b));
    expect(t.structures.map((s) => s.kind)).toEqual(['DRHD']);
    expect(errorsOf(t)).toEqual([{ offset: 72, severity: 'error', message: expect.stringMatching(/Length 0/) }]);
  });
  it('structure running past the end: error, walk stops', () => {
    const b = realDmar();
    new DataView(b.buffer).setUint16(0x32, 0x50, true); // DRHD Length 80 > 72 bytes left
    const t = decodeDmar(fixChecksum(b));
    expect(t.structures).toEqual([]);
    expect(errorsOf(t)[0]).toMatchObject({ offset: 0x30, message: expect.stringMatching(/runs past the end/) });
  });
  it('trailing bytes too short for a structure header', () => {
    const base = baseTable();
    const b = new Uint8Array(base.length + 3);
    b.set(base);
    new DataView(b.buffer).setUint32(4, b.length, true);
    const t = decodeDmar(fixChecksum(b));
    expect(errorsOf(t).map((p) => p.offset)).toEqual([base.length]);
  });
  it('structure Length below its fixed size: error, structure skipped, walk goes on', () => {
    // DRHD claiming 12 bytes (fixed size 16), followed by a valid 20-byte RHSA
    const b = new Uint8Array(48 + 12 + 20);
    b.set(realDmar().subarray(0, 48));
    const v = new DataView(b.buffer);
    v.setUint32(4, b.length, true);
    v.setUint16(48, 0, true); v.setUint16(50, 12, true);
    v.setUint16(60, 3, true); v.setUint16(62, 20, true); v.setBigUint64(68, 0xfed90000n, true);
    const t = decodeDmar(fixChecksum(b));
    expect(t.structures.map((s) => s.kind)).toEqual(['RHSA']);
    expect(errorsOf(t)).toEqual([{ offset: 48, severity: 'error', message: expect.stringMatching(/below its fixed size 16/) }]);
  });
  it.each([
    ['scope Length 6', 6, /invalid/],
    ['scope Length 9 (odd)', 9, /invalid/],
    ['scope Length 0', 0, /invalid/],
    ['scope Length 10 runs past its structure', 10, /runs past the end of its structure/],
  ])('%s: error at the scope offset', (_n, len, re) => {
    const b = baseTable(); // DRHD @48 (Length 24), scope @64
    b[65] = len;
    const t = decodeDmar(fixChecksum(b));
    expect(errorsOf(t)).toEqual([{ offset: 64, severity: 'error', message: expect.stringMatching(re) }]);
    expect((t.structures[0] as Drhd).scopes).toEqual([]);
  });
  it('scopes not tiling the structure: 1 byte left over', () => {
    // DRHD Length 25 = 16 + one 8-byte scope + 1 stray byte
    const base = baseTable();
    const b = new Uint8Array(base.length + 1);
    b.set(base);
    const v = new DataView(b.buffer);
    v.setUint32(4, b.length, true);
    v.setUint16(50, 25, true);
    const t = decodeDmar(fixChecksum(b));
    expect(errorsOf(t)).toEqual([{ offset: 72, severity: 'error', message: expect.stringMatching(/left over/) }]);
    expect((t.structures[0] as Drhd).scopes).toHaveLength(1);
  });
  it('reserved scope type and out-of-range path elements are warnings', () => {
    const b = baseTable();
    b[64] = 7; // reserved type
    b[70] = 0x20; // device 32
    const t = decodeDmar(fixChecksum(b));
    expect(errorsOf(t)).toEqual([]);
    expect(warningsOf(t).map((p) => p.offset)).toEqual([64, 70]);
    const s = (t.structures[0] as Drhd).scopes[0];
    expect(s.typeName).toBe('reserved');
    expect(s.resolved).toBeUndefined();
  });
  it('DRHD base 0 and all-ones are errors at the base field (offset +8)', () => {
    const zero = decodeDmar(baseTable({ drhd: [{ base: 0 }] }));
    expect(errorsOf(zero)).toEqual([{ offset: 56, severity: 'error', message: expect.stringMatching(/base is 0/) }]);
    const ones = decodeDmar(baseTable({ drhd: [{ base: 0xffffffffffffffffn }] }));
    expect(errorsOf(ones)).toEqual([{ offset: 56, severity: 'error', message: expect.stringMatching(/all-ones/) }]);
    const d = ones.structures[0] as Drhd;
    expect(d.registerBaseRaw).toBe(0xffffffffffffffffn);
    expect(Number.isSafeInteger(d.registerBase)).toBe(true);
  });
  it('RMRR alignment rules (warnings at the base / end fields)', () => {
    const scopes: ScopeDesc[] = [{ type: 1, startBus: 0, path: [[0x14, 0]] }];
    // RMRR @72 (after the 24-byte DRHD): base field @80, end field @88
    const t = decodeDmar(baseTable({
      rmrr: [
        { base: 0x7c000800, limit: 0x7c7fffff, scopes }, // base not aligned
      ],
    }));
    expect(t.problems).toEqual([{ offset: 80, severity: 'warning', message: expect.stringMatching(/not 4 KiB aligned/) }]);
    const t2 = decodeDmar(baseTable({ rmrr: [{ base: 0x7c000000, limit: 0x7c7ffffe, scopes }] }));
    expect(t2.problems).toEqual([{ offset: 88, severity: 'warning', message: expect.stringMatching(/\+ 1 is not 4 KiB aligned/) }]);
    const t3 = decodeDmar(baseTable({ rmrr: [{ base: 0x7c000000, limit: 0x7bffffff, scopes }] }));
    expect(t3.problems).toEqual([{ offset: 88, severity: 'warning', message: expect.stringMatching(/not above its base/) }]);
  });
  it('overlapping RMRRs are a warning', () => {
    const scopes: ScopeDesc[] = [{ type: 1, startBus: 0, path: [[0x14, 0]] }];
    const t = decodeDmar(baseTable({
      rmrr: [{ base: 0x1000, limit: 0x4fff, scopes }, { base: 0x3000, limit: 0x5fff, scopes }, { base: 0x6000, limit: 0x6fff, scopes }],
    }));
    // second RMRR at 72 + 32 = 104
    expect(t.problems).toEqual([{ offset: 104, severity: 'warning', message: expect.stringMatching(/overlaps/) }]);
  });
  it('two INCLUDE_PCI_ALL DRHDs in one segment: error at the second; other segments are fine', () => {
    const t = decodeDmar(encodeDmar({
      haw: 39,
      drhd: [{ flags: 1, base: 0xfed90000 }, { flags: 1, segment: 1, base: 0xfed91000 }, { flags: 1, base: 0xfed92000 }],
    }));
    // DRHDs of 16 bytes each at 48, 64, 80
    expect(errorsOf(t)).toEqual([{ offset: 80, severity: 'error', message: expect.stringMatching(/second INCLUDE_PCI_ALL DRHD for segment 0 \(the first is at 0x30\)/) }]);
  });
  it('INCLUDE_PCI_ALL DRHD not last in its segment: warning', () => {
    const t = decodeDmar(encodeDmar({ haw: 39, drhd: [{ flags: 1, base: 0xfed90000 }, { flags: 0, base: 0xfed91000 }] }));
    expect(t.problems).toEqual([{ offset: 48, severity: 'warning', message: expect.stringMatching(/not the last DRHD/) }]);
  });
  it('RHSA naming no DRHD: warning at the RHSA', () => {
    const t = decodeDmar(baseTable({ rhsa: [{ base: 0xfed90000, proximityDomain: 0 }, { base: 0xfed99000, proximityDomain: 1 }] }));
    // DRHD 48..72, RHSAs at 72 and 92
    expect(t.problems).toEqual([{ offset: 92, severity: 'warning', message: expect.stringMatching(/0xfed99000 matches no DRHD/) }]);
  });
  it('ANDD name not NUL-terminated: error at the name', () => {
    const t = decodeDmar(baseTable({ andd: [{ deviceNumber: 1, name: '\\_SB.UAR0', terminate: false }] }));
    // ANDD at 72, name at 80
    expect(errorsOf(t)).toEqual([{ offset: 80, severity: 'error', message: expect.stringMatching(/not NUL-terminated/) }]);
    expect((t.structures[1] as Andd).objectName).toBe('\\_SB.UAR0');
  });
  it('structures out of ascending type order: warning', () => {
    const b = encodeDmar({ haw: 39, rhsa: [{ base: 0xfed90000, proximityDomain: 0 }], extra: [] });
    // append a DRHD after the RHSA by hand: RHSA 48..68, DRHD 68..84
    const c = new Uint8Array(b.length + 16);
    c.set(b);
    const v = new DataView(c.buffer);
    v.setUint32(4, c.length, true);
    v.setUint16(68, 0, true); v.setUint16(70, 16, true); v.setBigUint64(76, 0xfed90000n, true);
    const t = decodeDmar(fixChecksum(c));
    expect(t.problems).toEqual([{ offset: 68, severity: 'warning', message: expect.stringMatching(/ascending type order/) }]);
  });
});

describe('resolveScopePath', () => {
  const scope = { startBus: 0, path: [{ device: 0x1c, function: 0 }, { device: 0, function: 1 }] };
  it('follows bridges through the supplied secondary bus numbers', () => {
    const sec = (bus: number, devfn: number) => (bus === 0 && devfn === 0xe0 ? 3 : undefined);
    expect(resolveScopePath(scope, sec)).toEqual({ bus: 3, devfn: 1 });
  });
  it('undefined when a bridge is unknown or a hop is out of range', () => {
    expect(resolveScopePath(scope, () => undefined)).toBeUndefined();
    expect(resolveScopePath({ startBus: 0, path: [{ device: 40, function: 0 }] }, () => 1)).toBeUndefined();
    expect(resolveScopePath({ startBus: 0, path: [] }, () => 1)).toBeUndefined();
  });
  it('a one-element path needs no bridge', () => {
    expect(resolveScopePath({ startBus: 5, path: [{ device: 1, function: 2 }] }, () => undefined)).toEqual({ bus: 5, devfn: 0x0a });
  });
});

// --- properties -----------------------------------------------------------------------------------

function decodesOrInputError(b: Uint8Array): void {
  try {
    decodeDmar(b, 'fuzz');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
}

describe('properties', () => {
  it('random bytes: only InputError, never a hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => decodesOrInputError(b)), { numRuns: 500 });
  });

  it('random bytes behind a DMAR header with random Length and structure lengths', () => {
    const arb = fc.record({
      body: fc.uint8Array({ maxLength: 600 }),
      length: fc.oneof(fc.integer({ min: 0, max: 700 }), fc.constant(0xffffffff), fc.nat()),
      fixSum: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ body, length, fixSum }) => {
      const b = new Uint8Array(48 + body.length);
      b.set(realDmar().subarray(0, 48));
      b.set(body, 48);
      new DataView(b.buffer).setUint32(4, length >>> 0, true);
      if (fixSum) fixChecksum(b);
      decodesOrInputError(b);
    }), { numRuns: 1000 });
  });

  it('mutated real and encoded tables: only InputError', () => {
    const seeds = [realDmar(), handBuiltTable()];
    fc.assert(fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      (seed, edits, cut) => {
        const b = seed.slice(0, Math.max(4, seed.length - (cut % 40)));
        for (const [at, val] of edits) b[4 + (at % (b.length - 4))] = val;
        decodesOrInputError(b);
      },
    ), { numRuns: 1000 });
  });

  it('large captured table of 1 MiB of tiny structures decodes with bounded work', () => {
    // 65536 RMRRs of 16 bytes would be below the fixed size: use 24-byte RMRRs without scopes, all overlapping.
    const n = 40000;
    const b = new Uint8Array(48 + 24 * n);
    b.set(realDmar().subarray(0, 48));
    const v = new DataView(b.buffer);
    v.setUint32(4, b.length, true);
    for (let i = 0; i < n; i++) {
      const at = 48 + 24 * i;
      v.setUint16(at, 1, true); v.setUint16(at + 2, 24, true);
      v.setBigUint64(at + 8, 0x1000n, true); v.setBigUint64(at + 16, 0x1fffn, true);
    }
    const { result: t, reads } = countDataViewReads(() => decodeDmar(fixChecksum(b)));
    expect(t.structures).toHaveLength(n);
    // Work, not time: a bounded number of reads per structure, and at most a no-scope and an
    // overlap problem per RMRR (each is compared with the reach of the ones before it).
    expect(reads).toBeLessThan(16 * n);
    expect(t.problems.length).toBeLessThanOrEqual(2 * n + 1);
  });

  const scopeArb: fc.Arbitrary<ScopeDesc> = fc.record({
    type: fc.integer({ min: 1, max: 5 }),
    enumId: fc.integer({ min: 0, max: 255 }),
    startBus: fc.integer({ min: 0, max: 255 }),
    path: fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
  });
  const page = fc.integer({ min: 1, max: 2 ** 39 }).map((p) => p * 4096);
  const descArb = fc.record({
    haw: fc.integer({ min: 12, max: 64 }),
    flags: fc.integer({ min: 0, max: 7 }),
    drhd: fc.array(fc.record({
      flags: fc.constant(0), segment: fc.integer({ min: 0, max: 3 }), base: page, size: fc.integer({ min: 0, max: 15 }),
      scopes: fc.array(scopeArb, { maxLength: 4 }),
    }), { minLength: 1, maxLength: 4 }),
    rmrr: fc.array(fc.record({
      segment: fc.integer({ min: 0, max: 3 }), base: page, pages: fc.integer({ min: 1, max: 1000 }),
      scopes: fc.array(scopeArb, { minLength: 1, maxLength: 3 }),
    }), { maxLength: 3 }),
    atsr: fc.array(fc.record({ flags: fc.integer({ min: 0, max: 1 }), segment: fc.integer({ min: 0, max: 3 }), scopes: fc.array(scopeArb, { maxLength: 3 }) }), { maxLength: 2 }),
    rhsa: fc.array(fc.record({ proximityDomain: fc.nat() }), { maxLength: 2 }),
    andd: fc.array(fc.record({ deviceNumber: fc.integer({ min: 0, max: 255 }), name: fc.stringMatching(/^\\_SB\.[A-Z0-9]{1,4}(\.[A-Z0-9]{1,4}){0,3}$/) }), { maxLength: 2 }),
    satc: fc.array(fc.record({ flags: fc.integer({ min: 0, max: 1 }), segment: fc.integer({ min: 0, max: 3 }), scopes: fc.array(scopeArb, { maxLength: 3 }) }), { maxLength: 2 }),
  });

  it('random valid descriptions round-trip through encoder and decoder', () => {
    fc.assert(fc.property(descArb, (d) => {
      const desc: DmarDesc = {
        haw: d.haw, flags: d.flags, drhd: d.drhd,
        rmrr: d.rmrr.map((r) => ({ segment: r.segment, base: r.base, limit: r.base + r.pages * 4096 - 1, scopes: r.scopes })),
        atsr: d.atsr,
        rhsa: d.rhsa.map((r, i) => ({ base: d.drhd[i % d.drhd.length].base, proximityDomain: r.proximityDomain })),
        andd: d.andd, satc: d.satc,
      };
      const t = decodeDmar(encodeDmar(desc), 'rt');
      expect(t.checksumOk).toBe(true);
      expect(errorsOf(t)).toEqual([]);
      expect(t.haw).toBe(d.haw);
      expect(t.flags).toBe(d.flags);
      const scopesOf = (s: { scopes: { type: number; enumerationId: number; startBus: number; path: { device: number; function: number }[] }[] }) =>
        s.scopes.map((x) => ({ type: x.type, enumId: x.enumerationId, startBus: x.startBus, path: x.path.map((p) => [p.device, p.function]) }));
      const by = <K extends string>(k: K) => t.structures.filter((s) => s.kind === k);
      expect((by('DRHD') as Drhd[]).map((s) => ({ flags: s.flags, segment: s.segment, base: s.registerBase, size: s.size, scopes: scopesOf(s) })))
        .toEqual(d.drhd);
      expect((by('RMRR') as Rmrr[]).map((s) => ({ segment: s.segment, base: s.base, limit: s.limit, scopes: scopesOf(s) })))
        .toEqual(desc.rmrr!.map((r) => ({ ...r, scopes: r.scopes!.map((x) => ({ ...x })) })));
      expect((by('ATSR') as Atsr[]).map((s) => ({ flags: s.flags, segment: s.segment, scopes: scopesOf(s) }))).toEqual(d.atsr);
      expect((by('RHSA') as Rhsa[]).map((s) => ({ base: s.registerBase, proximityDomain: s.proximityDomain }))).toEqual(desc.rhsa);
      expect((by('ANDD') as Andd[]).map((s) => ({ deviceNumber: s.deviceNumber, name: s.objectName }))).toEqual(d.andd);
      expect((by('SATC') as Satc[]).map((s) => ({ flags: s.flags, segment: s.segment, scopes: scopesOf(s) }))).toEqual(d.satc);
      // one-element paths resolve to bus/devfn without config space
      for (const s of by('DRHD') as Drhd[]) {
        for (const sc of s.scopes) {
          if (sc.path.length === 1) expect(sc.resolved).toEqual({ bus: sc.startBus, devfn: sc.path[0].device * 8 + sc.path[0].function });
          else expect(sc.resolved).toBeUndefined();
        }
      }
    }), { numRuns: 300 });
  });
});
