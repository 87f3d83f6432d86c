/**
 * `scan` over whole images: every bundled sample, the real ELF cores (their RTADDR read from their
 * own iommu_regset text here, not through dmarsift), hand-built raw and ELF images, random bytes and
 * zeroes — and through the CLI (`scan`, `scan --rtaddr`, `decode/analyze --rtaddr auto`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMemoryImage } from '../../src/image/open.js';
import { scanImage } from '../../src/scan/scan.js';
import { mulberry32 } from '../../src/synth/rng.js';
import { capturePath } from '../helpers/captures.js';
import { cli, cliJson } from '../helpers/cli.js';
import { concat, elfCore, legacyRootTables, limeHeader, writeTmp } from '../image/fixtures.js';
import { validator } from '../report/fixture.js';
import { SAMPLES, scenarios } from '../samples/scenarios.js';

const scanFile = (file: string, opts: Parameters<typeof scanImage>[1] = {}) => {
  const mem = openMemoryImage(file);
  try {
    return scanImage(mem, opts);
  } finally {
    mem.close();
  }
};
const imageOf = (dir: string): string | undefined => ['memory.sparse', 'memory.elf'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));

describe('samples without registers: scan finds the root table the scenario placed', () => {
  const noRegs = scenarios.filter((s) => s.parts?.registers === false && s.parts?.memory !== false);
  it('there is at least one such sample', () => expect(noRegs.map((s) => s.name)).toContain('scan-no-registers'));
  it.each(noRegs.map((s) => [s.name, s] as const))('%s', (name, s) => {
    const img = imageOf(path.join(SAMPLES, name));
    expect(img).toBeDefined();
    const r = scanFile(img!, { haw: s.haw });
    const units = s.units.filter((u) => u.rootTable);
    // The generator allocates each unit's root table first, at its tableBase.
    for (const u of units) {
      const c = r.candidates.find((x) => x.root === Number(BigInt(u.tableBase)));
      expect(c, `${name}: root table ${u.tableBase}`).toBeDefined();
      expect(c!.layout).toBe(u.mode ?? 'legacy');
    }
    // …and they rank first, ahead of any stray table.
    expect(new Set(r.candidates.slice(0, units.length).map((c) => c.root))).toEqual(new Set(units.map((u) => Number(BigInt(u.tableBase)))));
  });
});

describe('samples with registers: every programmed RTADDR is a candidate with its layout (TTM bits)', () => {
  const withRegs = scenarios.filter((s) => fs.existsSync(path.join(SAMPLES, s.name, 'registers.json')) && imageOf(path.join(SAMPLES, s.name)));
  it.each(withRegs.map((s) => s.name))('%s', (name) => {
    const regs = JSON.parse(fs.readFileSync(path.join(SAMPLES, name, 'registers.json'), 'utf8')) as { units: { registers: Record<string, string> }[] };
    const rtaddrs = regs.units.map((u) => Number(BigInt(u.registers.RTADDR ?? '0'))).filter((v) => v >= 0x1000);
    const r = scanFile(imageOf(path.join(SAMPLES, name))!);
    for (const v of rtaddrs) expect(r.candidates.map((c) => c.rtaddr), name).toContain(v);
    expect(new Set(r.candidates.slice(0, rtaddrs.length).map((c) => c.rtaddr)), `${name}: the programmed tables rank first`).toEqual(new Set(rtaddrs));
  });
});

describe('real ELF cores: scan agrees with the RTADDR line of their iommu_regset', () => {
  it.each(['qemu-linux61-legacy', 'qemu-linux61-debugfs', 'qemu-linux61-dmar-fault'])('%s', (name) => {
    const regset = fs.readFileSync(capturePath(name, 'iommu_regset'), 'utf8');
    const m = /^RTADDR\s+0x20\s+0x([0-9a-f]{16})\s*$/m.exec(regset);
    expect(m).not.toBeNull();
    const rtaddr = Number(BigInt('0x' + m![1]));
    const r = scanFile(capturePath(name, 'memory.elf'), { haw: 39 });
    expect(r.candidates).toHaveLength(1);
    expect(r.candidates[0]).toMatchObject({ rtaddr, layout: 'legacy' });
    expect(r.candidates[0].confidence).toBeGreaterThan(0.9);
  });
});

describe('images with no root table', () => {
  it('8 MiB of random bytes: no candidate (and no page even shaped like a root table)', () => {
    const rand = mulberry32(6);
    const b = new Uint8Array(8 << 20);
    for (let i = 0; i < b.length; i += 4) new DataView(b.buffer).setUint32(i, Math.floor(rand() * 4294967296), true);
    const r = scanFile(writeTmp(b, 'random.raw'));
    expect(r.pagesScanned).toBe(2048);
    expect(r.bytesScanned).toBe(8 << 20);
    expect(r.candidates).toEqual([]);
    expect(r.rootLikePages).toBe(0);
  });
  it('8 MiB of zeroes: no candidate', () => {
    const r = scanFile(writeTmp(new Uint8Array(8 << 20), 'zero.raw'));
    expect(r.pagesScanned).toBe(2048);
    expect(r.candidates).toEqual([]);
    expect(r.rootLikePages).toBe(0);
  });
});

const tablesAt = legacyRootTables;

describe('image layouts the sequential pass must handle', () => {
  it('raw image with --base: physical addresses, not file offsets', () => {
    const base = 0x100000;
    const img = new Uint8Array(64 * 4096);
    for (const [pfn, p] of tablesAt(0x120000, 0x121000, 0x122000)) img.set(p, pfn * 4096 - base);
    const mem = openMemoryImage(writeTmp(img, 'based.raw'), { base });
    const r = scanImage(mem, {});
    mem.close();
    expect(r.candidates.map((c) => [c.root, c.layout, c.contextEntries, c.fileOffset])).toEqual([[0x120000, 'legacy', 1, 0x20000]]);
  });

  it('ELF core whose PT_LOAD data starts at an odd file offset, and a zero-filled p_memsz tail that is not read', () => {
    const pages = tablesAt(0x8000, 0x9000, 0xa000);
    const data = new Uint8Array(3 * 4096);
    data.set(pages.get(8)!, 0);
    data.set(pages.get(9)!, 4096);
    data.set(pages.get(10)!, 8192);
    // p_offset 0x1003: not even 4-byte aligned. p_memsz adds 1 MiB of zeroes beyond the 3 stored pages.
    const file = elfCore([{ offset: 0x1003, paddr: 0x8000, filesz: 3 * 4096, memsz: 3 * 4096 + (1 << 20) }], [{ offset: 0x1003, bytes: data }]);
    const r = scanFile(writeTmp(file, 'odd.elf'));
    expect(r.pagesScanned).toBe(3);
    expect(r.candidates.map((c) => [c.root, c.devices])).toEqual([[0x8000, ['00:01.0']]]);
  });

  it('LiME: two ranges, the tables in the second (file offsets past a 32-byte header per range)', () => {
    const pages = tablesAt(0x40000, 0x41000, 0x42000);
    const second = concat(pages.get(0x40)!, pages.get(0x41)!, pages.get(0x42)!);
    const file = concat(limeHeader(0x1000n, 0x2fffn), new Uint8Array(0x2000).fill(0x5a), limeHeader(0x40000n, 0x42fffn), second);
    const r = scanFile(writeTmp(file, 'two.lime'));
    expect(r.pagesScanned).toBe(5);
    expect(r.candidates.map((c) => [c.root, c.fileOffset])).toEqual([[0x40000, 32 + 0x2000 + 32]]);
  });

  it('zero chunks are skipped whole, but not past a run: tables right after zeroes, mid-chunk, are found and every page is counted', () => {
    // Raw image, 64 KiB chunks (16 pages): 40 zero pages, then the root table at page 40 (chunk
    // 2, fourth page) whose first entry is empty — its page starts with a zero qword, so the
    // per-page zero test must say "not zero" — then context and SLPT pages, then zeroes to 100 pages.
    const img = new Uint8Array(100 * 4096);
    const pages = tablesAt(40 * 4096, 41 * 4096, 42 * 4096);
    const root = pages.get(40)!;
    const rv = new DataView(root.buffer);
    rv.setBigUint64(7 * 16, rv.getBigUint64(0, true), true); // bus 7 → the context table
    rv.setBigUint64(0, 0n, true); // bus 0 empty
    for (const [pfn, p] of pages) img.set(p, pfn * 4096);
    const r = scanFile(writeTmp(img, 'zeros-then-root.raw'), { chunkBytes: 1 << 16 });
    expect(r.pagesScanned).toBe(100);
    expect(r.candidates.map((c) => [c.root, c.devices])).toEqual([[40 * 4096, ['07:01.0']]]);

    // ELF: a zero segment of 5 pages and the tables in the next segment, stored back to back in
    // the file, so one chunk holds the end of the first run and the start of the second.
    const data = concat(new Uint8Array(5 * 4096), ...[8, 9, 10].map((pfn) => tablesAt(0x8000, 0x9000, 0xa000).get(pfn)!));
    const elf = elfCore(
      [
        { offset: 4096, paddr: 0x100000, filesz: 5 * 4096 },
        { offset: 4096 + 5 * 4096, paddr: 0x8000, filesz: 3 * 4096 },
      ],
      [{ offset: 4096, bytes: data }],
    );
    const e = scanFile(writeTmp(elf, 'zero-seg.elf'), { chunkBytes: 1 << 16 });
    expect(e.pagesScanned).toBe(8);
    expect(e.candidates.map((c) => c.root)).toEqual([0x8000]);

    // Two zero segments in one zero chunk: the skip stops at the end of each run.
    const zeros = elfCore(
      [
        { offset: 4096, paddr: 0x100000, filesz: 3 * 4096 },
        { offset: 4 * 4096, paddr: 0x200000, filesz: 3 * 4096 },
      ],
      [{ offset: 4096, bytes: new Uint8Array(6 * 4096) }],
    );
    expect(scanFile(writeTmp(zeros, 'two-zero-segs.elf'), { chunkBytes: 1 << 16 }).pagesScanned).toBe(6);
  });

  it('pointers outside the image lower the confidence and are named', () => {
    const pages = tablesAt(0x8000, 0x9000, 0xa000);
    new DataView(pages.get(8)!.buffer).setBigUint64(16, 0x7770001n, true); // bus 1 → a page the image lacks
    const file = elfCore([{ offset: 4096, paddr: 0x8000, filesz: 3 * 4096 }], [8, 9, 10].map((pfn, i) => ({ offset: 4096 * (i + 1), bytes: pages.get(pfn)! })));
    const c = scanFile(writeTmp(file, 'outside.elf')).candidates[0];
    expect(c.contextTables).toEqual({ pointers: 2, inImage: 1, valid: 1, empty: 0 });
    expect(c.problems.join(' ')).toContain('1 of 2 context-table pointers lead outside the image');
    // 1/2 valid × (1 − 2^−1) × 1 = 0.25
    expect(c.confidence).toBe(0.25);
  });
});

describe('through the CLI', () => {
  const sample = path.join('samples', 'scan-no-registers');

  it('scan IMAGE: exit 0, the table names the root table and the runner-up; JSON validates against schema/scan.schema.json', () => {
    const t = cli(['scan', path.join(sample, 'memory.elf')]);
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^1\s+0x3f800000\s+legacy/m);
    expect(t.stdout).toContain('--rtaddr 0x3f800000');
    const j = cliJson(['scan', sample, '--format', 'json']);
    expect(j.status).toBe(0);
    expect(validator('scan.schema.json')(j.json)).toEqual([]);
    expect(j.json.haw).toBe(39); // from the capture's DMAR table
    expect(j.json.candidates.map((c: { rtaddr: string }) => c.rtaddr)).toEqual(['0x3f800000', '0x20101000']);
    // The schema can fail: a candidate without its layout is refused.
    delete j.json.candidates[0].layout;
    expect(validator('scan.schema.json')(j.json)).not.toEqual([]);
  });

  it('scan of an image with no root table exits 1 and says so', () => {
    const r = cli(['scan', writeTmp(new Uint8Array(1 << 20), 'zero2.raw')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('No root table found');
  });

  it('scan --rtaddr: the evidence for that page, then its decode; a data page is refused with the reason', () => {
    const r = cli(['scan', sample, '--rtaddr', '0x3f800000']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('root table @ 0x3f800000 (legacy) from --rtaddr');
    expect(r.stdout).toContain('0000:03:01.0');
    const bad = cli(['scan', sample, '--rtaddr', '0x20000000']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/0x20000000: not a root table: /);
  });

  it('decode --rtaddr auto: the tables appear, with a warning naming the pick and the runner-up', () => {
    const j = cliJson(['decode', sample, '--rtaddr', 'auto', '--format', 'json']);
    expect(j.status).toBe(0);
    const u = j.json.units[0];
    expect(u.rtaddr).toBe('0x3f800000');
    expect(u.contexts.filter((c: { present: boolean }) => c.present).map((c: { bdf: string }) => c.bdf)).toEqual(['0000:00:00.0', '0000:00:19.0', '0000:00:1f.2', '0000:03:00.0', '0000:03:01.0']);
    const w = j.json.warnings.map((x: { message: string }) => x.message).join('\n');
    expect(w).toMatch(/--rtaddr auto: using root table 0x3f800000 \(legacy, confidence [0-9.]+, 5 context entries on 2 buses\).*runner-up 0x20101000/);
  });

  it('analyze --rtaddr auto on the scalable sample (registers present): nothing scanned, says so', () => {
    const j = cliJson(['analyze', path.join('samples', 'scalable-kvm-host'), '--rtaddr', 'auto', '--format', 'json']);
    expect(j.json.warnings.map((x: { message: string }) => x.message)).toContain('--rtaddr auto: every remapping unit already has a root table in the capture; nothing scanned');
  });

  it('--rtaddr with TTM 01 (0x400) decodes a scalable table; bits 9:0 set are refused', () => {
    const j = cliJson(['decode', path.join('samples', 'scalable-kvm-host', 'memory.sparse'), '--rtaddr', '0x3f800400', '--format', 'json']);
    expect(j.json.units[0].mode).toBe('scalable');
    expect(j.json.units[0].contexts).toHaveLength(5);
    const bad = cli(['decode', path.join('samples', 'scalable-kvm-host', 'memory.sparse'), '--rtaddr', '0x3f800001']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('bits 9:0');
  });
});
