/**
 * A hostile capture for tests and the bench only: seeded random bytes as a raw memory image whose
 * every 64-bit word, read as a pointer, lands inside the image (address bits masked to the image
 * size, low flag bits random, bit 0 — Present — set on 7 words of 8), with a DMAR table and
 * registers whose RTADDR points into it. Every root, context and page-table entry then names
 * another page of the image: the walks read every page they may, and the model holds tens of
 * thousands of contexts and domains made of noise — the worst case of "work bounded by pages read".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeDmar } from './dmar-encode.js';
import { encodeRegistersJson } from './registers-json-encode.js';
import { mulberry32 } from './rng.js';

/** CAP: SAGAW 39/48-bit, 2 MiB + 1 GiB pages, ND 6. ECAP: SC, DT, PT (SMTS added when scalable). */
const CAP = 0xd2078c406f0666n;
const ECAP = 0xf050den;
const ECAP_SMTS = 1n << 43n;

export interface HostileImageOptions {
  /** Image size in bytes: a power of two, at least two pages. */
  bytes: number;
  seed: number;
  /** Scalable-mode translation (RTADDR.TTM = 01b) instead of legacy. */
  scalable?: boolean;
  /**
   * Words out of 8 whose high word sets address bit 51 (beyond any HAW below 52) and a random bit
   * of 52-62: entries with problems rather than pointers (default 0: every pointer is usable).
   */
  junk?: number;
}

/** The image's bytes: random words whose address bits stay inside `bytes`. */
export function hostileImageBytes(opts: HostileImageOptions): Uint8Array {
  const { bytes, seed } = opts;
  if (bytes < 8192 || (bytes & (bytes - 1)) !== 0) throw new RangeError(`hostile image size ${bytes}: a power of two of at least 8 KiB`);
  const rand = mulberry32(seed);
  const out = new Uint8Array(bytes);
  const words = new Uint32Array(out.buffer);
  const addrMask = (bytes - 1) & ~0xfff;
  const junk = opts.junk ?? 0;
  for (let i = 0; i < words.length; i += 2) {
    const r = (rand() * 0x100000000) >>> 0;
    const a = (rand() * 0x100000000) >>> 0;
    const present = (r & 7) !== 0 ? 1 : 0;
    // Low word: flags in bits 1-11, address bits 12-31 inside the image. High word: zero (so no
    // pointer leaves the image; the DID/AW fields of 128-bit entries come from the low words).
    words[i] = ((r & 0xffe) | present | (a & addrMask)) >>> 0;
    words[i + 1] = ((r >>> 12) & 7) < junk ? (0x80000 | (1 << (20 + ((r >>> 16) % 11)))) >>> 0 : 0;
  }
  return out;
}

/** Write DMAR, registers.json (RTADDR = page 1 of the image) and memory.raw into `dir`. */
export function writeHostileCapture(dir: string, opts: HostileImageOptions): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'DMAR'), encodeDmar({ haw: 46, flags: 1, drhd: [{ flags: 1, base: 0xfed90000 }] }));
  const root = 0x1000;
  fs.writeFileSync(path.join(dir, 'registers.json'), encodeRegistersJson([{
    name: 'dmar0', base: 0xfed90000,
    registers: {
      VER: 0x10n, CAP, ECAP: opts.scalable ? ECAP | ECAP_SMTS : ECAP, GSTS: 0xc7000000n,
      RTADDR: BigInt(root) | (opts.scalable ? 1n << 10n : 0n), FSTS: 0n,
    },
  }]));
  fs.writeFileSync(path.join(dir, 'memory.raw'), hostileImageBytes(opts));
}
