/** streamSparseDump (the benchmark's writer) writes the same bytes as buildSparseDump, from pages it does not keep. */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSparseDump, streamSparseDump } from '../../src/synth/sparse-writer.js';
import { tmpPath } from './fixtures.js';

describe('streamSparseDump', () => {
  it('equals buildSparseDump, reusing one page buffer, across write batches', () => {
    const pfns = [...Array(600).keys()].map((i) => i * 3 + (i > 300 ? 2 ** 33 : 0));
    const pages = new Map(pfns.map((pfn) => [pfn, new Uint8Array(4096).fill(pfn % 251)]));
    const regs = '{"format":"dmarsift-registers","version":1,"units":[]}';
    const p = tmpPath('s.sparse');
    const buf = new Uint8Array(4096);
    streamSparseDump(p, pfns.length, (function* () { for (const pfn of pfns) { buf.fill(pfn % 251); yield { pfn, data: buf }; } })(), regs);
    const want = buildSparseDump(pages, regs);
    const got = fs.readFileSync(p);
    expect(got.length).toBe(want.length);
    expect(Buffer.compare(got, want)).toBe(0); // (toEqual walks 2.5 M bytes one by one)
  });

  it('refuses pages out of order and a count that does not match', () => {
    const page = new Uint8Array(4096);
    expect(() => streamSparseDump(tmpPath(), 2, [{ pfn: 5, data: page }, { pfn: 5, data: page }])).toThrow(/ascending/);
    expect(() => streamSparseDump(tmpPath(), 2, [{ pfn: 5, data: page }])).toThrow(/1 pages given, 2 announced/);
    expect(() => streamSparseDump(tmpPath(), 1, [{ pfn: 5, data: page }, { pfn: 6, data: page }])).toThrow(/more than the 1/);
  });
});
