/**
 * Hostile containers: a DMAR table claiming 4 GiB, ELF program headers that overlap or point past
 * the end (and 70 000 of them), LiME ranges that go backwards. Each ends with warnings or one
 * clear InputError; through the CLI that is exit 0 with warnings, or exit 2 with one stderr line
 * naming the file and the byte offset — never a stack trace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { elfFromFile } from '../../src/image/elf.js';
import type { BlockFile } from '../../src/image/file.js';
import { limeFromFile } from '../../src/image/lime.js';
import { encodeDmar } from '../../src/synth/dmar-encode.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { buildLegacyRootTable, SecondLevelTable } from '../../src/synth/tables.js';
import { cli, cliJson } from '../helpers/cli.js';
import { concat, elfCore, limeHeader, type Phdr } from '../image/fixtures.js';
import { tmpDir, writeCapture } from './helpers.js';

/** An in-memory BlockFile that counts reads (the ELF/LiME readers' only way to the bytes). */
function countingFile(bytes: Uint8Array, name = 'mem.img'): BlockFile & { reads: number } {
  const f = {
    path: name, size: bytes.length, cachedBlocks: 0, reads: 0,
    read(offset: number, length: number): Uint8Array {
      f.reads++;
      if (offset + length > bytes.length) throw new InputError('past the end', { file: name, offset });
      return bytes.subarray(offset, offset + length);
    },
    readInto(offset: number, dest: Uint8Array): void { dest.set(f.read(offset, dest.length)); },
    close(): void {},
  };
  return f as unknown as BlockFile & { reads: number };
}

/** Tables of one domain (4 pages mapped at IOVA 0 → 0x5000) and a root table, in pages from 1 MiB. */
function tables(): { phys: PhysBuilder; root: number } {
  const phys = new PhysBuilder(0x100000);
  const t = new SecondLevelTable(phys, 4);
  t.mapRange(0, 0x5000, 4, 4096, { read: true, write: true });
  const root = buildLegacyRootTable(phys, [{ bus: 3, devfn: 0, tt: 0, aw: 2, did: 1, slptptr: t.root }]);
  return { phys, root };
}

type Ph = Phdr;

/** An ELF core with these PT_LOADs (test/image/fixtures.ts), `size` bytes, then `fill` writes the data. */
function elfBytes(phdrs: Ph[], size: number, fill: (b: Uint8Array) => void, phnumField?: number): Uint8Array {
  const b = elfCore(phdrs, [], { size, ...(phnumField !== undefined ? { phnum: phnumField } : {}) });
  fill(b);
  return b;
}

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/internal error/);
}

