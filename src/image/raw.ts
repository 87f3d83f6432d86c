/**
 * Raw physical memory images (dd of /dev/mem, `padded` LiME, QEMU `pmemsave`): file offset =
 * physical address − base. There is no header, so nothing to validate beyond "not empty".
 */
import { InputError, UsageError } from '../errors.js';
import { BlockFile } from './file.js';
import { SegmentedMemory } from './segments.js';
import type { PhysicalMemory } from './types.js';
import { hex } from '../util/hex.js';

export interface RawOptions {
  /** Physical address of the file's first byte (default 0). */
  base?: number;
}

export function checkBase(base: number | undefined): number {
  const b = base ?? 0;
  if (!Number.isSafeInteger(b) || b < 0) throw new UsageError(`--base must be a non-negative integer address, got ${String(base)}`);
  // Pages are the unit of everything read from an image: a raw image starts at a page boundary.
  if (b % 4096 !== 0) throw new UsageError(`--base ${hex(b)}: not page-aligned (a raw image starts at a multiple of 0x1000)`);
  return b;
}

/** Open a raw image at `path`. */
export function openRawImage(path: string, opts: RawOptions = {}): PhysicalMemory {
  const base = checkBase(opts.base);
  const file = new BlockFile(path);
  try {
    return rawFromFile(file, base);
  } catch (e) {
    file.close();
    throw e;
  }
}

/** A raw image over an already open file (takes ownership of `file`). */
export function rawFromFile(file: BlockFile, base = 0): PhysicalMemory {
  if (file.size === 0) throw new InputError('empty file: a raw memory image needs at least one byte', { file: file.path, offset: 0 });
  if (!Number.isSafeInteger(base + file.size)) throw new UsageError(`--base ${hex(base)} plus the image size runs past the 2^53 address limit`);
  return new SegmentedMemory(file, 'raw', [{ start: base, end: base + file.size, fileOffset: 0, fileEnd: base + file.size }], []);
}
