/**
 * Issue 11 item 5: table-integrity evidence names the entry that is wrong — its address, both
 * qwords, and the bits at fault — on samples/table-integrity (see its README for the damage). The
 * expected entries are read straight from the memory image here (root table at RTADDR, context
 * table from the bus-0 root entry, entry at devfn × 16) and the fields computed from the VT-d
 * layout, not taken from the decoder.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { runChecks } from '../../src/checks/run.js';
import type { Finding } from '../../src/checks/types.js';
import { openSparseImage } from '../../src/image/sparse.js';
import { REPO } from '../helpers/cli.js';

const DIR = path.join(REPO, 'samples', 'table-integrity');
const RTADDR = 0x7f000000; // registers.json

function qwordsAt(addr: number): [bigint, bigint] {
  const mem = openSparseImage(path.join(DIR, 'memory.sparse'));
  try {
    const b = mem.read(addr, 16)!;
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    return [dv.getBigUint64(0, true), dv.getBigUint64(8, true)];
  } finally {
    mem.close();
  }
}

const bus0Table = Number(qwordsAt(RTADDR)[0] & ~0xfffn);
const entryOf = (dev: number, fn: number): number => bus0Table + ((dev << 3) | fn) * 16;
const hx = (v: bigint | number): string => '0x' + v.toString(16);

const findings = runChecks(loadCapture(DIR)).filter((f) => f.check === 'table-integrity');
const of = (bdf: string, kind: string): Finding | undefined => findings.find((f) => f.bdf === bdf && f.evidence.kind === kind);

describe('table-integrity evidence names the entry at fault (samples/table-integrity)', () => {
  it('em0 (00:19.0): reserved bit 24 of the high qword — both qwords, and the fault bits in the high one', () => {
    const addr = entryOf(25, 0);
    const [lo, hi] = qwordsAt(addr);
    expect(hi & (1n << 24n)).not.toBe(0n); // the README's damage
    const f = of('0000:00:19.0', 'reserved-bits');
    expect(f).toBeDefined();
    expect(f!.evidence).toMatchObject({ structure: 'context', entryAddr: hx(addr), entry: [hx(lo), hx(hi)] });
    // Legacy context entry: lo 11:4 and hi 7, 63:24 are reserved; only bit 24 of hi is set.
    expect(f!.evidence.faultBits).toEqual(['0x0', '0x1000000']);
    expect(f!.source).toMatchObject({ part: 'memory.sparse' });
    expect(f!.source!.offset).toBeDefined();
  });

  it('ahci0 (00:1f.2): its levels disagree with the domain it shares — a levels-mismatch of its own context entry, with the AW bits', () => {
    const addr = entryOf(31, 2);
    const [lo, hi] = qwordsAt(addr);
    expect(Number(hi & 7n)).toBe(3); // AW 3 (5-level), per the README
    const f = of('0000:00:1f.2', 'levels-mismatch');
    expect(f, JSON.stringify(findings.map((x) => [x.bdf, x.evidence.kind]))).toBeDefined();
    expect(findings.some((x) => x.bdf === '0000:00:1f.2' && x.evidence.kind === 'reserved-bits')).toBe(false);
    expect(f!.evidence).toMatchObject({
      structure: 'context', entryAddr: hx(addr), entry: [hx(lo), hx(hi)], faultBits: ['0x0', '0x3'],
      target: hx(lo & ~0xfffn), // the table it points at, not presented as the entry
    });
    expect(f!.source).toMatchObject({ part: 'memory.sparse' });
  });

  it('isab0 (00:1f.0): the missing page-table root is named as the target of its context entry, not as its own entry', () => {
    const addr = entryOf(31, 0);
    const [lo, hi] = qwordsAt(addr);
    const root = Number(lo & 0x000ffffffffff000n);
    const f = of('0000:00:1f.0', 'missing-page');
    expect(f).toBeDefined();
    expect(f!.evidence).toMatchObject({
      structure: 'context', entryAddr: hx(addr), entry: [hx(lo), hx(hi)], target: hx(root),
      // The pointer field (SLPTPTR, bits 63:12 of the low qword) leads to the missing page.
      faultBits: [hx(lo & 0xfffffffffffff000n), '0x0'],
    });
    expect(f!.evidence.entryAddr).not.toBe(f!.evidence.target);
    expect(f!.message).toContain(`context entry at ${hx(addr)}`);
  });

  it('the leaf beyond the host address width (03:01.0): the PTE, and only the address bits at or above bit 46', () => {
    const f = of('0000:03:01.0', 'beyond-haw');
    expect(f).toBeDefined();
    const [raw] = (f!.evidence.entry as string[]).map((x) => BigInt(x));
    expect(f!.evidence.structure).toBe('page-table');
    expect(f!.evidence.faultBits).toEqual([hx(raw & 0x000fc00000000000n)]);
    expect(f!.evidence.faultBits).not.toEqual(['0x0']);
  });
});
