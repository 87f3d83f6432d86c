/**
 * LiME (Linux Memory Extractor) `format=lime` images: a sequence of 32-byte
 * lime_mem_range_header records, each followed by the range's bytes:
 *   u32 magic 0x4C694D45 (bytes "EMiL" on disk), u32 version (1), u64 s_addr,
 *   u64 e_addr (INCLUSIVE end), 8 reserved bytes — all little-endian.
 *
 * Choices made here:
 * - A range whose bytes run past the end of the file is clipped to what is there, with a
 *   warning (an acquisition cut short still holds its earlier ranges; LiME writes ranges in
 *   order, so the cut one is the last), and the rest recorded in `missing`. A partial header at
 *   the end is likewise a warning. An image with no byte of memory at all is an InputError.
 * - Overlapping ranges: warning; the range earlier in the file wins.
 * - Malformed headers (magic, version, e_addr < s_addr, addresses beyond 2^53) are InputErrors
 *   carrying the header's file offset.
 * The walk over headers always advances by at least 33 bytes, so it ends on any input.
 */
import { InputError } from '../errors.js';
import { BlockFile } from './file.js';
import { missingRanges, resolveOverlaps, SegmentedMemory, type CandidateSegment } from './segments.js';
import type { PhysicalMemory, PhysRange } from './types.js';
import { hex, hexPad } from '../util/hex.js';

export const LIME_MAGIC = 0x4c694d45;
export const LIME_HEADER_SIZE = 32;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Open a LiME image at `path`. */
export function openLimeImage(path: string): PhysicalMemory {
  const file = new BlockFile(path);
  try {
    return limeFromFile(file);
  } catch (e) {
    file.close();
    throw e;
  }
}

/** A LiME image over an already open file (takes ownership of `file` on success). */
export function limeFromFile(file: BlockFile): PhysicalMemory {
  const warnings: string[] = [];
  const candidates: CandidateSegment[] = [];
  /** Declared physical bytes the file does not hold (the acquisition was cut short). */
  const lost: PhysRange[] = [];
  if (file.size === 0) throw new InputError('empty file: expected a LiME range header', { file: file.path, offset: 0 });
  let offset = 0;
  while (offset < file.size) {
    if (file.size - offset < LIME_HEADER_SIZE) {
      if (offset === 0) throw new InputError(`truncated LiME header: ${file.size} bytes, need 32`, { file: file.path, offset });
      warnings.push(`${file.size - offset} trailing bytes at ${hex(offset)} are too short for a LiME range header; ignored`);
      break;
    }
    const h = file.read(offset, LIME_HEADER_SIZE, 'LiME range header');
    const dv = new DataView(h.buffer, h.byteOffset, LIME_HEADER_SIZE);
    const magic = dv.getUint32(0, true);
    if (magic !== LIME_MAGIC) {
      throw new InputError(`bad LiME range header magic ${hexPad(magic, 8)} (expected 0x4c694d45, "EMiL" on disk)`, { file: file.path, offset });
    }
    const version = dv.getUint32(4, true);
    if (version !== 1) throw new InputError(`unsupported LiME header version ${version} (expected 1)`, { file: file.path, offset: offset + 4 });
    const sAddr = dv.getBigUint64(8, true);
    const eAddr = dv.getBigUint64(16, true);
    if (eAddr < sAddr) {
      throw new InputError(`LiME range goes backwards: e_addr ${hex(eAddr)} < s_addr ${hex(sAddr)}`, { file: file.path, offset });
    }
    if (eAddr >= MAX) {
      throw new InputError(`LiME range end ${hex(eAddr)} is beyond any physical address (2^53)`, { file: file.path, offset: offset + 16 });
    }
    const start = Number(sAddr);
    const length = Number(eAddr) - start + 1; // e_addr is inclusive
    const dataAt = offset + LIME_HEADER_SIZE;
    const label = `LiME range at byte ${hex(offset)}`;
    const have = Math.min(length, file.size - dataAt);
    if (have < length) {
      const kept = Math.max(0, have);
      warnings.push(
        `${label} (physical ${hex(start)}-${hex(eAddr)}) runs past the end of the file at ${hex(file.size)}; ` +
          (kept > 0 ? `keeping the first ${hex(kept)} bytes; ` : 'range ignored; ') +
          `physical ${hex(start + kept)}-${hex(eAddr)} is missing (unknown, not absent)`,
      );
      lost.push({ start: start + kept, end: start + length, fileOffset: dataAt + kept });
    }
    if (have > 0) candidates.push({ start, end: start + have, fileOffset: dataAt, fileEnd: start + have, label });
    offset = dataAt + length; // ≥ offset + 33
  }
  // Headers and no bytes: no memory image (every table would read as absent).
  if (candidates.length === 0) throw new InputError(`no memory in the LiME image: ${warnings[0] ?? 'no range holds any byte'}`, { file: file.path, offset: 0 });
  const segments = resolveOverlaps(candidates, warnings);
  return new SegmentedMemory(file, 'lime', segments, warnings, missingRanges(lost, segments));
}
