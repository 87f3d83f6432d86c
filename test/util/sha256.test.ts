import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from '../../src/util/sha256.js';

describe('sha256', () => {
  it('gives the FIPS 180-4 example digests', () => {
    // FIPS 180-4 / NIST CSRC examples: "abc", the empty string and the two-block message.
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto on every length around the block and padding edges, and on non-ASCII text', () => {
    const alphabet = 'aZ09 -_{}"é—漢😀';
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let len = 0; len < 200; len++) {
      let s = '';
      for (let i = 0; i < len; i++) s += [...alphabet][next() % [...alphabet].length];
      expect(sha256Hex(s), `length ${len}`).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
    expect(Buffer.from(sha256('x'.repeat(100_000))).toString('base64')).toBe(createHash('sha256').update('x'.repeat(100_000)).digest('base64'));
  });
});
