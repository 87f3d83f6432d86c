/**
 * `scan` on an ELF core cut short (issue 11 item 6): the live root table's context tables were in
 * the bytes the file lost, a stale decoy elsewhere is complete. The scan says the image is cut
 * short, does not rank the candidate whose evidence is in the missing bytes as found (nor as
 * worse than the decoy), and `--rtaddr auto` does not quietly decode the decoy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMemoryImage } from '../../src/image/open.js';
import { scanImage } from '../../src/scan/scan.js';
import { cli, cliJson } from '../helpers/cli.js';
import { elfCore } from '../image/fixtures.js';
import { validator } from '../report/fixture.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-cutshort-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const DECOY = 0x100000; // segment 0: a stale root table, one context entry (00:1f.0, DID 9)
const LIVE = 0x400000; // segment 1: the live root table, buses 0 and 3, five entries
const PAGES = 8;

/** Pages of one segment, by page index, with 64-bit values written at byte offsets. */
function segment(base: number, writes: [number, bigint][]): Uint8Array {
  const b = new Uint8Array(PAGES * 4096);
  const dv = new DataView(b.buffer);
  for (const [addr, v] of writes) dv.setBigUint64(addr - base, v, true);
  return b;
}
/** A legacy context entry: SLPTPTR | P, and AW 1 (3-level) with DID `did` in the high qword. */
const ctx = (at: number, slpt: number, did: number): [number, bigint][] => [[at, BigInt(slpt) | 1n], [at + 8, BigInt(did << 8) | 1n]];

const decoy = segment(DECOY, [
  [DECOY, BigInt(DECOY + 0x1000) | 1n], // bus 0 → context table
  ...ctx(DECOY + 0x1000 + 0xf8 * 16, DECOY + 0x2000, 9), // 00:1f.0
  [DECOY + 0x2000, 0x9000003n], // its SL table: one R/W entry
]);
const live = segment(LIVE, [
  [LIVE, BigInt(LIVE + 0x1000) | 1n], // bus 0
  [LIVE + 3 * 16, BigInt(LIVE + 0x2000) | 1n], // bus 3
  ...ctx(LIVE + 0x1000 + 0x00 * 16, LIVE + 0x3000, 1),
  ...ctx(LIVE + 0x1000 + 0xc8 * 16, LIVE + 0x3000, 1),
  ...ctx(LIVE + 0x1000 + 0xfa * 16, LIVE + 0x3000, 1),
  ...ctx(LIVE + 0x2000 + 0x00 * 16, LIVE + 0x4000, 2),
  ...ctx(LIVE + 0x2000 + 0x08 * 16, LIVE + 0x5000, 3),
  [LIVE + 0x3000, 0x9000003n],
  [LIVE + 0x4000, 0x9100003n],
  [LIVE + 0x5000, 0x9200003n],
]);
const whole = elfCore(
  [{ offset: 0x1000, paddr: DECOY, filesz: decoy.length }, { offset: 0x1000 + decoy.length, paddr: LIVE, filesz: live.length }],
  [{ offset: 0x1000, bytes: decoy }, { offset: 0x1000 + decoy.length, bytes: live }],
);
const LIVE_AT = 0x1000 + decoy.length; // file offset of the live segment
const write = (name: string, bytes: Uint8Array): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
};
const WHOLE = write('whole.elf', whole);
/** Only the live root page survived. */
const ROOT_ONLY = write('root-only.elf', whole.subarray(0, LIVE_AT + 0x1000));
/** The root page and bus 0's context table survived; bus 3's did not. */
const HALF = write('half.elf', whole.subarray(0, LIVE_AT + 0x2000));

const scan = (file: string) => {
  const mem = openMemoryImage(file);
  try {
    return scanImage(mem, { haw: 39 });
  } finally {
    mem.close();
  }
};

describe('scanImage on an ELF cut short', () => {
  it('the whole image: the live table is first (the fixture is what it says)', () => {
    const r = scan(WHOLE);
    expect(r.candidates.map((c) => c.root)).toEqual([LIVE, DECOY]);
    expect(r.warnings).toEqual([]);
    expect(r.unverified).toEqual([]);
  });

  for (const [name, file, missingTables] of [['root page only', ROOT_ONLY, 2], ['one context table of two', HALF, 1]] as const) {
    it(`${name}: a warning, and the live table is listed as unverified, not ranked`, () => {
      const r = scan(file);
      expect(r.warnings.join('\n')).toMatch(/PT_LOAD #1 .*past the end of the file/);
      expect(r.candidates.map((c) => c.root)).toEqual([DECOY]);
      expect(r.unverified.map((c) => c.root)).toEqual([LIVE]);
      expect(r.unverified[0].contextTables.pointers).toBe(2);
      expect(r.unverified[0].lost.contextTables).toBe(missingTables);
    });
  }
});

describe('the CLI on an ELF cut short', () => {
  it('scan prints the warning and the unverified table, and does not offer the decoy as the answer', () => {
    const r = cli(['scan', ROOT_ONLY, '--haw', '39']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: .*PT_LOAD #1 .*past the end of the file/i);
    expect(r.stdout).toMatch(/0x400000/);
    expect(r.stdout).toMatch(/missing/);
    expect(r.stdout).not.toMatch(/\(or --rtaddr auto\)/);
  });

  it('scan --format json carries the warnings and the unverified candidates (and fits its schema)', () => {
    const j = cliJson(['scan', HALF, '--haw', '39', '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    expect(validator('scan.schema.json')(j.json)).toEqual([]);
    expect(j.json.warnings.join('\n')).toMatch(/PT_LOAD #1/);
    expect(j.json.candidates.map((c: { root: string }) => c.root)).toEqual(['0x100000']);
    expect(j.json.unverified.map((c: { root: string }) => c.root)).toEqual(['0x400000']);
  });

  it('decode --rtaddr auto does not decode the decoy: it names the cut and picks nothing', () => {
    const j = cliJson(['decode', ROOT_ONLY, '--rtaddr', 'auto', '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    expect(j.json.units.every((u: { rtaddr: string | null }) => u.rtaddr !== '0x100000')).toBe(true);
    const warnings = j.json.warnings.map((w: { message: string }) => w.message).join('\n');
    expect(warnings).toMatch(/PT_LOAD #1 .*past the end of the file/);
    expect(warnings).toMatch(/--rtaddr auto: .*0x400000/);
  });

  it('decode --rtaddr auto on the whole image still picks the live table', () => {
    const j = cliJson(['decode', WHOLE, '--rtaddr', 'auto', '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    expect(j.json.units[0].rtaddr).toBe('0x400000');
  });
});

describe('an ELF core whose PT_LOADs all claim 2^63 bytes (issue 11 item 18)', () => {
  it('decode, analyze and scan exit 2 naming the file and the header, instead of "0 present contexts"', () => {
    const b = whole.slice();
    const dv = new DataView(b.buffer);
    for (const at of [64, 64 + 56]) {
      dv.setBigUint64(at + 32, 1n << 63n, true); // p_filesz
      dv.setBigUint64(at + 40, 1n << 63n, true); // p_memsz
    }
    const file = write('huge.elf', b);
    for (const args of [['decode', file, '--rtaddr', '0x400000'], ['analyze', file, '--rtaddr', '0x400000'], ['scan', file]]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/huge\.elf/);
      expect(r.stderr).toMatch(/PT_LOAD #0/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});
