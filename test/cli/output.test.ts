/**
 * openOutput: what is written arrives byte for byte as UTF-8 (small pieces, pieces that straddle
 * the 1 MiB buffer, pieces bigger than it, non-ASCII and surrogate pairs), and --output files
 * appear only when the command finished.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOutput } from '../../src/cli/output.js';
import { mulberry32 } from '../../src/synth/rng.js';

describe('openOutput', () => {
  it('a file gets exactly the UTF-8 of the concatenated writes, and only after finish()', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-out-'));
    const file = path.join(dir, 'model.json');
    const rnd = mulberry32(7);
    const alphabet = ['a', '{', '"', '\n', 'é', 'ü', '→', '😀', 'x'.repeat(100)];
    const pieces: string[] = [];
    for (let i = 0; i < 30000; i++) {
      let p = '';
      const n = Math.floor(rnd() * 20);
      for (let k = 0; k < n; k++) p += alphabet[Math.floor(rnd() * alphabet.length)];
      pieces.push(p);
      // Now and then a piece bigger than the buffer can take at 3 bytes per code unit.
      if (i % 10000 === 5000) pieces.push('é'.repeat(400_000) + '😀');
    }
    const out = openOutput(file);
    for (const p of pieces) out.write(p);
    expect(fs.existsSync(file)).toBe(false);
    out.finish();
    const want = Buffer.from(pieces.join(''), 'utf8');
    const got = fs.readFileSync(file);
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('abort() leaves no file behind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-out-'));
    const file = path.join(dir, 'report.txt');
    const out = openOutput(file);
    out.write('x'.repeat(3 << 20));
    out.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
