/**
 * Issue 11 item 16: raw values wider than 53 bits. A context entry with bits 63:52 set, high bits in
 * a root entry's low qword: every writer (decode table and JSON, analyze JSON) must carry the raw
 * qwords exactly, the model's pointers stay exact numbers (bits 51:12), and the bits beyond the
 * host address width are `table-integrity` findings — never "internal error".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSparseImage } from '../../src/image/sparse.js';
import { cli, cliJson, REPO } from '../helpers/cli.js';
import { tmpDir } from './helpers.js';

const SAMPLE = path.join(REPO, 'samples', 'bhyve-host');

/** A copy of samples/bhyve-host with `value` written as the qword at physical address `addr`. */
function patchedCopy(addr: number, value: bigint): string {
  const dir = tmpDir();
  fs.cpSync(SAMPLE, dir, { recursive: true });
  const file = path.join(dir, 'memory.sparse');
  const mem = openSparseImage(file);
  const offset = mem.fileOffsetOf(addr);
  mem.close();
  expect(offset, `0x${addr.toString(16)} is in the sample's image`).toBeDefined();
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  fs.writeSync(fd, b, 0, 8, offset!);
  fs.closeSync(fd);
  return dir;
}

function noInternalError(r: { status: number; stderr: string }): void {
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.status).not.toBe(2);
}

// bhyve-host (README): root table 0x7f000000; bus 3's context table 0x7f211000; ppt0 = 0000:03:01.0
// (devfn 8), its context entry at 0x7f211000 + 8·16 = 0x7f211080, low qword 0x7f001001 (SLPTPTR
// 0x7f001000, TT 0, P). The offset 0x213080 in memory.sparse is that entry.
const PPT0_CONTEXT = 0x7f211080;
const BUS3_ROOT_ENTRY = 0x7f000000 + 3 * 16;

describe('values wider than 53 bits are carried exactly to every writer', () => {
  it('a context entry with bits 63:52 set: decode (table, JSON) and analyze finish; table-integrity names the entry with its exact qwords', () => {
    const raw = 0xfff000007f001001n;
    const dir = patchedCopy(PPT0_CONTEXT, raw);
    noInternalError(cli(['decode', dir]));
    const d = cliJson(['decode', dir, '--format', 'json']);
    noInternalError(d);
    const ctx = d.json.units[0].contexts.find((c: { bdf: string }) => c.bdf === '0000:03:01.0');
    expect(ctx.raw[0]).toBe('0xfff000007f001001');
    // The pointer field as a model address: bits 51:12 only (63:52 are beyond any host address width).
    expect(ctx.slptptr).toBe('0x7f001000');
    const a = cliJson(['analyze', dir, '--format', 'json', '--fail-on', 'none']);
    noInternalError(a);
    const ti = a.json.findings.filter((f: { check: string; bdf: string }) => f.check === 'table-integrity' && f.bdf === '0000:03:01.0');
    expect(ti.length).toBeGreaterThanOrEqual(1);
    const ev = ti.map((f: { evidence: Record<string, unknown> }) => f.evidence).find((e: Record<string, unknown>) => e.kind === 'beyond-haw');
    expect(ev).toBeDefined();
    expect(ev.entry).toEqual(['0xfff000007f001001', '0x102']);
    // Bits 63:46 of the low qword are at or above the 46-bit HAW; of them only 63:52 are set.
    expect(ev.faultBits).toEqual(['0xfff0000000000000', '0x0']);
  });

  it('translate agrees: the same entry faults with reason 0xb (reserved field in a context entry)', () => {
    const dir = patchedCopy(PPT0_CONTEXT, 0xfff000007f001001n);
    const t = cliJson(['translate', dir, '--bdf', '0000:03:01.0', '--iova', '0x1000', '--format', 'json']);
    expect(t.status).toBe(1);
    expect(t.json.fault.code).toBe(0xb);
  });

  it('a root entry with high bits in its low qword: every writer finishes, and the root entry is a table-integrity finding', () => {
    const dir = patchedCopy(BUS3_ROOT_ENTRY, 0xfff000007f211001n);
    noInternalError(cli(['decode', dir]));
    const d = cliJson(['decode', dir, '--format', 'json']);
    noInternalError(d);
    const root = d.json.units[0].rootEntries.find((r: { bus: number }) => r.bus === 3);
    expect(root.lo).toBe('0xfff000007f211001');
    const a = cliJson(['analyze', dir, '--format', 'json', '--fail-on', 'none']);
    noInternalError(a);
    const f = a.json.findings.find((x: { check: string; evidence: { structure?: string } }) => x.check === 'table-integrity' && x.evidence.structure === 'root');
    expect(f).toBeDefined();
    expect(f.evidence.entryAddr).toBe('0x7f000030');
    expect(f.evidence.entry[0]).toBe('0xfff000007f211001');
    for (const fmt of ['markdown', 'sarif', 'junit', 'table']) noInternalError(cli(['analyze', dir, '--format', fmt, '--fail-on', 'none']));
  });
});

describe('wide values in text inputs (pciconf class, capture.json unit)', () => {
  it('class=0xffffffffffffffffffff on a pciconf line: decode (table, JSON) and analyze finish; the class is refused with a warning naming the line', () => {
    const dir = tmpDir();
    fs.cpSync(SAMPLE, dir, { recursive: true });
    const file = path.join(dir, 'pciconf-lv.txt');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const i = lines.findIndex((l) => /class=0x[0-9a-f]+/.test(l));
    lines[i] = lines[i].replace(/class=0x[0-9a-f]+/, 'class=0xffffffffffffffffffff');
    fs.writeFileSync(file, lines.join('\n'));
    noInternalError(cli(['decode', dir]));
    const d = cliJson(['decode', dir, '--format', 'json']);
    noInternalError(d);
    expect(d.json.warnings.some((w: { message: string; source: { line?: number } }) => /class=.*24[ -]bit/.test(w.message) && w.source?.line === i + 1)).toBe(true);
    noInternalError(cli(['analyze', dir, '--format', 'json', '--fail-on', 'none']));
  });

  it('"unit": -1 in capture.json: one exit-2 error naming the manifest entry, not an internal error', () => {
    const dir = tmpDir();
    fs.cpSync(SAMPLE, dir, { recursive: true });
    const file = path.join(dir, 'capture.json');
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    j.parts.find((p: { kind: string }) => p.kind === 'registers').unit = -1;
    fs.writeFileSync(file, JSON.stringify(j, null, 2));
    for (const args of [['decode', dir, '--format', 'json'], ['analyze', dir]]) {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr).toMatch(/capture\.json.*"unit" must be a register base/);
    }
  });
});
