/**
 * `decode --format json` writes the mapping lines as ASCII bytes (json-bytes.ts) when its output
 * takes bytes. The text must be exactly the string writer's, byte for byte: every field, SNP/TM
 * present or not, page numbers of 0, below and above 2^32, every page size, empty domains.
 */
import { describe, expect, it } from 'vitest';
import type { Mapping } from '../../src/model/types.js';
import { streamSnapshotJson } from '../../src/report/model-json.js';
import { snapshot, TOOL } from './fixture.js';

function both(s: ReturnType<typeof snapshot>): { strings: string; bytes: string; byteChunks: number } {
  let strings = '';
  streamSnapshotJson(s, (c) => (strings += c), { tool: TOOL });
  const parts: Buffer[] = [];
  let byteChunks = 0;
  streamSnapshotJson(s, (c) => parts.push(Buffer.from(c, 'utf8')), {
    tool: TOOL,
    writeBytes: (b) => {
      byteChunks++;
      parts.push(Buffer.from(b)); // copied: the writer reuses its chunk
    },
  });
  return { strings, bytes: Buffer.concat(parts).toString('utf8'), byteChunks };
}

describe('mapping lines as bytes', () => {
  it('are the string writer\'s text, byte for byte, on edge values', () => {
    const s = snapshot();
    const d = s.units[0].domains[0];
    const edge: Mapping[] = [
      { iovaPfn: 0, hpaPfn: 0, pages: 1, read: false, write: false, pageSize: 4096 },
      { iovaPfn: 1, hpaPfn: 0xfffff, pages: 0x7fffffff, read: true, write: false, pageSize: 4096, snp: true },
      { iovaPfn: 2 ** 32 - 1, hpaPfn: 2 ** 32, pages: 2 ** 32 + 1, read: false, write: true, pageSize: 2097152, tm: true },
      { iovaPfn: 2 ** 44 + 7, hpaPfn: 2 ** 40 - 1, pages: 512, read: true, write: true, pageSize: 1073741824, snp: false, tm: false },
      { iovaPfn: 2 ** 52 - 1, hpaPfn: 0xabcdef, pages: 0x10, read: true, write: true, pageSize: 4096, snp: true, tm: true },
    ];
    d.mappings = edge;
    d.pageCount = edge.reduce((n, m) => n + m.pages, 0);
    const { strings, bytes } = both(s);
    expect(bytes).toBe(strings);
    expect(bytes).toContain('{"iova": "0x100000000007000", "hpa": "0xffffffffff000", "size": "0x200000", "read": true, "write": true, "pageSize": 1073741824, "snp": false, "tm": false}');
  });

  it('are the same for 70 000 mappings (many chunks) and for domains without any', () => {
    const s = snapshot();
    const many: Mapping[] = [];
    for (let i = 0; i < 70000; i++) many.push({ iovaPfn: 3 * i, hpaPfn: 0x100000 + 5 * i, pages: 1 + (i % 3), read: true, write: i % 2 === 0, pageSize: 4096 });
    s.units[0].domains[0].mappings = many;
    for (const d of s.units.flatMap((u) => u.domains).slice(1)) d.mappings = [];
    const { strings, bytes, byteChunks } = both(s);
    expect(byteChunks).toBeGreaterThan(100);
    expect(bytes).toBe(strings);
  });
});
