/**
 * The decode JSON's mapping lines written straight as bytes. A big VM's domain lists 65 k (64 GiB)
 * to 1 M (1 TiB) mappings, ~125 bytes each: built as strings they cost ten small strings a line,
 * their concatenation and a UTF-8 encoding of the result — most of `decode --format json` after
 * the walk, and most of its garbage. Here each line's ASCII goes into one reused 64 KiB chunk —
 * written by WebAssembly where it can (json-lines.ts), else by the loop below. The text is exactly
 * `mappingJsonText`'s (model-json.ts; a test holds the three together).
 */
import type { MappingList } from '../model/mapping-list.js';
import type { Mapping } from '../model/types.js';
import { mappingLines } from './json-lines.js';

const CHUNK = 65536;
/** More than the longest line: indent, three 14-digit numbers, every field. */
const LINE_ROOM = 512;
const HEX = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));
const TWO_POW_32 = 4294967296;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const IOVA = ascii('{"iova": "0x');
const HPA = ascii('", "hpa": "0x');
const SIZE = ascii('", "size": "0x');
const READ = ascii('", "read": ');
const WRITE = ascii(', "write": ');
const PAGE_SIZE = ascii(', "pageSize": ');
const SNP = ascii(', "snp": ');
const TM = ascii(', "tm": ');
const TRUE = ascii('true');
const FALSE = ascii('false');
/** The three page sizes' digits (any other number is spelt when met). */
const [PAGE_4K, PAGE_2M, PAGE_1G] = [4096, 2097152, 1073741824].map((n) => ascii(String(n)));
/** Compared, not looked up in a Map: a 1 GiB page size is a heap number, whose Map lookup is slow. */
const pageSizeText = (n: number): Uint8Array => (n === 4096 ? PAGE_4K : n === 2097152 ? PAGE_2M : n === 1073741824 ? PAGE_1G : ascii(String(n)));

/** ASCII bytes into a reused chunk, handed to `sink` when full (valid only during that call). */
export class AsciiChunks {
  private readonly buf = new Uint8Array(CHUNK);
  private pos = 0;

  /** `portable`: write the mappings with the loop here even where WebAssembly is (tests compare the two). */
  constructor(private readonly sink: (bytes: Uint8Array) => void, private readonly portable = false) {}

  /** Make room for `n` ≤ 64 KiB more bytes. */
  reserve(n: number): void {
    if (this.pos + n > CHUNK) this.flush();
  }

  /** An ASCII string (callers reserve room). */
  text(s: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  flush(): void {
    if (this.pos > 0) this.sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  /** `mappings` as the elements of a JSON array at `depth`, one line each, brackets included. */
  mappings(mappings: MappingList, depth: number): void {
    if (mappings.length === 0) {
      this.reserve(2);
      this.text('[]');
      return;
    }
    this.flush();
    if (!this.portable && mappingLines(mappings, depth, this.sink)) {
      this.reserve(LINE_ROOM);
      this.text('\n' + '  '.repeat(depth) + ']');
      return;
    }
    const indent = '\n' + '  '.repeat(depth + 1);
    for (let i = 0; i < mappings.length; i++) {
      this.reserve(LINE_ROOM + indent.length);
      this.text(i === 0 ? '[' : ',');
      this.text(indent);
      this.mapping(mappings.at(i));
    }
    this.reserve(LINE_ROOM);
    this.text('\n' + '  '.repeat(depth) + ']');
  }

  private mapping(m: Mapping): void {
    this.put(IOVA);
    this.pfnAddr(m.iovaPfn);
    this.put(HPA);
    this.pfnAddr(m.hpaPfn);
    this.put(SIZE);
    this.pfnAddr(m.pages);
    this.put(READ);
    this.put(m.read ? TRUE : FALSE);
    this.put(WRITE);
    this.put(m.write ? TRUE : FALSE);
    this.put(PAGE_SIZE);
    this.put(pageSizeText(m.pageSize));
    if (m.snp !== undefined) {
      this.put(SNP);
      this.put(m.snp ? TRUE : FALSE);
    }
    if (m.tm !== undefined) {
      this.put(TM);
      this.put(m.tm ? TRUE : FALSE);
    }
    this.buf[this.pos++] = 0x7d; // }
  }

  private put(bytes: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < bytes.length; i++) buf[p++] = bytes[i];
    this.pos = p;
  }

  /** The hex digits of page number `pfn` × 4096 after the "0x" ("0" for 0): the page's digits, then 000. */
  private pfnAddr(pfn: number): void {
    if (pfn === 0) {
      this.buf[this.pos++] = 0x30;
      return;
    }
    const hi = Math.floor(pfn / TWO_POW_32);
    if (hi > 0) {
      this.hexDigits(hi, 0);
      this.hexDigits(pfn >>> 0, 8);
    } else this.hexDigits(pfn >>> 0, 0);
    const buf = this.buf;
    buf[this.pos++] = 0x30;
    buf[this.pos++] = 0x30;
    buf[this.pos++] = 0x30;
  }

  /** `v` (< 2^32) in hex, at least `width` digits. */
  private hexDigits(v: number, width: number): void {
    let digits = (35 - Math.clz32(v)) >> 2;
    if (digits < width) digits = width;
    if (digits === 0) digits = 1;
    const buf = this.buf;
    const end = this.pos + digits;
    for (let p = end - 1; p >= this.pos; p--) {
      buf[p] = HEX[v & 15];
      v >>>= 4;
    }
    this.pos = end;
  }
}
