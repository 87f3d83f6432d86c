/**
 * `decode --format json` writes the mapping lines as ASCII bytes when its output takes bytes: in
 * WebAssembly (json-lines.wat) or, as the fallback, in JavaScript (json-bytes.ts). The text must
 * be exactly the string writer's, byte for byte, both ways: every field, SNP/TM present or not,
 * page numbers of 0, below and above 2^32, every page size, empty domains.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { mappingLines } from '../../src/report/json-lines.js';
import { JSON_LINES_WASM } from '../../src/report/json-lines-wasm.js';
import { assembleWat } from '../../src/tools/wat.js';
import type { Mapping } from '../../src/model/types.js';
import { MappingList } from '../../src/model/mapping-list.js';
import { streamSnapshotJson } from '../../src/report/model-json.js';
import { snapshot, TOOL } from './fixture.js';

function asBytes(s: ReturnType<typeof snapshot>, portableBytes: boolean): { text: string; chunks: number } {
  const parts: Buffer[] = [];
  let chunks = 0;
  streamSnapshotJson(s, (c) => parts.push(Buffer.from(c, 'utf8')), {
    tool: TOOL,
    portableBytes,
    writeBytes: (b) => {
      chunks++;
      parts.push(Buffer.from(b)); // copied: the writer reuses its chunk
    },
  });
  return { text: Buffer.concat(parts).toString('utf8'), chunks };
}

/** The string writer's text, and the byte writers' (WebAssembly, JavaScript). */
function both(s: ReturnType<typeof snapshot>): { strings: string; bytes: string; portable: string; byteChunks: number } {
  let strings = '';
  streamSnapshotJson(s, (c) => (strings += c), { tool: TOOL });
  const wasm = asBytes(s, false);
  return { strings, bytes: wasm.text, portable: asBytes(s, true).text, byteChunks: wasm.chunks };
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
    const { strings, bytes, portable } = both(s);
    expect(bytes).toBe(strings);
    expect(portable).toBe(strings);
    expect(bytes).toContain('{"iova": "0x100000000007000", "hpa": "0xffffffffff000", "size": "0x200000", "read": true, "write": true, "pageSize": 1073741824, "snp": false, "tm": false}');
  });

  it('are the same for 70 000 mappings (many chunks) and for domains without any', () => {
    const s = snapshot();
    const many: Mapping[] = [];
    for (let i = 0; i < 70000; i++) many.push({ iovaPfn: 3 * i, hpaPfn: 0x100000 + 5 * i, pages: 1 + (i % 3), read: true, write: i % 2 === 0, pageSize: 4096 });
    s.units[0].domains[0].mappings = many;
    for (const d of s.units.flatMap((u) => u.domains).slice(1)) d.mappings = [];
    const { strings, bytes, portable, byteChunks } = both(s);
    expect(byteChunks).toBeGreaterThan(100);
    expect(bytes).toBe(strings);
    expect(portable).toBe(strings);
  });

  it('loads here, so decode takes the WebAssembly path', () => {
    let text = '';
    expect(mappingLines(MappingList.fromArray([{ iovaPfn: 1, hpaPfn: 2, pages: 3, read: true, write: false, pageSize: 4096 }]), 0, (b) => (text += Buffer.from(b).toString()))).toBe(true);
    expect(text).toBe('[\n  {"iova": "0x1000", "hpa": "0x2000", "size": "0x3000", "read": true, "write": false, "pageSize": 4096}');
  });

  it('spells 1 GiB pages without a Map lookup per mapping (a heap number key: 20 s over a hostile image\'s 14 M mappings)', () => {
    const mappings: Mapping[] = Array.from({ length: 2000 }, (_, i) => ({
      iovaPfn: i * 262144, hpaPfn: i * 262144, pages: 262144, read: true, write: i % 2 === 0, pageSize: 1073741824,
    }));
    const has = vi.spyOn(Map.prototype, 'has');
    const get = vi.spyOn(Map.prototype, 'get');
    let lines = 0;
    try {
      expect(mappingLines(MappingList.fromArray(mappings), 0, (b) => { lines += Buffer.from(b).toString().split('\n').length - 1; })).toBe(true);
      expect(has.mock.calls.length + get.mock.calls.length).toBeLessThan(10);
    } finally {
      has.mockRestore();
      get.mockRestore();
    }
    expect(lines).toBe(2000);
  });

  it('the committed module is json-lines.wat assembled (run `npm run wasm` after editing the .wat)', async () => {
    const wat = fs.readFileSync(path.resolve('src/report/json-lines.wat'), 'utf8');
    expect(Buffer.from(await assembleWat('json-lines.wat', wat)).toString('base64')).toBe(JSON_LINES_WASM);
  });
});