describe('ELF program headers that overlap or point past the end', () => {
  it('decodes the tables from the earlier of two overlapping segments and clips the one past the end, with warnings (CLI exit 0)', () => {
    const { phys, root } = tables();
    const span = 0x10000; // 1 MiB … 1 MiB + 64 KiB holds every table page
    const dataAt = 0x1000;
    const bytes = elfBytes(
      [
        { paddr: 0x100000, offset: dataAt, filesz: span }, // the tables
        { paddr: 0x108000, offset: dataAt + span, filesz: span }, // overlaps the upper half with junk
        { paddr: 0x200000, offset: dataAt + 2 * span, filesz: 0x100000 }, // runs far past the end
      ],
      dataAt + 2 * span + 0x2000,
      (b) => {
        for (const [pfn, page] of phys.pages) b.set(page, dataAt + (pfn * 4096 - 0x100000));
        b.fill(0xff, dataAt + span, dataAt + 2 * span); // junk that would break the tables
      },
    );
    const dir = writeCapture(phys, root);
    fs.rmSync(path.join(dir, 'memory.sparse'));
    fs.writeFileSync(path.join(dir, 'memory.elf'), bytes);
    const r = cliJson(['decode', dir, '--format', 'json']);
    noStack(r.stderr);
    expect(r.status).toBe(0);
    const warnings = r.json.warnings.map((w: { message: string }) => w.message).join('\n');
    expect(warnings).toMatch(/PT_LOAD #1 .*overlaps PT_LOAD #0/);
    expect(warnings).toMatch(/PT_LOAD #2 .*run past the end of the file/);
    expect(r.json.units[0].domains[0].mappings).toEqual([expect.objectContaining({ iova: '0x0', hpa: '0x5000000', size: '0x4000' })]);
  });

  it('70 000 overlapping PT_LOADs (PN_XNUM): one read per header, ten overlap warnings and a count', () => {
    const n = 70_000;
    const phdrs: Ph[] = [];
    for (let i = 0; i < n; i++) phdrs.push({ paddr: (i % 7) * 0x1000, offset: 0, filesz: 0x8000 });
    const shoff = 64 + n * 56;
    const bytes = elfBytes(phdrs, shoff + 64, (b) => {
      const dv = new DataView(b.buffer);
      dv.setBigUint64(40, BigInt(shoff), true); // e_shoff
      dv.setUint32(shoff + 44, n, true); // section header 0's sh_info: the real count
    }, 0xffff);
    const f = countingFile(bytes, 'many.elf');
    const mem = elfFromFile(f);
    expect(f.reads).toBeLessThanOrEqual(n + 4);
    expect(mem.warnings.filter((w) => /overlaps/.test(w))).toHaveLength(10);
    expect(mem.warnings.some((w) => /more overlapping ranges/.test(w))).toBe(true);
    // The first header at each address wins: #0 covers 0-0x7fff, then #1…#6 one page each.
    expect(mem.ranges[0]).toEqual({ start: 0, end: 0x8000, fileOffset: 0 });
    expect(mem.ranges.map((r) => [r.start, r.end])).toEqual([[0, 0x8000], ...[8, 9, 10, 11, 12, 13].map((p) => [p * 0x1000, (p + 1) * 0x1000])]);
  });
});

describe('LiME ranges that go backwards', () => {
  /** LiME ranges, each header followed by `dataLen` bytes of zeroes (e is inclusive, as LiME writes it). */
  function lime(ranges: [number, number][], dataLen = 0x1000): Uint8Array {
    return concat(...ranges.flatMap(([s, e]) => [limeHeader(BigInt(s), BigInt(e)), new Uint8Array(dataLen)]));
  }

  it('a range whose end is below its start: InputError at its header; CLI exit 2, one stderr line with file and offset', () => {
    const bytes = lime([[0x1000, 0x1fff], [0x9000, 0x8fff - 0x1000]]);
    expect(() => limeFromFile(countingFile(bytes, 'back.lime'))).toThrow(/goes backwards/);
    // In a directory of its own: the parent of a capture directory is the system temp dir, shared
    // by every user (a file left there by root cannot be rewritten by anyone else).
    const file = path.join(tmpDir(), 'back.lime');
    fs.writeFileSync(file, bytes);
    const r = cli(['decode', '--memory', file, '--rtaddr', '0x1000', '--format', 'json', '']);
    noStack(r.stderr);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/back\.lime: at byte 0x1020: .*LiME range goes backwards/);
  });

  it('ranges in descending physical order (a later range below an earlier one) read as one sorted image', () => {
    const bytes = lime([[0x3000, 0x3fff], [0x1000, 0x1fff], [0x2000, 0x2fff]]);
    const f = countingFile(bytes, 'desc.lime');
    const mem = limeFromFile(f);
    expect(mem.ranges.map((r) => [r.start, r.end])).toEqual([[0x1000, 0x2000], [0x2000, 0x3000], [0x3000, 0x4000]]);
    expect(mem.warnings).toEqual([]);
    expect(f.reads).toBe(3);
  });
});

describe('a DMAR table claiming 4 GiB', () => {
  it('decodes what is there with a problem at byte 4; CLI decode exit 0, analyze reports dmar-integrity', () => {
    const { phys, root } = tables();
    const dmar = encodeDmar({ haw: 46, flags: 1, drhd: [{ flags: 1, base: 0xfed90000 }] });
    new DataView(dmar.buffer).setUint32(4, 0xffffffff, true);
    const dir = writeCapture(phys, root, { dmar });
    const d = cliJson(['decode', dir, '--format', 'json']);
    noStack(d.stderr);
    expect(d.status).toBe(0);
    expect(d.json.dmar.length).toBe(0xffffffff);
    expect(d.json.units).toHaveLength(1);
    const a = cliJson(['analyze', dir, '--format', 'json', '--fail-on', 'none']);
    noStack(a.stderr);
    expect(a.status).toBe(0);
    expect(a.json.findings.some((f: { check: string; source?: { offset?: string } }) => f.check === 'dmar-integrity' && f.source?.offset === '0x4')).toBe(true);
  });
});
