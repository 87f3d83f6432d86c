/**
 * The capture loader's bounded reads (src/capture/read.ts) size their buffers from the file's
 * reported size, as a hint only: the bytes returned must be the file's whatever its size against
 * the chunk (empty, one byte, exactly a chunk, several chunks), and the limits still hold.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileText, readHead, readSmallFile } from '../../src/capture/read.js';
import { InputError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-read-'));
const MiB = 1 << 20;

/** Bytes that differ from position to position (a shifted or repeated chunk would show). */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

function file(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('bounded reads', () => {
  for (const size of [0, 1, 4095, MiB - 1, MiB, MiB + 1, 3 * MiB + 17]) {
    it(`readSmallFile and fileText return all ${size} bytes`, () => {
      const bytes = pattern(size);
      const p = file(`f${size}`, bytes);
      expect(Buffer.from(readSmallFile(p, 8 * MiB, 'test')).equals(bytes)).toBe(true);
      const text = [...fileText(p).chunks()].join('');
      expect(text).toBe(new TextDecoder().decode(bytes));
      expect(Buffer.from(readHead(p)).equals(bytes.subarray(0, 65536))).toBe(true);
    });
  }

  it('the limit is checked on the bytes read, one past it refused', () => {
    const p = file('limit', pattern(5000));
    expect(readSmallFile(p, 5000, 'test')).toHaveLength(5000);
    expect(() => readSmallFile(p, 4999, 'the part')).toThrow(InputError);
    expect(() => readSmallFile(p, 4999, 'the part')).toThrow(/the part is larger than the 4999-byte limit/);
  });
});
