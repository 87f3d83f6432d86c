/** Hand-built image fixtures for the image tests (byte by byte, from values the tests choose). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../src/errors.js';

// Made in the current test file's temporary directory, and made again for the next file (test
// files share this module, and each file's TMPDIR is removed after it: test/helpers/setup-tmp.ts).
let dir: string | undefined;
let n = 0;

export function tmpPath(name = 'f'): string {
  if (dir === undefined || !fs.existsSync(dir)) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-image-'));
  return path.join(dir, `${n++}-${name}`);
}

export function writeTmp(bytes: Uint8Array, name = 'img'): string {
  const p = tmpPath(name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** A recognisable byte pattern: byte i of a run tagged `tag`. */
export function pattern(tag: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (tag * 31 + i * 7 + (i >> 8)) & 0xff;
  return b;
}

export interface Phdr {
  type?: number;
  offset: number;
  paddr: number;
  vaddr?: number;
  filesz: number;
  memsz?: number;
}

/**
 * An ELF64 LE ET_CORE: 64-byte header, program headers at 64 (56 bytes each), then whatever
 * `blobs` place at their offsets; the file is `size` bytes (default: just past the last blob).
 */
export function elfCore(phdrs: Phdr[], blobs: { offset: number; bytes: Uint8Array }[], opts: { size?: number; eType?: number; phentsize?: number; phnum?: number; phoff?: number; cls?: number; data?: number } = {}): Uint8Array {
  const phoff = opts.phoff ?? 64;
  const phentsize = opts.phentsize ?? 56;
  const size = opts.size ?? Math.max(phoff + phdrs.length * phentsize, ...blobs.map((b) => b.offset + b.bytes.length));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 2, opts.data ?? 1, 1, 0], 0);
  dv.setUint16(16, opts.eType ?? 4, true); // e_type ET_CORE
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true); // e_version
  dv.setBigUint64(32, BigInt(phoff), true); // e_phoff
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, phentsize, true);
  dv.setUint16(56, opts.phnum ?? phdrs.length, true);
  phdrs.forEach((p, i) => {
    const at = phoff + i * phentsize;
    if (at + 56 > size) return;
    dv.setUint32(at, p.type ?? 1, true); // PT_LOAD
    dv.setUint32(at + 4, 7, true);
    dv.setBigUint64(at + 8, BigInt(p.offset), true);
    dv.setBigUint64(at + 16, BigInt(p.vaddr ?? 0), true);
    dv.setBigUint64(at + 24, BigInt(p.paddr), true);
    dv.setBigUint64(at + 32, BigInt(p.filesz), true);
    dv.setBigUint64(at + 40, BigInt(p.memsz ?? p.filesz), true);
    dv.setBigUint64(at + 48, 4096n, true);
  });
  for (const b of blobs) out.set(b.bytes.subarray(0, Math.max(0, size - b.offset)), b.offset);
  return out;
}

/** One LiME range header (32 bytes): magic, version, s_addr, e_addr (inclusive), reserved. */
export function limeHeader(sAddr: bigint, eAddr: bigint, opts: { magic?: number; version?: number } = {}): Uint8Array {
  const h = new Uint8Array(32);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, opts.magic ?? 0x4c694d45, true);
  dv.setUint32(4, opts.version ?? 1, true);
  dv.setBigUint64(8, sAddr, true);
  dv.setBigUint64(16, eAddr, true);
  return h;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Run `fn`, require an InputError, and return it. */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw new Error(`expected InputError, got ${String(e)}`);
  }
  throw new Error('expected InputError, nothing was thrown');
}

export function u64le(b: Uint8Array, at = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}

/**
 * The pages of a minimal legacy root table at `root`: bus 0 → context table `ctx`, devfn 8
 * (00:01.0) → SLPT `slpt` (DID 4, AW 1: 3-level), one present leaf at SLPT[0]. Keyed by page number.
 */
export function legacyRootTables(root: number, ctx: number, slpt: number): Map<number, Uint8Array> {
  const pages = new Map<number, Uint8Array>();
  const q = (addr: number, v: bigint): void => {
    const pfn = Math.floor(addr / 4096);
    if (!pages.has(pfn)) pages.set(pfn, new Uint8Array(4096));
    new DataView(pages.get(pfn)!.buffer).setBigUint64(addr % 4096, v, true);
  };
  q(root, BigInt(ctx) | 1n);
  q(ctx + 8 * 16, BigInt(slpt) | 1n);
  q(ctx + 8 * 16 + 8, 0x401n);
  q(slpt, 0x9000003n);
  return pages;
}
